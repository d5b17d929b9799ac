"""The idempotency port: run an action at most once per key, and give every later call its result.

Implemented on Powertools for AWS Lambda (chalicelib.adapters.idempotency): DynamoDB on AWS,
SQLite locally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from chalicelib.kernel.errors import TransientError

#: Namespaces of the idempotency records (one table on AWS, one SQLite file locally).
#: Egress's is the name its records always had: renaming it would forget the replies already posted.
EGRESS_NAMESPACE: Final = "egress.send_tweet"
ALERTING_NAMESPACE: Final = "alerting.alert"


class ConcurrentDeliveryError(TransientError):
    """Another invocation is running the action for this key right now: retry later, it will be done by then."""


class IdempotencyUnavailableError(TransientError):
    """The idempotency store could not be read or written: retry rather than risk doing it twice."""


class Idempotency(Protocol):
    """Runs `action` at most once per key and returns its result, recorded, to every later call.

    `remaining_ms` is the caller's time left: an in-progress record does not outlive it.
    """

    def run(self, key: str, action: Callable[[], str], remaining_ms: Callable[[], int] | None = None) -> str: ...


class Claims(Protocol):
    """Work that must happen once per key, spread over several invocations (the analysis workflow's
    tasks): the first caller claims it, finishes it with `complete` or gives it back with `release`.

    A claim lapses after `hold_seconds` if its holder neither completes nor releases it (a crash), so
    a later arrival can do the work; a completed one is kept as long as the idempotency records.
    """

    def claim(self, key: str, *, hold_seconds: int) -> bool:
        """True when the work is this caller's to do; False when it is done or being done."""
        ...

    def complete(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...
