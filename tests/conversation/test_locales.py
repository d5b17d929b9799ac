"""The local bot in every locale: one matcher per locale of the definition, answers in the locale,
English for any other; Lex V2's per-locale sessions."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from botlocal.conversation import LocalConversationBot
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import FALLBACK_INTENT, LOCALES, Locale
from chalicelib.ports import ConversationAnswer
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.jokes import JOKES
from chalicelib.responding.smalltalk import ANSWERS

BY_LOCALE = pytest.mark.parametrize("loc", LOCALES, ids=lambda loc: loc.locale_id)


@pytest.fixture(scope="module")
def bot() -> LocalConversationBot:
    return LocalConversationBot(fulfil)


def test_one_matcher_per_locale_from_its_intents(bot: LocalConversationBot) -> None:
    assert bot.matchers.keys() == set(conversation.LOCALE_IDS)
    for loc in LOCALES:
        assert set(bot.matchers[loc.locale_id].intents) == {intent.name for intent in loc.intents}
    assert bot.matcher is bot.matchers["en_US"]


@BY_LOCALE
def test_each_sample_gets_its_intent_answered_in_its_locale(bot: LocalConversationBot, loc: Locale) -> None:
    for intent in loc.intents:
        for utterance in intent.sample_utterances[:5]:
            answer = bot.respond(f"s-{loc.locale_id}", utterance, loc.locale_id)
            assert answer.intent == intent.name, (loc.locale_id, utterance, answer)
            if intent.name not in ("Joke", "Fact"):
                assert answer.text in ANSWERS[loc.locale_id][intent.name]


@pytest.mark.parametrize(
    ("locale_id", "text", "intent", "told"),
    [
        ("es_ES", "cuéntame un chiste", "Joke", JOKES),
        ("fr_FR", "raconte moi une blague", "Joke", JOKES),
        ("de_DE", "erzähl mir einen witz", "Joke", JOKES),
        ("es_ES", "dime un dato curioso", "Fact", FACTS),
        ("fr_FR", "une anecdote", "Fact", FACTS),
        ("de_DE", "sag mir einen fakt", "Fact", FACTS),
    ],
)
def test_jokes_and_facts_asked_in_another_language_are_told_in_english(
    bot: LocalConversationBot, locale_id: str, text: str, intent: str, told: tuple[str, ...]
) -> None:
    answer = bot.respond("curious", text, locale_id)
    assert answer.intent == intent and answer.text in told


@pytest.mark.parametrize("locale_id", ["es_ES", "fr_FR", "de_DE"])
def test_the_fallback_is_in_the_locales_language(bot: LocalConversationBot, locale_id: str) -> None:
    answer = bot.respond("lost", "zzz qqq xxx", locale_id)
    assert answer == ConversationAnswer(FALLBACK_INTENT, conversation.locale(locale_id).fallback_message)


def test_a_locale_the_bot_lacks_is_english(bot: LocalConversationBot) -> None:
    answer = bot.respond("x", "tell me a joke", "ja_JP")
    assert answer.intent == "Joke" and answer.text in JOKES


def test_the_fulfilment_event_carries_the_locale() -> None:
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    LocalConversationBot(recording).respond("1", "danke schön", "de_DE")
    assert events[0]["bot"]["localeId"] == "de_DE"
    assert events[0]["sessionState"]["intent"]["name"] == "Thanks"


def test_sessions_are_kept_per_locale_as_lex_keeps_them() -> None:
    bot = LocalConversationBot(fulfil)
    bot.respond("same-person", "hello", "en_US")
    bot.respond("same-person", "hola", "es_ES")
    remembered = {key: dict(value) for key, value in bot._attributes.items()}
    assert set(remembered) == {("same-person", "en_US"), ("same-person", "es_ES")}
    assert all("recentGreeting" in value for value in remembered.values())


# --- the local bot as a ConversationBot (the port's answer, sessions, the Lex V2 event) ----------


def _session(bot: LocalConversationBot, session_id: str, locale_id: str = "en_US") -> dict[str, str]:
    """What the bot remembers of a session, as Lex keeps session attributes (a test-only view)."""
    return dict(bot._attributes.get((session_id, locale_id), {}))


def _recording() -> tuple[list[dict[str, Any]], Any]:
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    return events, recording


@pytest.mark.parametrize(
    ("text", "intent"),
    [("tell me a joke", "Joke"), ("fun fact please", "Fact"), ("hello", "Greeting"), ("thanks!", "Thanks")],
)
def test_the_answer_names_the_intent(bot: LocalConversationBot, text: str, intent: str) -> None:
    answer = bot.respond("named", text)
    assert answer.intent == intent
    assert answer.text in (*JOKES, *FACTS, *ANSWERS["en_US"].get(intent, ()))


def test_the_default_threshold_is_the_bot_definitions(bot: LocalConversationBot) -> None:
    for matcher in bot.matchers.values():
        assert matcher.threshold == conversation.NLU_CONFIDENCE_THRESHOLD


def test_a_strict_threshold_sends_everything_to_the_fallback() -> None:
    strict = LocalConversationBot(fulfil, threshold=1.01)
    assert strict.respond("1", "make me smile") == ConversationAnswer(FALLBACK_INTENT, conversation.FALLBACK_MESSAGE)


def test_the_same_session_never_gets_one_of_its_last_three_jokes() -> None:
    bot = LocalConversationBot(fulfil)
    said = [bot.respond("author-1", "tell me a joke").text for _ in range(60)]
    for index in range(3, len(said)):
        assert said[index] not in said[index - 3 : index]
    assert JOKES[int(_session(bot, "author-1")["recentJoke"].split(",")[-1])] == said[-1]
    assert _session(bot, "someone-else") == {}


def test_sessions_are_kept_apart_and_intents_remembered_separately() -> None:
    events, recording = _recording()
    bot = LocalConversationBot(recording)
    bot.respond("a", "tell me a joke")
    bot.respond("a", "tell me a fact")
    bot.respond("b", "tell me a joke")
    bot.respond("a", "what's the weather")
    assert events[0]["sessionState"]["sessionAttributes"] == {}
    assert events[1]["sessionState"]["sessionAttributes"].keys() == {"recentJoke"}
    assert events[2]["sessionState"]["sessionAttributes"] == {}
    assert events[3]["sessionState"]["sessionAttributes"].keys() == {"recentJoke", "recentFact"}


def test_fulfil_gets_a_lex_v2_fulfilment_event() -> None:
    events, recording = _recording()
    LocalConversationBot(recording).respond("author-1", "got any jokes?", "en_US")
    (event,) = events
    assert event["messageVersion"] == "1.0"
    assert event["invocationSource"] == "FulfillmentCodeHook"
    assert event["inputMode"] == "Text"
    assert event["sessionId"] == "author-1"
    assert event["inputTranscript"] == "got any jokes?"
    assert event["bot"]["localeId"] == "en_US"
    assert event["bot"]["name"] == conversation.BOT_NAME
    assert event["sessionState"]["intent"] == {
        "name": "Joke",
        "slots": {},
        "state": "ReadyForFulfillment",
        "confirmationState": "None",
    }
    top = event["interpretations"][0]
    assert top["intent"]["name"] == "Joke" and top["nluConfidence"] >= conversation.NLU_CONFIDENCE_THRESHOLD
    names = [interpretation["intent"]["name"] for interpretation in event["interpretations"]]
    assert sorted(names) == sorted([intent.name for intent in conversation.INTENTS] + [FALLBACK_INTENT])


def test_the_fallback_goes_to_fulfil_as_lex_fallback_intent() -> None:
    events, recording = _recording()
    answer = LocalConversationBot(recording).respond("1", "zzz qqq xxx")
    assert answer == ConversationAnswer(FALLBACK_INTENT, conversation.FALLBACK_MESSAGE)
    assert events[0]["sessionState"]["intent"]["name"] == FALLBACK_INTENT
    assert events[0]["interpretations"][0]["intent"]["name"] == FALLBACK_INTENT
    assert "nluConfidence" not in events[0]["interpretations"][0]


def test_the_messages_of_any_fulfilment_are_joined_and_silence_is_the_locales_fallback() -> None:
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

    assert LocalConversationBot(two_messages).respond("1", "joke").text == "One. Two."
    assert (
        LocalConversationBot(silent).respond("1", "hola", "es_ES").text == conversation.locale("es_ES").fallback_message
    )


def test_a_new_intent_in_the_definition_is_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    weather = conversation.Intent("Weather", "The user asks about the weather.", ("is it raining", "weather today"))
    monkeypatch.setattr(conversation, "INTENTS", (*conversation.INTENTS, weather))
    events, recording = _recording()
    bot = LocalConversationBot(recording)
    assert "Weather" in bot.matcher.intents
    # fulfil knows no Weather: it answers like Lex's fallback, but the intent came from the definition.
    answer = bot.respond("1", "is it raining")
    assert answer == ConversationAnswer("Weather", conversation.FALLBACK_MESSAGE)
    assert events[0]["sessionState"]["intent"]["name"] == "Weather"


def test_concurrent_sessions_are_safe() -> None:
    bot = LocalConversationBot(fulfil)
    answers: dict[str, list[str]] = {f"s{i}": [] for i in range(8)}

    def talk(session: str) -> None:
        for _ in range(25):
            answers[session].append(bot.respond(session, "tell me a joke").text)

    threads = [threading.Thread(target=talk, args=(session,)) for session in answers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session, said in answers.items():
        assert len(said) == 25
        assert all(a != b for a, b in itertools.pairwise(said))
        assert JOKES[int(_session(bot, session)["recentJoke"].split(",")[-1])] == said[-1]


def test_old_sessions_are_forgotten_beyond_the_limit() -> None:
    bot = LocalConversationBot(fulfil, max_sessions=2)
    for session in ["a", "b", "c"]:
        bot.respond(session, "joke")
    assert _session(bot, "a") == {}
    assert _session(bot, "c").keys() == {"recentJoke"}
