"""The browser test's skip rule: without Chromium (or Playwright) it skips with the package to
install, except under CI, where it fails."""

from __future__ import annotations

import pytest

from tests.browser.harness import find_chromium, in_ci, missing_browser, require_chromium


def _nothing(name: str) -> str | None:
    return None


def _debian(name: str) -> str | None:
    return "/usr/bin/chromium" if name == "chromium" else None


def _installed(name: str) -> bool:
    return True


def test_without_chromium_the_test_skips_naming_the_package() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install chromium"):
        require_chromium(environ={}, which=_nothing, has_module=_installed)


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_chromium_fails(value: str) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install chromium.*CI is set"):
        require_chromium(environ={"CI": value}, which=_nothing, has_module=_installed)


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_ci_set_to_false_is_not_ci(value: str) -> None:
    assert not in_ci({"CI": value})


def test_without_playwright_the_test_skips_naming_the_setup() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"Playwright.*make setup"):
        require_chromium(environ={}, which=_debian, has_module=lambda name: name != "playwright")


def test_with_both_it_runs_with_debians_chromium() -> None:
    assert missing_browser(_debian, _installed) is None
    assert require_chromium(environ={"CI": "true"}, which=_debian, has_module=_installed) == "/usr/bin/chromium"


def test_the_other_name_of_chromium_is_found() -> None:
    assert find_chromium(lambda name: "/snap/bin/chromium-browser" if name == "chromium-browser" else None) == (
        "/snap/bin/chromium-browser"
    )
