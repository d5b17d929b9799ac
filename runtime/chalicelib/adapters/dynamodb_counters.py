"""The WindowCounters port on DynamoDB: one item per key and window, in the idempotency table.

The table is Powertools' (partition key `id`, TTL attribute `expiration`); counters use their own
key prefix ("count#<key>#<window start>") beside the claims and Powertools' hashed keys. Taking one
is a conditional UpdateItem: ADD 1 to `count` when the item is new or its count is under the limit,
so concurrent invocations never count past it. `expiration` is the window's end (plus a margin),
set once; the window is part of the key, so an item past its window is never read again whether or
not TTL has deleted it yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from chalicelib.kernel.idempotency import COUNTER_EXPIRY_MARGIN_SECONDS, IdempotencyUnavailableError, window_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_PREFIX: Final = "count#"


class DynamoDbWindowCounters:
    def __init__(self, client: DynamoDBClient, table_name: str, *, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._now = now

    def take(self, key: str, *, limit: int, window_seconds: int) -> bool:
        if limit <= 0:  # nothing may be counted: no record needed
            return False
        record, ends = window_key(key, window_seconds, self._now())
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": KEY_PREFIX + record}},
                UpdateExpression="ADD #count :one SET expiration = if_not_exists(expiration, :expiration)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expiration": {"N": str(ends + COUNTER_EXPIRY_MARGIN_SECONDS)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise IdempotencyUnavailableError(f"cannot count {key}: {error}") from error
        return True
