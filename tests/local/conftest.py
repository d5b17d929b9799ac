"""Fixtures for the local runtime's tests: a state folder per test and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from chalicelib.contracts.envelope import BusEvent
from chalicelib.settings import Settings, load_settings

Envelope = dict[str, Any]


@pytest.fixture
def local_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("BOT_LOCAL_DIR", str(directory))
    monkeypatch.setenv("BOT_ADAPTERS", "botlocal.adapters:LocalAdapters")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET", raising=False)
    return directory


@pytest.fixture
def settings(local_dir: Path) -> Settings:
    return load_settings()


def make_envelope(
    detail_type: str = "MESSAGE_RECEIVED",
    detail: dict[str, Any] | None = None,
    *,
    source: str = "xbot.ingress",
    time: datetime | None = None,
    event_id: str | None = None,
) -> Envelope:
    return BusEvent(source=source, detail_type=detail_type, detail=detail or {}).to_envelope(
        account="000000000000",
        region="local",
        event_id=event_id,
        time=time or datetime(2024, 5, 1, 13, 4, 5, tzinfo=UTC),
    )


@pytest.fixture
def envelope() -> Callable[..., Envelope]:
    return make_envelope
