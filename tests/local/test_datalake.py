"""The Firehose stand-in: one fsync'ed JSON line per event, in hourly folders of the event time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botlocal.datalake import FILES_GLOB, LocalDataLake, partition_of
from botlocal.layout import LocalLayout


def test_events_land_in_the_hour_of_their_time(local_dir: Path, envelope: Callable[..., Any]) -> None:
    root = LocalLayout(local_dir).datalake
    lake = LocalDataLake(root)
    first = envelope(time=datetime(2024, 5, 1, 13, 59, 59, tzinfo=UTC))
    second = envelope(time=datetime(2024, 5, 1, 13, 0, 0, tzinfo=UTC), detail={"Text": "ünïcode"})
    third = envelope(time=datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
    paths = [lake.append(event) for event in (first, second, third)]
    assert paths[0] == paths[1]
    assert paths[0].parent == root / "2024" / "05" / "01" / "13"
    assert paths[2].parent == root / "2024" / "12" / "31" / "23"
    assert paths[0].suffix == ".jsonl"
    lines = paths[0].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [first, second]
    assert sorted(root.glob(FILES_GLOB)) == sorted({paths[0], paths[2]})


def test_a_torn_last_line_is_dropped_before_appending(local_dir: Path, envelope: Callable[..., Any]) -> None:
    lake = LocalDataLake(LocalLayout(local_dir).datalake)
    event = envelope()
    path = lake.path_for(event)
    path.parent.mkdir(parents=True)
    path.write_bytes(json.dumps(event).encode() + b'\n{"version": "0", "id": "to')
    later = envelope()  # the same hour, another event
    LocalDataLake(LocalLayout(local_dir).datalake).append(later)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [event, later]


def test_a_replayed_delivery_is_written_once(local_dir: Path, envelope: Callable[..., Any]) -> None:
    """The journal delivers at least once: a crash after the append and before the "delivered" mark
    replays it, from the same process or from the next one."""
    root = LocalLayout(local_dir).datalake
    event, other = envelope(), envelope()
    path = LocalDataLake(root).append(event)
    restarted = LocalDataLake(root)
    restarted.append(event)
    restarted.append(other)
    restarted.append(other)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["id"] for line in lines] == [event["id"], other["id"]]


def test_partition_of_an_eventbridge_time() -> None:
    assert partition_of("2024-05-01T07:04:05Z") == "2024/05/01/07"
    with pytest.raises(ValueError, match="not an EventBridge time"):
        partition_of("yesterday")
