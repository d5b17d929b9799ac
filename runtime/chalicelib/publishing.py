"""Putting events on a bus the way EventBridge allows: batches, size limits, retries.

Runs the same on both runtimes; the bus itself is a port (EventBridge on AWS, the journal locally).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.contracts.envelope import BusEvent
from chalicelib.kernel.errors import is_transient

if TYPE_CHECKING:
    # Annotations only: chalicelib.ports defines some twenty Protocols (about 4% of the webhook's
    # import), none of which a publisher needs at run time. EntryResult is imported where one is made.
    from chalicelib.ports import EntryResult, EventBus, PayloadStore

# The claim-check contract (chalicelib.contracts.oversized) is imported where an event is claim-checked
# or resolved: the webhook publishes events far below the limit, and its cold start skips it.

#: EventBridge's limits for one PutEvents call and for one entry. Since January 2026 an EventBridge
#: entry may be 1 MB, but the analysis workflow's input (a Step Functions state) is still 256 KiB:
#: every event must fit the smallest limit among its consumers, so entries stay at 256 KiB.
MAX_ENTRIES_PER_CALL = 10
MAX_BYTES = 256 * 1024


class PublishError(Exception):
    """Some events could not be put on the bus; the caller must not acknowledge the delivery."""


class PayloadError(Exception):
    """A claim-checked event cannot be resolved (no store, missing, altered or unreadable object)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a PutEvents call is retried."""

    attempts: int = 4
    base_delay_seconds: float = 0.1
    max_delay_seconds: float = 1.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so concurrent retries do not synchronise."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not cryptography)


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it: UTF-8 bytes of its fields (+14 for a Time)."""
    size = sum(len(str(entry.get(key, "")).encode("utf-8")) for key in ("Source", "DetailType", "Detail"))
    size += sum(len(str(resource).encode("utf-8")) for resource in entry.get("Resources", []))
    return size + (14 if "Time" in entry else 0)


def batches(entries: Sequence[dict[str, Any]], max_bytes: int = MAX_BYTES) -> list[list[dict[str, Any]]]:
    """Split entries into PutEvents calls of at most 10 entries and `max_bytes`, keeping their order."""
    result: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    current_size = 0
    for entry in entries:
        size = entry_size(entry)
        if current and (len(current) == MAX_ENTRIES_PER_CALL or current_size + size > max_bytes):
            result.append(current)
            current, current_size = [], 0
        current.append(entry)
        current_size += size
    if current:
        result.append(current)
    return result


class EventPublisher:
    """Publishes a delivery's events, all or nothing from the caller's point of view.

    An event over `max_bytes` is not dropped: its detail goes to the payload store and the event
    carries a pointer to it instead (the claim-check pattern), with the fields the rules match on
    (chalicelib.contracts.oversized), so its consumers' rules still match and they resolve it with
    PayloadResolver. `max_bytes` is EventBridge's 256 KiB unless a test lowers it (MAX_EVENT_BYTES).
    """

    def __init__(
        self,
        *,
        bus: EventBus,
        bus_name: str,
        payload_store: PayloadStore | None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._max_bytes = min(max_bytes, MAX_BYTES)
        self._bus = bus
        self._bus_name = bus_name
        self._payload_store = payload_store
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    def publish(self, events: Sequence[BusEvent]) -> list[str]:
        """Put every event on the bus; return their ids in order, or raise PublishError."""
        entries = [self._fit(self._entry(event)) for event in events]
        ids: list[str] = []
        for batch in batches(entries, self._max_bytes):
            ids.extend(self._put_with_retries(batch))
        return ids

    def _entry(self, event: BusEvent) -> dict[str, Any]:
        return {
            "Source": event.source,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, ensure_ascii=False, separators=(",", ":")),
            "EventBusName": self._bus_name,
        }

    def _fit(self, entry: dict[str, Any]) -> dict[str, Any]:
        size = entry_size(entry)
        if size <= self._max_bytes:
            return entry
        if self._payload_store is None:
            raise PublishError(
                f"a {entry['DetailType']} event of {size} bytes exceeds {self._max_bytes} bytes "
                "and no payload store is set to claim-check it"
            )
        import uuid  # only for oversized events: uuid (and the platform module it loads) stays off the webhook's path

        from chalicelib.contracts.oversized import OVERSIZED_PREFIX, OversizedRef, pointer_detail

        body = entry["Detail"].encode("utf-8")
        now = datetime.now(UTC)
        key = f"{OVERSIZED_PREFIX}{now:%Y/%m/%d}/{uuid.uuid4()}.json"
        uri = self._payload_store.put(key, body)
        ref = OversizedRef(uri=uri, size=len(body), sha256=hashlib.sha256(body).hexdigest())
        pointer = pointer_detail(ref, json.loads(body))
        fitted = {**entry, "Detail": json.dumps(pointer, ensure_ascii=False, separators=(",", ":"))}
        if entry_size(fitted) > self._max_bytes:
            # Routing fields are small (ids, flags, a sentiment); this is only a guard.
            raise PublishError(f"a {entry['DetailType']} event's pointer exceeds {self._max_bytes} bytes")
        return fitted

    def _put_with_retries(self, batch: list[dict[str, Any]]) -> list[str]:
        ids: list[str | None] = [None] * len(batch)
        pending = list(range(len(batch)))
        last_error = ""
        for attempt in range(self._retry.attempts):
            if attempt:
                self._sleep(self._retry.delay(attempt))
            try:
                results = self._bus.put_entries([batch[i] for i in pending])
            except Exception as error:  # any failure of the call is retried, then reported
                last_error = type(error).__name__
                continue
            still_pending = []
            for index, result in zip(pending, _checked(results, len(pending)), strict=True):
                if result.ok:
                    ids[index] = result.event_id
                else:
                    still_pending.append(index)
                    last_error = result.error_code or "unknown"
            pending = still_pending
            if not pending:
                return [event_id for event_id in ids if event_id is not None]
        raise PublishError(
            f"{len(pending)} of {len(batch)} events not published after {self._retry.attempts} attempts: {last_error}"
        )


class PayloadResolver:
    """Turns a claim-checked event's detail back into the whole detail; any other detail is returned
    as it is. Every consumer of an event that may be claim-checked resolves it before use.

    The object is read from the payload store (only under OVERSIZED_PREFIX: the adapters refuse
    anything else) and must have the pointer's size and SHA-256.
    """

    def __init__(self, store: PayloadStore | None) -> None:
        self._store = store

    def resolve(self, detail: dict[str, Any]) -> dict[str, Any]:
        from chalicelib.contracts.oversized import OversizedRef

        ref = OversizedRef.from_detail(detail)
        if ref is None:
            return detail
        if self._store is None:
            raise PayloadError(f"the event is claim-checked at {ref.uri} and no payload store is set to read it")
        try:
            body = self._store.get(ref.uri)
        except PayloadError:
            raise
        except Exception as error:
            if is_transient(error):
                raise
            reason = f"the claim-checked event at {ref.uri} cannot be read: {type(error).__name__}"
            raise PayloadError(reason) from error
        if len(body) != ref.size or hashlib.sha256(body).hexdigest() != ref.sha256:
            raise PayloadError(f"the claim-checked event at {ref.uri} does not match its pointer's size and SHA-256")
        try:
            resolved = json.loads(body)
        except ValueError as error:
            raise PayloadError(f"the claim-checked event at {ref.uri} is not JSON") from error
        if not isinstance(resolved, dict):
            raise PayloadError(f"the claim-checked event at {ref.uri} is not a JSON object")
        return resolved


def _checked(results: list[EntryResult], expected: int) -> list[EntryResult]:
    if len(results) != expected:
        from chalicelib.ports import EntryResult  # a bus that answered wrongly: rare, not on the import path

        return [EntryResult(error_code="MalformedResponse")] * expected
    return results
