"""The PollCheckpoint port on DynamoDB (moto), on SQLite and in memory (the fake): load what was
saved, and save only over the version read (two overlapping runs cannot move it backwards)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botlocal.checkpoint import SqlitePollCheckpoint
from chalicelib.adapters.dynamodb_checkpoint import CheckpointUnavailableError, DynamoDbPollCheckpoint
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import PollCheckpoint, PollState
from moto import mock_aws

from tests.fakes import MemoryPollCheckpoint

BOT = "1111111111111111111"


@pytest.fixture(params=["dynamodb", "sqlite", "fake"])
def checkpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PollCheckpoint]:
    if request.param == "sqlite":
        yield SqlitePollCheckpoint(tmp_path / "state" / "poll-checkpoint.sqlite3")
        return
    if request.param == "fake":
        yield MemoryPollCheckpoint()
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="checkpoints",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDbPollCheckpoint(client, "checkpoints")


def test_nothing_saved_loads_as_none(checkpoint: PollCheckpoint) -> None:
    assert checkpoint.load(BOT) is None


def test_a_saved_state_loads_back_whole(checkpoint: PollCheckpoint) -> None:
    first = PollState(since_id=None, start_time=1_800_000_000.0, version=1)
    assert checkpoint.save(BOT, first)
    assert checkpoint.load(BOT) == first
    mid_range = PollState(
        since_id="2080765813578191300",
        range_newest_id="2080765813578191400",
        pagination_token="7140dibdnow9c7btw4b0ij1zmi4pa5nrd1qj0lhgagw8j",
        not_before=1_800_000_420.5,
        version=2,
    )
    assert checkpoint.save(BOT, mid_range)
    assert checkpoint.load(BOT) == mid_range
    assert checkpoint.load("another-account") is None


def test_a_save_over_a_version_already_moved_on_fails(checkpoint: PollCheckpoint) -> None:
    assert checkpoint.save(BOT, PollState(since_id="100", version=1))
    assert checkpoint.save(BOT, PollState(since_id="200", version=2))
    # A run that read version 1 (since_id 100) and tries to save its version 2: refused.
    assert not checkpoint.save(BOT, PollState(since_id="150", version=2))
    # A first save where one exists: refused too.
    assert not checkpoint.save(BOT, PollState(since_id="50", version=1))
    loaded = checkpoint.load(BOT)
    assert loaded is not None and loaded.since_id == "200" and loaded.version == 2


def test_of_two_concurrent_saves_of_the_same_version_one_wins(checkpoint: PollCheckpoint) -> None:
    if isinstance(checkpoint, DynamoDbPollCheckpoint):
        pytest.skip("moto's client is not for threads; DynamoDB's conditional put is atomic by contract")
    assert checkpoint.save(BOT, PollState(since_id="100", version=1))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def save(since_id: str) -> None:
        barrier.wait()
        results.append(checkpoint.save(BOT, PollState(since_id=since_id, version=2)))

    threads = [threading.Thread(target=save, args=(str(200 + i),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_dynamodb_failures_are_transient() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        missing = DynamoDbPollCheckpoint(client, "no-such-table")
        with pytest.raises(CheckpointUnavailableError) as caught:
            missing.load(BOT)
        assert isinstance(caught.value, TransientError)
        with pytest.raises(CheckpointUnavailableError):
            missing.save(BOT, PollState(since_id="1", version=1))
