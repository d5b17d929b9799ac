"""What the browser test and tools/screenshot_page.py share: finding Chromium (and the skip rule when
it is missing), `botctl serve` with its page on a free port, the short scenario they replay, and
Chromium's launch flags.

Playwright drives Debian's `chromium` (never a browser Playwright downloads: `executable_path` is
always given). Playwright is imported only where a browser is launched, so this module loads without
it and the skip rule can say what to install.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest
from botlocal.demo_scenario import ASSETS

from tests.e2e.runtime import LocalRuntime, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

#: Debian's package name first; Ubuntu and some others call the same browser chromium-browser.
CHROMIUM_NAMES: Final = ("chromium", "chromium-browser")
#: The machines are offline but for package registries: without these, Chromium tries Google's hosts
#: (updates, sync, field trials, QUIC probes) and waits on them. --no-sandbox because CI runs as root.
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
#: The line `botctl serve` prints for its page (local/botlocal/web).
PAGE_LINE: Final = re.compile(r"page: (http://127\.0\.0\.1:\d+/)")
#: How long the bot may take to answer (the local models load on first use, on a shared 2-core box).
ANSWER_TIMEOUT_SECONDS: Final = 240.0


# --- the skip rule -------------------------------------------------------------------------------


def in_ci(environ: Mapping[str, str]) -> bool:
    """CI sets CI (to "true"); there a missing browser is a failure, never a skip."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium(which: Callable[[str], str | None] = shutil.which) -> str | None:
    for name in CHROMIUM_NAMES:
        if found := which(name):
            return found
    return None


def missing_browser(
    which: Callable[[str], str | None] = shutil.which,
    has_module: Callable[[str], bool] = lambda name: importlib.util.find_spec(name) is not None,
) -> str | None:
    """Why the browser test cannot run here, naming what to install; None when it can."""
    if not has_module("playwright"):
        return "Playwright for Python is not installed: run `make setup` (requirements-dev.txt pins it)"
    if find_chromium(which) is None:
        return (
            "Chromium is not installed: `apt-get install chromium` (Debian's package; "
            "chromium-browser elsewhere) to run the browser test"
        )
    return None


def require_chromium(
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    has_module: Callable[[str], bool] = lambda name: importlib.util.find_spec(name) is not None,
) -> str:
    """Chromium's path; skips the test when it (or Playwright) is missing, or fails it under CI."""
    reason = missing_browser(which, has_module)
    if reason is not None:
        if in_ci(environ):
            pytest.fail(f"{reason} (CI is set, so the browser test must run)", pytrace=False)
        pytest.skip(reason)
    chromium = find_chromium(which)
    assert chromium is not None
    return chromium


def launch(playwright: Playwright, chromium: str) -> Browser:
    """Headless Chromium from the system, with a fresh profile (Playwright makes a temporary one)."""
    return playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))


# --- the local runtime with its page -------------------------------------------------------------


@dataclass(frozen=True)
class PageRuntime:
    runtime: LocalRuntime
    page_url: str
    log: Path


@contextmanager
def serving_with_page(state: Path) -> Iterator[PageRuntime]:
    """`botctl serve` (tests.e2e.runtime.serving) with its page on a free port (--page-port 0);
    yields once it is up, with the page's address read from serve's start-up lines."""
    with serving(state, options=("--page-port", "0"), NO_COLOR="1") as runtime:
        log_path = state / "serve.log"
        text = log_path.read_text()
        page = PAGE_LINE.search(text)
        assert page, f"botctl serve printed no page address:\n{text}"
        yield PageRuntime(runtime=runtime, page_url=page.group(1), log=log_path)


# --- the scenario --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    author: str
    text: str
    photo: str | None = None  # a file in botlocal's demo_assets/

    def send(self, runtime: LocalRuntime) -> str:
        """Post it to the webhook as a signed delivery (`botctl tweet`); its id."""
        args = ["tweet", self.text, "--author", self.author, "--url", runtime.url]
        if self.photo:
            args += ["--image", str(ASSETS / self.photo)]
        sent = runtime.botctl(*args)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        return sent.stdout.strip()


#: A joke request, a negative post (alerted), a photo of a public figure (an annotated photo back),
#: as in the demo scenario (botlocal.demo_scenario).
JOKE: Final = Post("alice", "tell me a joke")
NEGATIVE: Final = Post("carol", "you are a terrible, useless and awful bot")
CELEBRITY: Final = Post("dave", "who is this?", photo="obama2.jpg")
#: Sent while the page is open.
LATE: Final = Post("bob", "tell me a fun fact please")


def replay(runtime: LocalRuntime, posts: tuple[Post, ...] = (JOKE, NEGATIVE, CELEBRITY)) -> dict[Post, str]:
    """Send the posts and wait until the bot has handled them; each post's id."""
    ids = {post: post.send(runtime) for post in posts}
    runtime.wait(timeout=ANSWER_TIMEOUT_SECONDS)
    return ids


def message(message_id: str) -> str:
    """The CSS selector of a message's article (the page's DOM contract)."""
    return f'article.message[data-message-id="{message_id}"]'
