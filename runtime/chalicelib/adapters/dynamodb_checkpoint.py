"""The PollCheckpoint port on DynamoDB: one item per polled account, in the poller's own table.

The table's partition key is `id` (the bot's account id). A save is a conditional PutItem: it
writes version n only where the stored version is n - 1 (or, for version 1, where no item exists),
so of two overlapping runs the second to save fails instead of moving the checkpoint backwards.
Only GetItem and PutItem are called (the grant in infrastructure/stacks/ingress.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from chalicelib.kernel.errors import TransientError
from chalicelib.ports import PollState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY: Final = "id"


class CheckpointUnavailableError(TransientError):
    """The table could not be read or written: the run stops, the next one tries again."""


class DynamoDbPollCheckpoint:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, key: str) -> PollState | None:
        try:
            answer = self._client.get_item(TableName=self._table, Key={PARTITION_KEY: {"S": key}}, ConsistentRead=True)
        except ClientError as error:
            raise CheckpointUnavailableError(f"cannot read the poll checkpoint of {key}: {_code(error)}") from error
        item = answer.get("Item")
        return _state(item) if item else None

    def save(self, key: str, state: PollState) -> bool:
        item: dict[str, Any] = {
            PARTITION_KEY: {"S": key},
            "version": {"N": str(state.version)},
            "not_before": {"N": repr(float(state.not_before))},
        }
        for name, value in (
            ("since_id", state.since_id),
            ("range_newest_id", state.range_newest_id),
            ("pagination_token", state.pagination_token),
        ):
            if value:
                item[name] = {"S": value}
        if state.start_time is not None:
            item["start_time"] = {"N": repr(float(state.start_time))}
        if state.version <= 1:
            condition: dict[str, Any] = {"ConditionExpression": f"attribute_not_exists({PARTITION_KEY})"}
        else:
            condition = {
                "ConditionExpression": "#version = :previous",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":previous": {"N": str(state.version - 1)}},
            }
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise CheckpointUnavailableError(f"cannot save the poll checkpoint of {key}: {_code(error)}") from error
        return True


def _state(item: dict[str, Any]) -> PollState:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return value if isinstance(value, str) and value else None

    def number(name: str) -> float | None:
        value = item.get(name, {}).get("N")
        return float(value) if isinstance(value, str) else None

    return PollState(
        since_id=text("since_id"),
        start_time=number("start_time"),
        range_newest_id=text("range_newest_id"),
        pagination_token=text("pagination_token"),
        not_before=number("not_before") or 0.0,
        version=int(number("version") or 0),
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "unknown")
