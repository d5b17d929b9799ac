"""The runtime's IntentMatcherBot (the economy profile's ConversationBot, the local runtime's too) and
its ConversationSessions: the answers' variety outlives the bot object, as Lex's sessions outlive a
Lambda container."""

from __future__ import annotations

from typing import Any

from botlocal.conversation import LocalConversationBot, MemoryConversationSessions
from chalicelib.adapters.intent_bot import IntentMatcherBot
from chalicelib.contracts.conversation import FALLBACK_INTENT, FALLBACK_MESSAGE, JOKE
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.jokes import JOKES

from tests.fakes import MemoryConversationSessions as FakeSessions


def test_a_new_container_does_not_repeat_the_last_three_jokes() -> None:
    sessions = FakeSessions()
    said = [IntentMatcherBot(fulfil, sessions).respond("author", "tell me a joke", "en_US").text for _ in range(12)]
    # A bot object per turn: nothing is remembered in the process, only in the store.
    for index in range(1, len(said)):
        assert said[index] not in said[max(0, index - 3) : index]
    assert all(text in JOKES for text in said)
    assert sessions.calls[:2] == [("load", "author", "en_US"), ("save", "author", "en_US")]
    assert "recentJoke" in sessions.attributes[("author", "en_US")]


def test_the_stored_attributes_reach_the_fulfilment_and_its_answer_is_stored() -> None:
    sessions = FakeSessions()
    sessions.attributes[("author", "en_US")] = {"recentJoke": "1,2,3"}
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    answer = IntentMatcherBot(recording, sessions).respond("author", "tell me a joke", "en_US")
    assert answer.intent == JOKE.name
    assert events[0]["sessionState"]["sessionAttributes"] == {"recentJoke": "1,2,3"}
    assert answer.text not in {JOKES[1], JOKES[2], JOKES[3]}
    stored = sessions.attributes[("author", "en_US")]["recentJoke"].split(",")
    assert JOKES[int(stored[-1])] == answer.text


def test_an_expired_session_starts_empty() -> None:
    sessions = FakeSessions()
    events: list[dict[str, Any]] = []

    def recording(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return fulfil(event)

    bot = IntentMatcherBot(recording, sessions)
    bot.respond("author", "tell me a joke", "en_US")
    sessions.expire("author", "en_US")
    bot.respond("author", "tell me a joke", "en_US")
    assert events[1]["sessionState"]["sessionAttributes"] == {}


def test_sessions_are_per_locale_and_an_unknown_locale_uses_the_default() -> None:
    sessions = FakeSessions()
    bot = IntentMatcherBot(fulfil, sessions)
    bot.respond("author", "hola", "es_ES")
    bot.respond("author", "hello", "xx_XX")
    assert set(sessions.attributes) == {("author", "es_ES"), ("author", "en_US")}


def test_a_fulfilment_that_says_nothing_gets_the_fallback_message() -> None:
    bot = IntentMatcherBot(lambda event: {"sessionState": {}}, FakeSessions())
    answer = bot.respond("author", "what's the weather", "en_US")
    assert answer == answer.__class__(FALLBACK_INTENT, FALLBACK_MESSAGE)


def test_the_local_bot_is_the_same_bot_with_its_sessions_in_memory() -> None:
    bot = LocalConversationBot(fulfil, max_sessions=2)
    assert isinstance(bot, IntentMatcherBot)
    for author in ("a", "b", "c"):
        bot.respond(author, "tell me a joke", "en_US")
    assert len(bot.sessions) == 2
    assert bot.sessions.load("a", "en_US") == {}
    assert "recentJoke" in bot.sessions.load("c", "en_US")


def test_the_memory_sessions_copy_what_they_keep() -> None:
    sessions = MemoryConversationSessions()
    attributes = {"recentJoke": "1"}
    sessions.save("a", "en_US", attributes)
    attributes["recentJoke"] = "2"
    sessions.load("a", "en_US")["recentJoke"] = "3"
    assert sessions.load("a", "en_US") == {"recentJoke": "1"}
