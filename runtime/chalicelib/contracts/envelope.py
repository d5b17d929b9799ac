"""The EventBridge envelope, as rules, Firehose and the local data lake see an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


@dataclass(frozen=True)
class BusEvent:
    """One event before it reaches a bus: what a service publishes."""

    source: str
    detail_type: str
    detail: dict[str, Any]

    def to_envelope(
        self,
        *,
        account: str,
        region: str,
        event_id: str | None = None,
        time: datetime | None = None,
    ) -> dict[str, Any]:
        """The envelope EventBridge would deliver to a rule target for this event."""
        import uuid  # here: Ingress publishes without envelopes, and uuid loads the platform module

        when = (time or datetime.now(UTC)).astimezone(UTC)
        return {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": self.detail_type,
            "source": self.source,
            "account": account,
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [],
            "detail": self.detail,
        }

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> BusEvent:
        return cls(
            source=envelope["source"],
            detail_type=envelope["detail-type"],
            detail=envelope.get("detail") or {},
        )
