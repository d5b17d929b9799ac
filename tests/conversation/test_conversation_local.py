"""The local bot: the matcher built from the bot definition, in front of the real fulfilment."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from botlocal.conversation import IntentMatcher, LocalConversationBot, normalise
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import FACT, FALLBACK_INTENT, FALLBACK_MESSAGE, JOKE, Intent
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.jokes import JOKES


def session_of(bot: LocalConversationBot, session_id: str) -> dict[str, str]:
    """What the bot remembers of a session, as Lex keeps session attributes (a test-only view)."""
    return dict(bot._attributes.get(session_id, {}))


@pytest.fixture
def bot() -> LocalConversationBot:
    return LocalConversationBot(fulfil)


@pytest.mark.parametrize(
    "text",
    ["tell me a joke", "got any jokes?", "make me laugh please", "Tell me a JOKE!!", "tell me a jokke", "cheer me up"],
)
def test_joke_requests_get_a_joke(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) in JOKES


@pytest.mark.parametrize(
    "text",
    ["tell me something interesting", "fun fact please", "any interesting facts about space?", "teach me something"],
)
def test_fact_requests_get_a_fact(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) in FACTS


@pytest.mark.parametrize(
    "text", ["what's the weather", "hello", "who are you", "tell me", "what time is it", "", "🙂🙂", "thanks!"]
)
def test_anything_else_gets_the_fallback(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) == FALLBACK_MESSAGE


def test_every_sample_utterance_matches_its_own_intent() -> None:
    matcher = IntentMatcher(conversation.INTENTS)
    for intent in conversation.INTENTS:
        for utterance in intent.sample_utterances:
            match = matcher.match(utterance)
            assert (match.intent, match.confidence) == (intent.name, 1.0), utterance


def test_confidences_are_between_zero_and_one() -> None:
    matcher = IntentMatcher(conversation.INTENTS)
    for text in ["tell me a joke", "what's the weather", "a", "joke joke joke fact", "x" * 1024]:
        assert all(0.0 <= score <= 1.0 for score in matcher.scores(text).values())


def test_the_threshold_decides_the_fallback() -> None:
    lenient = IntentMatcher(conversation.INTENTS, threshold=0.0)
    strict = IntentMatcher(conversation.INTENTS, threshold=0.99)
    assert lenient.match("make me smile").intent == "Joke"
    assert strict.match("make me smile").intent == FALLBACK_INTENT
    assert LocalConversationBot(fulfil, threshold=0.99).respond("1", "make me smile") == FALLBACK_MESSAGE


def test_the_default_threshold_is_the_bot_definitions() -> None:
    assert LocalConversationBot(fulfil).matcher.threshold == conversation.NLU_CONFIDENCE_THRESHOLD


def test_the_same_session_never_gets_the_same_joke_twice_in_a_row(bot: LocalConversationBot) -> None:
    answers = [bot.respond("author-1", "tell me a joke") for _ in range(60)]
    assert all(a != b for a, b in itertools.pairwise(answers))
    assert JOKES[int(session_of(bot, "author-1")["lastJoke"])] == answers[-1]
    assert session_of(bot, "someone-else") == {}


def test_sessions_are_kept_apart_and_jokes_and_facts_remembered_separately() -> None:
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    bot = LocalConversationBot(recording)
    bot.respond("a", "tell me a joke")
    bot.respond("a", "tell me a fact")
    bot.respond("b", "tell me a joke")
    bot.respond("a", "what's the weather")
    assert events[0]["sessionState"]["sessionAttributes"] == {}
    assert events[1]["sessionState"]["sessionAttributes"].keys() == {"lastJoke"}
    assert events[2]["sessionState"]["sessionAttributes"] == {}
    assert events[3]["sessionState"]["sessionAttributes"].keys() == {"lastJoke", "lastFact"}


def test_fulfil_gets_a_lex_v2_fulfilment_event() -> None:
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    LocalConversationBot(recording).respond("author-1", "got any jokes?")
    (event,) = events
    assert event["messageVersion"] == "1.0"
    assert event["invocationSource"] == "FulfillmentCodeHook"
    assert event["inputMode"] == "Text"
    assert event["sessionId"] == "author-1"
    assert event["inputTranscript"] == "got any jokes?"
    assert event["bot"]["localeId"] == conversation.LOCALE_ID
    assert event["bot"]["name"] == conversation.BOT_NAME
    assert event["sessionState"]["intent"] == {
        "name": "Joke",
        "slots": {},
        "state": "ReadyForFulfillment",
        "confirmationState": "None",
    }
    assert event["sessionState"]["sessionAttributes"] == {}
    top = event["interpretations"][0]
    assert top["intent"]["name"] == "Joke" and top["nluConfidence"] >= conversation.NLU_CONFIDENCE_THRESHOLD
    names = [interpretation["intent"]["name"] for interpretation in event["interpretations"]]
    assert sorted(names) == sorted([JOKE.name, FACT.name, FALLBACK_INTENT])


def test_the_fallback_goes_to_fulfil_as_lex_fallback_intent() -> None:
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    assert LocalConversationBot(recording).respond("1", "what's the weather") == FALLBACK_MESSAGE
    assert events[0]["sessionState"]["intent"]["name"] == FALLBACK_INTENT
    assert events[0]["interpretations"][0]["intent"]["name"] == FALLBACK_INTENT
    assert "nluConfidence" not in events[0]["interpretations"][0]


def test_the_messages_of_any_fulfilment_are_joined() -> None:
    def two_messages(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "sessionState": {"sessionAttributes": {"n": "1"}, "dialogAction": {"type": "Close"}},
            "messages": [
                {"contentType": "PlainText", "content": "One."},
                {"contentType": "PlainText", "content": "Two."},
            ],
        }

    def silent(event: dict[str, Any]) -> dict[str, Any]:
        return {"sessionState": {"dialogAction": {"type": "Close"}}}

    assert LocalConversationBot(two_messages).respond("1", "joke") == "One. Two."
    assert LocalConversationBot(silent).respond("1", "joke") == FALLBACK_MESSAGE


def test_the_matcher_uses_only_the_bot_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalConversationBot(fulfil).respond("1", "knock knock") == FALLBACK_MESSAGE
    knock = Intent(JOKE.name, JOKE.description, (*JOKE.sample_utterances, "knock knock"))
    monkeypatch.setattr(conversation, "INTENTS", (knock, FACT))
    assert LocalConversationBot(fulfil).respond("1", "knock knock") in JOKES


def test_a_new_intent_in_the_definition_is_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    greet = Intent("Greeting", "The user says hello.", ("hello", "hi there", "good morning"))
    monkeypatch.setattr(conversation, "INTENTS", (*conversation.INTENTS, greet))
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    bot = LocalConversationBot(recording)
    assert bot.matcher.intents == ("Joke", "Fact", "Greeting")
    # fulfil knows no Greeting: it answers like Lex's fallback, but the intent came from the definition.
    assert bot.respond("1", "good morning!") == FALLBACK_MESSAGE
    assert events[0]["sessionState"]["intent"]["name"] == "Greeting"


def test_concurrent_sessions_are_safe() -> None:
    bot = LocalConversationBot(fulfil)
    answers: dict[str, list[str]] = {f"s{i}": [] for i in range(8)}

    def talk(session: str) -> None:
        for _ in range(25):
            answers[session].append(bot.respond(session, "tell me a joke"))

    threads = [threading.Thread(target=talk, args=(session,)) for session in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session, said in answers.items():
        assert len(said) == 25
        assert all(a != b for a, b in itertools.pairwise(said))
        assert JOKES[int(session_of(bot, session)["lastJoke"])] == said[-1]


def test_old_sessions_are_forgotten_beyond_the_limit() -> None:
    bot = LocalConversationBot(fulfil, max_sessions=2)
    for session in ["a", "b", "c"]:
        bot.respond(session, "joke")
    assert session_of(bot, "a") == {}
    assert session_of(bot, "c").keys() == {"lastJoke"}


def test_normalise() -> None:
    assert normalise("  What's   the WEATHER?! ") == ["whats", "the", "weather"]
    assert normalise("Don\u2019t caf\u00e9") == ["dont", "cafe"]
    assert normalise("🙂") == []
