"""One counted run of the cost scenario, shared by the tests of this folder (it takes seconds)."""

from __future__ import annotations

import pytest
from botlocal.cost.counting import ScenarioCounts, count_scenario


@pytest.fixture(scope="session")
def counts() -> ScenarioCounts:
    return count_scenario()
