"""The issue's "a negative English text never gets a joke or a fact", end to end on the local runtime,
over the held-out set's negative texts (tests/conversation/heldout_en.jsonl, `negative: true`).

Nothing is stubbed between the text and the reply: the local text analyser (VADER) gives the
sentiment, the text responder decides, and the local bot (the matcher built from the definition, in
front of the real Lex fulfilment) answers when the responder asks it. Only the event bus is a
recording fake. A negative text that VADER does not read as NEGATIVE reaches the bot like any other:
then only the matcher keeps it from a joke or a fact, and this test says so if it does not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botlocal.conversation import LocalConversationBot
from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.conversation import TextResponder
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.jokes import JOKES
from chalicelib.smallmodels.text import SmallTextAnalyser

from tests.conversation.test_heldout_accuracy import Example, load_heldout
from tests.fakes import MemoryOptOuts, RecordingBus

NEGATIVE_EXAMPLES = [example for example in load_heldout() if example.negative]
#: Every reply the bot could make that the issue forbids for a negative text.
JOKES_AND_FACTS = frozenset({*JOKES, *FACTS})


@pytest.fixture(scope="module")
def analyser() -> SmallTextAnalyser:
    return SmallTextAnalyser()


@pytest.fixture(scope="module")
def bot() -> LocalConversationBot:
    return LocalConversationBot(fulfil)


def _analysed(analyser: SmallTextAnalyser, text: str, post_id: str) -> MessageAnalysed:
    message = MessageReceived(f"@xbot {text}", "alice", "en", TwitterRef(post_id, "42"), [], received_at_ms=1)
    return MessageAnalysed(message=message, text=analyser.analyse(text, "en", key_phrases=False))


def _replies(bus: RecordingBus) -> list[str]:
    details: list[dict[str, Any]] = [json.loads(entry["Detail"]) for entry in bus.entries]
    kinds = [entry["DetailType"] for entry in bus.entries]
    return [detail["Text"] for kind, detail in zip(kinds, details, strict=True) if kind in {"SEND_TWEET", "SEND_DM"}]


def test_the_heldout_set_has_negative_texts() -> None:
    assert len(NEGATIVE_EXAMPLES) >= 15


@pytest.mark.parametrize("example", NEGATIVE_EXAMPLES, ids=lambda example: example.text)
def test_a_negative_heldout_text_never_gets_a_joke_or_a_fact(
    analyser: SmallTextAnalyser, bot: LocalConversationBot, example: Example
) -> None:
    bus = RecordingBus()
    publisher = EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))
    responder = TextResponder(bot=bot, publisher=publisher, opt_outs=MemoryOptOuts())
    message = _analysed(analyser, example.text, post_id=f"negative-{NEGATIVE_EXAMPLES.index(example)}")
    responder.respond(message)
    said = [reply.split(" ", 1)[1] if reply.startswith("@") else reply for reply in _replies(bus)]
    assert not JOKES_AND_FACTS.intersection(said), (example.text, message.text.sentiment, said)
