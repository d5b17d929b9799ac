"""Faces: dlib's HOG face detector (chalicelib.smallmodels.faces) and its ResNet face embeddings,
and a gallery of known faces.

The embedding model files come from the face_recognition_models package, found by its install
location (importing it needs pkg_resources, which new setuptools no longer has). dlib's detector is
built in. Embeddings are 128 numbers; two photos of one person are usually closer than 0.6
(Euclidean), the threshold dlib and face_recognition use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chalicelib.smallmodels import files
from chalicelib.smallmodels._lazy import Lazy
from chalicelib.smallmodels.faces import DEFAULT_MIN_DETECTION_SCORE, WORK_SIDE, FaceBox, HogFaceDetector, work_image

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Embedding = npt.NDArray[np.float64]
    RGB = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

#: dlib's usual same-person distance.
DEFAULT_MATCH_THRESHOLD: Final = 0.6
#: What produced the cached embeddings; change it when any of the above changes their values.
MODEL_TAG: Final = f"dlib-hog-5pt-resnet-v1/side{WORK_SIDE}/jitter1"
IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png"})
#: The portraits shipped with the package (see gallery/ATTRIBUTION.md).
BUNDLED_GALLERY: Final = Path(__file__).parent / "gallery"


def models_dir() -> Path:
    """face_recognition_models' data folder, found without importing the package."""
    return files.package_dir("face_recognition_models") / "models"


class _Dlib:
    """dlib's landmark and embedding models, loaded once. dlib's objects are not documented as
    thread-safe: a lock serialises their use (photos still overlap their OCR and decoding in other
    threads); the detector has its own (HogFaceDetector)."""

    def __init__(self) -> None:
        import dlib  # type: ignore[import-untyped,unused-ignore]

        folder = models_dir()
        self.shapes: Any = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self.encoder: Any = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))
        self.rectangle: Any = dlib.rectangle
        self.lock = threading.Lock()


class FaceModel:
    """Detects faces and computes their embeddings (dlib, loaded on first use)."""

    def __init__(self, *, min_detection_score: float = DEFAULT_MIN_DETECTION_SCORE, upsample: int = 1) -> None:
        self._detector = HogFaceDetector(min_detection_score=min_detection_score, upsample=upsample)
        self._dlib: Lazy[_Dlib] = Lazy(_Dlib)

    def detect(self, rgb: RGB) -> list[FaceBox]:
        """Faces, largest first (chalicelib.smallmodels.faces.HogFaceDetector)."""
        return self._detector.detect(rgb)

    def embed(self, rgb: RGB, faces: Sequence[FaceBox]) -> list[Embedding]:
        """One 128-d embedding per face, computed on the same scaled image as the detection."""
        import numpy as np

        if not faces:
            return []
        work, scale = work_image(rgb)
        model = self._dlib.get()
        embeddings: list[Embedding] = []
        with model.lock:
            for face in faces:
                rect = model.rectangle(
                    round(face.left * scale),
                    round(face.top * scale),
                    round(face.right * scale) - 1,
                    round(face.bottom * scale) - 1,
                )
                shape = model.shapes(work, rect)
                embeddings.append(np.asarray(model.encoder.compute_face_descriptor(work, shape, 1), dtype=np.float64))
        return embeddings


@dataclass(frozen=True)
class Match:
    name: str
    distance: float
    threshold: float

    @property
    def confidence(self) -> float:
        """0-100 from the distance: 100 / (1 + exp(20 * (distance - threshold))).

        50 at the threshold, 88 at threshold - 0.1, 98 at threshold - 0.2.
        """
        return round(100.0 / (1.0 + math.exp(20.0 * (self.distance - self.threshold))), 3)


def person_id(name: str) -> str:
    """A stable id for a gallery person (Rekognition's celebrity ids are opaque strings too)."""
    return "local-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def name_of_folder(folder: Path) -> str:
    """A gallery folder's person: the folder's name, with underscores read as spaces."""
    return " ".join(folder.name.replace("_", " ").split())


class FaceGallery:
    """Known faces: `<folder>/<Name>/*.jpg|jpeg|png` for each folder, the bundled one first.

    Each photo contributes the embedding of its largest face. Embeddings are kept in memory
    (keyed by path, size and modification time) and on disk under `cache_dir` (keyed by the
    SHA-256 of the photo's bytes and MODEL_TAG), so only new or changed photos are computed,
    even after a restart. The folders are listed again on every match, so a photo added while
    the runtime runs is used from the next photo on.
    """

    def __init__(
        self,
        folders: Iterable[Path],
        model: FaceModel,
        *,
        cache_dir: Path | None,
        threshold: float = DEFAULT_MATCH_THRESHOLD,
        max_pixels: int = 50_000_000,
    ) -> None:
        self._folders = tuple(folders)
        self._model = model
        self._cache_dir = cache_dir
        self.threshold = threshold
        self._max_pixels = max_pixels
        self._memory: dict[tuple[str, int, int], Embedding | None] = {}
        self._lock = threading.Lock()

    def photos(self) -> list[tuple[str, Path]]:
        found: list[tuple[str, Path]] = []
        for folder in self._folders:
            if not folder.is_dir():
                continue
            for person in sorted(path for path in folder.iterdir() if path.is_dir()):
                for photo in sorted(person.iterdir()):
                    if photo.suffix.lower() in IMAGE_SUFFIXES and photo.is_file():
                        found.append((name_of_folder(person), photo))
        return found

    def embeddings(self) -> list[tuple[str, Embedding]]:
        """(name, embedding) for every gallery photo in which a face was found."""
        known: list[tuple[str, Embedding]] = []
        with self._lock:
            for name, photo in self.photos():
                try:
                    stat = photo.stat()
                except OSError:
                    continue
                key = (str(photo), stat.st_size, stat.st_mtime_ns)
                if key not in self._memory:
                    self._memory[key] = self._load(photo)
                embedding = self._memory[key]
                if embedding is not None:
                    known.append((name, embedding))
        return known

    def match(self, embedding: Embedding) -> Match | None:
        """The closest known person within the threshold, or None."""
        import numpy as np

        best: Match | None = None
        for name, known in self.embeddings():
            distance = float(np.linalg.norm(known - embedding))
            if distance <= self.threshold and (best is None or distance < best.distance):
                best = Match(name=name, distance=distance, threshold=self.threshold)
        return best

    def _load(self, photo: Path) -> Embedding | None:
        import numpy as np
        from chalicelib.smallmodels.decode import decode_image

        try:
            body = photo.read_bytes()
        except OSError as error:
            logger.warning("cannot read gallery photo %s: %s", photo, error)
            return None
        digest = hashlib.sha256(MODEL_TAG.encode() + b"\0" + body).hexdigest()
        cached = self._read_cache(digest)
        if cached is not None:
            values = cached.get("embedding")
            return None if values is None else np.asarray(values, dtype=np.float64)
        try:
            rgb = decode_image(body, max_pixels=self._max_pixels)
        except ValueError as error:
            logger.warning("gallery photo %s is not a readable image: %s", photo, error)
            return None
        faces = self._model.detect(rgb)
        if not faces:
            logger.warning("no face found in gallery photo %s; it is ignored", photo)
            embedding = None
        else:
            embedding = self._model.embed(rgb, faces[:1])[0]
        self._write_cache(digest, photo, embedding)
        return embedding

    def _read_cache(self, digest: str) -> dict[str, Any] | None:
        if self._cache_dir is None:
            return None
        path = self._cache_dir / f"{digest}.json"
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return loaded if isinstance(loaded, dict) else None

    def _write_cache(self, digest: str, photo: Path, embedding: Embedding | None) -> None:
        if self._cache_dir is None:
            return
        record = {
            "model": MODEL_TAG,
            "source": str(photo),
            "embedding": None if embedding is None else [float(value) for value in embedding],
        }
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            temporary = self._cache_dir / f".{digest}.{threading.get_ident()}.tmp"
            temporary.write_text(json.dumps(record), encoding="utf-8")
            temporary.replace(self._cache_dir / f"{digest}.json")
        except OSError as error:  # a read-only cache only costs time
            logger.warning("cannot write the face cache in %s: %s", self._cache_dir, error)
