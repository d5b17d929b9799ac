"""The Claims port on DynamoDB (moto) and on SQLite: claim once, complete, release, lapse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botlocal.idempotency import SqliteClaims
from chalicelib.adapters.dynamodb_claims import DynamoDbClaims
from chalicelib.kernel.idempotency import Claims
from moto import mock_aws


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["dynamodb", "sqlite"])
def claims(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Claims]:
    if request.param == "sqlite":
        yield SqliteClaims(tmp_path / "state" / "idempotency.sqlite3", now=clock)
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDbClaims(client, "idempotency", now=clock)


def test_the_first_claim_wins(claims: Claims) -> None:
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360) is True
    assert claims.claim("analysis:1", owner="event-b", hold_seconds=360) is False
    assert claims.claim("analysis:2", owner="event-a", hold_seconds=360) is True


def test_a_completed_claim_stays_taken_long_after_the_hold(claims: Claims, clock: Clock) -> None:
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360)
    claims.complete("analysis:1")
    clock.now += 24 * 3600
    assert claims.claim("analysis:1", owner="event-b", hold_seconds=360) is False


def test_a_released_claim_can_be_taken_again(claims: Claims) -> None:
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360)
    claims.release("analysis:1")
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360) is True


def test_a_crashed_holder_s_claim_lapses_after_the_hold(claims: Claims, clock: Clock) -> None:
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360)
    clock.now += 359
    assert claims.claim("analysis:1", owner="event-b", hold_seconds=360) is False
    clock.now += 2
    assert claims.claim("analysis:1", owner="event-b", hold_seconds=360) is True


def test_sqlite_claims_are_shared_between_processes(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "idempotency.sqlite3"
    assert SqliteClaims(path, now=clock).claim("analysis:1", owner="event-b", hold_seconds=60)
    assert SqliteClaims(path, now=clock).claim("analysis:1", owner="event-c", hold_seconds=60) is False


def test_the_same_owner_gets_its_claim_back_after_a_crash(claims: Claims) -> None:
    # The runtime died mid-analysis and retries the same event: it must not lock itself out.
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360)
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360) is True
    assert claims.claim("analysis:1", owner="event-b", hold_seconds=360) is False
    claims.complete("analysis:1")
    # Done is done, whoever asks.
    assert claims.claim("analysis:1", owner="event-a", hold_seconds=360) is False


def test_a_claims_table_without_owners_is_upgraded(tmp_path: Path, clock: Clock) -> None:
    import sqlite3

    path = tmp_path / "idempotency.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE claims (id TEXT PRIMARY KEY, status TEXT NOT NULL, expiration INTEGER)")
    assert SqliteClaims(path, now=clock).claim("analysis:1", owner="event-a", hold_seconds=60)
