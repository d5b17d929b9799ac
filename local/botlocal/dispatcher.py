"""The local bus's rules engine: routes recorded events to matching targets, off the request path.

Each pass (run_once) first routes the events `chalice local` appended (deciding their targets
once, durably), then delivers what is due. Deliveries run one at a time in this thread, so a
handler that publishes events (analysis publishing MESSAGE_ANALYSED, say) just appends to the
journal and the next pass picks them up, as EventBridge would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.kernel.errors import RetryLaterError

from botlocal.journal import Delivery, Journal
from botlocal.logs import fields
from botlocal.targets import TargetRegistry

logger = logging.getLogger("botlocal.dispatcher")
#: A deferred delivery waits at least this long (a window that resets "now" is not retried in a loop).
MIN_DEFER_SECONDS = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: attempt n (1-based) failing waits base * factor**(n-1)."""

    max_attempts: int = 4
    base_delay_seconds: float = 1.0
    factor: float = 2.0
    max_delay_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_seconds < 0 or self.factor < 1 or self.max_delay_seconds < 0:
            raise ValueError("delays must be non-negative and the factor at least 1")

    def retry_at(self, attempts: int, now: float) -> float | None:
        """When to try again after `attempts` failed attempts; None when it is time to give up."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.max_delay_seconds, self.base_delay_seconds * self.factor ** (attempts - 1))
        return now + delay


class Dispatcher:
    def __init__(
        self,
        journal: Journal,
        targets: TargetRegistry,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        batch_size: int = 100,
    ) -> None:
        self._journal = journal
        self._targets = targets
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._batch_size = batch_size

    def run_once(self) -> int:
        """Route new events and deliver due ones; returns how many events/deliveries it handled."""
        return self._route_new() + self._deliver_due()

    def run_forever(self, stop: threading.Event, *, idle_seconds: float = 0.2) -> None:
        """Pass until `stop` is set; an unexpected error is logged and retried, never fatal."""
        logger.info("dispatcher started", extra=fields(targets=self._targets.names()))
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                logger.exception("dispatcher pass failed; retrying")
                busy = 0
            if not busy:
                stop.wait(idle_seconds)
        logger.info("dispatcher stopped")

    def _route_new(self) -> int:
        events = self._journal.unrouted(limit=self._batch_size)
        for event in events:
            names = [target.name for target in self._targets.matching(event.envelope)]
            self._journal.route(event.event_id, names, now=self._clock())
            logger.info(
                "routed",
                extra=fields(
                    event_id=event.event_id,
                    detail_type=event.envelope.get("detail-type"),
                    source=event.envelope.get("source"),
                    targets=names,
                ),
            )
        return len(events)

    def _deliver_due(self) -> int:
        deliveries = self._journal.due(now=self._clock(), limit=self._batch_size)
        for delivery in deliveries:
            self._deliver(delivery)
        return len(deliveries)

    def _deliver(self, delivery: Delivery) -> None:
        attempt = delivery.attempts + 1
        log_fields = {
            "event_id": delivery.event_id,
            "target": delivery.target,
            "detail_type": delivery.envelope.get("detail-type"),
            "attempt": attempt,
        }
        target = self._targets.get(delivery.target)
        if target is None:
            # Routed by an earlier run whose code had this target; nothing can deliver it now.
            error = f"target {delivery.target!r} is no longer registered"
            self._journal.mark_failed(delivery.event_id, delivery.target, error, retry_at=None, now=self._clock())
            logger.error("dead-lettered", extra=fields(**log_fields, error=error))
            return
        started = time.monotonic()
        try:
            target.deliver(delivery.envelope)
        except RetryLaterError as later:
            # Not a failure (Egress's posting budget is full): due again when the target said, with
            # its attempts untouched, so a delayed reply is never dead-lettered for waiting.
            due_at = self._clock() + max(MIN_DEFER_SECONDS, later.retry_after_seconds)
            reason = f"{type(later).__name__}: {later}"
            self._journal.defer(delivery.event_id, delivery.target, reason, retry_at=due_at, now=self._clock())
            logger.info("delivery deferred", extra=fields(**log_fields, reason=reason, retry_at=due_at))
            return
        except Exception as exception:
            error = f"{type(exception).__name__}: {exception}"
            retry_at = self._retry.retry_at(attempt, self._clock())
            self._journal.mark_failed(delivery.event_id, delivery.target, error, retry_at=retry_at, now=self._clock())
            if retry_at is None:
                logger.error("dead-lettered", exc_info=True, extra=fields(**log_fields, error=error))
            else:
                logger.warning(
                    "delivery failed", exc_info=True, extra=fields(**log_fields, error=error, retry_at=retry_at)
                )
            return
        self._journal.mark_delivered(delivery.event_id, delivery.target, now=self._clock())
        logger.info("delivered", extra=fields(**log_fields, duration_ms=round((time.monotonic() - started) * 1000, 1)))
