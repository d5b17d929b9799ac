"""Comprehend behind the TextAnalyser port: language, sentiment, entities and (optionally) key phrases.

Errors from Comprehend propagate unchanged: throttling and internal errors are retried by the Step
Functions workflow, and anything else is reported there as MESSAGE_ANALYSIS_FAILED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.contracts.analysis import Record, TextAnalysis

# Shared with the small text analyser (chalicelib.smallmodels.text); imported here under their old names.
from chalicelib.kernel.languages import MAX_TEXT_BYTES, SUPPORTED_LANGUAGES, comprehend_language, truncate_utf8

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient

__all__ = ["MAX_TEXT_BYTES", "SUPPORTED_LANGUAGES", "ComprehendTextAnalyser", "comprehend_language", "truncate_utf8"]


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
