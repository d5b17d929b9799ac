"""Image labels in Rekognition DetectLabels' shape: {Name, Confidence (0-100), Parents: [{Name}]}.

`ImageLabeller` is the seam for a classification model (botlocal.analysis.imagenet is the one in
use, merged with this module's cues); `CueLabeller` names what the other local models (and an
OpenCV cascade) can see, which ImageNet's classes lack (it has no class for a person):
- Person, Head, Face (and Crowd for 4 faces or more) from the face detector;
- Text from the OCR;
- Cat, with Animal, Mammal and Pet, from OpenCV's frontal cat-face Haar cascade (a cat looking
  at the camera with its whole face in the frame; a close-up or a cat in profile is missed).
On its own it cannot name objects, scenes, other animals or activities. `MergedLabeller`
combines several labellers, keeping the higher confidence of a label both find.
Like Rekognition, a label's parents are listed as labels too.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from chalicelib.contracts.analysis import Record

from botlocal.analysis._lazy import Lazy

if TYPE_CHECKING:
    from botlocal.analysis.photo import AnalysedImage

#: Rekognition's parents for the labels made here (its label taxonomy, v3).
PARENTS: Final[dict[str, tuple[str, ...]]] = {
    "Person": (),
    "Head": ("Person",),
    "Face": ("Head", "Person"),
    "Crowd": ("Person",),
    "Text": (),
    "Cat": ("Animal", "Mammal", "Pet"),
    "Animal": (),
    "Mammal": ("Animal",),
    "Pet": ("Animal",),
}
CROWD_FACES: Final = 4
#: A photo is labelled Text when a line has at least this many letters or digits (stray single
#: characters read in a texture are not text a person would notice).
TEXT_MIN_CHARS: Final = 2
#: The cat cascade runs on the photo scaled to this longest side.
CAT_WORK_SIDE: Final = 800


def _alphanumerics(text: str) -> int:
    return sum(char.isalnum() for char in text)


class ImageLabeller(Protocol):
    """Names what a photo shows. Returns Rekognition-shaped labels, in any order; the analyser
    applies the minimum confidence and the maximum count."""

    def labels(self, image: AnalysedImage) -> list[Record]: ...


def label(name: str, confidence: float, parents: Iterable[str] | None = None) -> Record:
    chosen = PARENTS.get(name, ()) if parents is None else tuple(parents)
    return {"Name": name, "Confidence": round(confidence, 3), "Parents": [{"Name": parent} for parent in chosen]}


def with_parents(labels: Iterable[Record]) -> list[Record]:
    """The labels plus each parent as a label of its own, with the child's confidence at least."""
    merged: dict[str, Record] = {}
    for record in labels:
        _merge(merged, record)
        for parent in record.get("Parents", []):
            name = str(parent["Name"])
            _merge(merged, label(name, float(record["Confidence"])))
    return list(merged.values())


def _merge(into: dict[str, Record], record: Record) -> None:
    name = str(record["Name"])
    existing = into.get(name)
    if existing is None:
        into[name] = {**record, "Parents": list(record.get("Parents", []))}
        return
    existing["Confidence"] = max(float(existing["Confidence"]), float(record["Confidence"]))
    known = {str(parent["Name"]) for parent in existing["Parents"]}
    existing["Parents"] += [parent for parent in record.get("Parents", []) if str(parent["Name"]) not in known]


class MergedLabeller:
    """Several labellers as one: a name found by more than one keeps its highest confidence."""

    def __init__(self, labellers: Sequence[ImageLabeller]) -> None:
        self._labellers = tuple(labellers)

    def labels(self, image: AnalysedImage) -> list[Record]:
        merged: dict[str, Record] = {}
        for labeller in self._labellers:
            for record in labeller.labels(image):
                _merge(merged, record)
        return list(merged.values())


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
        self._cascade: Lazy[_CatCascade] = Lazy(_CatCascade)

    def labels(self, image: AnalysedImage) -> list[Record]:
        found: list[Record] = []
        faces = image.faces()
        if faces:
            best = max(face.confidence for face in faces)
            found += [label("Person", best), label("Head", best), label("Face", best)]
            if len(faces) >= CROWD_FACES:
                found.append(label("Crowd", min(99.0, 70.0 + 5.0 * len(faces))))
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
