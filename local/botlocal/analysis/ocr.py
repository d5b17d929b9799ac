"""Text in photos: RapidOCR (PP-OCR detection and recognition models shipped in its wheel, run
by onnxruntime), turned into Rekognition DetectText's TextDetections.

Rekognition's shape: one LINE record per line of text, Id 0..n-1, then one WORD record per word
with its line's Id as ParentId; Confidence 0-100; Geometry.BoundingBox as ratios of the photo.
Words are the line's text split on whitespace, boxed by the union of their characters' boxes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import Record
from chalicelib.smallmodels._lazy import Lazy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    RGB = npt.NDArray[np.uint8]

#: Lines recognised with less confidence than this (0-1) are dropped. RapidOCR's own default, 0.5,
#: let through single characters read into fur and fabric in the test photos.
DEFAULT_MIN_SCORE: Final = 0.7

Point = Sequence[float]


class _Engine:
    def __init__(self, min_score: float) -> None:
        # onnxruntime >= 1.29 reports telemetry unless told not to; nothing leaves this machine.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        from rapidocr import RapidOCR

        self.engine: Any = RapidOCR(params={"Global.log_level": "error", "Global.text_score": min_score})
        # It warns on every photo without text; that is an answer here, not a problem.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        # RapidOCR keeps per-call state in its pipeline objects: one call at a time.
        self.lock = threading.Lock()


class OcrModel:
    def __init__(self, *, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self._engine: Lazy[_Engine] = Lazy(lambda: _Engine(min_score))

    def detect_text(self, rgb: RGB) -> list[Record]:
        """TextDetections for the photo (an RGB array), lines first, then words."""
        height, width = rgb.shape[:2]
        bgr = rgb[:, :, ::-1].copy()  # RapidOCR reads arrays as OpenCV does: BGR
        engine = self._engine.get()
        with engine.lock:
            result = engine.engine(bgr, return_word_box=True, return_single_char_box=True)
        boxes = getattr(result, "boxes", None)
        texts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or texts is None or scores is None:
            return []
        chars_per_line = getattr(result, "word_results", None) or [() for _ in texts]
        lines: list[Record] = []
        words: list[Record] = []
        next_id = len(texts)
        for line_id, (box, text, score, chars) in enumerate(zip(boxes, texts, scores, chars_per_line, strict=False)):
            line_text = str(text).strip()
            lines.append(_detection(line_text, "LINE", line_id, None, float(score), _points(box), width, height))
            for word, word_score, points in _words(str(text), float(score), _points(box), chars):
                words.append(_detection(word, "WORD", next_id, line_id, word_score, points, width, height))
                next_id += 1
        return lines + words


def _points(box: Any) -> list[tuple[float, float]]:
    return [(float(point[0]), float(point[1])) for point in box]


def _words(
    text: str, line_score: float, line_box: list[tuple[float, float]], chars: Any
) -> list[tuple[str, float, list[tuple[float, float]]]]:
    """The line's words with their confidence (0-1) and corner points."""
    tokens: list[tuple[str, int]] = []  # (word, index of its first non-space character)
    position = 0
    for token in text.split():
        tokens.append((token, position))
        position += len(token)
    char_list = list(chars or ())
    if char_list and len(char_list) == position:
        words = []
        for token, first in tokens:
            own = char_list[first : first + len(token)]
            points = [point for _, _, box in own for point in _points(box)]
            score = sum(float(char_score) for _, char_score, _ in own) / len(own)
            words.append((token, score, points))
        return words
    # The characters do not line up with the text: share the line's width by character count.
    xs = [x for x, _ in line_box]
    ys = [y for _, y in line_box]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    length = max(1, len(text))
    words = []
    cursor = 0
    for token in text.split():
        start = text.index(token, cursor)
        cursor = start + len(token)
        x0 = left + (right - left) * start / length
        x1 = left + (right - left) * cursor / length
        words.append((token, line_score, [(x0, top), (x1, top), (x1, bottom), (x0, bottom)]))
    return words


def _detection(
    text: str,
    kind: str,
    identifier: int,
    parent: int | None,
    score: float,
    points: list[tuple[float, float]],
    width: int,
    height: int,
) -> Record:
    xs = [min(max(x / width, 0.0), 1.0) for x, _ in points]
    ys = [min(max(y / height, 0.0), 1.0) for _, y in points]
    record: Record = {
        "DetectedText": text,
        "Type": kind,
        "Id": identifier,
        "Confidence": round(min(max(score, 0.0), 1.0) * 100.0, 3),
        "Geometry": {
            "BoundingBox": {
                "Width": round(max(xs) - min(xs), 6),
                "Height": round(max(ys) - min(ys), 6),
                "Left": round(min(xs), 6),
                "Top": round(min(ys), 6),
            }
        },
    }
    if parent is not None:
        record["ParentId"] = parent
    return record
