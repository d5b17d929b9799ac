"""The synthesized app, once per test session (see tests/infrastructure/synthesis.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infrastructure.synthesis import Synth, synthesize_once


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_once(tmp_path_factory)


@pytest.fixture(scope="session")
def economy_layer_dir() -> Path:
    """The economy layer's folder (python/, models/), built once and cached under build/economy-layer:
    a later session with the same inputs reuses it (stacks/economy_layer.py)."""
    from stacks.economy_layer import build

    return build()
