"""The idempotency port: run an action at most once per key, and give every later call its result.

Implemented on Powertools for AWS Lambda (chalicelib.adapters.idempotency): DynamoDB on AWS,
SQLite locally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chalicelib.kernel.errors import TransientError


class ConcurrentDeliveryError(TransientError):
    """Another invocation is running the action for this key right now: retry later, it will be done by then."""


class IdempotencyUnavailableError(TransientError):
    """The idempotency store could not be read or written: retry rather than risk doing it twice."""


class Idempotency(Protocol):
    """Runs `action` at most once per key and returns its result, recorded, to every later call.

    `remaining_ms` is the caller's time left: an in-progress record does not outlive it.
    """

    def run(self, key: str, action: Callable[[], str], remaining_ms: Callable[[], int] | None = None) -> str: ...
