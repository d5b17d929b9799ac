"""The WindowCounters port on DynamoDB (moto) and on SQLite: count to the limit, per key and window,
and start again in the next window."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botlocal.idempotency import SqliteWindowCounters
from chalicelib.adapters.dynamodb_counters import KEY_PREFIX, DynamoDbWindowCounters
from chalicelib.kernel.idempotency import COUNTER_EXPIRY_MARGIN_SECONDS, IdempotencyUnavailableError
from chalicelib.ports import WindowCounters
from moto import mock_aws

WINDOW = 900
START = 1_800_000_000.0 // WINDOW * WINDOW


class Clock:
    def __init__(self) -> None:
        self.now = START + 10

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _table(client: object) -> None:
    client.create_table(  # type: ignore[attr-defined]
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(params=["dynamodb", "sqlite"])
def counters(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[WindowCounters]:
    if request.param == "sqlite":
        yield SqliteWindowCounters(tmp_path / "state" / "idempotency.sqlite3", now=clock)
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client)
        yield DynamoDbWindowCounters(client, "idempotency", now=clock)


def test_counts_up_to_the_limit_then_refuses(counters: WindowCounters) -> None:
    taken = [counters.take("author:42", limit=5, window_seconds=WINDOW) for _ in range(8)]
    assert taken == [True] * 5 + [False] * 3


def test_keys_are_counted_apart(counters: WindowCounters) -> None:
    assert all(counters.take("author:42", limit=2, window_seconds=WINDOW) for _ in range(2))
    assert counters.take("author:42", limit=2, window_seconds=WINDOW) is False
    assert counters.take("author:43", limit=2, window_seconds=WINDOW) is True
    assert counters.take("conversation:42", limit=2, window_seconds=WINDOW) is True


def test_the_next_window_starts_again(counters: WindowCounters, clock: Clock) -> None:
    assert counters.take("author:42", limit=1, window_seconds=WINDOW) is True
    clock.now = START + WINDOW - 1
    assert counters.take("author:42", limit=1, window_seconds=WINDOW) is False
    clock.now = START + WINDOW
    assert counters.take("author:42", limit=1, window_seconds=WINDOW) is True


def test_a_limit_of_zero_refuses_everything(counters: WindowCounters) -> None:
    assert counters.take("chain:7", limit=0, window_seconds=WINDOW) is False


def test_dynamodb_items_have_their_prefix_and_expire_after_the_window(clock: Clock) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client)
        counters = DynamoDbWindowCounters(client, "idempotency", now=clock)
        counters.take("author:42", limit=5, window_seconds=WINDOW)
        counters.take("author:42", limit=5, window_seconds=WINDOW)
        (item,) = client.scan(TableName="idempotency")["Items"]
    assert item["id"]["S"] == f"{KEY_PREFIX}author:42#{int(START)}"
    assert item["count"]["N"] == "2"
    assert int(item["expiration"]["N"]) == int(START) + WINDOW + COUNTER_EXPIRY_MARGIN_SECONDS


def test_dynamodb_failures_are_transient(clock: Clock) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")  # no table
        with pytest.raises(IdempotencyUnavailableError):
            DynamoDbWindowCounters(client, "missing", now=clock).take("author:42", limit=5, window_seconds=WINDOW)


def test_sqlite_counts_never_pass_the_limit_under_concurrency(tmp_path: Path) -> None:
    path = tmp_path / "idempotency.sqlite3"
    SqliteWindowCounters(path)

    def take(_: int) -> bool:
        return SqliteWindowCounters(path).take("author:42", limit=5, window_seconds=WINDOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(take, range(40)))
    assert results.count(True) == 5


def test_sqlite_forgets_windows_that_have_ended(tmp_path: Path, clock: Clock) -> None:
    import sqlite3

    counters = SqliteWindowCounters(tmp_path / "idempotency.sqlite3", now=clock)
    counters.take("author:42", limit=5, window_seconds=WINDOW)
    clock.now = START + 3 * WINDOW
    counters.take("author:43", limit=5, window_seconds=WINDOW)
    with sqlite3.connect(counters.path) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM counters")]
    assert ids == [f"author:43#{int(START) + 3 * WINDOW}"]
