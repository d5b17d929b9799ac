"""Direct messages through Analysis' claim and Responding (issue 10): a DM is analysed once under its
own claim key, answered by SEND_DM (never SEND_TWEET, never photos, never "@author"), through the same
guards and opt-outs as a post, and its skips say the DM channel."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.analysis.workflow import AnalysisSteps
from chalicelib.contracts import names
from chalicelib.contracts.analysis import AnalysisFailed, MessageAnalysed, TextAnalysis
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.messages import DM, DirectMessageRef, MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import AUTHOR_LIMIT, CONVERSATION_LIMIT, OPTED_OUT, OWN_POST
from chalicelib.contracts.replies import SendTweet
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.conversation import TextResponder
from chalicelib.responding.guards import GuardLimits, ReplyGuards
from chalicelib.responding.optout import STOPPED_CONFIRMATION
from chalicelib.responding.replies import publish_reply, publish_skipped

from tests.fakes import MemoryClaims, MemoryOptOuts, MemoryWindowCounters, RecordingBot, RecordingBus

BOT = "42"
SENDER = "1693649419"
DM_REF = DirectMessageRef("1247299084244979717", SENDER, BOT, f"{BOT}-{SENDER}")


def dm(text: str = "Hello World!", *, event_id: str = DM_REF.event_id, sender: str = SENDER) -> MessageAnalysed:
    reference = DirectMessageRef(event_id, sender, BOT if sender != BOT else SENDER, f"{BOT}-{SENDER}")
    received = MessageReceived.direct(
        text=text, author="tweetinvitest", lang="en", direct_message=reference, received_at_ms=1_764_700_000_000
    )
    return MessageAnalysed(message=received, text=TextAnalysis("NEUTRAL", language="en"))


def post(text: str = "@xbot hi", *, tweet_id: str = DM_REF.event_id, user_id: str = SENDER) -> MessageAnalysed:
    received = MessageReceived(text, "tweetinvitest", "en", TwitterRef(tweet_id, user_id), [])
    return MessageAnalysed(message=received, text=TextAnalysis("NEUTRAL", language="en"))


def publisher(bus: RecordingBus) -> EventPublisher:
    return EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))


def published(bus: RecordingBus) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in bus.entries]


def guards(counters: MemoryWindowCounters, *, per_author: int = 5, per_conversation: int = 5) -> ReplyGuards:
    limits = GuardLimits(
        per_author=per_author, per_conversation=per_conversation, window_seconds=3600, chain_max_depth=3
    )
    return ReplyGuards(counters=counters, bot_user_id=BOT, limits=limits)


# --- Analysis: the claim key ------------------------------------------------------------------


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} must not be called for a text-only message")


def test_a_dm_is_claimed_under_its_own_key_apart_from_a_post_with_the_same_number() -> None:
    claims = MemoryClaims()
    steps = AnalysisSteps(
        media=_Unused(),  # type: ignore[arg-type]  # a DM has no photos: nothing is downloaded
        images=_Unused(),  # type: ignore[arg-type]
        text=_Unused(),  # type: ignore[arg-type]
        publisher=publisher(RecordingBus()),
        claims=claims,
    )
    assert steps.download(dm().message.to_detail(), arrival="event-1") == []
    assert claims.states == {f"analysis:dm:{DM_REF.event_id}": "claimed by event-1"}
    # A post whose id is the same number is another message: it gets its own claim.
    claims.states[f"analysis:{DM_REF.event_id}"] = "completed"
    assert steps.download(dm().message.to_detail(), arrival="event-2") is None  # the DM is taken
    # A failure gives the DM's claim back, not the post's.
    steps.publish_failure(dm().message.to_detail(), "States.Timeout")
    assert claims.states == {f"analysis:{DM_REF.event_id}": "completed"}


def test_a_dms_analysis_failure_names_the_dm_and_never_repeats_its_text() -> None:
    bus = RecordingBus()
    steps = AnalysisSteps(
        media=_Unused(),  # type: ignore[arg-type]
        images=_Unused(),  # type: ignore[arg-type]
        text=_Unused(),  # type: ignore[arg-type]
        publisher=publisher(bus),
        claims=MemoryClaims(),
    )
    steps.publish_failure(dm("my private words").message.to_detail(), "States.Timeout")
    ((kind, detail),) = published(bus)
    assert kind == names.MESSAGE_ANALYSIS_FAILED
    # Linked to its DM like every other event of it (the page and tail find it), and private.
    assert detail["Channel"] == DM
    assert detail["DirectMessage"] == DM_REF.to_detail()
    assert detail["Twitter"] is None
    assert detail["Reason"] == "States.Timeout"
    assert "my private words" not in json.dumps(detail)
    assert AnalysisFailed.from_detail(detail).direct_message == DM_REF


def test_message_analysed_carries_the_channel_and_the_dm_reference_through() -> None:
    analysed = dm()
    detail = analysed.to_detail()
    assert detail["Channel"] == DM
    assert detail["DirectMessage"] == DM_REF.to_detail()
    assert "Twitter" not in detail
    assert detail["HasImages"] is False  # answered by the text responder
    assert MessageAnalysed.from_detail(detail) == analysed


# --- Responding -------------------------------------------------------------------------------


def test_publish_reply_answers_a_dm_with_send_dm_text_only_and_unaddressed() -> None:
    bus = RecordingBus()
    answer = publish_reply(dm(), "hello to you", publisher(bus), image_keys=["users/1/posts/2/a.jpg"])
    assert isinstance(answer, SendDirectMessage)
    ((kind, detail),) = published(bus)
    assert kind == names.SEND_DM
    assert detail == {
        "Text": "hello to you",  # no "@tweetinvitest": a DM has one reader
        "Channel": DM,
        "DirectMessage": DM_REF.to_detail(),
        "ReceivedAtMs": 1_764_700_000_000,
    }
    assert answer.participant_id == SENDER
    assert answer.reply_to_dm_event_id == DM_REF.event_id


def test_publish_reply_still_answers_a_post_with_send_tweet() -> None:
    bus = RecordingBus()
    reply = publish_reply(post(), "hi", publisher(bus))
    assert isinstance(reply, SendTweet)
    assert [kind for kind, _ in published(bus)] == [names.SEND_TWEET]
    assert reply.text == "@tweetinvitest hi"


def test_the_text_responder_answers_a_dm_by_dm() -> None:
    bus = RecordingBus()
    bot = RecordingBot("Hi! I'm a bot.", intent="Greeting")
    responder = TextResponder(bot=bot, publisher=publisher(bus), guards=guards(MemoryWindowCounters()))
    answer = responder.respond(dm("hello"))
    assert isinstance(answer, SendDirectMessage)
    assert [kind for kind, _ in published(bus)] == [names.SEND_DM]
    assert bot.calls[0][0] == SENDER  # one conversation per person, whichever channel


def test_a_dm_stop_opts_the_sender_out_and_later_dms_are_skipped() -> None:
    bus = RecordingBus()
    opt_outs = MemoryOptOuts()
    responder = TextResponder(
        bot=RecordingBot(), publisher=publisher(bus), guards=guards(MemoryWindowCounters()), opt_outs=opt_outs
    )
    responder.respond(dm("stop"))
    assert opt_outs.users == {SENDER}
    ((kind, detail),) = published(bus)
    assert (kind, detail["Text"]) == (names.SEND_DM, STOPPED_CONFIRMATION)
    assert responder.respond(dm("hello again", event_id="1247299084244979999")) is None
    kind, skipped = published(bus)[-1]
    assert (kind, skipped["Reason"], skipped["Channel"]) == (names.REPLY_SKIPPED, OPTED_OUT, DM)
    assert skipped["DirectMessage"]["EventId"] == "1247299084244979999"
    assert "Twitter" not in skipped and "Text" not in skipped


def test_guards_count_a_person_across_channels_and_a_dm_conversation_apart() -> None:
    counters = MemoryWindowCounters()
    reply_guards = guards(counters, per_author=2, per_conversation=5)
    assert reply_guards.refusal(post().message) is None
    assert reply_guards.refusal(dm().message) is None
    # The author limit is per person: their post and their DM both counted.
    assert reply_guards.refusal(dm(event_id="3").message) == AUTHOR_LIMIT
    # The DM conversation is its own key, apart from the post's thread with the same number.
    assert any(key.startswith(f"conversation:dm:{BOT}-{SENDER}") for key in counters.counts)
    assert any(key.startswith(f"conversation:{DM_REF.event_id}") for key in counters.counts)


def test_the_conversation_limit_applies_to_a_dm_conversation() -> None:
    reply_guards = guards(MemoryWindowCounters(), per_author=10, per_conversation=2)
    assert reply_guards.refusal(dm(event_id="1").message) is None
    assert reply_guards.refusal(dm(event_id="2").message) is None
    assert reply_guards.refusal(dm(event_id="3").message) == CONVERSATION_LIMIT


def test_a_dm_conversation_gets_at_most_its_daily_answers_across_windows() -> None:
    """A loop with an auto-replying bot: whatever the window limits allow, the day's cap holds."""
    from chalicelib.contracts.outcomes import DM_DAILY
    from chalicelib.responding.guards import DM_DAILY_LIMIT

    counters = MemoryWindowCounters(now=1_800_028_800.0)  # 8 hours before a day's window ends
    reply_guards = guards(counters, per_author=1_000, per_conversation=1_000)
    answered = 0
    for step in range(DM_DAILY_LIMIT + 5):
        counters.now += 60
        if reply_guards.refusal(dm(event_id=str(100 + step)).message) is None:
            answered += 1
    assert answered == DM_DAILY_LIMIT
    assert reply_guards.refusal(dm(event_id="999").message) == DM_DAILY
    assert reply_guards.refusal(post().message) is None  # posts are not capped by it


def test_the_bots_own_dm_is_refused_by_the_guards_too() -> None:
    assert guards(MemoryWindowCounters()).refusal(dm(sender=BOT).message) == OWN_POST


def test_publish_skipped_says_the_dm_channel() -> None:
    bus = RecordingBus()
    publish_skipped(dm(), AUTHOR_LIMIT, publisher(bus))
    ((kind, detail),) = published(bus)
    assert kind == names.REPLY_SKIPPED
    assert detail == {
        "Channel": DM,
        "DirectMessage": DM_REF.to_detail(),
        "Author": "tweetinvitest",
        "Reason": AUTHOR_LIMIT,
    }


def test_a_dm_with_only_a_photo_is_told_photos_are_not_looked_at() -> None:
    from chalicelib.responding.conversation import NO_PHOTOS_IN_DMS, TextResponder

    bus, bot = RecordingBus(), RecordingBot("Hi there! Send me a photo.", intent="Greeting")
    TextResponder(bot=bot, publisher=publisher(bus)).respond(dm(""))
    ((kind, detail),) = published(bus)
    assert (kind, detail["Text"]) == (names.SEND_DM, NO_PHOTOS_IN_DMS)
    assert bot.calls == []  # nothing to ask the bot
