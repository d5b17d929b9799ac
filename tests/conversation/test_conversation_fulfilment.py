"""The Lex V2 code hook: every intent answered in Lex's response format and in the event's locale,
none of the last RECENT_WINDOW answers of an intent repeated in a session."""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

import pytest
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import FALLBACK_MESSAGE
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import COLLECTIONS, RECENT_WINDOW, fulfil, pick_index, recent_indices
from chalicelib.responding.jokes import JOKES
from chalicelib.responding.smalltalk import ANSWERS, answers_for
from hypothesis import given
from hypothesis import strategies as st


def lex_event(
    intent: str,
    attributes: dict[str, str] | None = None,
    source: str = "FulfillmentCodeHook",
    locale: str = "en_US",
) -> dict[str, Any]:
    """A Lex V2 code-hook event as documented (trimmed of the fields the hook does not read)."""
    return {
        "messageVersion": "1.0",
        "invocationSource": source,
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": "1234567890",
        "inputTranscript": "tell me a joke",
        "bot": {"id": "BOTID12345", "name": "XBotConversation", "aliasId": "TSTALIASID", "localeId": locale},
        "interpretations": [{"intent": {"name": intent, "slots": {}, "state": "InProgress"}, "nluConfidence": 0.9}],
        "sessionState": {
            "sessionAttributes": attributes if attributes is not None else {},
            "intent": {"name": intent, "slots": {}, "state": "ReadyForFulfillment", "confirmationState": "None"},
            "originatingRequestId": "4b4c2d4e-1111-2222-3333-444455556666",
        },
    }


def _content(response: dict[str, Any]) -> str:
    content = response["messages"][0]["content"]
    assert isinstance(content, str)
    return content


@pytest.mark.parametrize(("intent", "items"), [("Joke", JOKES), ("Fact", FACTS)])
def test_answers_with_an_item_in_lex_v2_format(intent: str, items: tuple[str, ...]) -> None:
    response = fulfil(lex_event(intent, {"other": "kept"}))
    content = _content(response)
    assert content in items
    assert response == {
        "sessionState": {
            "sessionAttributes": {"other": "kept", f"recent{intent}": str(items.index(content))},
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": content}],
    }


@pytest.mark.parametrize("locale", conversation.LOCALE_IDS)
@pytest.mark.parametrize("intent", conversation.SMALL_TALK)
def test_small_talk_is_answered_in_the_events_locale(intent: str, locale: str) -> None:
    content = _content(fulfil(lex_event(intent, locale=locale)))
    assert content in ANSWERS[locale][intent]


def test_every_intent_of_every_locale_has_its_own_answers() -> None:
    for locale in conversation.LOCALES:
        for intent in locale.intents:
            answers = COLLECTIONS.get(intent.name) or ANSWERS[locale.locale_id][intent.name]
            assert len(answers) >= 3, (locale.locale_id, intent.name)
    # Small talk is never answered with English words in another locale.
    for locale_id in ("es_ES", "fr_FR", "de_DE"):
        for name in conversation.SMALL_TALK:
            assert not set(ANSWERS[locale_id][name]) & set(ANSWERS["en_US"][name]), (locale_id, name)


def test_an_unknown_locale_is_answered_in_english() -> None:
    assert _content(fulfil(lex_event("Greeting", locale="ja_JP"))) in ANSWERS["en_US"]["Greeting"]
    event = lex_event("Thanks")
    del event["bot"]
    assert _content(fulfil(event)) in ANSWERS["en_US"]["Thanks"]


@pytest.mark.parametrize("locale", ["es_ES", "fr_FR", "de_DE"])
def test_jokes_stay_english_in_every_locale(locale: str) -> None:
    assert _content(fulfil(lex_event("Joke", locale=locale))) in JOKES


@pytest.mark.parametrize("locale", conversation.LOCALE_IDS)
def test_stop_asks_and_says_the_one_word_that_opts_out(locale: str) -> None:
    """The Stop intent never opts out by itself (responding/conversation.py says why): it asks, and
    names the whole-message command that does, which is the same word in every language."""
    from chalicelib.responding.optout import Command, command_in

    for answer in ANSWERS[locale]["Stop"]:
        assert "'stop'" in answer
        assert "?" in answer or "(" in answer
    assert command_in("stop") is Command.STOP


@pytest.mark.parametrize("intent", ["FallbackIntent", "OrderPizza"])
def test_fallback_and_unknown_intents_explain_what_the_bot_does(intent: str) -> None:
    response = fulfil(lex_event(intent, {"recentJoke": "3"}))
    assert response == {
        "sessionState": {
            "sessionAttributes": {"recentJoke": "3", "recentFallbackIntent": "0"},
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": FALLBACK_MESSAGE}],
    }


@pytest.mark.parametrize("locale", conversation.LOCALES, ids=lambda locale: locale.locale_id)
def test_the_first_fallback_is_the_definitions_message_of_the_locale(locale: conversation.Locale) -> None:
    assert _content(fulfil(lex_event("FallbackIntent", locale=locale.locale_id))) == locale.fallback_message
    assert answers_for(locale.locale_id, "FallbackIntent")[0] == locale.fallback_message


def test_dialog_code_hook_answers_too() -> None:
    response = fulfil(lex_event("Joke", source="DialogCodeHook"))
    assert _content(response) in JOKES
    assert response["sessionState"]["dialogAction"] == {"type": "Close"}


def test_missing_session_attributes_are_an_empty_session() -> None:
    event = lex_event("Fact")
    del event["sessionState"]["sessionAttributes"]
    assert fulfil(event)["sessionState"]["sessionAttributes"].keys() == {"recentFact"}
    event["sessionState"]["sessionAttributes"] = None  # Lex sends null for a new session
    assert _content(fulfil(event)) in FACTS


def test_the_event_is_not_modified() -> None:
    event = lex_event("Joke", {"recentJoke": "1"})
    before = copy.deepcopy(event)
    fulfil(event)
    assert event == before


@pytest.mark.parametrize(
    ("intent", "locale"),
    [("Joke", "en_US"), ("Fact", "en_US"), ("Greeting", "en_US"), ("Thanks", "fr_FR"), ("Compliment", "de_DE")],
)
def test_a_session_never_gets_one_of_its_last_answers_again(intent: str, locale: str) -> None:
    items = COLLECTIONS.get(intent) or ANSWERS[locale][intent]
    window = min(RECENT_WINDOW, len(items) - 1)
    rng = random.Random(7)
    attributes: dict[str, str] = {}
    said: list[str] = []
    for _ in range(200):
        response = fulfil(lex_event(intent, attributes, locale=locale), rng=rng)
        content = _content(response)
        assert content not in said[-window:], (content, said[-window:])
        said.append(content)
        attributes = response["sessionState"]["sessionAttributes"]
        remembered = [int(index) for index in attributes[f"recent{intent}"].split(",")]
        assert len(remembered) <= RECENT_WINDOW and items[remembered[-1]] == content
    assert len(set(said)) > len(items) // 2  # random, not a fixed cycle


def test_the_window_is_three_answers() -> None:
    assert RECENT_WINDOW == 3


@pytest.mark.parametrize("remembered", ["", "not a number", "-1", "99999", "1,,x,2"])
def test_an_unreadable_remembered_index_is_ignored(remembered: str) -> None:
    response = fulfil(lex_event("Joke", {"recentJoke": remembered}))
    assert _content(response) in JOKES


def test_recent_indices_keeps_only_readable_indices_in_range() -> None:
    assert recent_indices("1,,x,2,-1,99", 10) == [1, 2]
    assert recent_indices(None, 10) == []


@given(
    size=st.integers(min_value=1, max_value=50),
    recent=st.lists(st.integers(-5, 60), max_size=6),
    seed=st.integers(),
)
def test_pick_index_stays_in_range_and_avoids_the_recent(size: int, recent: list[int], seed: int) -> None:
    index = pick_index(size, recent, random.Random(seed))
    assert 0 <= index < size
    keep = min(RECENT_WINDOW, size - 1)
    if keep:
        assert index not in recent[-keep:]


def test_pick_index_refuses_an_empty_collection() -> None:
    with pytest.raises(ValueError, match="empty"):
        pick_index(0, [], random.Random(1))


def _without(path: list[str]) -> dict[str, Any]:
    event = lex_event("Joke")
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (None, "expected an object"),
        ([], "expected an object"),
        ({}, "invocationSource"),
        ({**lex_event("Joke"), "invocationSource": "Elsewhere"}, "invocationSource"),
        (_without(["sessionState"]), "sessionState is missing"),
        ({**lex_event("Joke"), "sessionState": "Joke"}, "sessionState is missing"),
        (_without(["sessionState", "intent"]), "sessionState.intent is missing"),
        (_without(["sessionState", "intent", "name"]), "intent.name"),
        ({**lex_event("Joke"), "sessionState": {"intent": {"name": ""}}}, "intent.name"),
        ({**lex_event("Joke"), "sessionState": {"intent": {"name": 3}}}, "intent.name"),
        (lex_event("Joke", {"recentJoke": 3}), "sessionAttributes"),  # type: ignore[dict-item]
        ({**lex_event("Joke"), "sessionState": {"intent": {"name": "Joke"}, "sessionAttributes": []}}, "sessionAttr"),
    ],
)
def test_a_malformed_event_is_a_clear_value_error(event: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fulfil(event)


def test_the_lambda_handler_delegates_to_fulfil() -> None:
    from chalicelib.responding.blueprint import lex_fulfilment

    class Context:
        function_name = "lex_fulfilment"
        aws_request_id = "req-1"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lex_fulfilment"

    response = lex_fulfilment(lex_event("Fact"), Context())
    assert response["messages"][0]["content"] in FACTS


def test_a_person_not_understood_twice_gets_other_words() -> None:
    """X refuses a reply whose text the account posted recently: the fallback must not repeat."""
    fallbacks = answers_for("en_US", "FallbackIntent")
    attributes: dict[str, str] = {}
    said = []
    for _ in range(len(fallbacks) + 1):
        response = fulfil(lex_event("FallbackIntent", attributes))
        attributes = response["sessionState"]["sessionAttributes"]
        said.append(_content(response))
    assert said[: len(fallbacks)] == list(fallbacks)
    assert said[-1] == fallbacks[0]
    assert all(first != second for first, second in itertools.pairwise(said))
