"""The ConversationSessions port on DynamoDB (moto; botocore's Stubber for errors): one item per
session and locale in the idempotency table, empty again after Lex's idle time to live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from chalicelib.adapters.dynamodb_sessions import IDLE_SESSION_TTL_SECONDS, KEY_PREFIX, DynamoDbConversationSessions
from moto import mock_aws

TABLE = "idempotency"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def test_a_new_session_is_empty(client: Any, clock: Clock) -> None:
    assert DynamoDbConversationSessions(client, TABLE, now=clock).load("author", "en_US") == {}


def test_attributes_are_kept_per_session_and_locale(client: Any, clock: Clock) -> None:
    sessions = DynamoDbConversationSessions(client, TABLE, now=clock)
    sessions.save("author", "en_US", {"recentJoke": "3,1", "recentFact": "2"})
    sessions.save("author", "es_ES", {"recentGreeting": "0"})
    # Another container: a new adapter on the same table.
    again = DynamoDbConversationSessions(client, TABLE, now=clock)
    assert again.load("author", "en_US") == {"recentJoke": "3,1", "recentFact": "2"}
    assert again.load("author", "es_ES") == {"recentGreeting": "0"}
    assert again.load("someone-else", "en_US") == {}


def test_the_item_lives_beside_the_others_with_lex_idle_ttl(client: Any, clock: Clock) -> None:
    DynamoDbConversationSessions(client, TABLE, now=clock).save("author", "en_US", {"recentJoke": "1"})
    item = client.get_item(TableName=TABLE, Key={"id": {"S": f"{KEY_PREFIX}en_US#author"}})["Item"]
    assert item["expiration"] == {"N": str(int(NOW) + IDLE_SESSION_TTL_SECONDS)}
    assert IDLE_SESSION_TTL_SECONDS == 3600


def test_a_session_idle_past_its_ttl_starts_empty_before_dynamodb_deletes_it(client: Any, clock: Clock) -> None:
    sessions = DynamoDbConversationSessions(client, TABLE, now=clock)
    sessions.save("author", "en_US", {"recentJoke": "1"})
    clock.now = NOW + IDLE_SESSION_TTL_SECONDS - 1
    assert sessions.load("author", "en_US") == {"recentJoke": "1"}
    clock.now = NOW + IDLE_SESSION_TTL_SECONDS
    assert sessions.load("author", "en_US") == {}


def test_each_turn_moves_the_expiry(client: Any, clock: Clock) -> None:
    sessions = DynamoDbConversationSessions(client, TABLE, now=clock)
    sessions.save("author", "en_US", {"recentJoke": "1"})
    clock.now = NOW + 3000
    sessions.save("author", "en_US", {"recentJoke": "1,2"})
    clock.now = NOW + 3000 + IDLE_SESSION_TTL_SECONDS - 1
    assert sessions.load("author", "en_US") == {"recentJoke": "1,2"}


def test_an_empty_session_is_saved_and_read_back(client: Any, clock: Clock) -> None:
    sessions = DynamoDbConversationSessions(client, TABLE, now=clock)
    sessions.save("author", "en_US", {})
    assert sessions.load("author", "en_US") == {}


def test_a_turn_is_one_consistent_get_and_one_put() -> None:
    dynamodb = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    key = {"id": {"S": f"{KEY_PREFIX}en_US#author"}}
    with Stubber(dynamodb) as stub:
        stub.add_response(
            "get_item",
            {},
            {"TableName": TABLE, "Key": key, "ConsistentRead": True, "ProjectionExpression": "attributes, expiration"},
        )
        stub.add_response(
            "put_item",
            {},
            {
                "TableName": TABLE,
                "Item": {
                    **key,
                    "attributes": {"M": {"recentJoke": {"S": "4"}}},
                    "expiration": {"N": str(int(NOW) + IDLE_SESSION_TTL_SECONDS)},
                },
            },
        )
        sessions = DynamoDbConversationSessions(dynamodb, TABLE, now=lambda: NOW)
        assert sessions.load("author", "en_US") == {}
        sessions.save("author", "en_US", {"recentJoke": "4"})
        stub.assert_no_pending_responses()


def test_errors_propagate_so_the_event_is_retried() -> None:
    dynamodb = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(dynamodb) as stub:
        stub.add_client_error("get_item", "ProvisionedThroughputExceededException")
        with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
            DynamoDbConversationSessions(dynamodb, TABLE).load("author", "en_US")


def test_a_ttl_under_one_second_is_refused() -> None:
    with pytest.raises(ValueError, match="idle_ttl_seconds"):
        DynamoDbConversationSessions(object(), TABLE, idle_ttl_seconds=0)  # type: ignore[arg-type]
