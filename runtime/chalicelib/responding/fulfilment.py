"""The Lex V2 code hook: answers every intent of the bot definition, in the event's locale.

Lex calls it on AWS (the `lex_fulfilment` Lambda function); the local runtime calls the very same
function behind its intent matcher. Input and output follow Lex V2's Lambda event and response
formats. The locale is the event's `bot.localeId` (an unknown one is answered in English).

- Joke and Fact: an item of their collection (jokes.py, facts.py; English in every locale).
- The small-talk intents (Greeting, Thanks, Help, WhoAreYou, Compliment, Stop): an answer of
  smalltalk.py in the locale. Stop's answers confirm the opt-out; the text responder records the
  opt-out itself (the code hook only words the answer).
- FallbackIntent, and any intent this hook does not know: the locale's fallback answers in turn,
  the definition's own message first (Lex says the same when the code hook fails).

Variety (RECENT_WINDOW): a person never gets one of the last RECENT_WINDOW answers of the same
intent again while their session lives. The indices served are kept in the session's attributes
("recent<Intent>", most recent last), which Lex keeps between turns until the session has been idle
for the bot's idle session TTL (infrastructure/stacks/responding.py: IDLE_SESSION_TTL); the local
runtime's conversation bot keeps them in memory the same way. X also refuses a reply whose text the
account posted recently: this is what keeps a chatty person from hitting that.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

from chalicelib.contracts import conversation
from chalicelib.responding.facts import FACTS
from chalicelib.responding.jokes import JOKES
from chalicelib.responding.smalltalk import answers_for

#: The code hooks Lex V2 can invoke. The intents have no slots, so both answer straight away.
INVOCATION_SOURCES: Final = frozenset({"FulfillmentCodeHook", "DialogCodeHook"})

#: None of the last RECENT_WINDOW answers of an intent is given again to the same person while
#: their session lives (fewer when the intent has fewer answers: never the whole collection).
RECENT_WINDOW: Final = 3
#: Session attribute holding the indices recently served for an intent: RECENT_PREFIX + intent name.
RECENT_PREFIX: Final = "recent"

#: Intents answered from the English collections whatever the locale.
COLLECTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    conversation.JOKE_NAME: JOKES,
    conversation.FACT_NAME: FACTS,
}

_RANDOM: Final = random.SystemRandom()


def fulfil(event: dict[str, Any], *, rng: random.Random | None = None) -> dict[str, Any]:
    """Lex V2's response to a code-hook event: the intent closed as Fulfilled with one message.

    Session attributes the event carries are kept. Raises ValueError when the event is not a Lex V2
    code-hook event.
    """
    intent_name, attributes, locale_id = _read(event)
    attributes = dict(attributes)
    known = intent_name in COLLECTIONS or intent_name in conversation.SMALL_TALK
    key = intent_name if known else conversation.FALLBACK_INTENT
    items = COLLECTIONS.get(key) or answers_for(locale_id, key)
    attribute = RECENT_PREFIX + key
    recent = recent_indices(attributes.get(attribute), len(items))
    if known:
        index = pick_index(len(items), recent, rng or _RANDOM)
    else:
        # In turn, from the definition's message: the first thing a person not understood reads
        # says what the bot can do.
        index = 0 if not recent else (recent[-1] + 1) % len(items)
    attributes[attribute] = ",".join(str(i) for i in [*recent, index][-RECENT_WINDOW:])
    return {
        "sessionState": {
            "sessionAttributes": attributes,
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent_name, "state": "Fulfilled"},
        },
        "messages": [{"contentType": "PlainText", "content": items[index]}],
    }


def pick_index(size: int, recent: Sequence[int], rng: random.Random) -> int:
    """A random index in range(size), none of the last RECENT_WINDOW of `recent` (nor of the last
    size - 1 of them when the collection is smaller: there is always one to choose)."""
    if size <= 0:
        raise ValueError("cannot pick from an empty collection")
    keep = min(RECENT_WINDOW, size - 1)
    excluded = set(recent[-keep:]) if keep else set()
    return rng.choice([index for index in range(size) if index not in excluded])


def recent_indices(value: str | None, size: int) -> list[int]:
    """The indices a session attribute remembers (most recent last); anything unreadable, or out of
    range (the collection changed), is left out."""
    indices: list[int] = []
    for part in (value or "").split(","):
        try:
            index = int(part)
        except ValueError:
            continue
        if 0 <= index < size:
            indices.append(index)
    return indices


def _read(event: Any) -> tuple[str, Mapping[str, str], str]:
    """The intent's name, the session attributes and the locale id of a Lex V2 code-hook event."""
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
    bot = event.get("bot")
    locale_id = bot.get("localeId") if isinstance(bot, Mapping) else None
    return name, attributes, conversation.locale(locale_id if isinstance(locale_id, str) else None).locale_id
