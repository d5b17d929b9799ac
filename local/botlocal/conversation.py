"""The local runtime's conversational bot: an intent matcher built from the bot definition, in front
of the same fulfilment function Lex calls on AWS.

The matcher uses nothing but chalicelib.contracts.conversation (the intents' sample utterances and
the NLU confidence threshold), the definition CDK builds the Lex V2 bot from, so the two cannot
drift. Its confidence, in 0..1, is the geometric mean of two fuzzy, weighted word overlaps:
- recall: how much of the closest sample utterance the message contains, and
- precision: how much of the message the intent's vocabulary explains.
Words fuzzy-match (rapidfuzz), so "jokes" or a typo still count. A word found in the samples of
several intents ("tell", "me", "a") weighs less than one that points to a single intent ("joke",
"laugh", "fact"). Whole-sentence fuzzy ratios were tried first and rejected: they give unrelated
messages ("what's the weather") around 0.5 against any short sample, above Lex's 0.40 threshold.

Session attributes are kept per session in memory, as Lex keeps them between turns.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from chalicelib.adapters.lex import lex_text, message_text
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import (
    BOT_NAME,
    FALLBACK_INTENT,
    FALLBACK_MESSAGE,
    LOCALE_ID,
    NLU_CONFIDENCE_THRESHOLD,
    Intent,
)

#: Weight of a word that appears in the samples of more than one intent (one intent's word: 1).
SHARED_WORD_WEIGHT: Final = 0.2
#: Weight of a message word no sample contains (it counts against precision only).
UNKNOWN_WORD_WEIGHT: Final = 0.5
#: rapidfuzz ratio (0..100) from which two words count as the same word ("jokes" ~ "joke": 89).
WORD_CUTOFF: Final = 80.0
#: Sessions kept in memory; the least recently used one is forgotten first.
MAX_SESSIONS: Final = 10_000

_APOSTROPHES: Final = re.compile(r"['\u2019`]")
_NON_WORD: Final = re.compile(r"[^\w]+")


def normalise(text: str) -> list[str]:
    """The words of a text: case-folded, accents and apostrophes dropped, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", plain)).split()


@dataclass(frozen=True)
class Match:
    """The matcher's verdict: an intent name (FALLBACK_INTENT under the threshold) and every score."""

    intent: str
    confidence: float
    scores: Mapping[str, float]


class IntentMatcher:
    """Scores a message against intents built from their sample utterances only."""

    def __init__(self, intents: Iterable[Intent], *, threshold: float = NLU_CONFIDENCE_THRESHOLD) -> None:
        from rapidfuzz import fuzz, process  # the local runtime's dependency: imported when used

        self._ratio = fuzz.ratio
        self._extract_one = process.extractOne
        self.threshold = threshold
        self._samples: dict[str, list[list[str]]] = {}
        for intent in intents:
            words = [normalise(utterance) for utterance in intent.sample_utterances]
            self._samples.setdefault(intent.name, []).extend(sample for sample in words if sample)
        self._vocabulary = {
            name: {word for sample in samples for word in sample} for name, samples in self._samples.items()
        }
        counts: dict[str, int] = {}
        for vocabulary in self._vocabulary.values():
            for word in vocabulary:
                counts[word] = counts.get(word, 0) + 1
        self._weights = {word: 1.0 if count == 1 else SHARED_WORD_WEIGHT for word, count in counts.items()}
        self._all_words = sorted(self._weights)

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self._samples)

    def match(self, text: str) -> Match:
        """The best intent for `text`, or FALLBACK_INTENT when it scores under the threshold or ties."""
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if not ranked:
            return Match(FALLBACK_INTENT, 0.0, scores)
        best, confidence = ranked[0]
        tied = len(ranked) > 1 and math.isclose(ranked[1][1], confidence)
        if confidence < self.threshold or tied:
            return Match(FALLBACK_INTENT, confidence, scores)
        return Match(best, confidence, scores)

    def scores(self, text: str) -> dict[str, float]:
        """Each intent's confidence for `text`, in 0..1."""
        words = normalise(text)
        if not words:
            return dict.fromkeys(self._samples, 0.0)
        return {name: math.sqrt(self._recall(words, name) * self._precision(words, name)) for name in self._samples}

    def _similarity(self, word: str, candidates: Iterable[str]) -> float:
        """How close `word` is to the closest candidate, in 0..1 (0 under WORD_CUTOFF)."""
        found = self._extract_one(word, list(candidates), scorer=self._ratio, score_cutoff=WORD_CUTOFF)
        return 0.0 if found is None else float(found[1]) / 100.0

    def _recall(self, words: list[str], intent: str) -> float:
        """How much of the intent's closest sample utterance the message contains (weighted)."""
        best = 0.0
        for sample in self._samples[intent]:
            total = sum(self._weights[word] for word in sample)
            found = sum(self._weights[word] * self._similarity(word, words) for word in sample)
            best = max(best, found / total)
        return best

    def _precision(self, words: list[str], intent: str) -> float:
        """How much of the message the intent's vocabulary explains (weighted)."""
        total = found = 0.0
        for word in words:
            closest = self._extract_one(word, self._all_words, scorer=self._ratio, score_cutoff=WORD_CUTOFF)
            weight = UNKNOWN_WORD_WEIGHT if closest is None else self._weights[closest[0]]
            total += weight
            found += weight * self._similarity(word, self._vocabulary[intent])
        return found / total


class LocalConversationBot:
    """chalicelib.ports.ConversationBot for the local runtime: matcher + the Lex fulfilment function.

    `fulfil` receives a Lex V2 code-hook event and answers in Lex V2's response format: the same
    function the Lex bot calls on AWS. Thread-safe: one session's turns run one at a time.
    """

    def __init__(
        self,
        fulfil: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        threshold: float = NLU_CONFIDENCE_THRESHOLD,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._fulfil = fulfil
        # Read at construction, from the module: the definition is the only source of intents.
        self.matcher = IntentMatcher(conversation.INTENTS, threshold=threshold)
        self._max_sessions = max_sessions
        self._attributes: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._session_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def respond(self, session_id: str, text: str) -> str:
        text = lex_text(text)
        match = self.matcher.match(text)
        with self._session_lock(session_id):
            with self._lock:
                attributes = dict(self._attributes.get(session_id, {}))
            response = self._fulfil(self._event(session_id, text, match, attributes))
            state = response.get("sessionState") or {}
            with self._lock:
                self._attributes[session_id] = dict(state.get("sessionAttributes") or {})
                self._attributes.move_to_end(session_id)
                while len(self._attributes) > self._max_sessions:
                    forgotten, _ = self._attributes.popitem(last=False)
                    self._session_locks.pop(forgotten, None)
        return message_text(response.get("messages")) or FALLBACK_MESSAGE

    def _session_lock(self, session_id: str) -> threading.Lock:
        with self._lock:
            return self._session_locks.setdefault(session_id, threading.Lock())

    def _event(self, session_id: str, text: str, match: Match, attributes: dict[str, str]) -> dict[str, Any]:
        """A Lex V2 fulfilment code-hook event, as Lex sends it to the Lambda function."""
        interpretations: list[dict[str, Any]] = [
            {
                "intent": _intent(name, "ReadyForFulfillment" if name == match.intent else "InProgress"),
                "nluConfidence": round(score, 2),
                "interpretationSource": "Lex",
            }
            for name, score in sorted(match.scores.items(), key=lambda item: item[1], reverse=True)
        ]
        fallback = {"intent": _intent(FALLBACK_INTENT, "InProgress"), "interpretationSource": "Lex"}
        if match.intent == FALLBACK_INTENT:
            fallback["intent"] = _intent(FALLBACK_INTENT, "ReadyForFulfillment")
            interpretations.insert(0, fallback)
        else:
            interpretations.append(fallback)
        return {
            "messageVersion": "1.0",
            "invocationSource": "FulfillmentCodeHook",
            "inputMode": "Text",
            "responseContentType": "text/plain; charset=utf-8",
            "sessionId": session_id,
            "inputTranscript": text,
            "bot": {
                "id": "LOCAL",
                "name": BOT_NAME,
                "aliasId": "LOCAL",
                "aliasName": "local",
                "localeId": LOCALE_ID,
                "version": "DRAFT",
            },
            "interpretations": interpretations,
            "requestAttributes": {},
            "sessionState": {
                "sessionAttributes": attributes,
                "intent": _intent(match.intent, "ReadyForFulfillment"),
                "originatingRequestId": str(uuid.uuid4()),
            },
        }


def _intent(name: str, state: str) -> dict[str, Any]:
    return {"name": name, "slots": {}, "state": state, "confirmationState": "None"}
