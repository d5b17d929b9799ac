"""Shared test helpers: fixture payloads from X and a clean environment per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No deadline: these tests check behaviour, not speed (figures belong in `make bench`), and on a
# loaded 2-core machine a first example can take far longer than hypothesis' 200 ms default.
settings.register_profile("xbot", deadline=None)
settings.load_profile("xbot")

FIXTURES = Path(__file__).parent / "fixtures" / "x-webhooks"


def load_delivery(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def delivery_files() -> list[Path]:
    """Every webhook body in the fixtures (the signature vectors file is not a body)."""
    return sorted(p for p in FIXTURES.glob("*.json") if p.name != "signature_test_vectors.json")


@pytest.fixture
def signature_vectors() -> dict[str, Any]:
    return load_delivery("signature_test_vectors.json")


@pytest.fixture(autouse=True)
def _fresh_wiring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Adapters are cached per process; every test starts from its own environment."""
    from chalicelib import wiring

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    wiring.reset()
    yield
    wiring.reset()
