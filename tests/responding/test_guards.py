"""The loop and abuse guards, with the in-memory counters: own posts, author and conversation
limits, and the depth of a chain of replies to the bot's own replies; and the responders that
record a refusal as REPLY_SKIPPED instead of answering."""

from __future__ import annotations

import json

import pytest
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import (
    AUTHOR_LIMIT,
    CHAIN_DEPTH,
    CONVERSATION_LIMIT,
    OWN_POST,
    ReplySkipped,
)
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.conversation import TextResponder
from chalicelib.responding.guards import CHAIN_WINDOW_SECONDS, GuardLimits, ReplyGuards
from chalicelib.responding.photos import PhotoResponder

from tests.fakes import MemoryMediaStore, MemoryWindowCounters, RecordingBot, RecordingBus

BOT = "1111"
LIMITS = GuardLimits(per_author=5, per_conversation=10, window_seconds=900, chain_max_depth=3)


def _post(
    tweet_id: int, *, author: str = "42", conversation: str | None = "500", in_reply_to_user: str | None = None
) -> MessageReceived:
    twitter = TwitterRef(str(tweet_id), author, conversation, in_reply_to_user)
    return MessageReceived("@xbot tell me a joke", "alice", "en", twitter)


def _guards(counters: MemoryWindowCounters | None = None, limits: GuardLimits = LIMITS) -> ReplyGuards:
    return ReplyGuards(counters=counters or MemoryWindowCounters(), bot_user_id=BOT, limits=limits)


def test_the_bots_own_post_is_never_answered_and_counts_nothing() -> None:
    counters = MemoryWindowCounters()
    guards = _guards(counters)
    assert guards.refusal(_post(1, author=BOT)) == OWN_POST
    # Whichever field says it: the bot replying to itself, or quoting itself.
    assert guards.refusal(_post(2, author=BOT, in_reply_to_user=BOT)) == OWN_POST
    assert counters.counts == {}


def test_without_the_bots_id_only_the_limits_apply() -> None:
    guards = ReplyGuards(counters=MemoryWindowCounters(), bot_user_id=None, limits=LIMITS)
    assert guards.refusal(_post(1, author=BOT, in_reply_to_user=BOT)) is None


def test_an_author_gets_at_most_the_limit_in_a_window() -> None:
    counters = MemoryWindowCounters()
    guards = _guards(counters)
    refusals = [guards.refusal(_post(i, conversation=str(i))) for i in range(8)]
    assert refusals == [None] * 5 + [AUTHOR_LIMIT] * 3
    counters.now += LIMITS.window_seconds  # the next window
    assert guards.refusal(_post(9, conversation="9")) is None


def test_a_conversation_gets_at_most_the_limit_whoever_writes() -> None:
    guards = _guards()
    refusals = [guards.refusal(_post(i, author=f"user{i}")) for i in range(12)]
    assert refusals == [None] * 10 + [CONVERSATION_LIMIT] * 2
    assert guards.refusal(_post(99, author="user99", conversation="other")) is None


def test_a_chain_of_replies_to_the_bot_stops_at_the_depth() -> None:
    counters = MemoryWindowCounters()
    guards = _guards(counters, GuardLimits(per_author=100, per_conversation=100, window_seconds=900, chain_max_depth=3))
    # Another bot answering each of our replies in one thread.
    refusals = [guards.refusal(_post(i, author="otherbot", in_reply_to_user=BOT)) for i in range(5)]
    assert refusals == [None, None, None, CHAIN_DEPTH, CHAIN_DEPTH]
    # A new mention (not a reply to the bot) in the same thread is still answered...
    assert guards.refusal(_post(10, author="otherbot")) is None
    # ...and the chain's count lasts its own window, not the limits' one.
    counters.now += LIMITS.window_seconds
    assert guards.refusal(_post(11, author="otherbot", in_reply_to_user=BOT)) == CHAIN_DEPTH
    counters.now += CHAIN_WINDOW_SECONDS
    assert guards.refusal(_post(12, author="otherbot", in_reply_to_user=BOT)) is None


def test_a_depth_of_zero_answers_no_reply_to_the_bot() -> None:
    guards = _guards(limits=GuardLimits(per_author=5, per_conversation=10, window_seconds=900, chain_max_depth=0))
    assert guards.refusal(_post(1, in_reply_to_user=BOT)) == CHAIN_DEPTH
    assert guards.refusal(_post(2)) is None


def test_v1_replies_without_a_conversation_id_are_counted_by_the_post_they_answer() -> None:
    guards = _guards(limits=GuardLimits(per_author=100, per_conversation=2, window_seconds=900, chain_max_depth=3))
    posts = [
        MessageReceived("hi", "a", "en", TwitterRef(str(i), f"u{i}", None, "77", in_reply_to_tweet_id="700"))
        for i in range(3)
    ]
    assert [guards.refusal(post) for post in posts] == [None, None, CONVERSATION_LIMIT]


def _publisher(bus: RecordingBus) -> EventPublisher:
    return EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize("kind", ["text", "photo"])
def test_a_refused_message_is_recorded_as_reply_skipped_and_not_answered(kind: str) -> None:
    bus, bot = RecordingBus(), RecordingBot()
    guards = _guards()
    publisher = _publisher(bus)
    responder: TextResponder | PhotoResponder
    if kind == "text":
        responder = TextResponder(bot=bot, publisher=publisher, guards=guards)
    else:
        responder = PhotoResponder(
            media=MemoryMediaStore(),
            annotate=lambda *_a, **_k: (b"", "image/png"),
            publisher=publisher,
            blur_unrecognised=True,
            max_pixels=10,
            guards=guards,
        )
    replies = [responder.respond(MessageAnalysed(_post(i), TextAnalysis())) for i in range(7)]
    assert sum(reply is not None for reply in replies) == 5
    published = [(e["DetailType"], json.loads(e["Detail"])) for call in bus.calls for e in call]
    assert [t for t, _ in published] == ["SEND_TWEET"] * 5 + ["REPLY_SKIPPED"] * 2
    skipped = ReplySkipped.from_detail(published[-1][1])
    assert (skipped.twitter.tweet_id, skipped.reason, skipped.author) == ("6", AUTHOR_LIMIT, "alice")
    if kind == "text":
        assert len(bot.calls) == 5  # the bot is not even asked


def test_the_reply_carries_when_the_post_was_received() -> None:
    bus = RecordingBus()
    message = MessageReceived("@xbot hi", "alice", "en", TwitterRef("1", "42"), received_at_ms=1_700_000_000_000)
    reply = TextResponder(bot=RecordingBot(), publisher=_publisher(bus), guards=_guards()).respond(
        MessageAnalysed(message, TextAnalysis())
    )
    assert reply is not None and reply.received_at_ms == 1_700_000_000_000
