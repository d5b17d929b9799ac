"""One counted run of the cost scenario per profile, shared by the tests of this folder (the default
takes seconds; the economy one loads the real small models: only slow tests ask for it)."""

from __future__ import annotations

import pytest
from botlocal.cost.counting import ScenarioCounts, count_scenario
from botlocal.cost.profiles import ECONOMY


@pytest.fixture(scope="session")
def counts() -> ScenarioCounts:
    return count_scenario()


@pytest.fixture(scope="session")
def economy_counts() -> ScenarioCounts:
    return count_scenario(profile=ECONOMY)
