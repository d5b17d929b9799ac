"""EventBridge PutEvents, behind the EventBus port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from chalicelib.ports import EntryResult


class EventBridgeBus:
    def __init__(self, client: EventBridgeClient) -> None:
        self._client = client

    def put_entries(self, entries: list[dict[str, Any]]) -> list[EntryResult]:
        # Here, not at the top: the webhook builds this adapter for a CRC check too, which never
        # puts an event, and chalicelib.ports (its Protocols) is about 4% of the webhook's import.
        from chalicelib.ports import EntryResult

        response = self._client.put_events(Entries=entries)  # type: ignore[arg-type]
        return [
            EntryResult(
                event_id=result.get("EventId"),
                error_code=result.get("ErrorCode"),
                error_message=result.get("ErrorMessage"),
            )
            for result in response["Entries"]
        ]
