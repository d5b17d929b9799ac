"""The local EventBus adapter: PutEvents semantics, envelopes in the journal before it returns."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botlocal.adapters import LocalAdapters
from botlocal.bus import MAX_ENTRIES_PER_CALL, LocalEventBus, PutEventsRejectedError
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from chalicelib.contracts.envelope import ENVELOPE_KEYS
from chalicelib.ports import EventBus
from chalicelib.settings import Settings

from tests.local.journal_views import event_count

NOW = datetime(2024, 5, 1, 13, 4, 5, tzinfo=UTC)


def entry(detail: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "Source": "xbot.ingress",
        "DetailType": "MESSAGE_RECEIVED",
        "Detail": json.dumps(detail if detail is not None else {"Text": "hi"}),
        **overrides,
    }


@pytest.fixture
def journal(local_dir: Path) -> Journal:
    return Journal(LocalLayout(local_dir).journal)


@pytest.fixture
def bus(journal: Journal) -> LocalEventBus:
    return LocalEventBus(journal, account="123456789012", region="eu-west-1", bus_name="xbot", clock=lambda: NOW)


def test_the_factory_builds_an_event_bus_on_the_state_folder(settings: Settings, local_dir: Path) -> None:
    bus: EventBus = LocalAdapters(settings).event_bus()
    (result,) = bus.put_entries([entry()])
    assert result.ok
    with Journal(LocalLayout(local_dir).journal) as journal:
        assert [event.event_id for event in journal.unrouted()] == [result.event_id]


def test_entries_are_recorded_as_eventbridge_envelopes(bus: LocalEventBus, journal: Journal) -> None:
    results = bus.put_entries([entry({"Text": "one"}), entry({"Text": "two"}, EventBusName="xbot")])
    assert all(result.ok for result in results)
    envelopes = [event.envelope for event in journal.unrouted()]
    assert [envelope["id"] for envelope in envelopes] == [result.event_id for result in results]
    first = envelopes[0]
    assert tuple(first) == ENVELOPE_KEYS
    assert first["detail-type"] == "MESSAGE_RECEIVED"
    assert first["source"] == "xbot.ingress"
    assert (first["account"], first["region"], first["version"]) == ("123456789012", "eu-west-1", "0")
    assert first["time"] == "2024-05-01T13:04:05Z"
    assert first["detail"] == {"Text": "one"}
    assert first["resources"] == []
    uuid.UUID(first["id"])


def test_resources_and_an_explicit_time_are_kept(bus: LocalEventBus, journal: Journal) -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    bus.put_entries([entry(Resources=["arn:aws:s3:::b/k"], Time=when)])
    (event,) = journal.unrouted()
    assert event.envelope["resources"] == ["arn:aws:s3:::b/k"]
    assert event.envelope["time"] == "2020-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (entry(Source=""), "InvalidArgument"),
        ({"DetailType": "X", "Detail": "{}"}, "InvalidArgument"),
        (entry(DetailType=None), "InvalidArgument"),
        (entry(Detail="not json"), "MalformedDetail"),
        (entry(Detail="[1, 2]"), "MalformedDetail"),
        (entry(Resources="arn"), "InvalidArgument"),
        (entry(Time="yesterday"), "InvalidArgument"),
    ],
)
def test_a_bad_entry_fails_alone(bus: LocalEventBus, journal: Journal, bad: dict[str, Any], code: str) -> None:
    good, failed = bus.put_entries([entry(), bad])
    assert good.ok
    assert not failed.ok
    assert failed.error_code == code
    assert failed.event_id is None
    assert [event.event_id for event in journal.unrouted()] == [good.event_id]


def test_eventbridge_limits_reject_the_whole_call(bus: LocalEventBus, journal: Journal) -> None:
    with pytest.raises(PutEventsRejectedError, match="at most 10"):
        bus.put_entries([entry()] * (MAX_ENTRIES_PER_CALL + 1))
    with pytest.raises(PutEventsRejectedError, match="claim check"):
        bus.put_entries([entry({"Text": "x" * 300_000})])
    with pytest.raises(PutEventsRejectedError, match="non-empty"):
        bus.put_entries([])
    assert event_count(journal) == 0


def test_an_unknown_bus_is_rejected_but_its_arn_is_accepted(bus: LocalEventBus) -> None:
    with pytest.raises(PutEventsRejectedError, match="does not exist locally"):
        bus.put_entries([entry(EventBusName="other")])
    (result,) = bus.put_entries([entry(EventBusName="arn:aws:events:eu-west-1:123456789012:event-bus/xbot")])
    assert result.ok
