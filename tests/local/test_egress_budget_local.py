"""Locally, Egress's queue is the journal: SEND_TWEET reaches the egress handler wrapped as an SQS
message, the posting budget applies to the outbox (a reply over it is deferred by the dispatcher,
never dead-lettered) and a reply too old is skipped with REPLY_SKIPPED."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest
from botlocal.chalice_app import chalice_targets, find_runtime_dir, load_chalice_app
from botlocal.dispatcher import Dispatcher, RetryPolicy
from botlocal.journal import DELIVERED, PENDING, Journal
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from botlocal.targets import TargetRegistry
from chalicelib import wiring
from chalicelib.contracts.replies import SendTweet
from chalicelib.settings import Settings

from tests.local.journal_views import delivery_states, drain

TARGET = "lambda:egress_post_reply"
WINDOW = 2


@pytest.fixture
def dispatcher(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Journal, Dispatcher]:
    monkeypatch.setenv("POST_BUDGET", "1")
    monkeypatch.setenv("POST_BUDGET_WINDOW_SECONDS", str(WINDOW))
    monkeypatch.setenv("MAX_REPLY_AGE_SECONDS", "3600")
    wiring.reset()
    app = load_chalice_app(find_runtime_dir())
    registry = TargetRegistry(chalice_targets(app, settings, find_runtime_dir()))
    assert TARGET in registry.names()
    journal = Journal(LocalLayout.from_environment().journal)
    return journal, Dispatcher(journal, registry, retry=RetryPolicy(max_attempts=1))


def _send_tweet(envelope: Callable[..., Any], to: str, *, age_ms: int) -> dict[str, Any]:
    reply = SendTweet(f"@alice answer {to}", to, "42", received_at_ms=int(time.time() * 1000) - age_ms)
    return envelope("SEND_TWEET", reply.to_detail(), source="xbot.responding", event_id=f"send-{to}")  # type: ignore[no-any-return]


def _wait_for_the_next_window() -> None:
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)


def test_a_reply_over_the_budget_waits_and_then_reaches_the_outbox(
    dispatcher: tuple[Journal, Dispatcher], envelope: Callable[..., Any]
) -> None:
    journal, run = dispatcher
    _wait_for_the_next_window()  # both replies in one window
    journal.append([_send_tweet(envelope, "1", age_ms=1_000), _send_tweet(envelope, "2", age_ms=1_000)])
    drain(run)
    outbox = LocalLayout.from_environment().outbox
    assert [line["ReplyToTweetId"] for line in read_outbox(outbox)] == ["1"]
    assert delivery_states(journal, "send-2") == {TARGET: PENDING}  # deferred, not failed
    _wait_for_the_next_window()
    drain(run)
    assert [line["ReplyToTweetId"] for line in read_outbox(outbox)] == ["1", "2"]
    assert delivery_states(journal, "send-2") == {TARGET: DELIVERED}
    assert journal.dead_letters() == []  # max_attempts=1: a counted failure would have dead-lettered it


def test_a_reply_too_old_is_skipped_and_recorded(
    dispatcher: tuple[Journal, Dispatcher], envelope: Callable[..., Any]
) -> None:
    journal, run = dispatcher
    journal.append([_send_tweet(envelope, "9", age_ms=3_601_000)])
    drain(run)
    assert read_outbox(LocalLayout.from_environment().outbox) == []
    assert delivery_states(journal, "send-9") == {TARGET: DELIVERED}
    with closing(sqlite3.connect(f"file:{journal.path}?mode=ro", uri=True)) as connection:
        envelopes = [json.loads(row[0]) for row in connection.execute("SELECT envelope FROM events ORDER BY seq")]
    skipped = [e["detail"] for e in envelopes if e["detail-type"] == "REPLY_SKIPPED"]
    assert [(detail["Twitter"]["TweetId"], detail["Reason"]) for detail in skipped] == [("9", "too old")]
