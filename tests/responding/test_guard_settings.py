"""The guards' settings: defaults, values from the environment, and ConfigurationError naming the
variable for anything else."""

from __future__ import annotations

import pytest
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("REPLIES_PER_AUTHOR", "REPLIES_PER_CONVERSATION", "REPLY_WINDOW_SECONDS", "REPLY_CHAIN_MAX_DEPTH"):
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings()
    assert (
        settings.replies_per_author,
        settings.replies_per_conversation,
        settings.reply_window_seconds,
        settings.reply_chain_max_depth,
    ) == (5, 10, 900, 3)


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLIES_PER_AUTHOR", "2")
    monkeypatch.setenv("REPLIES_PER_CONVERSATION", " 4 ")
    monkeypatch.setenv("REPLY_WINDOW_SECONDS", "60")
    monkeypatch.setenv("REPLY_CHAIN_MAX_DEPTH", "0")  # answer no reply to the bot's replies
    settings = load_settings()
    assert (
        settings.replies_per_author,
        settings.replies_per_conversation,
        settings.reply_window_seconds,
        settings.reply_chain_max_depth,
    ) == (2, 4, 60, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REPLIES_PER_AUTHOR", "0"),
        ("REPLIES_PER_AUTHOR", "five"),
        ("REPLIES_PER_CONVERSATION", "-1"),
        ("REPLY_WINDOW_SECONDS", "0"),
        ("REPLY_WINDOW_SECONDS", "1.5"),
        ("REPLY_CHAIN_MAX_DEPTH", "-1"),
    ],
)
def test_bad_values_are_configuration_errors(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings()
