"""Ports: what the services need from the outside world. Adapters implement them per runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class EntryResult:
    """The outcome of one PutEvents entry: an event id, or an error code and message."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.event_id is not None


class EventBus(Protocol):
    """The PutEvents call of a bus: entries in EventBridge's request shape, one result per entry.

    Entries carry Source, DetailType and Detail (a JSON string). Raising means the whole call
    failed; per-entry failures come back as results with an error code.
    """

    def put_entries(self, entries: list[dict[str, Any]]) -> list[EntryResult]: ...


class PayloadStore(Protocol):
    """Somewhere to keep a payload too large for the bus (the claim-check pattern)."""

    def put(self, key: str, body: bytes) -> str:
        """Store the body under the key; return a URI a reader can fetch it from."""
        ...


class SecretProvider(Protocol):
    def consumer_secret(self) -> str: ...
