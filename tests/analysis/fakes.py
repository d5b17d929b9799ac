"""Honest in-memory stand-ins for the analysis ports, shared by the analysis tests."""

from __future__ import annotations

import io
from typing import Any

from chalicelib.contracts.analysis import ImageAnalysis, TextAnalysis
from chalicelib.ports import MediaError


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


class FakeFetcher:
    def __init__(self, bodies: dict[str, bytes | Exception]) -> None:
        self.bodies = bodies
        self.calls: list[str] = []

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        self.calls.append(url)
        body = self.bodies.get(url, MediaError("404 not found"))
        if isinstance(body, Exception):
            raise body
        return body


class MemoryMediaStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise MediaError(f"no media under {key}")
        return self.objects[key][0]


class FakeImageAnalyser:
    def __init__(self, failing_keys: set[str] | None = None) -> None:
        self.calls: list[tuple[str, frozenset[str]]] = []
        self.failing_keys = failing_keys or set()

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        self.calls.append((key, features))
        if key in self.failing_keys:
            raise MediaError("InvalidImageFormatException")
        return ImageAnalysis(labels=[{"Name": "Cat", "Confidence": 91.5, "Parents": [{"Name": "Animal"}]}])


class FakeTextAnalyser:
    SUPPORTED = frozenset({"en", "fr"})

    def __init__(self, detected: str | None = "en", error: Exception | None = None) -> None:
        self.detected = detected
        self.error = error
        self.calls: list[tuple[str, Any]] = []

    def detect_language(self, text: str) -> str | None:
        self.calls.append(("detect", text))
        return self.detected

    def supports(self, language: str) -> bool:
        return language in self.SUPPORTED

    def analyse(self, text: str, language: str, *, key_phrases: bool) -> TextAnalysis:
        self.calls.append(("analyse", (text, language, key_phrases)))
        if self.error is not None:
            raise self.error
        negative = "terrible" in text
        return TextAnalysis(
            sentiment="NEGATIVE" if negative else "POSITIVE",
            sentiment_score={
                "Positive": 0.1 if negative else 0.9,
                "Negative": 0.9 if negative else 0.1,
                "Neutral": 0.0,
                "Mixed": 0.0,
            },
            language=language,
        )
