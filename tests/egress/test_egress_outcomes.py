"""Egress records each reply it posts as REPLY_POSTED: the post id X returned and the
delivery-to-reply latency, once per post answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.contracts.outcomes import ReplyPosted
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import EgressService
from chalicelib.ports import DuplicateContentError
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import FakePoster, MemoryMediaStore, RecordingBus

NOW = 1_767_225_000.0


def _service(tmp_path: Path, poster: FakePoster, bus: RecordingBus) -> EgressService:
    publisher = EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))
    return EgressService(
        poster=poster,
        media=MemoryMediaStore(),
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
        publisher=publisher,
        now=lambda: NOW,
    )


def _published(bus: RecordingBus) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e["Source"], e["DetailType"], json.loads(e["Detail"])) for call in bus.calls for e in call]


def test_a_posted_reply_is_recorded_with_its_id_and_latency(tmp_path: Path) -> None:
    bus = RecordingBus()
    received = int(NOW * 1000) - 2_500
    sent = SendTweet("@alice a joke", "1900", "42", received_at_ms=received)
    service = _service(tmp_path, FakePoster("2000"), bus)
    assert service.send(sent) == "2000"
    assert service.send(sent) == "2000"  # a redelivery: not posted, not recorded again
    ((source, detail_type, detail),) = _published(bus)
    assert (source, detail_type) == ("xbot.egress", "REPLY_POSTED")
    assert ReplyPosted.from_detail(detail) == ReplyPosted("1900", "42", "2000", latency_ms=2_500)


def test_an_old_send_tweet_without_a_received_time_has_no_latency(tmp_path: Path) -> None:
    bus = RecordingBus()
    _service(tmp_path, FakePoster("2000"), bus).send(SendTweet("@alice hi", "1900", "42"))
    ((_, _, detail),) = _published(bus)
    assert detail["LatencyMs"] is None


def test_a_duplicate_refused_by_x_is_not_recorded_as_posted(tmp_path: Path) -> None:
    bus = RecordingBus()
    _service(tmp_path, FakePoster(DuplicateContentError("dup")), bus).send(SendTweet("@alice hi", "1900", "42"))
    assert _published(bus) == []


def test_a_bus_that_refuses_the_outcome_does_not_post_again(tmp_path: Path) -> None:
    bus = RecordingBus(failures=[RuntimeError("bus down")])
    poster = FakePoster("2000", "2001")
    service = _service(tmp_path, poster, bus)
    assert service.send(SendTweet("@alice hi", "1900", "42")) == "2000"
    assert service.send(SendTweet("@alice hi", "1900", "42")) == "2000"
    assert len(poster.calls) == 1
