"""What the analysis produces: MESSAGE_ANALYSED and MESSAGE_ANALYSIS_FAILED details.

Records inside an image's analysis keep Rekognition's field names (Name, Confidence,
Face.BoundingBox, DetectedText, ...) and the text's keep Comprehend's (Text, Type, Score,
BeginOffset, ...), whichever runtime produced them, so nothing downstream can tell the difference.
Bounding boxes are ratios of the image's width and height, as Rekognition gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.contracts.messages import MessageReceived, TwitterRef

Record = dict[str, Any]

SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")


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
            "Twitter": self.message.twitter.to_detail(),
            "HasImages": bool(self.message.image_urls),
            "Analysis": {**self.text.to_detail(), "Images": [image.to_detail() for image in self.images]},
        }

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
    """MESSAGE_ANALYSIS_FAILED: the message and why it could not be analysed."""

    text: str
    author: str | None
    twitter: TwitterRef | None
    reason: str

    def to_detail(self) -> dict[str, Any]:
        return {
            "Text": self.text,
            "Author": self.author,
            "Twitter": self.twitter.to_detail() if self.twitter else None,
            "Reason": self.reason,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> AnalysisFailed:
        twitter = detail.get("Twitter")
        return cls(
            text=str(detail.get("Text") or ""),
            author=detail.get("Author"),
            twitter=TwitterRef.from_detail(twitter) if isinstance(twitter, dict) else None,
            reason=str(detail["Reason"]),
        )
