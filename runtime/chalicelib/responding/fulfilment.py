"""The Lex V2 code hook: answers the Joke and Fact intents from our own collections.

Lex calls it on AWS (the `lex_fulfilment` Lambda function); the local runtime calls the very same
function behind its intent matcher. Input and output follow Lex V2's Lambda event and response
formats. The answer for an intent is a random item of its collection, never the same item twice
in a row for one session: the index of the last item is kept in the session's attributes, which
Lex stores between turns (locally, the local runtime's conversation bot does).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

from chalicelib.contracts.conversation import FACT, FALLBACK_MESSAGE, JOKE
from chalicelib.responding.facts import FACTS
from chalicelib.responding.jokes import JOKES

#: The code hooks Lex V2 can invoke. The intents have no slots, so both answer straight away.
INVOCATION_SOURCES: Final = frozenset({"FulfillmentCodeHook", "DialogCodeHook"})

#: Intent name -> (its collection, the session attribute holding the last index served).
COLLECTIONS: Final[Mapping[str, tuple[tuple[str, ...], str]]] = {
    JOKE.name: (JOKES, "lastJoke"),
    FACT.name: (FACTS, "lastFact"),
}

#: What the bot says when it did not understand, in turn: the first is the definition's (which the
#: Lex bot also uses when the code hook fails). X refuses a reply whose text the account posted
#: recently, so a person who is not understood twice must not get the very same words twice.
FALLBACKS: Final = (
    FALLBACK_MESSAGE,
    "Sorry, I didn't get that. Ask me for a joke or a fact, or send me a photo of someone famous.",
    "I only know two tricks so far: jokes and facts. Or send a photo and I'll tell you who's in it!",
)

_RANDOM: Final = random.SystemRandom()


def fulfil(event: dict[str, Any], *, rng: random.Random | None = None) -> dict[str, Any]:
    """Lex V2's response to a code-hook event: the intent closed as Fulfilled with one message.

    Joke and Fact get an item of their collection; FallbackIntent and any intent this hook does not
    know get a fallback (FALLBACK_MESSAGE first, then other words in turn). Session attributes the
    event carries are kept. Raises ValueError when the event is not a Lex V2 code-hook event.
    """
    intent_name, attributes = _read(event)
    attributes = dict(attributes)
    entry = COLLECTIONS.get(intent_name)
    if entry is None:
        last = _last_index(attributes.get("lastFallback"))
        index = 0 if last is None or last >= len(FALLBACKS) else (last + 1) % len(FALLBACKS)
        attributes["lastFallback"] = str(index)
        content = FALLBACKS[index]
    else:
        items, attribute = entry
        index = pick_index(len(items), _last_index(attributes.get(attribute)), rng or _RANDOM)
        attributes[attribute] = str(index)
        content = items[index]
    return {
        "sessionState": {
            "sessionAttributes": attributes,
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent_name, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": content}],
    }


def pick_index(size: int, last: int | None, rng: random.Random) -> int:
    """A random index in range(size), other than `last` whenever there is another to choose."""
    if size <= 0:
        raise ValueError("cannot pick from an empty collection")
    choices = [index for index in range(size) if index != last] or [0]
    return rng.choice(choices)


def _read(event: Any) -> tuple[str, Mapping[str, str]]:
    """The intent's name and the session attributes of a Lex V2 code-hook event."""
    if not isinstance(event, Mapping):
        raise ValueError(f"not a Lex V2 event: expected an object, got {type(event).__name__}")
    source = event.get("invocationSource")
    if source not in INVOCATION_SOURCES:
        raise ValueError(f"not a Lex V2 code-hook event: invocationSource is {source!r}")
    state = event.get("sessionState")
    if not isinstance(state, Mapping):
        raise ValueError("not a Lex V2 event: sessionState is missing or not an object")
    intent = state.get("intent")
    if not isinstance(intent, Mapping):
        raise ValueError("not a Lex V2 event: sessionState.intent is missing or not an object")
    name = intent.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("not a Lex V2 event: sessionState.intent.name is missing or empty")
    attributes = state.get("sessionAttributes")
    if attributes is None:
        attributes = {}  # a new session: Lex sends null or leaves the key out
    if not isinstance(attributes, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in attributes.items()
    ):
        raise ValueError("not a Lex V2 event: sessionState.sessionAttributes must map strings to strings")
    return name, attributes


def _last_index(value: str | None) -> int | None:
    """The index a session attribute remembers; anything unreadable counts as none."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
