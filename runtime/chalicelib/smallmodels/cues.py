"""Labels ImageNet lacks, from two small detectors: Person/Head/Face/Crowd and Text.

The conditional calls (chalicelib.kernel.features) ask Rekognition for celebrities only when a
photo's labels show a person or a face, and for its text only when they show text. ImageNet has
no class for either, so the economy profile and the local runtime add these cues to its labels:

- FaceCue: the faces of dlib's HOG frontal face detector (chalicelib.smallmodels.faces), read
  through AnalysedImage.faces() so the celebrity matcher shares the one run. Any face gives
  Person, Head and Face at the best face's confidence; CROWD_FACES faces or more add Crowd. It
  misses profiles, small or tilted faces and people seen from behind.
- TextCue: PP-OCRv6's text *detection* model alone (the file inside the rapidocr wheel, run by
  onnxruntime: no OpenCV, no recognition). Its probability map is cut at PROBABILITY; a connected
  region counts as a line of text when it is line-shaped: at least MIN_LINE_HEIGHT pixels high,
  at least LINE_ASPECT times as wide as high, and with a mean probability of at least
  MIN_LINE_MEAN. A plain photo can have many pixels over the cut (a textured cup), few regions of
  that shape. It misses low-contrast text and very small text (a watermark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import Record
from chalicelib.smallmodels import files
from chalicelib.smallmodels._lazy import Lazy
from chalicelib.smallmodels.imagenet import new_session
from chalicelib.smallmodels.labels import label, with_parents

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from chalicelib.smallmodels.faces import FaceBox
    from chalicelib.smallmodels.photo import AnalysedImage

    RGB = npt.NDArray[np.uint8]
    Probabilities = npt.NDArray[np.float32]

#: Faces from which a photo is also a Crowd.
CROWD_FACES: Final = 4


def face_labels(faces: Sequence[FaceBox]) -> list[Record]:
    """Person, Head and Face (and Crowd for CROWD_FACES faces or more) for the faces found, with
    their parents as labels too; nothing when there is no face."""
    if not faces:
        return []
    best = max(face.confidence for face in faces)
    found = [label("Person", best), label("Head", best), label("Face", best)]
    if len(faces) >= CROWD_FACES:
        found.append(label("Crowd", min(99.0, 70.0 + 5.0 * len(faces))))
    return with_parents(found)


class FaceCue:
    """An ImageLabeller: Person/Head/Face/Crowd from the photo's faces (see the module). The faces
    come from the AnalysedImage's face finder: give it a faces.HogFaceDetector."""

    def labels(self, image: AnalysedImage) -> list[Record]:
        return face_labels(image.faces())


#: The longest side the detection model sees (rounded to a multiple of 32, as it needs).
TEXT_WORK_SIDE: Final = 736
#: A pixel is text when the model's probability is over this (RapidOCR's own threshold).
PROBABILITY: Final = 0.3
MIN_LINE_HEIGHT: Final = 8
LINE_ASPECT: Final = 2.0
MIN_LINE_MEAN: Final = 0.6
#: Regions are found on the map at 1/STRIDE of its size in each direction (4 times fewer pixels
#: to walk); a line at least MIN_LINE_HEIGHT high spans several of them.
STRIDE: Final = 2
#: The model's input and output names.
TEXT_INPUT: Final = "x"


@dataclass(frozen=True)
class TextLine:
    """A line-shaped region of the probability map, in pixels of the map, and its mean probability."""

    left: int
    top: int
    right: int
    bottom: int
    mean: float


class TextCue:
    """An ImageLabeller: Text, when PP-OCRv6's detection model finds a line of text (see the module).

    The model (10 MB) loads on first use from `models_dir` (None: inside the installed rapidocr),
    once per instance; a session runs concurrent calls safely.
    """

    def __init__(self, *, models_dir: Path | None = None, work_side: int = TEXT_WORK_SIDE) -> None:
        self._work_side = work_side
        self._session: Lazy[Any] = Lazy(
            lambda: new_session(files.read_verified(files.PP_OCR_DET, models_dir), threads=1)
        )

    def load(self) -> None:
        """Load the model now rather than on the first photo."""
        self._session.get()

    def labels(self, image: AnalysedImage) -> list[Record]:
        lines = self.lines(image.rgb)
        if not lines:
            return []
        return [label("Text", min(100.0, 100.0 * max(line.mean for line in lines)))]

    def probabilities(self, rgb: RGB) -> Probabilities:
        """The model's text probability for each pixel of the photo scaled to the work side."""
        import numpy as np
        from PIL import Image

        height, width = rgb.shape[:2]
        ratio = self._work_side / max(height, width)
        size = (max(32, round(width * ratio / 32) * 32), max(32, round(height * ratio / 32) * 32))
        pixels = np.asarray(Image.fromarray(rgb).resize(size), dtype=np.float32)
        batch = ((pixels / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis]
        (output,) = self._session.get().run(None, {TEXT_INPUT: np.ascontiguousarray(batch)})
        probabilities: Probabilities = output[0, 0]
        return probabilities

    def lines(self, rgb: RGB) -> list[TextLine]:
        """The line-shaped regions of text in the photo (see the module)."""
        return text_lines(self.probabilities(rgb))


def text_lines(probabilities: Probabilities) -> list[TextLine]:
    """The connected regions of `probabilities` over PROBABILITY that are line-shaped."""
    import numpy as np

    mask = (probabilities > PROBABILITY)[::STRIDE, ::STRIDE]
    rows, columns = mask.shape
    seen = np.zeros_like(mask)
    found: list[TextLine] = []
    for start_y, start_x in zip(*np.nonzero(mask), strict=True):
        if seen[start_y, start_x]:
            continue
        seen[start_y, start_x] = True
        pending = [(int(start_y), int(start_x))]
        top, bottom, left, right = int(start_y), int(start_y), int(start_x), int(start_x)
        while pending:
            y, x = pending.pop()
            top, bottom, left, right = min(top, y), max(bottom, y), min(left, x), max(right, x)
            for near_y, near_x in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= near_y < rows and 0 <= near_x < columns and mask[near_y, near_x] and not seen[near_y, near_x]:
                    seen[near_y, near_x] = True
                    pending.append((near_y, near_x))
        y0, y1 = top * STRIDE, (bottom + 1) * STRIDE
        x0, x1 = left * STRIDE, (right + 1) * STRIDE
        height, width = y1 - y0, x1 - x0
        if height < MIN_LINE_HEIGHT or width < LINE_ASPECT * height:
            continue
        mean = float(probabilities[y0:y1, x0:x1].mean())
        if mean >= MIN_LINE_MEAN:
            found.append(TextLine(left=x0, top=y0, right=x1, bottom=y1, mean=round(mean, 4)))
    return found
