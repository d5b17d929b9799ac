"""A decoded photo and what the detectors found in it, each computed at most once per photo.

The face and text detectors are passed in (FaceFinder, TextReader): dlib's HOG detector
(chalicelib.smallmodels.faces) or the local runtime's face model, and the local runtime's OCR.
This module depends on no model, so the labellers that read a photo depend on none either.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from chalicelib.contracts.analysis import Record

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from chalicelib.smallmodels.faces import FaceBox

    RGB = npt.NDArray[np.uint8]


class FaceFinder(Protocol):
    def detect(self, rgb: RGB) -> list[FaceBox]:
        """Faces in the photo, largest first."""
        ...


class TextReader(Protocol):
    def detect_text(self, rgb: RGB) -> list[Record]:
        """Rekognition-shaped TextDetections (LINE records, then WORD records)."""
        ...


class AnalysedImage:
    """One photo under analysis. Faces and text are found on first request and kept, so the
    labeller, the celebrity matcher and the text detection share one run of each model.
    Without an `ocr`, asking for text detections is an error (the economy profile reads text with
    Rekognition)."""

    def __init__(self, rgb: RGB, *, faces: FaceFinder, ocr: TextReader | None = None) -> None:
        self.rgb = rgb
        self.height, self.width = int(rgb.shape[0]), int(rgb.shape[1])
        self._face_model = faces
        self._ocr_model = ocr
        self._faces: list[FaceBox] | None = None
        self._text: list[Record] | None = None
        self._lock = threading.Lock()

    def faces(self) -> list[FaceBox]:
        """Faces, largest first."""
        with self._lock:
            if self._faces is None:
                self._faces = self._face_model.detect(self.rgb)
            return self._faces

    def text_detections(self) -> list[Record]:
        """Rekognition-shaped TextDetections (LINE records, then WORD records)."""
        if self._ocr_model is None:
            raise RuntimeError("this photo was opened without a text reader (ocr)")
        with self._lock:
            if self._text is None:
                self._text = self._ocr_model.detect_text(self.rgb)
            return self._text
