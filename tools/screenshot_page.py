"""Refresh the README's screenshot of the local page (docs/images/local-page.png).

Runs the browser test's scenario (tests/browser/harness.py) on a fresh `botctl serve` in a temporary
state folder: a joke request, a negative post, a photo of a public figure, then one more mention;
waits until the page shows them answered with their photos loaded, and saves a PNG of the whole
page from Debian's headless Chromium. Needs `make setup` and Chromium (`apt-get install chromium`).

    .venv/bin/python tools/screenshot_page.py [--out docs/images/local-page.png] [--window]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "images" / "local-page.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write [%(default)s]")
    parser.add_argument("--width", type=int, default=1280, help="window width in CSS pixels [%(default)s]")
    parser.add_argument("--height", type=int, default=900, help="window height in CSS pixels [%(default)s]")
    parser.add_argument("--window", action="store_true", help="only what the window shows, not the whole page")
    options = parser.parse_args(argv)

    # The scenario and the launch flags are the browser test's own (tests/ is a package of the repo).
    sys.path.insert(0, str(ROOT))
    from tests.browser.harness import (
        CELEBRITY,
        JOKE,
        LATE,
        NEGATIVE,
        find_chromium,
        launch,
        message,
        missing_browser,
        replay,
    )
    from tests.browser.harness import serving_with_page as serving

    # The browser test's own message: what to install, Playwright or Chromium.
    reason = missing_browser()
    chromium = find_chromium()
    if reason is not None or chromium is None:
        print(reason or "Chromium is not installed", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    posts = (JOKE, NEGATIVE, CELEBRITY, LATE)
    with tempfile.TemporaryDirectory(prefix="screenshot-page-") as state, serving(Path(state)) as served:
        ids = replay(served.runtime, posts)
        with sync_playwright() as playwright:
            browser = launch(playwright, chromium)
            try:
                page = browser.new_page(viewport={"width": options.width, "height": options.height})
                page.goto(served.page_url, wait_until="load")
                for post in posts:
                    page.wait_for_selector(f"{message(ids[post])} .reply-text", timeout=30_000)
                page.wait_for_function(
                    "() => [...document.images].every(image => image.complete && image.naturalWidth > 0)",
                    timeout=30_000,
                )
                options.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=options.out, full_page=not options.window)
            finally:
                browser.close()
    print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
