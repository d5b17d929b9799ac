"""The browser fixtures: Debian's Chromium driven by Playwright, or a skip that names the package to
install (a failure when CI is set: CI must run the browser test, `.ci/run` installs Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import launch, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the system's Chromium (skip or, under CI, fail when it or Playwright is missing)."""
    return require_chromium()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright, chromium)
        try:
            yield launched
        finally:
            launched.close()
