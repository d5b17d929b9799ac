"""The local runtime's cue labeller: Person, Head, Face (and Crowd) from the face model, Text from
the OCR and Cat from OpenCV's cat-face cascade, the labels ImageNet's classes lack.

- Person, Head, Face and Crowd from chalicelib.smallmodels.cues.FaceCue (the economy profile's
  face cue), on the faces of the local face model;
- Text when the OCR reads a line of at least TEXT_MIN_CHARS letters or digits;
- Cat, with Animal, Mammal and Pet, from OpenCV's frontal cat-face Haar cascade (a cat looking
  at the camera with its whole face in the frame; a close-up or a cat in profile is missed).
On its own it cannot name objects, scenes, other animals or activities: it is merged with the
ImageNet labeller (chalicelib.smallmodels.labels.MergedLabeller).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import Record
from chalicelib.smallmodels._lazy import Lazy
from chalicelib.smallmodels.cues import FaceCue
from chalicelib.smallmodels.labels import label, with_parents

if TYPE_CHECKING:
    from chalicelib.smallmodels.photo import AnalysedImage

#: A photo is labelled Text when a line has at least this many letters or digits (stray single
#: characters read in a texture are not text a person would notice).
TEXT_MIN_CHARS: Final = 2
#: The cat cascade runs on the photo scaled to this longest side.
CAT_WORK_SIDE: Final = 800


class _CatCascade:
    def __init__(self) -> None:
        import cv2

        path = cv2.data.haarcascades + "haarcascade_frontalcatface.xml"  # type: ignore[attr-defined,unused-ignore]
        self.cascade: Any = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise RuntimeError(f"OpenCV's cat-face cascade is missing ({path}); opencv-python-headless<5 ships it")
        self.lock = threading.Lock()


class CueLabeller:
    """Labels from the face detector, the OCR and OpenCV's cat-face cascade (see the module)."""

    def __init__(self, *, cats: bool = True, cat_min_neighbors: int = 6) -> None:
        self._cats = cats
        self._cat_min_neighbors = cat_min_neighbors
        self._faces = FaceCue()
        self._cascade: Lazy[_CatCascade] = Lazy(_CatCascade)

    def labels(self, image: AnalysedImage) -> list[Record]:
        found = self._faces.labels(image)
        lines = [
            float(text["Confidence"])
            for text in image.text_detections()
            if text.get("Type") == "LINE"
            and sum(char.isalnum() for char in str(text["DetectedText"])) >= TEXT_MIN_CHARS
        ]
        if lines:
            found.append(label("Text", max(lines)))
        if self._cats:
            cat = self._cat_confidence(image)
            if cat is not None:
                found.append(label("Cat", cat))
        return with_parents(found)

    def _cat_confidence(self, image: AnalysedImage) -> float | None:
        """0-100 from the cascade's best detection weight (100 * sigmoid(weight)), or None."""
        import cv2
        import numpy as np

        gray = cv2.cvtColor(np.ascontiguousarray(image.rgb), cv2.COLOR_RGB2GRAY)
        longest = max(image.width, image.height)
        if longest > CAT_WORK_SIDE:
            scale = CAT_WORK_SIDE / longest
            gray = cv2.resize(gray, (round(image.width * scale), round(image.height * scale)))
        gray = cv2.equalizeHist(gray)
        side = max(24, min(gray.shape[:2]) // 8)
        cascade = self._cascade.get()
        with cascade.lock:
            boxes, _, weights = cascade.cascade.detectMultiScale3(
                gray,
                scaleFactor=1.1,
                minNeighbors=self._cat_min_neighbors,
                minSize=(side, side),
                outputRejectLevels=True,
            )
        if len(boxes) == 0:
            return None
        weight = float(np.max(weights))
        return 100.0 / (1.0 + math.exp(-weight))
