"""The text responder (issue 10, section 2): the post's language picks the bot's locale, a negative
message never gets a joke or a fact (calm or silent, NEGATIVE_REPLIES), and the bot's Stop intent
opts the author out as the "stop" command does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botlocal.conversation import LocalConversationBot
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import AUTHOR_LIMIT, NEGATIVE_MESSAGE, OPTED_OUT
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.conversation import CALM, SILENT, TextResponder, calm_answer
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.guards import GuardLimits, ReplyGuards
from chalicelib.responding.jokes import JOKES
from chalicelib.responding.optout import STOPPED_CONFIRMATION
from chalicelib.responding.smalltalk import ANSWERS
from chalicelib.responding.smalltalk import CALM as CALM_ANSWERS

from tests.fakes import MemoryOptOuts, MemoryWindowCounters, RecordingBot, RecordingBus

#: Negative posts written for this test (not the held-out set): complaints, insults, sadness, and
#: negative posts that also ask for a joke or a fact.
NEGATIVE_POSTS = [
    "you are the worst bot ever",
    "this is useless, tell me a joke then",
    "I hate this stupid thing",
    "my dog died today, tell me a fact",
    "terrible answers, make me laugh if you can",
    "ugh, everything is awful",
    "you're garbage lol 🙄",
    "worst day of my life. joke please",
]


def _message(
    text: str, *, tweet_id: str = "100", lang: str | None = "en", sentiment: str = "NEUTRAL"
) -> MessageAnalysed:
    return MessageAnalysed(
        message=MessageReceived(text, "alice", lang, TwitterRef(tweet_id, "42"), [], received_at_ms=1),
        text=TextAnalysis(sentiment, language=lang),
    )


def _publisher(bus: RecordingBus) -> EventPublisher:
    return EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))


def _published(bus: RecordingBus) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in bus.entries]


def _replies(bus: RecordingBus) -> list[str]:
    return [detail["Text"] for kind, detail in _published(bus) if kind == "SEND_TWEET"]


@pytest.mark.parametrize(
    ("lang", "locale"),
    [
        ("en", "en_US"),
        ("es", "es_ES"),
        ("fr", "fr_FR"),
        ("de", "de_DE"),
        ("ja", "en_US"),
        ("und", "en_US"),
        (None, "en_US"),
    ],
)
def test_the_posts_language_picks_the_bots_locale(lang: str | None, locale: str) -> None:
    bot, bus = RecordingBot("hi"), RecordingBus()
    TextResponder(bot=bot, publisher=_publisher(bus)).respond(_message("@xbot hi", lang=lang))
    assert bot.locales == [locale]
    assert _replies(bus) == ["@alice hi"]


@pytest.mark.parametrize("text", NEGATIVE_POSTS)
def test_a_negative_message_gets_a_calm_answer_and_no_call_to_the_bot(text: str) -> None:
    bot, bus = RecordingBot(JOKES[0]), RecordingBus()
    reply = TextResponder(bot=bot, publisher=_publisher(bus)).respond(_message(text, sentiment="NEGATIVE"))
    assert reply is not None
    assert bot.calls == []  # no paid Lex call for it
    (said,) = _replies(bus)
    assert said.removeprefix("@alice ") in CALM_ANSWERS["en_US"]


@pytest.mark.parametrize(("lang", "locale"), [("es", "es_ES"), ("fr", "fr_FR"), ("de", "de_DE"), ("ja", "en_US")])
def test_the_calm_answer_is_in_the_posts_language(lang: str, locale: str) -> None:
    bus = RecordingBus()
    TextResponder(bot=RecordingBot(), publisher=_publisher(bus)).respond(
        _message("odio esto", lang=lang, sentiment="NEGATIVE")
    )
    assert _replies(bus)[0].removeprefix("@alice ") in CALM_ANSWERS[locale]


@pytest.mark.parametrize(("lang", "hello"), [("en", "hello"), ("es", "hola"), ("fr", "bonjour"), ("de", "hallo")])
def test_a_bare_mention_says_hello_in_the_posts_language(lang: str, hello: str) -> None:
    bot = RecordingBot("hi")
    TextResponder(bot=bot, publisher=_publisher(RecordingBus())).respond(_message("@xbot https://t.co/x", lang=lang))
    assert bot.calls == [("42", hello)]


def test_calm_answers_vary_between_posts_and_stay_the_same_for_a_retried_post() -> None:
    answers = {calm_answer("en_US", str(post)) for post in range(1000, 1040)}
    assert len(answers) == len(CALM_ANSWERS["en_US"])
    assert calm_answer("en_US", "1234") == calm_answer("en_US", "1234")


@pytest.mark.parametrize("text", NEGATIVE_POSTS)
def test_silent_skips_a_negative_message(text: str) -> None:
    bot, bus = RecordingBot(), RecordingBus()
    responder = TextResponder(bot=bot, publisher=_publisher(bus), negative_replies=SILENT)
    assert responder.respond(_message(text, sentiment="NEGATIVE")) is None
    assert bot.calls == []
    assert [(kind, detail["Reason"]) for kind, detail in _published(bus)] == [("REPLY_SKIPPED", NEGATIVE_MESSAGE)]


def test_other_sentiments_are_answered_by_the_bot() -> None:
    for sentiment in ("POSITIVE", "NEUTRAL", "MIXED"):
        bot, bus = RecordingBot("You're welcome!", intent="Thanks"), RecordingBus()
        TextResponder(bot=bot, publisher=_publisher(bus)).respond(_message("thanks", sentiment=sentiment))
        assert _replies(bus) == ["@alice You're welcome!"]
    for sentiment in ("POSITIVE", "NEUTRAL"):
        bot, bus = RecordingBot(JOKES[1]), RecordingBus()
        TextResponder(bot=bot, publisher=_publisher(bus)).respond(_message("joke", sentiment=sentiment))
        assert _replies(bus) == [f"@alice {JOKES[1]}"]


@pytest.mark.parametrize(("intent", "answer"), [("Joke", JOKES[1]), ("Fact", FACTS[1])])
def test_a_mixed_message_never_gets_a_joke_or_a_fact(intent: str, answer: str) -> None:
    """ "your jokes are terrible" reads MIXED ("joke" is a happy word) and the bot hears Joke."""
    bot, bus = RecordingBot(answer, intent=intent), RecordingBus()
    message = _message("your jokes are terrible", sentiment="MIXED")
    TextResponder(bot=bot, publisher=_publisher(bus)).respond(message)
    (reply,) = _replies(bus)
    assert reply == f"@alice {calm_answer('en_US', message.message.twitter.tweet_id)}"


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="negative_replies"):
        TextResponder(bot=RecordingBot(), publisher=_publisher(RecordingBus()), negative_replies="loud")
    assert (CALM, SILENT) == ("calm", "silent")


def test_a_negative_message_is_still_guarded() -> None:
    bus, counters = RecordingBus(), MemoryWindowCounters()
    guards = ReplyGuards(
        counters=counters,
        bot_user_id="999",
        limits=GuardLimits(per_author=1, per_conversation=10, window_seconds=900, chain_max_depth=3),
    )
    responder = TextResponder(bot=RecordingBot(), publisher=_publisher(bus), guards=guards)
    assert responder.respond(_message("awful", tweet_id="1", sentiment="NEGATIVE")) is not None
    assert responder.respond(_message("awful again", tweet_id="2", sentiment="NEGATIVE")) is None
    assert [detail.get("Reason") for kind, detail in _published(bus)] == [None, AUTHOR_LIMIT]


# --- Stop ----------------------------------------------------------------------------------------


ASKED = "Do you want me to stop replying to you? Reply with just 'stop' and I won't answer you again."


def test_the_stop_intent_asks_and_never_opts_out_by_itself() -> None:
    """ "please could you stop replying to me" reads as Stop, and so do "I can't stop laughing" and
    "para mí es genial" (measured): the intent asks; the whole-message "stop" opts out."""
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    bot = RecordingBot(ASKED, intent="Stop")
    responder = TextResponder(bot=bot, publisher=_publisher(bus), opt_outs=opt_outs)
    assert responder.respond(_message("please could you stop replying to me", tweet_id="1")) is not None
    assert opt_outs.users == set()
    assert _replies(bus) == [f"@alice {ASKED}"]
    responder.respond(_message("stop", tweet_id="2"))  # the command itself: opted out, confirmed
    assert opt_outs.users == {"42"}
    assert _replies(bus)[-1] == f"@alice {STOPPED_CONFIRMATION}"
    assert responder.respond(_message("hello again", tweet_id="3")) is None
    assert [(kind, detail.get("Reason")) for kind, detail in _published(bus)][-1] == ("REPLY_SKIPPED", OPTED_OUT)
    assert len(bot.calls) == 1  # the command and the opted-out author never reach the bot


def test_a_negative_stop_is_asked_not_calmed() -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    bot = RecordingBot(ASKED, intent="Stop")
    responder = TextResponder(bot=bot, publisher=_publisher(bus), opt_outs=opt_outs)
    responder.respond(_message("shut up you stupid bot", sentiment="NEGATIVE"))
    assert bot.calls == [("42", "shut up you stupid bot")]
    assert opt_outs.users == set()
    assert _replies(bus) == [f"@alice {ASKED}"]


def test_a_negative_message_that_only_sounds_like_stop_gets_a_calm_answer() -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    bot = RecordingBot(JOKES[0], intent="Joke")
    responder = TextResponder(bot=bot, publisher=_publisher(bus), opt_outs=opt_outs)
    responder.respond(_message("I wish my neighbours would shut up, tell me a joke", sentiment="NEGATIVE"))
    assert len(bot.calls) == 1  # asked, because of "shut up"
    assert opt_outs.users == set()
    (said,) = _replies(bus)
    assert said.removeprefix("@alice ") in CALM_ANSWERS["en_US"]


@pytest.mark.parametrize(("text", "lang"), [("deja de responderme, idiota", "es"), ("tais toi, sale bot", "fr")])
def test_a_negative_stop_in_another_language_reaches_the_bot(text: str, lang: str) -> None:
    bot, opt_outs = RecordingBot("OK.", intent="Stop"), MemoryOptOuts()
    TextResponder(bot=bot, publisher=_publisher(RecordingBus()), opt_outs=opt_outs).respond(
        _message(text, lang=lang, sentiment="NEGATIVE")
    )
    assert bot.locales == [{"es": "es_ES", "fr": "fr_FR"}[lang]]
    assert opt_outs.users == set()  # asked, not opted out


def test_a_one_word_stop_phrase_inside_a_complaint_does_not_reach_the_bot() -> None:
    bot = RecordingBot("OK.", intent="Stop")
    TextResponder(bot=bot, publisher=_publisher(RecordingBus()), opt_outs=MemoryOptOuts()).respond(
        _message("I have had enough of this rain", sentiment="NEGATIVE")
    )
    assert bot.calls == []


# --- with the local bot and the real fulfilment ---------------------------------------------------


@pytest.fixture(scope="module")
def local_bot() -> LocalConversationBot:
    return LocalConversationBot(fulfil)


@pytest.mark.parametrize("text", NEGATIVE_POSTS)
def test_with_the_real_bot_a_negative_message_never_gets_a_joke_or_a_fact(
    local_bot: LocalConversationBot, text: str
) -> None:
    bus = RecordingBus()
    TextResponder(bot=local_bot, publisher=_publisher(bus), opt_outs=MemoryOptOuts()).respond(
        _message(text, sentiment="NEGATIVE")
    )
    for said in _replies(bus):
        assert said.removeprefix("@alice ") not in {*JOKES, *FACTS}


@pytest.mark.parametrize(
    ("text", "lang", "locale"),
    [("hola", "es", "es_ES"), ("merci beaucoup", "fr", "fr_FR"), ("wer bist du", "de", "de_DE"), ("hi", "en", "en_US")],
)
def test_with_the_real_bot_small_talk_is_answered_in_the_posts_language(
    local_bot: LocalConversationBot, text: str, lang: str, locale: str
) -> None:
    bus = RecordingBus()
    TextResponder(bot=local_bot, publisher=_publisher(bus)).respond(_message(text, lang=lang, tweet_id=text))
    (said,) = _replies(bus)
    answers = {answer for intent_answers in ANSWERS[locale].values() for answer in intent_answers}
    assert said.removeprefix("@alice ") in answers


def test_with_the_real_bot_a_stop_in_french_is_asked_in_french(local_bot: LocalConversationBot) -> None:
    bus, opt_outs = RecordingBus(), MemoryOptOuts()
    TextResponder(bot=local_bot, publisher=_publisher(bus), opt_outs=opt_outs).respond(
        _message("arrête de me répondre", lang="fr", tweet_id="fr-stop")
    )
    assert opt_outs.users == set()
    (said,) = _replies(bus)
    assert said.removeprefix("@alice ") in ANSWERS["fr_FR"]["Stop"]
    assert said.removeprefix("@alice ") != STOPPED_CONFIRMATION


@pytest.mark.parametrize("tag", ["und", "zxx", "qme", "qht", None])
def test_a_post_x_tagged_with_no_language_is_answered_in_the_detected_one(tag: str | None) -> None:
    bot = RecordingBot("Salut !", intent="Greeting")
    message = MessageAnalysed(
        message=MessageReceived("Salut le bot", "alice", tag, TwitterRef("5", "42"), []),
        text=TextAnalysis("NEUTRAL", language="fr"),
    )
    TextResponder(bot=bot, publisher=_publisher(RecordingBus())).respond(message)
    assert bot.locales == ["fr_FR"]
