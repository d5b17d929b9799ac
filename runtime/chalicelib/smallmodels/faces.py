"""Faces: dlib's HOG frontal face detector (built into dlib, no model file).

The local runtime's face model detects with this class and adds
dlib's embeddings; the economy profile uses it alone, for the Person/Face cue (cues.FaceCue).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from chalicelib.smallmodels._lazy import Lazy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    RGB = npt.NDArray[np.uint8]

#: HOG detections scoring lower than this are dropped (the detector's own cut-off is 0; the few
#: detections between 0 and this were background patterns in the test photos).
DEFAULT_MIN_DETECTION_SCORE: Final = 0.3
#: Photos are scaled down to this longest side before detection: dlib's HOG is slow on big photos.
WORK_SIDE: Final = 1024


@dataclass(frozen=True)
class FaceBox:
    """A face in pixels of the photo as given, with the detector's score and a 0-100 confidence."""

    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def confidence(self) -> float:
        """0-100, from the HOG score: 100 * sigmoid(2 * score + 2) (score 0 -> 88, 1 -> 98.2)."""
        return round(100.0 / (1.0 + math.exp(-(2.0 * self.score + 2.0))), 3)

    @property
    def area(self) -> float:
        return max(0.0, self.right - self.left) * max(0.0, self.bottom - self.top)

    def bounding_box(self, width: int, height: int) -> dict[str, float]:
        """Rekognition's BoundingBox: ratios of the photo's width and height, clipped to [0, 1]."""
        left = min(max(self.left / width, 0.0), 1.0)
        top = min(max(self.top / height, 0.0), 1.0)
        right = min(max(self.right / width, 0.0), 1.0)
        bottom = min(max(self.bottom / height, 0.0), 1.0)
        return {
            "Width": round(right - left, 6),
            "Height": round(bottom - top, 6),
            "Left": round(left, 6),
            "Top": round(top, 6),
        }


class _Detector:
    """dlib's HOG detector, built once (0.7 to 1.7 s). dlib's objects are not documented as
    thread-safe: a lock serialises its use (photos still overlap their other work in other threads)."""

    def __init__(self) -> None:
        import dlib  # type: ignore[import-untyped,unused-ignore]

        self.detector: Any = dlib.get_frontal_face_detector()
        self.lock = threading.Lock()


class HogFaceDetector:
    """Detects frontal faces with dlib's HOG detector (loaded on first use). A FaceFinder."""

    def __init__(self, *, min_detection_score: float = DEFAULT_MIN_DETECTION_SCORE, upsample: int = 1) -> None:
        self._min_score = min_detection_score
        self._upsample = upsample
        self._dlib: Lazy[_Detector] = Lazy(_Detector)

    def load(self) -> None:
        """Build the detector now (at startup, say) rather than on the first photo."""
        self._dlib.get()

    def detect(self, rgb: RGB) -> list[FaceBox]:
        """Faces scoring at least the minimum, largest first, in pixels of `rgb`."""
        work, scale = work_image(rgb)
        model = self._dlib.get()
        with model.lock:
            rects, scores, _ = model.detector.run(work, self._upsample, 0.0)
        faces = [
            FaceBox(
                left=rect.left() / scale,
                top=rect.top() / scale,
                right=(rect.right() + 1) / scale,
                bottom=(rect.bottom() + 1) / scale,
                score=float(score),
            )
            for rect, score in zip(rects, scores, strict=True)
            if score >= self._min_score
        ]
        faces.sort(key=lambda face: -face.area)
        return faces


def work_image(rgb: RGB) -> tuple[RGB, float]:
    """The photo scaled so its longest side is at most WORK_SIDE, and the scale used."""
    import numpy as np

    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= WORK_SIDE:
        return np.ascontiguousarray(rgb), 1.0
    from PIL import Image

    scale = WORK_SIDE / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8), scale
