"""Rekognition's view of a stored photo, from local models: labels, text, celebrities and faces.

Each photo is decoded once; faces and text are found at most once per photo and shared between
the features that use them (see AnalysedImage), also across the analysis service's two calls
(labels first, then celebrities or text when the labels call for them): the last few decoded
photos are kept, by the digest of their bytes.
Models load on first use, once per process, and are shared by the threads that analyse photos.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Final

from chalicelib.contracts.analysis import ImageAnalysis, Record
from chalicelib.kernel.features import (
    DEFAULT_MAX_LABELS,
    DEFAULT_MIN_CONFIDENCE,
    FEATURE_CELEBRITIES,
    FEATURE_LABELS,
    FEATURE_TEXT,
    check_image_features,
    check_label_limits,
)
from chalicelib.ports import MediaError, MediaStore
from chalicelib.smallmodels.decode import decode_stored_photo
from chalicelib.smallmodels.labels import ImageLabeller, top_labels
from chalicelib.smallmodels.photo import AnalysedImage

from botlocal.analysis.faces import FaceGallery, FaceModel, person_id
from botlocal.analysis.ocr import OcrModel

logger = logging.getLogger(__name__)

#: Photos kept decoded, with their faces and text, between the analysis service's calls: it asks
#: for labels first and for celebrities or text in a second call (chalicelib.analysis.images),
#: which must not decode the photo and run the models again. A message has at most 4 photos.
RECENT_PHOTOS: Final = 4


class LocalImageAnalyser:
    """chalicelib.ports.ImageAnalyser on local models."""

    def __init__(
        self,
        media_store: MediaStore,
        *,
        faces: FaceModel,
        ocr: OcrModel,
        gallery: FaceGallery,
        labeller: ImageLabeller,
        max_pixels: int,
        max_labels: int = DEFAULT_MAX_LABELS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        check_label_limits(max_labels, min_confidence)
        self._store = media_store
        self._faces = faces
        self._ocr = ocr
        self.gallery = gallery
        self._labeller = labeller
        self._max_pixels = max_pixels
        self._max_labels = max_labels
        self._min_confidence = min_confidence
        self._recent: OrderedDict[str, AnalysedImage] = OrderedDict()
        self._recent_lock = threading.Lock()

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        check_image_features(features)
        if not features:
            return ImageAnalysis()
        image = self._recent_or_open(key)
        labels: list[Record] = []
        text: list[Record] = []
        celebrities: list[Record] = []
        unrecognized: list[Record] = []
        if FEATURE_TEXT in features:
            text = image.text_detections()
        if FEATURE_CELEBRITIES in features:
            celebrities, unrecognized = self._celebrities(image)
        if FEATURE_LABELS in features:
            labels = self._labels(image)
        return ImageAnalysis(
            labels=labels, text_detections=text, celebrity_faces=celebrities, unrecognized_faces=unrecognized
        )

    def _recent_or_open(self, key: str) -> AnalysedImage:
        """The photo as decoded for an earlier call on the same bytes, or decoded now (and kept).
        Keyed by the bytes' digest, not the key alone: a key reused for other bytes is a new photo."""
        try:
            body = self._store.get(key)
        except (OSError, KeyError) as error:
            raise MediaError(f"cannot read the stored photo {key}: {error}") from error
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        with self._recent_lock:
            image = self._recent.get(digest)
            if image is not None:
                self._recent.move_to_end(digest)
                return image
        image = self._decode(key, body)
        with self._recent_lock:
            self._recent[digest] = image
            while len(self._recent) > RECENT_PHOTOS:
                self._recent.popitem(last=False)
        return image

    def _decode(self, key: str, body: bytes) -> AnalysedImage:
        rgb = decode_stored_photo(key, body, max_pixels=self._max_pixels)
        return AnalysedImage(rgb, faces=self._faces, ocr=self._ocr)

    def _celebrities(self, image: AnalysedImage) -> tuple[list[Record], list[Record]]:
        faces = image.faces()
        embeddings = self._faces.embed(image.rgb, faces)
        celebrities: list[Record] = []
        unrecognized: list[Record] = []
        for face, embedding in zip(faces, embeddings, strict=True):
            record: Record = {
                "BoundingBox": face.bounding_box(image.width, image.height),
                "Confidence": face.confidence,
            }
            match = self.gallery.match(embedding)
            if match is None:
                unrecognized.append(record)
                continue
            celebrities.append(
                {
                    "Name": match.name,
                    "Id": person_id(match.name),
                    "Urls": [],
                    "MatchConfidence": match.confidence,
                    "Face": record,
                }
            )
        return celebrities, unrecognized

    def _labels(self, image: AnalysedImage) -> list[Record]:
        return top_labels(
            self._labeller.labels(image), min_confidence=self._min_confidence, max_labels=self._max_labels
        )
