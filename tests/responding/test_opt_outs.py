""" "stop" and "start" (issue 9, section 3): the rule that reads them, and the responders that honour
them: one confirmation, then silence (REPLY_SKIPPED "opted out") until "start"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import AUTHOR_LIMIT, OPTED_OUT
from chalicelib.publishing import EventPublisher, PublishError, RetryPolicy
from chalicelib.responding import optout
from chalicelib.responding.conversation import TextResponder
from chalicelib.responding.guards import GuardLimits, ReplyGuards
from chalicelib.responding.optout import (
    STARTED_CONFIRMATION,
    STOPPED_CONFIRMATION,
    Command,
    command_in,
    normalised,
)
from chalicelib.responding.photos import PhotoResponder

from tests.fakes import MemoryMediaStore, MemoryOptOuts, MemoryWindowCounters, RecordingBot, RecordingBus

STOPS = [
    "stop",
    "STOP",
    "Stop.",
    "stop!!!",
    "@xbot stop",
    "@xbot STOP 🛑",
    "stop please",
    "Please stop",
    "pls stop it now, thanks",
    "🙏 stop 🙏",
    "unsubscribe",
    "@xbot unsubscribe me",
    "STOPALL",
    "stop spamming me!",
    "UNSUBSCRIBE https://t.co/x",
    "opt out",
    "opt-out",
    "Opt Out!",
    "leave me alone",
    "Leave me alone!!! @xbot",
    "go away bot",
    "don't reply to me",
    "Don\u2019t reply",  # a typographic apostrophe
    "stop replying to me please",
    "\uff33\uff34\uff2f\uff30",  # STOP in full-width letters (NFKC)
    "@xbot @friend stop",
    # Found missing in a review (each was an ordinary message before): said again, with "this",
    # with "bot" inside the phrase, and the words for stop of the bot's other languages.
    "stop stop",
    "STOP! STOP! STOP!",
    "stop this",
    "Stop the bot please",
    "stop the replies",
    "stop spamming",
    "halt",
    "Para.",
    "por favor para",
    "Basta ya",
    "arrête !",
    "arrete svp",
    "@xbot STOPP",
    "Hör auf, bitte",
]
STARTS = ["start", "START", "@xbot start please", "Start again!", "unstop", "resume", "opt in", "opt-in 👍"]
NEITHER = [
    "don't stop",
    "dont stop me now",
    "stop motion is my favourite",
    "I can't stop laughing",
    "please don't stop replying",
    "stop what you're doing and tell me a joke",
    "start me a story",
    "who started this?",
    "stopwatch",
    "@stop hello",  # a mention, not a word
    "",
    "please",
    "tell me a joke",
    # Sentences around the words for stop of the other languages are still ordinary messages.
    "para mí es genial",
    "basta de chistes malos, cuéntame uno bueno",
    "no more",
    "stop stop motion",
]


@pytest.mark.parametrize("text", STOPS)
def test_stop_and_its_variants_are_stop(text: str) -> None:
    assert command_in(text) is Command.STOP, normalised(text)


@pytest.mark.parametrize("text", STARTS)
def test_start_and_its_variants_are_start(text: str) -> None:
    assert command_in(text) is Command.START, normalised(text)


@pytest.mark.parametrize("text", NEITHER)
def test_a_sentence_that_merely_contains_stop_or_start_is_not_a_command(text: str) -> None:
    assert command_in(text) is None, normalised(text)


def test_a_25000_character_message_is_not_a_command_and_its_parts_are_never_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polite words alternate so no repeat collapses them: the parts of such a message grow with the
    cube of its length (1,600 words took 25 s), past the responder's Lambda timeout."""
    built: list[int] = []
    real_cores = optout._cores

    def counting_cores(words: list[str]) -> set[str]:
        built.append(len(words))
        assert len(words) <= optout.MAX_COMMAND_WORDS, f"{len(words)} words read as a possible command"
        return real_cores(words)

    monkeypatch.setattr(optout, "_cores", counting_cores)
    text = ("ok bitte " * 2_800)[:24_995] + " stop"
    assert len(text) == 25_000
    assert command_in(text) is None
    assert built == []
    assert command_in("ok bitte please stop thanks") is Command.STOP  # a short one is still read
    assert built == [5]


# --- the responders ------------------------------------------------------------------------------


def _message(text: str, tweet_id: str, images: list[ImageResult] | None = None) -> MessageAnalysed:
    images = images or []
    return MessageAnalysed(
        message=MessageReceived(
            text, "alice", "en", TwitterRef(tweet_id, "42"), [image.url for image in images], received_at_ms=1
        ),
        text=TextAnalysis("NEUTRAL", language="en"),
        images=images,
    )


def _published(bus: RecordingBus) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in bus.entries]


def _text_responder(bus: RecordingBus, opt_outs: MemoryOptOuts, guards: ReplyGuards | None = None) -> TextResponder:
    publisher = EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))
    return TextResponder(bot=RecordingBot("a joke"), publisher=publisher, guards=guards, opt_outs=opt_outs)


def test_stop_is_confirmed_once_then_silence_until_start() -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    responder = _text_responder(bus, opt_outs)

    confirmation = responder.respond(_message("@xbot STOP please", "1"))
    again = responder.respond(_message("@xbot stop", "2"))
    ignored = responder.respond(_message("@xbot tell me a joke", "3"))
    started = responder.respond(_message("@xbot start", "4"))
    answered = responder.respond(_message("@xbot tell me a joke", "5"))

    assert (confirmation, again, ignored, started) == (None, None, None, None)
    assert answered is not None and answered.text == "@alice a joke"
    published = _published(bus)
    assert [(kind, detail.get("Text") or detail.get("Reason")) for kind, detail in published] == [
        ("SEND_TWEET", f"@alice {STOPPED_CONFIRMATION}"),
        ("REPLY_SKIPPED", OPTED_OUT),
        ("REPLY_SKIPPED", OPTED_OUT),
        ("SEND_TWEET", f"@alice {STARTED_CONFIRMATION}"),
        ("SEND_TWEET", "@alice a joke"),
    ]
    # Each answers the post that asked, as any reply does.
    assert [detail.get("ReplyToTweetId") or detail["Twitter"]["TweetId"] for _, detail in published] == list("12345")
    assert opt_outs.users == set()


def test_start_from_someone_not_opted_out_is_an_ordinary_message() -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    reply = _text_responder(bus, opt_outs).respond(_message("@xbot start", "1"))
    assert reply is not None and reply.text == "@alice a joke"


def test_an_opted_out_person_gets_no_photo_reply_either() -> None:
    bus, opt_outs, store = RecordingBus(), MemoryOptOuts(), MemoryMediaStore()
    opt_outs.opt_out("42", post_id="6")
    store.put("users/42/posts/7/a.jpg", b"photo", "image/jpeg")
    publisher = EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))
    responder = PhotoResponder(
        media=store,
        annotate=lambda *args, **kwargs: (b"annotated", "image/jpeg"),
        publisher=publisher,
        blur_unrecognised=True,
        max_pixels=10,
        opt_outs=opt_outs,
    )
    face = {"Name": "Ada", "Face": {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}}}
    image = ImageResult("u", "users/42/posts/7/a.jpg", analysis=ImageAnalysis(celebrity_faces=[face]))
    assert responder.respond(_message("@xbot who is this?", "7", [image])) is None
    assert [kind for kind, _ in _published(bus)] == ["REPLY_SKIPPED"]
    assert list(store.objects) == ["users/42/posts/7/a.jpg"]  # nothing annotated for nobody

    # "stop" with a photo is a command too: confirmed (no photo annotated), once.
    opt_outs.opt_in("42", post_id="6")
    assert responder.respond(_message("@xbot stop", "8", [image])) is None
    kind, detail = _published(bus)[-1]
    assert (kind, detail["Text"], detail["ImageKeys"]) == ("SEND_TWEET", f"@alice {STOPPED_CONFIRMATION}", [])


def test_the_confirmation_still_obeys_the_guards_but_the_opt_out_is_kept() -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    guards = ReplyGuards(
        counters=MemoryWindowCounters(),
        bot_user_id="1",
        limits=GuardLimits(per_author=1, per_conversation=10, window_seconds=900, chain_max_depth=3),
    )
    responder = _text_responder(bus, opt_outs, guards)
    assert responder.respond(_message("@xbot hi", "1")) is not None  # uses the author's one reply
    assert responder.respond(_message("@xbot stop", "2")) is None
    assert _published(bus)[-1] == (
        "REPLY_SKIPPED",
        {
            "Twitter": {"TweetId": "2", "UserId": "42", "ConversationId": None},
            "Author": "alice",
            "Reason": AUTHOR_LIMIT,
        },
    )
    assert opt_outs.is_opted_out("42")


def test_a_stop_whose_confirmation_failed_is_confirmed_on_the_retry() -> None:
    bus, opt_outs = RecordingBus(failures=[ConnectionError("bus down")]), MemoryOptOuts()
    responder = _text_responder(bus, opt_outs)
    stop = _message("@xbot stop", "1")
    with pytest.raises(PublishError):
        responder.respond(stop)
    assert opt_outs.is_opted_out("42")  # recorded before the confirmation failed
    responder.respond(stop)  # the handler's retry
    assert [(kind, detail.get("Text")) for kind, detail in _published(bus)[-1:]] == [
        ("SEND_TWEET", f"@alice {STOPPED_CONFIRMATION}")
    ]
