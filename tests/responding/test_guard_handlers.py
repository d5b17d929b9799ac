"""The guards and the outcome events through the Chalice handlers, on the fake adapters: settings
from the environment, counters from the Adapters factory, events on the bus."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.replies import SendTweet

from tests.fakes import FakeAdapters, FakePoster, queued_event, use_fake_adapters

BOT = "1111"


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> FakeAdapters:
    monkeypatch.setenv("BOT_USER_ID", BOT)
    monkeypatch.setenv("REPLIES_PER_AUTHOR", "2")
    monkeypatch.setenv("REPLY_CHAIN_MAX_DEPTH", "1")
    return use_fake_adapters(monkeypatch)


@pytest.fixture
def client(fakes: FakeAdapters) -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def _analysed(tweet_id: str, *, author: str = "42", in_reply_to_user: str | None = None) -> dict[str, Any]:
    twitter = TwitterRef(tweet_id, author, "500", in_reply_to_user)
    return MessageAnalysed(MessageReceived("@xbot a joke?", "alice", "en", twitter), TextAnalysis()).to_detail()


def _published(fakes: FakeAdapters) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in fakes.bus.entries]


def test_the_text_handler_answers_within_the_limits_and_records_the_rest(client: Client, fakes: FakeAdapters) -> None:
    for detail in (
        _analysed("1"),
        _analysed("2"),
        _analysed("3"),  # the author's third in the window: over REPLIES_PER_AUTHOR=2
        _analysed("4", author=BOT),  # the bot's own post, whatever route brought it
        _analysed("5", author="77", in_reply_to_user=BOT),  # a reply to the bot: depth 1 of 1
        _analysed("6", author="77", in_reply_to_user=BOT),  # depth 2: over REPLY_CHAIN_MAX_DEPTH=1
    ):
        event = client.events.generate_cw_event(
            source="xbot.analysis", detail_type="MESSAGE_ANALYSED", detail=detail, resources=[]
        )
        client.lambda_.invoke("responding_reply_to_text", event)
    outcomes = [
        (detail_type, detail.get("ReplyToTweetId") or detail["Twitter"]["TweetId"], detail.get("Reason"))
        for detail_type, detail in _published(fakes)
    ]
    assert outcomes == [
        ("SEND_TWEET", "1", None),
        ("SEND_TWEET", "2", None),
        ("REPLY_SKIPPED", "3", "author limit"),
        ("REPLY_SKIPPED", "4", "own post"),
        ("SEND_TWEET", "5", None),
        ("REPLY_SKIPPED", "6", "chain depth"),
    ]


def test_the_egress_handler_publishes_reply_posted(client: Client, fakes: FakeAdapters) -> None:
    fakes.poster = FakePoster("2000")
    reply = SendTweet("@alice hi", "1900", "42", received_at_ms=int(time.time() * 1000) - 1_000)
    event = queued_event(client, source="xbot.responding", detail_type="SEND_TWEET", detail=reply.to_detail())
    client.lambda_.invoke("egress_post_reply", event)
    ((detail_type, detail),) = _published(fakes)
    assert detail_type == "REPLY_POSTED"
    assert (detail["ReplyToTweetId"], detail["PostedTweetId"]) == ("1900", "2000")
    assert detail["LatencyMs"] > 0
