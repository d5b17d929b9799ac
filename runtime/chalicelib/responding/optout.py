""" "stop" and "start": a person who tells the bot to stop is never answered again until they say start.

The rule, for whoever changes it. A message is a command only when, once its @mentions and links
are removed, its case folded (NFKC), and everything but letters, digits and spaces dropped
(punctuation, emoji: "STOP!! 🛑" reads "stop"; apostrophes go first, so "don't" reads "dont"), what
is left is exactly one of the phrases below, optionally with polite words around it ("please stop",
"stop it now, thanks", "por favor para"), said once or repeated ("stop stop STOP"). Besides
English, the words for stop of the bot's other languages (Spanish, French, German) are commands on
their own ("para", "basta", "arrête", "stopp", "hör auf", "désabonner"); a sentence in those
languages ("arrête de me répondre") is the Stop intent's, which asks first (responding/conversation.py).
"start" is the one way back in every language, as the confirmation says. A longer sentence is never
a command: "don't stop", "stop motion is fun", "I can't stop laughing" and "start me a story" are
ordinary messages, and a message of more than MAX_COMMAND_WORDS words (a repeat counted once) is not
read further, so the check stays short on a 25,000-character post. Whole-message matching is what
SMS short codes do with STOP/START, and what people expect of a bot.

The bot says so once: the opt-out is recorded in one atomic step (OptOuts.opt_out answers whether
it changed anything), and only the message that changed it gets the confirmation. A "stop" from
someone already opted out, and anything else they send, is skipped (REPLY_SKIPPED "opted out").
"start" from someone opted out is confirmed; from anyone else it is an ordinary message.

The confirmation is a reply like any other: it goes through the guards (a bot toggling stop/start
cannot make the bot talk past its per-author limit) and Egress (the kill switch and the posting
budget). A reply already on its way to Egress when the "stop" arrives (the same person's previous
mention) is dropped there (REPLY_SKIPPED "opted out"): Egress reads the opt-out at each post, and
posts only the confirmation of the very post that opted the person out.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import Final

from chalicelib.kernel.text import without_mentions_and_urls

#: What the bot answers, once per change.
STOPPED_CONFIRMATION: Final = "OK, I won't reply to you any more. Reply 'start' to undo."
STARTED_CONFIRMATION: Final = "OK, I'll reply to you again. Reply 'stop' to make me stop."


class Command(Enum):
    STOP = "stop"
    START = "start"


#: The whole message, after normalising (see the module's docstring), for each command.
STOP_PHRASES: Final = frozenset(
    {
        "stop",
        "stop it",
        "stop all",
        "stopall",
        "stop spamming me",
        "stop replying",
        "stop replying to me",
        "stop answering",
        "stop answering me",
        "stop messaging me",
        "stop mentioning me",
        "stop tagging me",
        "stop tweeting at me",
        "stop this",
        "stop that",
        "stop spamming",
        "stop the bot",
        "stop the replies",
        "stop these replies",
        "stop pinging me",
        "stop bothering me",
        "stop sending me replies",
        "stop replies",
        "halt",
        "unsubscribe",
        "unsubscribe me",
        "opt out",
        "optout",
        "opt me out",
        "leave me alone",
        "go away",
        "dont reply",
        "dont reply to me",
        "do not reply",
        "do not reply to me",
        "no more replies",
        "end",
        "quit",
        "cancel",
        # Spanish
        "para",
        "parar",
        "basta",
        "alto",
        "detente",
        "cancelar",
        "baja",
        # French
        "arrête",
        "arrete",
        "arrêtez",
        "arretez",
        "désabonner",
        "desabonner",
        # German
        "stopp",
        "hör auf",
        "hor auf",
        "hoer auf",
        "aufhören",
        "aufhoren",
        "aufhoeren",
        "abbestellen",
        "abmelden",
    }
)
START_PHRASES: Final = frozenset(
    {
        "start",
        "start again",
        "start replying",
        "start replying again",
        "unstop",
        "resume",
        "subscribe",
        "opt in",
        "optin",
        "opt me in",
        "opt back in",
        "you can reply again",
    }
)
#: Words people add around a command without changing it.
_POLITE: Final = (
    "please",
    "pls",
    "plz",
    "now",
    "thanks",
    "thank you",
    "thx",
    "ok",
    "okay",
    "bot",
    "already",
    "just",
    "hey",
    "por favor",
    "porfa",
    "ya",
    "gracias",
    "sil vous plait",
    "sil vous plaît",
    "sil te plait",
    "sil te plaît",
    "svp",
    "stp",
    "merci",
    "bitte",
    "danke",
)
_POLITE_WORDS: Final = tuple(tuple(polite.split()) for polite in _POLITE)
#: Longer than any phrase with polite words around it ("por favor stop replying to me please thank
#: you" is 9): a message with more words is not a command, and its parts are never built (their
#: number grows with the cube of its length).
MAX_COMMAND_WORDS: Final = 16
_APOSTROPHES: Final = re.compile("['\u2019\u2018`\u00b4]")


def normalised(text: str) -> str:
    """The message as the rule reads it: no mentions or links, case folded, only letters, digits
    and single spaces."""
    folded = unicodedata.normalize("NFKC", without_mentions_and_urls(text)).casefold()
    folded = _APOSTROPHES.sub("", folded)
    kept = "".join(char if char.isalnum() else " " for char in folded)
    return " ".join(kept.split())


def _without_repeats(words: str) -> str:
    """ "stop stop stop" -> "stop": a word said again at once counts once."""
    kept: list[str] = []
    for word in words.split():
        if not kept or kept[-1] != word:
            kept.append(word)
    return " ".join(kept)


def command_in(text: str) -> Command | None:
    """STOP or START when the whole message is one (see the module's docstring), else None."""
    words = _without_repeats(normalised(text)).split()
    if len(words) > MAX_COMMAND_WORDS:
        return None
    cores = _cores(words)
    if cores & STOP_PHRASES:
        return Command.STOP
    if cores & START_PHRASES:
        return Command.START
    return None


def _cores(words: list[str]) -> set[str]:
    """The message, and each part of it left once polite words are taken off its ends ("please
    stop the bot thanks" -> {"please stop the bot thanks", "stop the bot thanks", "stop the bot",
    "stop the", ...}): "bot" is polite around "stop" but part of "stop the bot"."""
    starts = [0]
    while (after := _polite_prefix(words, starts[-1])) is not None:
        starts.append(after)
    cores: set[str] = set()
    for start in starts:
        ends = [len(words)]
        while (before := _polite_suffix(words, start, ends[-1])) is not None:
            ends.append(before)
        cores.update(" ".join(words[start:end]) for end in ends)
    return cores


def _polite_prefix(words: list[str], start: int) -> int | None:
    for polite in _POLITE_WORDS:
        if tuple(words[start : start + len(polite)]) == polite:
            return start + len(polite)
    return None


def _polite_suffix(words: list[str], start: int, end: int) -> int | None:
    for polite in _POLITE_WORDS:
        if end - len(polite) >= start and tuple(words[end - len(polite) : end]) == polite:
            return end - len(polite)
    return None
