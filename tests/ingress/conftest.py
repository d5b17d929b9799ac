"""X, recorded, for the poller's tests: every registered answer must be asked for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses


@pytest.fixture
def x() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
