"""The idempotency port: run an action at most once per key, and give every later call its result.

Implemented on Powertools for AWS Lambda (chalicelib.adapters.idempotency): DynamoDB on AWS,
SQLite locally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from chalicelib.kernel.errors import RetryLaterError, TransientError

#: Namespaces of the idempotency records (one table on AWS, one SQLite file locally).
#: Egress's is the name its records always had: renaming it would forget the replies already posted.
EGRESS_NAMESPACE: Final = "egress.send_tweet"
ALERTING_NAMESPACE: Final = "alerting.alert"


#: How long to wait before asking again about a key another invocation holds. Its in-progress mark
#: lasts at most that invocation's time (a minute or so), so a few waits see it completed or lapsed.
IN_PROGRESS_RETRY_SECONDS: Final = 30.0


class ConcurrentDeliveryError(RetryLaterError):
    """Another invocation is running the action for this key right now (or died running it): retry
    later, when it is done or its in-progress mark has lapsed. Not a failure of the work: the local
    dispatcher defers it without counting an attempt, so a reply whose poster crashed is not
    dead-lettered while its mark lapses (and the outbox, like X, refuses to post it twice)."""

    def __init__(self, message: str, retry_after_seconds: float = IN_PROGRESS_RETRY_SECONDS) -> None:
        super().__init__(message, retry_after_seconds)


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

    def claim(self, key: str, *, owner: str, hold_seconds: int) -> bool:
        """True when the work is this caller's to do; False when it is done, or being done by
        another owner. The same owner claiming again (a retry of the same work after a crash) gets
        it back: only another arrival is turned away."""
        ...

    def complete(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


#: A window counter's record is kept this long after its window ends (WindowCounters adapters).
COUNTER_EXPIRY_MARGIN_SECONDS: Final = 60


def window_key(key: str, window_seconds: int, now: float) -> tuple[str, int]:
    """The WindowCounters record of `key` in the fixed window holding `now` (windows start at
    multiples of `window_seconds`), and when that window ends, in epoch seconds."""
    start = int(now) // window_seconds * window_seconds
    return f"{key}#{start}", start + window_seconds
