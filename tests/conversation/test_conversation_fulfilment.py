"""The Lex V2 code hook: Joke, Fact and fallback in Lex's response format, no repeat per session."""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

import pytest
from chalicelib.contracts.conversation import FALLBACK_MESSAGE
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import COLLECTIONS, fulfil, pick_index
from chalicelib.responding.jokes import JOKES
from hypothesis import given
from hypothesis import strategies as st


def lex_event(
    intent: str,
    attributes: dict[str, str] | None = None,
    source: str = "FulfillmentCodeHook",
) -> dict[str, Any]:
    """A Lex V2 code-hook event as documented (trimmed of the fields the hook does not read)."""
    return {
        "messageVersion": "1.0",
        "invocationSource": source,
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": "1234567890",
        "inputTranscript": "tell me a joke",
        "bot": {"id": "BOTID12345", "name": "XBotConversation", "aliasId": "TSTALIASID", "localeId": "en_US"},
        "interpretations": [{"intent": {"name": intent, "slots": {}, "state": "InProgress"}, "nluConfidence": 0.9}],
        "sessionState": {
            "sessionAttributes": attributes if attributes is not None else {},
            "intent": {"name": intent, "slots": {}, "state": "ReadyForFulfillment", "confirmationState": "None"},
            "originatingRequestId": "4b4c2d4e-1111-2222-3333-444455556666",
        },
    }


@pytest.mark.parametrize(("intent", "items", "attribute"), [("Joke", JOKES, "lastJoke"), ("Fact", FACTS, "lastFact")])
def test_answers_with_an_item_in_lex_v2_format(intent: str, items: tuple[str, ...], attribute: str) -> None:
    response = fulfil(lex_event(intent, {"other": "kept"}))
    content = response["messages"][0]["content"]
    assert content in items
    assert response == {
        "sessionState": {
            "sessionAttributes": {"other": "kept", attribute: str(items.index(content))},
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": content}],
    }


@pytest.mark.parametrize("intent", ["FallbackIntent", "OrderPizza"])
def test_fallback_and_unknown_intents_explain_what_the_bot_does(intent: str) -> None:
    response = fulfil(lex_event(intent, {"lastJoke": "3"}))
    assert response == {
        "sessionState": {
            "sessionAttributes": {"lastJoke": "3", "lastFallback": "0"},
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": FALLBACK_MESSAGE}],
    }


def test_dialog_code_hook_answers_too() -> None:
    response = fulfil(lex_event("Joke", source="DialogCodeHook"))
    assert response["messages"][0]["content"] in JOKES
    assert response["sessionState"]["dialogAction"] == {"type": "Close"}


def test_missing_session_attributes_are_an_empty_session() -> None:
    event = lex_event("Fact")
    del event["sessionState"]["sessionAttributes"]
    assert fulfil(event)["sessionState"]["sessionAttributes"].keys() == {"lastFact"}
    event["sessionState"]["sessionAttributes"] = None  # Lex sends null for a new session
    assert fulfil(event)["messages"][0]["content"] in FACTS


def test_the_event_is_not_modified() -> None:
    event = lex_event("Joke", {"lastJoke": "1"})
    before = copy.deepcopy(event)
    fulfil(event)
    assert event == before


@pytest.mark.parametrize("intent", ["Joke", "Fact"])
def test_a_session_never_gets_the_same_item_twice_in_a_row(intent: str) -> None:
    items, attribute = COLLECTIONS[intent]
    rng = random.Random(7)
    attributes: dict[str, str] = {}
    previous = None
    seen = set()
    for _ in range(200):
        response = fulfil(lex_event(intent, attributes), rng=rng)
        content = response["messages"][0]["content"]
        assert content != previous
        previous = content
        seen.add(content)
        attributes = response["sessionState"]["sessionAttributes"]
        assert items[int(attributes[attribute])] == content
    assert len(seen) > len(items) // 2  # random, not a fixed cycle of two


@pytest.mark.parametrize("remembered", ["", "not a number", "-1", "99999"])
def test_an_unreadable_remembered_index_is_ignored(remembered: str) -> None:
    response = fulfil(lex_event("Joke", {"lastJoke": remembered}))
    assert response["messages"][0]["content"] in JOKES


@given(size=st.integers(min_value=1, max_value=50), last=st.none() | st.integers(-5, 60), seed=st.integers())
def test_pick_index_stays_in_range_and_avoids_the_last(size: int, last: int | None, seed: int) -> None:
    index = pick_index(size, last, random.Random(seed))
    assert 0 <= index < size
    if size > 1:
        assert index != last


def test_pick_index_refuses_an_empty_collection() -> None:
    with pytest.raises(ValueError, match="empty"):
        pick_index(0, None, random.Random(1))


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
        (lex_event("Joke", {"lastJoke": 3}), "sessionAttributes"),  # type: ignore[dict-item]
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
    from chalicelib.responding.fulfilment import FALLBACKS

    attributes: dict[str, str] = {}
    said = []
    for _ in range(len(FALLBACKS) + 1):
        response = fulfil(lex_event("FallbackIntent", attributes))
        attributes = response["sessionState"]["sessionAttributes"]
        said.append(response["messages"][0]["content"])
    assert said[: len(FALLBACKS)] == list(FALLBACKS)
    assert said[-1] == FALLBACKS[0]
    assert all(first != second for first, second in itertools.pairwise(said))
