"""The kill switch (issue 9, section 3): read at each post; "off" skips the reply ("posting paused")
for good, so turning posting back on posts nothing that waited; unreadable -> nothing posted, retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.contracts.outcomes import POSTING_PAUSED
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import SKIPPED_PAUSED, EgressService, PostBudget
from chalicelib.kernel.errors import TransientError
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import FakePoster, FakePostingSwitch, MemoryMediaStore, MemoryWindowCounters, RecordingBus

NOW = 1_767_225_000.0


def _service(
    tmp_path: Path, poster: FakePoster, bus: RecordingBus, switch: FakePostingSwitch, counters: MemoryWindowCounters
) -> EgressService:
    return EgressService(
        poster=poster,
        media=MemoryMediaStore(),
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
        publisher=EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
        budget=PostBudget(counters=counters, posts=10, window_seconds=900),
        max_reply_age_seconds=3600,
        switch=switch,
        now=lambda: NOW,
    )


def _reply(tweet_id: str) -> SendTweet:
    return SendTweet(f"@alice reply to {tweet_id}", tweet_id, "42", received_at_ms=int(NOW * 1000) - 1000)


def _published(bus: RecordingBus) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e["Source"], e["DetailType"], json.loads(e["Detail"])) for e in bus.entries]


def test_off_skips_the_reply_for_good_and_on_posts_only_what_comes_after(tmp_path: Path) -> None:
    poster, bus, counters = FakePoster("9001"), RecordingBus(), MemoryWindowCounters()
    switch = FakePostingSwitch(False, False, True)
    service = _service(tmp_path, poster, bus, switch, counters)

    assert service.send(_reply("1")) == SKIPPED_PAUSED
    assert service.send(_reply("2")) == SKIPPED_PAUSED
    # Switched back on: a redelivery of a paused reply does not post it (no flood of stale replies)...
    assert service.send(_reply("1")) == SKIPPED_PAUSED
    # ...a new one is posted.
    assert service.send(_reply("3")) == "9001"

    assert [call[1] for call in poster.calls] == ["3"]
    assert switch.reads == 3  # once per post decided: the redelivery was answered from the record
    assert counters.counts == {next(iter(counters.counts)): 1}  # a paused reply uses no budget
    assert [(kind, detail.get("Reason")) for _, kind, detail in _published(bus)] == [
        ("REPLY_SKIPPED", POSTING_PAUSED),
        ("REPLY_SKIPPED", POSTING_PAUSED),
        ("REPLY_POSTED", None),
    ]
    skipped = _published(bus)[0]
    assert skipped[0] == "xbot.egress"
    assert skipped[2]["Twitter"] == {"TweetId": "1", "UserId": "42", "ConversationId": None}


def test_an_unreadable_switch_posts_nothing_and_the_reply_is_retried(tmp_path: Path) -> None:
    poster, bus = FakePoster("9001"), RecordingBus()
    switch = FakePostingSwitch(TransientError("cannot read the posting switch"), True)
    service = _service(tmp_path, poster, bus, switch, MemoryWindowCounters())

    with pytest.raises(TransientError):
        service.send(_reply("1"))
    assert poster.calls == [] and bus.entries == []
    # The failed attempt left no record: the retry reads the switch again and posts.
    assert service.send(_reply("1")) == "9001"


def test_without_a_switch_posting_is_on(tmp_path: Path) -> None:
    poster = FakePoster("9001")
    service = EgressService(
        poster=poster, media=MemoryMediaStore(), idempotency=local_idempotency(LocalLayout(tmp_path).idempotency)
    )
    assert service.send(_reply("1")) == "9001"
