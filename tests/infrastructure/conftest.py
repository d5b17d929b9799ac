"""The synthesized app, once per test session (see tests/infrastructure/synthesis.py)."""

from __future__ import annotations

import pytest

from tests.infrastructure.synthesis import Synth, synthesize_once


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_once(tmp_path_factory)
