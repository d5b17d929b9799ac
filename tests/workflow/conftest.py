"""The synthesized app, shared with tests/infrastructure (one synth per process)."""

from __future__ import annotations

import pytest

from tests.infrastructure.synthesis import Synth, synthesize_once


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_once(tmp_path_factory)
