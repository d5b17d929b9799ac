"""The Claims port on DynamoDB: one item per claimed key, in the idempotency table.

The table is Powertools' (partition key `id`, TTL attribute `expiration`); claims use their own
key prefix ("claim#...") beside Powertools' hashed keys. A claim is a conditional put: it succeeds
when no item exists or the existing one has expired (DynamoDB's TTL deletes expired items only
eventually, so expiry is checked in the condition, not left to TTL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from chalicelib.adapters.idempotency import DEFAULT_EXPIRES_AFTER_SECONDS
from chalicelib.kernel.idempotency import IdempotencyUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_PREFIX: Final = "claim#"
#: How long a completed claim is remembered: as long as Powertools' records.
COMPLETED_SECONDS: Final = DEFAULT_EXPIRES_AFTER_SECONDS


class DynamoDbClaims:
    def __init__(self, client: DynamoDBClient, table_name: str, *, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._now = now

    def claim(self, key: str, *, owner: str, hold_seconds: int) -> bool:
        now = int(self._now())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": KEY_PREFIX + key},
                    "status": {"S": "INPROGRESS"},
                    "owner": {"S": owner},
                    "expiration": {"N": str(now + hold_seconds)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR expiration < :now OR (#owner = :owner AND #status = :in_progress)"
                ),
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":owner": {"S": owner},
                    ":in_progress": {"S": "INPROGRESS"},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise IdempotencyUnavailableError(f"cannot claim {key}: {error}") from error
        return True

    def complete(self, key: str) -> None:
        expiration = int(self._now()) + COMPLETED_SECONDS
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": KEY_PREFIX + key},
                    "status": {"S": "COMPLETED"},
                    "expiration": {"N": str(expiration)},
                },
            )
        except ClientError as error:
            raise IdempotencyUnavailableError(f"cannot complete {key}: {error}") from error

    def release(self, key: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key={"id": {"S": KEY_PREFIX + key}})
        except ClientError as error:
            raise IdempotencyUnavailableError(f"cannot release {key}: {error}") from error
