"""Powertools idempotency on SQLite (local) and DynamoDB (moto): one key, one action."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botlocal.idempotency import SqlitePersistenceLayer, local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.adapters.idempotency import (
    DEFAULT_EXPIRES_AFTER_SECONDS,
    KEY_PREFIX,
    PowertoolsIdempotency,
    dynamodb_idempotency,
)
from chalicelib.kernel.errors import TransientError
from chalicelib.kernel.idempotency import ConcurrentDeliveryError, Idempotency
from moto import mock_aws

TABLE = "idempotency"


class Counter:
    def __init__(self, result: str = "post-1") -> None:
        self.calls = 0
        self.result = result

    def __call__(self) -> str:
        self.calls += 1
        return self.result


@pytest.fixture
def sqlite(tmp_path: Path) -> PowertoolsIdempotency:
    return local_idempotency(LocalLayout(tmp_path).idempotency)


@pytest.fixture
def dynamodb() -> Iterator[PowertoolsIdempotency]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb_idempotency(TABLE, client=client)


@pytest.fixture(params=["sqlite", "dynamodb"])
def idempotency(request: pytest.FixtureRequest) -> Idempotency:
    store: Idempotency = request.getfixturevalue(request.param)
    return store


def test_second_run_returns_the_recorded_result_without_acting(idempotency: Idempotency) -> None:
    action = Counter("1880028106020515999")
    assert idempotency.run("event-1", action) == "1880028106020515999"
    assert idempotency.run("event-1", Counter("other")) == "1880028106020515999"
    assert action.calls == 1


def test_keys_are_independent(idempotency: Idempotency) -> None:
    assert idempotency.run("event-1", Counter("a")) == "a"
    assert idempotency.run("event-2", Counter("b")) == "b"


def test_a_failed_action_leaves_no_record(idempotency: Idempotency) -> None:
    def fail() -> str:
        raise RuntimeError("X is down")

    with pytest.raises(RuntimeError, match="X is down"):
        idempotency.run("event-1", fail)
    action = Counter("post-2")
    assert idempotency.run("event-1", action) == "post-2"
    assert action.calls == 1


def test_a_concurrent_duplicate_is_transient(idempotency: Idempotency) -> None:
    seen: list[BaseException] = []

    def first() -> str:
        # The duplicate arrives while the first delivery is still posting.
        try:
            idempotency.run("event-1", Counter("second"))
        except BaseException as error:
            seen.append(error)
        return "first"

    assert idempotency.run("event-1", first, remaining_ms=lambda: 60_000) == "first"
    assert len(seen) == 1
    assert isinstance(seen[0], ConcurrentDeliveryError)
    assert isinstance(seen[0], TransientError)
    assert idempotency.run("event-1", Counter("third")) == "first"


def test_an_abandoned_in_progress_record_lapses_with_the_invocation_deadline(idempotency: Idempotency) -> None:
    class Killed(BaseException):
        """What a Lambda timeout looks like from inside: no `except Exception` runs."""

    def crash() -> str:
        raise Killed

    # 1.5 s, not less: on a loaded CI machine the next call must still land inside the deadline.
    with pytest.raises(Killed):
        idempotency.run("event-1", crash, remaining_ms=lambda: 1500)
    with pytest.raises(ConcurrentDeliveryError):
        idempotency.run("event-1", Counter())
    time.sleep(1.6)
    assert idempotency.run("event-1", Counter("after")) == "after"


def test_empty_key_is_refused(sqlite: PowertoolsIdempotency) -> None:
    with pytest.raises(ValueError, match="key"):
        sqlite.run("", Counter())


def test_threads_post_once(sqlite: PowertoolsIdempotency) -> None:
    action = Counter("only")
    gate = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def slow() -> str:
        time.sleep(0.05)
        return action()

    def deliver() -> None:
        gate.wait()
        try:
            result = sqlite.run("event-1", slow, remaining_ms=lambda: 60_000)
        except ConcurrentDeliveryError:
            result = "retry later"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert action.calls == 1
    assert set(outcomes) <= {"only", "retry later"}
    assert "only" in outcomes


def test_sqlite_file_lives_in_the_local_dir(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path / "state")
    store = local_idempotency(layout.idempotency)
    store.run("event-1", Counter())
    assert layout.idempotency.is_file()
    assert layout.idempotency.parent == layout.root
    assert isinstance(store.persistence, SqlitePersistenceLayer)
    # A second process (or restart) sees the record.
    assert local_idempotency(layout.idempotency).run("event-1", Counter("again")) == "post-1"


def test_dynamodb_record_shape(dynamodb: PowertoolsIdempotency) -> None:
    before = int(time.time())
    dynamodb.run("event-1", Counter("1880028106020515999"), remaining_ms=lambda: 30_000)
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = client.scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    item = items[0]
    assert item["id"]["S"].startswith(f"{KEY_PREFIX}#")
    assert "event-1" not in item["id"]["S"]  # hashed
    assert item["status"]["S"] == "COMPLETED"
    assert item["data"]["S"] == '"1880028106020515999"'
    expiration = int(item["expiration"]["N"])
    assert before + DEFAULT_EXPIRES_AFTER_SECONDS <= expiration <= int(time.time()) + DEFAULT_EXPIRES_AFTER_SECONDS
