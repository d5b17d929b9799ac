"""The local EventBus adapter: PutEvents semantics on top of the journal.

It checks entries the way EventBridge does (so a bug shows up locally, not first on AWS), turns
each valid entry into the envelope a rule target would receive and appends them all in one
transaction before returning: once put_entries returns, the events survive a crash.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from chalicelib.contracts.envelope import BusEvent
from chalicelib.ports import EntryResult

from botlocal.journal import Journal

#: PutEvents limits: at most 10 entries and 256 KiB per call (EventBridge rejects the whole call).
MAX_ENTRIES_PER_CALL: Final = 10
MAX_REQUEST_BYTES: Final = 256 * 1024

_INVALID_ARGUMENT: Final = "InvalidArgument"
_MALFORMED_DETAIL: Final = "MalformedDetail"


class PutEventsRejectedError(ValueError):
    """The whole PutEvents call was invalid (EventBridge's ValidationException)."""


class LocalEventBus:
    """chalicelib.ports.EventBus for the local runtime."""

    def __init__(
        self,
        journal: Journal,
        *,
        account: str,
        region: str,
        bus_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._journal = journal
        self._account = account
        self._region = region
        self._bus_name = bus_name
        self._clock = clock

    def put_entries(self, entries: list[dict[str, Any]]) -> list[EntryResult]:
        self._check_call(entries)
        results: list[EntryResult] = []
        envelopes: list[dict[str, Any]] = []
        now = self._clock()
        for entry in entries:
            envelope_or_error = self._envelope(entry, now)
            if isinstance(envelope_or_error, EntryResult):
                results.append(envelope_or_error)
            else:
                envelopes.append(envelope_or_error)
                results.append(EntryResult(event_id=envelope_or_error["id"]))
        if envelopes:
            self._journal.append(envelopes)
        return results

    def _check_call(self, entries: list[dict[str, Any]]) -> None:
        if not isinstance(entries, list) or not entries:
            raise PutEventsRejectedError("PutEvents needs a non-empty list of entries")
        if len(entries) > MAX_ENTRIES_PER_CALL:
            raise PutEventsRejectedError(
                f"PutEvents takes at most {MAX_ENTRIES_PER_CALL} entries per call, got {len(entries)}"
            )
        size = sum(_entry_size(entry) for entry in entries)
        if size > MAX_REQUEST_BYTES:
            raise PutEventsRejectedError(
                f"PutEvents request is {size} bytes, over EventBridge's limit of {MAX_REQUEST_BYTES}; "
                "put large payloads in the PayloadStore and publish a reference (claim check)"
            )
        for entry in entries:
            bus = entry.get("EventBusName") if isinstance(entry, dict) else None
            if bus is not None and not self._is_this_bus(str(bus)):
                raise PutEventsRejectedError(
                    f"event bus {bus!r} does not exist locally (the local bus is {self._bus_name!r}, "
                    "set by EVENT_BUS_NAME)"
                )

    def _is_this_bus(self, name: str) -> bool:
        # EventBusName may be a name or an ARN (arn:aws:events:region:account:event-bus/name).
        short = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
        return short == self._bus_name

    def _envelope(self, entry: Any, now: datetime) -> dict[str, Any] | EntryResult:
        if not isinstance(entry, dict):
            return EntryResult(error_code=_INVALID_ARGUMENT, error_message="Entry must be an object.")
        for field in ("Source", "DetailType", "Detail"):
            value = entry.get(field)
            if not isinstance(value, str) or not value:
                return EntryResult(error_code=_INVALID_ARGUMENT, error_message=f"Parameter {field} is not valid.")
        try:
            detail = json.loads(entry["Detail"])
        except json.JSONDecodeError:
            detail = None
        if not isinstance(detail, dict):
            return EntryResult(error_code=_MALFORMED_DETAIL, error_message="Detail is malformed.")
        resources = entry.get("Resources", [])
        if not isinstance(resources, list) or not all(isinstance(item, str) for item in resources):
            return EntryResult(error_code=_INVALID_ARGUMENT, error_message="Parameter Resources is not valid.")
        when = entry.get("Time")
        if when is not None and not isinstance(when, datetime):
            return EntryResult(error_code=_INVALID_ARGUMENT, error_message="Parameter Time is not valid.")
        envelope = BusEvent(source=entry["Source"], detail_type=entry["DetailType"], detail=detail).to_envelope(
            account=self._account,
            region=self._region,
            event_id=str(uuid.uuid4()),
            time=when or now,
        )
        envelope["resources"] = list(resources)
        return envelope


def _entry_size(entry: Any) -> int:
    """An entry's size as EventBridge counts it (UTF-8 bytes of its text fields, 14 for a Time)."""
    if not isinstance(entry, dict):
        return 0
    size = 14 if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        value = entry.get(field)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    for resource in entry.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode("utf-8"))
    return size
