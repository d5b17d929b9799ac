"""The conversational bot, defined once: CDK builds the Lex V2 bot from it and the local runtime
builds its intent matcher from it, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LOCALE_ID: Final = "en_US"
BOT_NAME: Final = "XBotConversation"
#: Lex's own fallback intent: what the bot says when no intent matches.
FALLBACK_INTENT: Final = "FallbackIntent"
FALLBACK_MESSAGE: Final = (
    'I can tell you a joke or a fun fact. Try "tell me a joke" or "tell me a fact". '
    "Send me a photo and I'll tell you who I recognise in it."
)
#: Lex's confidence threshold under which the fallback intent answers.
NLU_CONFIDENCE_THRESHOLD: Final = 0.40


@dataclass(frozen=True)
class Intent:
    name: str
    description: str
    sample_utterances: tuple[str, ...]


JOKE = Intent(
    name="Joke",
    description="The user asks for a joke.",
    sample_utterances=(
        "tell me a joke",
        "joke please",
        "say something funny",
        "make me laugh",
        "do you know any jokes",
        "I want to hear a joke",
        "got a joke for me",
        "cheer me up",
        "tell me something funny",
        "another joke",
        "a joke",
        "give me a joke",
    ),
)

FACT = Intent(
    name="Fact",
    description="The user asks for a fact.",
    sample_utterances=(
        "tell me a fact",
        "fact please",
        "tell me something interesting",
        "teach me something",
        "give me a fun fact",
        "do you know any facts",
        "I want to learn something",
        "tell me something I don't know",
        "another fact",
        "a fact",
        "share a fact",
        "random fact",
    ),
)

INTENTS: Final = (JOKE, FACT)
