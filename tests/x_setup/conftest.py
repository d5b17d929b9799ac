"""`botctl x` against recorded X answers: credentials in the environment, X mocked with `responses`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from tests.x_setup.recorded import ENVIRONMENT


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The four keys in the environment, no bearer token, no secret name, the kill switch unset (on)."""
    for name in (*ENVIRONMENT, "TWITTER_BEARER_TOKEN", "TWITTER_SECRET_NAME", "BOT_POSTING"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def x() -> Iterator[responses.RequestsMock]:
    """X, recorded; every registered answer must be asked for (a test that skips a call fails)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
