"""Comprehend behind the TextAnalyser port: language, sentiment, entities and (optionally) key phrases.

Errors from Comprehend propagate unchanged: throttling and internal errors are retried by the Step
Functions workflow, and anything else is reported there as MESSAGE_ANALYSIS_FAILED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import Record, TextAnalysis

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient

#: Languages of DetectSentiment, DetectEntities and DetectKeyPhrases (Comprehend's own codes).
SUPPORTED_LANGUAGES: Final = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})

#: X's (and BCP 47's) Chinese variants, lower-cased, mapped to Comprehend's two Chinese models.
_CHINESE: Final[Mapping[str, str]] = {
    "zh": "zh",
    "zh-cn": "zh",
    "zh-sg": "zh",
    "zh-hans": "zh",
    "zh-tw": "zh-TW",
    "zh-hk": "zh-TW",
    "zh-mo": "zh-TW",
    "zh-hant": "zh-TW",
}

#: Comprehend refuses documents over 5,000 bytes of UTF-8 in DetectSentiment (the strictest of the
#: calls made here), so every call gets the same prefix and the offsets stay comparable.
MAX_TEXT_BYTES: Final = 5000


def comprehend_language(code: str | None) -> str | None:
    """Comprehend's code for a language code from X or from Comprehend, or None if not supported.

    X writes "zh", "zh-cn", "zh-tw", "en-gb", ... and uses pseudo-codes like "und" (undetermined),
    "qme" (media only), "qht" (hashtags only), "zxx" (no linguistic content): none of those is a
    language Comprehend can analyse.
    """
    if not code:
        return None
    normalised = code.strip().replace("_", "-").lower()
    if normalised in _CHINESE:
        return _CHINESE[normalised]
    primary = normalised.split("-", 1)[0]
    if primary == "zh":
        return "zh"  # an unknown Chinese variant: the Simplified model is the general one
    return primary if primary in SUPPORTED_LANGUAGES else None


def truncate_utf8(text: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `max_bytes`, never half a character.

    A prefix keeps Comprehend's character offsets (BeginOffset, EndOffset) valid for the full text.
    """
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # Dropping the incomplete trailing sequence is exactly "cut on a character boundary".
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


class ComprehendTextAnalyser:
    """chalicelib.ports.TextAnalyser on Amazon Comprehend (synchronous, one document per call)."""

    def __init__(self, client: ComprehendClient) -> None:
        self._client = client

    def detect_language(self, text: str) -> str | None:
        """The dominant language's code as Comprehend writes it ("en", "zh-TW", ...), or None."""
        document = truncate_utf8(text)
        if not document.strip():
            return None  # Comprehend rejects empty documents; there is nothing to detect anyway
        response = self._client.detect_dominant_language(Text=document)
        languages = [language for language in response.get("Languages", []) if language.get("LanguageCode")]
        if not languages:
            return None
        best = max(languages, key=lambda language: language.get("Score", 0.0))
        return best["LanguageCode"]

    def supports(self, language: str) -> bool:
        return comprehend_language(language) is not None

    def analyse(self, text: str, language: str, *, key_phrases: bool) -> TextAnalysis:
        code = comprehend_language(language)
        if code is None:
            raise ValueError(f"Comprehend cannot analyse language {language!r}; check supports() first")
        document = truncate_utf8(text)
        if not document.strip():
            raise ValueError("no text to analyse; the caller skips empty texts")
        # Comprehend's LanguageCode enums are literal types in the stubs; `code` is one of them.
        language_code: Any = code
        sentiment = self._client.detect_sentiment(Text=document, LanguageCode=language_code)
        entities = self._client.detect_entities(Text=document, LanguageCode=language_code)
        phrases: list[Record] = []
        if key_phrases:  # off by default: each call is paid
            response = self._client.detect_key_phrases(Text=document, LanguageCode=language_code)
            phrases = [_pick(phrase, "Text", "Score", "BeginOffset", "EndOffset") for phrase in response["KeyPhrases"]]
        score = sentiment.get("SentimentScore", {})
        return TextAnalysis(
            sentiment=sentiment.get("Sentiment"),
            sentiment_score={
                "Positive": score.get("Positive", 0.0),
                "Negative": score.get("Negative", 0.0),
                "Neutral": score.get("Neutral", 0.0),
                "Mixed": score.get("Mixed", 0.0),
            },
            entities=[
                _pick(entity, "Text", "Type", "Score", "BeginOffset", "EndOffset") for entity in entities["Entities"]
            ],
            key_phrases=phrases,
            language=code,
        )


def _pick(source: Mapping[str, Any], *names: str) -> Record:
    return {name: source[name] for name in names if name in source}
