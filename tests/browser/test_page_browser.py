"""Issue 11, section 3: the local page in a real headless Chromium.

`botctl serve` runs with its page on a free port; a short scenario (a joke request, a negative post,
a photo of a public figure) is replayed through the signed webhook and answered; the page, opened in
Debian's Chromium, must show each message with its author and text, the reply texts, the alert, the
original photo and the annotated one (loaded, not a broken image), the counts and the latency.
Then one more mention is sent while the page is open: it must appear, and then its reply, without a
reload (a variable set in the window before stays set, and no navigation happens). No console
error, blocked resource (the page's Content-Security-Policy) or failed request is allowed.

The page's DOM contract is in local/botlocal/web (article.message[data-message-id], .reply-text,
img.annotated, #counts, #latency, body[data-updated]).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import (
    ANSWER_TIMEOUT_SECONDS,
    CELEBRITY,
    JOKE,
    LATE,
    NEGATIVE,
    Post,
    message,
    replay,
    serving_with_page,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

pytestmark = pytest.mark.slow

#: Waits on the page itself (it polls its live region every second).
PAGE_TIMEOUT_MS = 30_000

#: True once every image matched by the selector (given as the argument) has loaded with pixels.
IMAGES_LOADED = """selector => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0);
}"""


def _problems(page: Page) -> list[str]:
    """Collects, as they happen, what a person would see as breakage: script errors, console errors
    (a Content-Security-Policy refusal is one), failed requests and HTTP errors."""
    seen: list[str] = []

    def console(entry: ConsoleMessage) -> None:
        if entry.type == "error" and not _is_favicon(entry.location.get("url", "")):
            seen.append(f"console: {entry.text} ({entry.location.get('url')})")

    def response(answer: Response) -> None:
        if answer.status >= 400 and not _is_favicon(answer.url):
            seen.append(f"HTTP {answer.status}: {answer.url}")

    def failed(request: Request) -> None:
        # An image still loading when page.js swaps the live region is dropped with its element:
        # Chromium reports it aborted, which no one sees (the new element loads it again).
        if not (request.resource_type == "image" and request.failure == "net::ERR_ABORTED"):
            seen.append(f"request failed: {request.url} {request.failure}")

    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    page.on("console", console)
    page.on("requestfailed", failed)
    page.on("response", response)
    return seen


def _is_favicon(url: str) -> bool:
    """Chromium asks every site for /favicon.ico by itself; the page need not have one."""
    return url.endswith("/favicon.ico")


def _text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text(timeout=PAGE_TIMEOUT_MS).strip()


def _check_post(page: Page, post: Post, post_id: str, timeout_ms: float = PAGE_TIMEOUT_MS) -> str:
    """The message is shown with its author and text, and answered (waiting up to `timeout_ms`);
    its reply text."""
    article = message(post_id)
    page.wait_for_selector(f'{article}[data-status="answered"] .reply .reply-text', timeout=timeout_ms)
    assert post.author in _text(page, f"{article} .author")
    assert post.text in _text(page, f"{article} .text")
    assert page.locator(f"{article} .analysis").count() == 1
    reply = _text(page, f"{article} .reply .reply-text")
    assert reply.startswith(f"@{post.author} "), reply
    return reply


def _wait_for_images(page: Page, selector: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(IMAGES_LOADED, arg=selector, timeout=PAGE_TIMEOUT_MS)
    except PlaywrightTimeout:
        images = page.locator(selector).evaluate_all(
            "all => all.map(i => `${i.getAttribute('src')}: ${i.complete ? i.naturalWidth + ' px wide' : 'loading'}`)"
        )
        raise AssertionError(f"{selector}: not all loaded: {images or 'none on the page'}") from None


def test_the_page_shows_the_scenario_and_a_new_message_without_a_reload(tmp_path: Path, browser: Browser) -> None:
    with serving_with_page(tmp_path) as served:
        ids = replay(served.runtime)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        problems = _problems(page)
        try:
            page.goto(served.page_url, wait_until="load")

            joke = _check_post(page, JOKE, ids[JOKE])
            assert len(joke.split()) > 3, joke  # an answer, not only the mention

            negative = message(ids[NEGATIVE])
            _check_post(page, NEGATIVE, ids[NEGATIVE])
            assert page.locator(f"{negative} .alert").count() == 1

            celebrity = message(ids[CELEBRITY])
            assert "Barack Obama" in _check_post(page, CELEBRITY, ids[CELEBRITY])
            _wait_for_images(page, f"{celebrity} img.photo")
            _wait_for_images(page, f"{celebrity} .reply img.annotated")
            # The annotated photo is the bot's own image, not the original shown again.
            photo = page.locator(f"{celebrity} img.photo").first.get_attribute("src")
            annotated = page.locator(f"{celebrity} .reply img.annotated").first.get_attribute("src")
            assert photo and annotated and photo != annotated
            # Text-only posts have no photo, and their reply none either.
            assert page.locator(f"{message(ids[JOKE])} :is(img.photo, img.annotated)").count() == 0

            assert _text(page, '#counts tr[data-type="MESSAGE_RECEIVED"] .count') == "3"
            assert _text(page, "#latency .p50") and _text(page, "#latency .p95")
            assert page.locator("#latency svg").count() == 1
            # Newest first.
            order = page.locator("article.message").evaluate_all("all => all.map(a => a.dataset.messageId)")
            assert order == [ids[CELEBRITY], ids[NEGATIVE], ids[JOKE]], order

            # One more mention while the page is open: it shows up (and then its answer) by itself.
            page.evaluate("window.__setBeforeTheNewMessage = 'kept'")
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
            updated_before = int(page.evaluate("Number(document.body.dataset.updated || 0)"))
            late_id = LATE.send(served.runtime)
            page.wait_for_selector(message(late_id), timeout=ANSWER_TIMEOUT_SECONDS * 1000)
            _check_post(page, LATE, late_id, timeout_ms=ANSWER_TIMEOUT_SECONDS * 1000)
            assert page.evaluate("window.__setBeforeTheNewMessage") == "kept", "the page was reloaded"
            assert navigations == [], navigations
            assert int(page.evaluate("Number(document.body.dataset.updated)")) > updated_before
            assert page.locator("article.message").first.get_attribute("data-message-id") == late_id
            page.wait_for_function(
                """() => document.querySelector('#counts tr[data-type="MESSAGE_RECEIVED"] .count')
                           ?.textContent.trim() === '4'""",
                timeout=PAGE_TIMEOUT_MS,
            )
            assert problems == [], problems
        except Exception as error:
            # What the page looked like when it went wrong, beside the serve log (unless the browser
            # itself is what failed: then the original error is the one to see).
            with suppress(Exception):
                page.screenshot(path=tmp_path / "page.png", full_page=True)
                (tmp_path / "page.html").write_text(page.content())
            error.add_note(f"page screenshot and HTML in {tmp_path}; serve log {served.log}")
            raise
        finally:
            context.close()
