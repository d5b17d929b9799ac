"""What the analysis produces: MESSAGE_ANALYSED and MESSAGE_ANALYSIS_FAILED details.

Records inside an image's analysis keep Rekognition's field names (Name, Confidence,
Face.BoundingBox, DetectedText, ...) and the text's keep Comprehend's (Text, Type, Score,
BeginOffset, ...), whichever runtime produced them, so nothing downstream can tell the difference.
Bounding boxes are ratios of the image's width and height, as Rekognition gives them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from chalicelib.contracts.messages import (
    DM,
    DirectMessageRef,
    MessageReceived,
    TwitterRef,
    direct_message_of,
    where_detail,
)

Record = dict[str, Any]

SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")

# What the analysis keeps per photo and of the text. The workflow's state holds the message and
# every photo's analysis at once, and a Step Functions state is at most 256 KiB (an overflow,
# States.DataLimitExceeded, escapes the workflow's Catch), so each part has a hard byte bound:
# with the longest text ingress accepts (25,000 characters, up to 150 KB once JSON-escaped), four
# photos and the text's analysis, the state and MESSAGE_ANALYSED stay under 256 KiB
# (tests/analysis/test_analysis_caps.py checks the worst case).
#: Labels kept per photo (the most confident first, as Rekognition and the local model order them).
MAX_LABELS_PER_PHOTO: Final = 20
#: Text detections kept per photo (Rekognition gives the LINEs before the WORDs).
MAX_TEXT_DETECTIONS_PER_PHOTO: Final = 40
#: Faces kept per photo, for celebrities and for other faces each.
MAX_FACES_PER_PHOTO: Final = 20
#: Characters kept of any text in a record (DetectedText, a label's or celebrity's Name, an entity).
MAX_RECORD_TEXT_CHARS: Final = 100
#: Elements kept of a list inside a record (a label's Parents, a celebrity's Urls).
MAX_RECORD_LIST_ITEMS: Final = 5
#: The hard bound on one photo's analysis as JSON: records are dropped from the end of the longest
#: list until it fits.
MAX_IMAGE_ANALYSIS_BYTES: Final = 16 * 1024
#: Entities and key phrases kept of the text, and the text analysis' hard bound as JSON.
MAX_TEXT_ENTITIES: Final = 25
MAX_KEY_PHRASES: Final = 25
MAX_TEXT_ANALYSIS_BYTES: Final = 8 * 1024


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _trimmed(value: Any) -> Any:
    """A record with its texts cut to MAX_RECORD_TEXT_CHARS and its lists to MAX_RECORD_LIST_ITEMS."""
    if isinstance(value, str):
        return value[:MAX_RECORD_TEXT_CHARS]
    if isinstance(value, list):
        return [_trimmed(item) for item in value[:MAX_RECORD_LIST_ITEMS]]
    if isinstance(value, dict):
        return {str(key)[:MAX_RECORD_TEXT_CHARS]: _trimmed(item) for key, item in value.items()}
    return value


def _capped_lists(
    lists: dict[str, list[Record]],
    limits: dict[str, int],
    max_bytes: int,
    detail_of: Callable[[dict[str, list[Record]]], dict[str, Any]],
) -> dict[str, list[Record]]:
    """Each list cut to its limit and its records trimmed; then, while the detail made of them
    (`detail_of`) is over max_bytes as JSON, the last record of the longest list dropped."""
    kept = {name: [_trimmed(record) for record in records[: limits[name]]] for name, records in lists.items()}
    while _json_size(detail_of(kept)) > max_bytes and any(kept.values()):
        longest = max(kept, key=lambda name: len(kept[name]))
        kept[longest].pop()
    return kept


@dataclass(frozen=True)
class ImageAnalysis:
    labels: list[Record] = field(default_factory=list)
    text_detections: list[Record] = field(default_factory=list)
    celebrity_faces: list[Record] = field(default_factory=list)
    unrecognized_faces: list[Record] = field(default_factory=list)

    def to_detail(self) -> dict[str, Any]:
        return {
            "Labels": self.labels,
            "TextDetections": self.text_detections,
            "CelebrityFaces": self.celebrity_faces,
            "UnrecognizedFaces": self.unrecognized_faces,
        }

    def capped(self) -> ImageAnalysis:
        """What MESSAGE_ANALYSED keeps of a photo: the per-photo caps above, whichever runtime analysed it."""
        kept = _capped_lists(
            {
                "labels": self.labels,
                "text_detections": self.text_detections,
                "celebrity_faces": self.celebrity_faces,
                "unrecognized_faces": self.unrecognized_faces,
            },
            {
                "labels": MAX_LABELS_PER_PHOTO,
                "text_detections": MAX_TEXT_DETECTIONS_PER_PHOTO,
                "celebrity_faces": MAX_FACES_PER_PHOTO,
                "unrecognized_faces": MAX_FACES_PER_PHOTO,
            },
            MAX_IMAGE_ANALYSIS_BYTES,
            lambda lists: ImageAnalysis(**lists).to_detail(),
        )
        return ImageAnalysis(**kept)

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> ImageAnalysis:
        return cls(
            labels=list(detail.get("Labels") or []),
            text_detections=list(detail.get("TextDetections") or []),
            celebrity_faces=list(detail.get("CelebrityFaces") or []),
            unrecognized_faces=list(detail.get("UnrecognizedFaces") or []),
        )


@dataclass(frozen=True)
class ImageResult:
    """One photo of a message: stored under Key and analysed, or the reason it could not be."""

    url: str
    key: str | None = None
    error: str | None = None
    analysis: ImageAnalysis | None = None

    def to_detail(self) -> dict[str, Any]:
        return {
            "Url": self.url,
            "Key": self.key,
            "Error": self.error,
            "Analysis": self.analysis.to_detail() if self.analysis is not None else None,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> ImageResult:
        analysis = detail.get("Analysis")
        return cls(
            url=str(detail.get("Url", "")),
            key=detail.get("Key"),
            error=detail.get("Error"),
            analysis=ImageAnalysis.from_detail(analysis) if isinstance(analysis, dict) else None,
        )


@dataclass(frozen=True)
class TextAnalysis:
    """Comprehend's view of the text. Sentiment is None when there was no text to analyse."""

    sentiment: str | None = None
    sentiment_score: dict[str, float] | None = None
    entities: list[Record] = field(default_factory=list)
    key_phrases: list[Record] = field(default_factory=list)
    language: str | None = None

    def to_detail(self) -> dict[str, Any]:
        return {
            "TextSentiment": self.sentiment,
            "SentimentScore": self.sentiment_score,
            "TextEntities": self.entities,
            "KeyPhrases": self.key_phrases,
            "Language": self.language,
        }

    def capped(self) -> TextAnalysis:
        """What MESSAGE_ANALYSED keeps of the text's analysis: MAX_TEXT_ENTITIES, MAX_KEY_PHRASES and
        MAX_TEXT_ANALYSIS_BYTES (the sentiment and its scores are always kept)."""
        kept = _capped_lists(
            {"entities": self.entities, "key_phrases": self.key_phrases},
            {"entities": MAX_TEXT_ENTITIES, "key_phrases": MAX_KEY_PHRASES},
            MAX_TEXT_ANALYSIS_BYTES,
            lambda lists: replace(self, entities=lists["entities"], key_phrases=lists["key_phrases"]).to_detail(),
        )
        return replace(self, entities=kept["entities"], key_phrases=kept["key_phrases"])

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> TextAnalysis:
        return cls(
            sentiment=detail.get("TextSentiment"),
            sentiment_score=detail.get("SentimentScore"),
            entities=list(detail.get("TextEntities") or []),
            key_phrases=list(detail.get("KeyPhrases") or []),
            language=detail.get("Language"),
        )


@dataclass(frozen=True)
class MessageAnalysed:
    """MESSAGE_ANALYSED: the message, what its text and photos contain. Images is always a list."""

    message: MessageReceived
    text: TextAnalysis
    images: list[ImageResult] = field(default_factory=list)

    def to_detail(self) -> dict[str, Any]:
        return {
            "Text": self.message.text,
            "Author": self.message.author,
            "Lang": self.message.lang,
            "ImageUrls": list(self.message.image_urls),
            # Twitter for a post; Channel and DirectMessage for a DM (carried through to Responding).
            **where_detail(self.message.twitter, self.message.direct_message),
            "HasImages": bool(self.message.image_urls),
            "Analysis": {**self.text.to_detail(), "Images": [image.to_detail() for image in self.images]},
        } | ({"ReceivedAtMs": self.message.received_at_ms} if self.message.received_at_ms is not None else {})

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> MessageAnalysed:
        analysis = detail.get("Analysis") or {}
        return cls(
            message=MessageReceived.from_detail(detail),
            text=TextAnalysis.from_detail(analysis),
            images=[ImageResult.from_detail(image) for image in analysis.get("Images") or []],
        )


@dataclass(frozen=True)
class AnalysisFailed:
    """MESSAGE_ANALYSIS_FAILED: the message and why it could not be analysed. A DM's failure names
    the DM (Channel and DirectMessage, as its other events do) and carries no text: a DM's text is
    private and stays in its MESSAGE_RECEIVED only."""

    text: str
    author: str | None
    twitter: TwitterRef | None
    reason: str
    direct_message: DirectMessageRef | None = None

    def to_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Text": "" if self.direct_message is not None else self.text,
            "Author": self.author,
            "Twitter": self.twitter.to_detail() if self.twitter else None,
            "Reason": self.reason,
        }
        if self.direct_message is not None:
            detail.update(Channel=DM, DirectMessage=self.direct_message.to_detail())
        return detail

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> AnalysisFailed:
        twitter = detail.get("Twitter")
        return cls(
            text=str(detail.get("Text") or ""),
            author=detail.get("Author"),
            twitter=TwitterRef.from_detail(twitter) if isinstance(twitter, dict) else None,
            reason=str(detail["Reason"]),
            direct_message=direct_message_of(detail),
        )
