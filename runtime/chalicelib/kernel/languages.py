"""Comprehend's languages and document limit, shared by the Comprehend adapter and the small text
analyser (chalicelib.smallmodels.text), so that both accept the same languages and cut a long post
at the same place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

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
