"""The OptOuts port on DynamoDB: one item per person who said "stop", in the idempotency table.

The table is Powertools' (partition key `id`, TTL attribute `expiration`); opt-outs use their own key
prefix ("optout#<user id>") beside the claims, the counters and Powertools' hashed keys. An item
holds `opted_out` (a boolean), `post` (the post that made the last change), `post_order` (its
snowflake, a number: chalicelib.kernel.opt_out_order) and `since`. Each change is one conditional
UpdateItem, so two "stop"s at once change it once, and never from a post older than `post_order`
(a late "stop" does not undo a newer "start"):
- opting out: when there is no item, or it says opted in, or this very post made it (a retry);
  `expiration` is removed: an opt-out never expires;
- opting in: when it says opted out, or this very post made it; the item then stays a day (TTL
  `expiration`), long enough for the "start" post's retries to be recognised, and goes.
The read is strongly consistent, so a "stop" just recorded is seen at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from chalicelib.kernel.idempotency import IdempotencyUnavailableError
from chalicelib.kernel.opt_out_order import post_order

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

KEY_PREFIX: Final = "optout#"
#: How long an opt-in's item is kept (TTL): retries of the "start" post come within it.
OPTED_IN_KEPT_SECONDS: Final = 24 * 60 * 60
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class DynamoDbOptOuts:
    def __init__(self, client: DynamoDBClient, table_name: str, *, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._now = now

    def is_opted_out(self, user_id: str) -> bool:
        return self.opted_out_by(user_id) is not None

    def opted_out_by(self, user_id: str) -> str | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=self._key(user_id),
                ConsistentRead=True,
                ProjectionExpression="opted_out, post",
            )
        except ClientError as error:
            raise IdempotencyUnavailableError(f"cannot read the opt-out of {user_id}: {error}") from error
        item = response.get("Item", {})
        if item.get("opted_out", {}).get("BOOL") is not True:
            return None
        return item.get("post", {}).get("S", "")  # every change writes `post`: "" is not expected

    def opt_out(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=True)

    def opt_in(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=False)

    def _change(self, user_id: str, post_id: str, *, opted_out: bool) -> bool:
        values: dict[str, AttributeValueTypeDef] = {
            ":true": {"BOOL": True},
            ":false": {"BOOL": False},
            ":post": {"S": post_id},
            ":now": {"N": str(int(self._now()))},
        }
        sets = [f"opted_out = {':true' if opted_out else ':false'}", "post = :post", "since = :now"]
        removes: list[str] = []
        if opted_out:
            condition = "(attribute_not_exists(id) OR opted_out = :false OR post = :post)"
            removes.append("expiration")
        else:
            condition = "(opted_out = :true OR post = :post)"
            sets.append("expiration = :expiration")
            values[":expiration"] = {"N": str(int(self._now()) + OPTED_IN_KEPT_SECONDS)}
        order = post_order(post_id)
        if order is None:  # not a snowflake (not expected): ordered by nothing
            removes.append("post_order")
        else:  # never a change from a post older than the one that made the last change
            sets.append("post_order = :order")
            condition += " AND (attribute_not_exists(post_order) OR post_order <= :order)"
            values[":order"] = {"N": str(order)}
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(user_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise IdempotencyUnavailableError(f"cannot change the opt-out of {user_id}: {error}") from error
        return True

    @staticmethod
    def _key(user_id: str) -> dict[str, dict[str, str]]:
        return {"id": {"S": KEY_PREFIX + user_id}}
