"""Egress's settings: the posting budget and the age limit, from the environment."""

from __future__ import annotations

import pytest
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.settings import (
    DEFAULT_MAX_REPLY_AGE_SECONDS,
    DEFAULT_POST_BUDGET,
    DEFAULT_POST_BUDGET_WINDOW_SECONDS,
    load_settings,
)

VARIABLES = ("POST_BUDGET", "POST_BUDGET_WINDOW_SECONDS", "MAX_REPLY_AGE_SECONDS")


def test_defaults_follow_xs_documented_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings()
    assert (DEFAULT_POST_BUDGET, DEFAULT_POST_BUDGET_WINDOW_SECONDS) == (100, 900)  # 100 posts per 15 minutes
    assert settings.post_budget == DEFAULT_POST_BUDGET
    assert settings.post_budget_window_seconds == DEFAULT_POST_BUDGET_WINDOW_SECONDS
    assert settings.max_reply_age_seconds == DEFAULT_MAX_REPLY_AGE_SECONDS == 3600


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POST_BUDGET", "50")
    monkeypatch.setenv("POST_BUDGET_WINDOW_SECONDS", "60")
    monkeypatch.setenv("MAX_REPLY_AGE_SECONDS", "600")
    settings = load_settings()
    assert (settings.post_budget, settings.post_budget_window_seconds, settings.max_reply_age_seconds) == (50, 60, 600)


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_values_are_configuration_errors(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings()
