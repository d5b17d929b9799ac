from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.contracts.envelope import BusEvent
from chalicelib.publishing import MAX_BYTES, EventPublisher, PublishError, RetryPolicy, batches, entry_size

from tests.fakes import MemoryPayloadStore, RecordingBus


def _events(count: int, size: int = 10) -> list[BusEvent]:
    return [BusEvent("xbot.ingress", "TWITTER_TWEETED", {"n": i, "pad": "x" * size}) for i in range(count)]


def _publisher(bus: RecordingBus, store: MemoryPayloadStore | None = None, attempts: int = 3) -> EventPublisher:
    return EventPublisher(
        bus=bus, bus_name="xbot-bus", payload_store=store, retry=RetryPolicy(attempts=attempts), sleep=lambda _: None
    )


def test_batches_hold_at_most_ten_entries_and_keep_order() -> None:
    bus = RecordingBus()
    ids = _publisher(bus).publish(_events(23))
    assert [len(call) for call in bus.calls] == [10, 10, 3]
    assert ids == [f"id-{i}" for i in range(1, 24)]
    assert [json.loads(e["Detail"])["n"] for call in bus.calls for e in call] == list(range(23))
    assert all(e["EventBusName"] == "xbot-bus" for call in bus.calls for e in call)


def test_batches_hold_at_most_256_kb() -> None:
    entries = [{"Source": "s", "DetailType": "d", "Detail": "x" * 100_000} for _ in range(5)]
    split = batches(entries)
    assert [len(batch) for batch in split] == [2, 2, 1]
    assert all(sum(entry_size(e) for e in batch) <= MAX_BYTES for batch in split)


def test_entry_size_counts_utf8_bytes() -> None:
    assert entry_size({"Source": "ab", "DetailType": "c", "Detail": "é"}) == 5
    assert entry_size({"Source": "", "DetailType": "", "Detail": "", "Time": "x"}) == 14


def test_failed_entries_are_retried_alone() -> None:
    bus = RecordingBus(failures=[{1, 3}])
    ids = _publisher(bus).publish(_events(4))
    assert [len(call) for call in bus.calls] == [4, 2]
    assert [json.loads(e["Detail"])["n"] for e in bus.calls[1]] == [1, 3]
    assert len(ids) == 4


def test_a_failing_call_is_retried() -> None:
    bus = RecordingBus(failures=[ConnectionError("reset")])
    assert len(_publisher(bus).publish(_events(2))) == 2
    assert len(bus.calls) == 2


def test_persistent_failure_raises_after_the_last_attempt() -> None:
    bus = RecordingBus(failures=[{0}, {0}, {0}])
    with pytest.raises(PublishError, match="1 of 2 events not published after 3 attempts: ThrottlingException"):
        _publisher(bus).publish(_events(2))
    assert len(bus.calls) == 3


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=5, base_delay_seconds=0.1, max_delay_seconds=0.3)
    for attempt in range(1, 5):
        assert 0 <= policy.delay(attempt) <= min(0.3, 0.1 * 2**attempt)


def test_oversized_event_goes_to_the_store_with_a_pointer() -> None:
    bus, store = RecordingBus(), MemoryPayloadStore()
    big = BusEvent("xbot.ingress", "TWITTER_TWEETED", {"text": "é" * 200_000})
    _publisher(bus, store).publish([big, *_events(1)])
    ((key, body),) = store.objects.items()
    assert key.startswith("oversized/")
    assert json.loads(body) == big.detail
    pointer = json.loads(bus.calls[0][0]["Detail"])["Oversized"]
    assert pointer["Uri"] == f"memory://{key}"
    assert pointer["Bytes"] == len(body)
    assert len(bus.calls[0]) == 2


def test_oversized_event_without_a_store_is_an_error_not_a_drop() -> None:
    big = BusEvent("xbot.ingress", "TWITTER_TWEETED", {"text": "x" * MAX_BYTES})
    with pytest.raises(PublishError, match="exceeds"):
        _publisher(RecordingBus()).publish([big])


def test_oversized_event_on_the_local_runtime(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path
    from urllib.parse import urlparse

    from chalicelib import wiring

    monkeypatch.setenv("BOT_ADAPTERS", "botlocal.adapters:LocalAdapters")
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    wiring.reset()
    big = BusEvent("xbot.ingress", "TWITTER_TWEETED", {"text": "x" * MAX_BYTES})
    wiring.publisher().publish([big])
    (stored,) = (tmp_path / "oversized").rglob("*.json")
    assert json.loads(stored.read_text()) == big.detail
    (envelope,) = [json.loads(row) for row in _journal_details(tmp_path)]
    assert Path(urlparse(envelope["Oversized"]["Uri"]).path) == stored


def _journal_details(local_dir: Any) -> list[str]:
    import sqlite3

    with sqlite3.connect(local_dir / "bus.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert "events" in tables, tables
        return [json.dumps(json.loads(row[0])["detail"]) for row in db.execute("SELECT envelope FROM events")]
