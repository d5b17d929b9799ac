"""A decoded photo and what the models found in it, each computed at most once per photo."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from chalicelib.contracts.analysis import Record

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from botlocal.analysis.faces import FaceBox, FaceModel
    from botlocal.analysis.ocr import OcrModel

    RGB = npt.NDArray[np.uint8]


def decode_image(body: bytes, *, max_pixels: int) -> RGB:
    """The photo as an RGB array, turned upright by its EXIF orientation (as a viewer shows it).

    Raises ValueError when it is not an image Pillow can read or has more than max_pixels pixels.
    """
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as image:
            if image.width * image.height > max_pixels:
                raise ValueError(f"{image.width}x{image.height} pixels is more than the limit of {max_pixels}")
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                background = Image.new("RGBA", upright.size, (255, 255, 255, 255))
                upright = Image.alpha_composite(background, upright.convert("RGBA"))
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise ValueError(f"not a readable image: {error}") from error
    return np.asarray(rgb, dtype=np.uint8)


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
