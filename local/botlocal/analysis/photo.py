"""A decoded photo and what the models found in it, each computed at most once per photo.

Photos are decoded by botlocal.analysis.decode, which the face gallery uses too: this module
depends on the face and OCR models, never the other way round.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from chalicelib.contracts.analysis import Record

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from botlocal.analysis.faces import FaceBox, FaceModel
    from botlocal.analysis.ocr import OcrModel

    RGB = npt.NDArray[np.uint8]


class AnalysedImage:
    """One photo under analysis. Faces and text are found on first request and kept, so the
    labeller, the celebrity matcher and the text detection share one run of each model."""

    def __init__(self, rgb: RGB, *, faces: FaceModel, ocr: OcrModel) -> None:
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
        with self._lock:
            if self._text is None:
                self._text = self._ocr_model.detect_text(self.rgb)
            return self._text
