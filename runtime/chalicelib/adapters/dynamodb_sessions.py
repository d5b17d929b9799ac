"""The ConversationSessions port on DynamoDB: one item per session and locale, in the idempotency table.

The table is Powertools' (partition key `id`, TTL attribute `expiration`); sessions use their own
key prefix ("session#<locale>#<session id>") beside the claims, the counters and the opt-outs. An
item holds `attributes` (a map of strings: Lex's session attributes) and `expiration`, moved an
idle session's time to live (Lex's IDLE_SESSION_TTL, infrastructure/stacks/responding.py) past each
turn. A turn is one GetItem and one PutItem. DynamoDB deletes expired items within days, not at
once, so a read ignores an item past its `expiration`: an idle session starts empty, as Lex's does.

Errors propagate unchanged, as Lex's do: the invocation fails and EventBridge retries the event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_PREFIX: Final = "session#"
#: Lex V2's idle session time to live as the stack configures it (one hour).
IDLE_SESSION_TTL_SECONDS: Final = 60 * 60


class DynamoDbConversationSessions:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        idle_ttl_seconds: int = IDLE_SESSION_TTL_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        if idle_ttl_seconds < 1:
            raise ValueError(f"idle_ttl_seconds must be at least 1, got {idle_ttl_seconds}")
        self._client = client
        self._table = table_name
        self._ttl = idle_ttl_seconds
        self._now = now

    def load(self, session_id: str, locale_id: str) -> dict[str, str]:
        # Strongly consistent: the author's previous turn may have been written a second ago.
        response = self._client.get_item(
            TableName=self._table,
            Key=self._key(session_id, locale_id),
            ConsistentRead=True,
            ProjectionExpression="attributes, expiration",
        )
        item = response.get("Item")
        if not item:
            return {}
        expiration = item.get("expiration", {}).get("N")
        if expiration is None or int(expiration) <= int(self._now()):
            return {}
        stored = item.get("attributes", {}).get("M", {})
        return {name: value["S"] for name, value in stored.items() if "S" in value}

    def save(self, session_id: str, locale_id: str, attributes: dict[str, str]) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                **self._key(session_id, locale_id),
                "attributes": {"M": {name: {"S": str(value)} for name, value in attributes.items()}},
                "expiration": {"N": str(int(self._now()) + self._ttl)},
            },
        )

    @staticmethod
    def _key(session_id: str, locale_id: str) -> dict[str, dict[str, str]]:
        return {"id": {"S": f"{KEY_PREFIX}{locale_id}#{session_id}"}}
