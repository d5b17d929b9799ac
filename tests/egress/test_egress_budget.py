"""Egress's posting budget and age limit: a reply over the budget is delayed (RetryLaterError, until
the window resets), never lost; a reply to a post received too long ago is skipped as "too old"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.contracts.outcomes import TOO_OLD, ReplySkipped
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import SKIPPED_TOO_OLD, EgressService, PostBudget, PostBudgetExhaustedError
from chalicelib.kernel.errors import RetryLaterError, TransientError
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import FakePoster, MemoryMediaStore, MemoryWindowCounters, RecordingBus

#: A multiple of 900 s: the budget's window starts here.
WINDOW_START = 1_800_000_000.0 - 1_800_000_000.0 % 900
HOUR_MS = 3_600_000


class Setup:
    def __init__(self, tmp_path: Path, *, posts: int = 2, window: int = 900, max_age: int | None = 3600) -> None:
        self.counters = MemoryWindowCounters(now=WINDOW_START + 10)
        self.bus = RecordingBus()
        self.poster = FakePoster(*[str(2000 + n) for n in range(20)])
        self.service = EgressService(
            poster=self.poster,
            media=MemoryMediaStore(),
            idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
            publisher=EventPublisher(bus=self.bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
            budget=PostBudget(counters=self.counters, posts=posts, window_seconds=window),
            max_reply_age_seconds=max_age,
            now=lambda: self.counters.now,
        )

    def reply(self, to: str, *, age_ms: int | None = 1_000) -> SendTweet:
        received = None if age_ms is None else int(self.counters.now * 1000) - age_ms
        return SendTweet(f"@alice answer {to}", to, "42", received_at_ms=received)

    def published(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(e["Source"], e["DetailType"], json.loads(e["Detail"])) for call in self.bus.calls for e in call]


def test_replies_over_the_budget_are_delayed_until_the_window_resets(tmp_path: Path) -> None:
    setup = Setup(tmp_path, posts=2)
    assert setup.service.send(setup.reply("1")) == "2000"
    assert setup.service.send(setup.reply("2")) == "2001"
    with pytest.raises(PostBudgetExhaustedError) as delayed:
        setup.service.send(setup.reply("3"))
    # A transient error (retried, never dead-lettered as a refusal) that says when to come back.
    assert isinstance(delayed.value, RetryLaterError) and isinstance(delayed.value, TransientError)
    assert delayed.value.retry_after_seconds == pytest.approx(900 - 10)
    assert len(setup.poster.calls) == 2
    # The same reply, delivered again after the reset, is posted: delayed, not lost.
    setup.counters.now = WINDOW_START + 900 + 1
    assert setup.service.send(setup.reply("3")) == "2002"
    assert [call[1] for call in setup.poster.calls] == ["1", "2", "3"]


def test_a_reply_already_posted_uses_no_budget(tmp_path: Path) -> None:
    setup = Setup(tmp_path, posts=1)
    first = setup.reply("1")
    assert setup.service.send(first) == "2000"
    # Redelivered while the budget is full: the recorded answer, no post, no delay.
    assert setup.service.send(first) == "2000"
    assert len(setup.poster.calls) == 1


def test_a_delayed_reply_that_grows_too_old_is_skipped_not_posted(tmp_path: Path) -> None:
    setup = Setup(tmp_path, posts=1, max_age=3600)
    setup.service.send(setup.reply("1"))
    waiting = setup.reply("2", age_ms=1_000)
    with pytest.raises(PostBudgetExhaustedError):
        setup.service.send(waiting)
    setup.counters.now += 3600  # the reply comes back an hour later: 3601 s after its post
    assert setup.service.send(waiting) == SKIPPED_TOO_OLD
    assert [call[1] for call in setup.poster.calls] == ["1"]
    skipped = [(source, detail) for source, detail_type, detail in setup.published() if detail_type == "REPLY_SKIPPED"]
    ((source, detail),) = skipped
    assert source == "xbot.egress"
    outcome = ReplySkipped.from_detail(detail)
    assert (outcome.twitter.tweet_id, outcome.twitter.user_id, outcome.reason) == ("2", "42", TOO_OLD)
    # Recorded as the post's answer: a later redelivery neither posts nor records it again.
    assert setup.service.send(waiting) == SKIPPED_TOO_OLD
    assert len(setup.published()) == 2  # REPLY_POSTED for "1", REPLY_SKIPPED for "2"


def test_a_reply_too_old_on_arrival_is_skipped_without_using_the_budget(tmp_path: Path) -> None:
    setup = Setup(tmp_path, posts=1, max_age=3600)
    assert setup.service.send(setup.reply("1", age_ms=HOUR_MS + 1)) == SKIPPED_TOO_OLD
    assert setup.poster.calls == []
    assert setup.service.send(setup.reply("2", age_ms=HOUR_MS - 1)) == "2000"  # the budget is intact


def test_without_a_received_time_a_reply_never_counts_as_too_old(tmp_path: Path) -> None:
    setup = Setup(tmp_path, max_age=1)
    assert setup.service.send(setup.reply("1", age_ms=None)) == "2000"


def test_without_budget_or_age_every_reply_is_posted(tmp_path: Path) -> None:
    service = EgressService(
        poster=FakePoster("2000", "2001", "2002"),
        media=MemoryMediaStore(),
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
    )
    for to in ("1", "2", "3"):
        service.send(SendTweet("@alice hi", to, "42", received_at_ms=1))
