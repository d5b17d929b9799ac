"""The economy profile's ImageAnalyser: labels from small models in the function, the rest from Rekognition.

- labels: the photo's bytes are read once from the MediaStore and decoded, and a labeller of
  chalicelib.smallmodels names what it shows (the economy adapters give it the ImageNet labeller
  merged with FaceCue and TextCue, so the labels that make the conditional calls, Person/Face and
  Text, chalicelib.kernel.features, are there). DetectLabels is never called.
- celebrities and text: Rekognition's RecognizeCelebrities and DetectText, through the Rekognition
  adapter (it reads the photo from the bucket itself).

The analysis service asks for labels first and for celebrities or text in a second call; only the
first reads and decodes the photo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

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

if TYPE_CHECKING:
    from chalicelib.ports import ImageAnalyser, MediaStore
    from chalicelib.smallmodels.labels import ImageLabeller
    from chalicelib.smallmodels.photo import FaceFinder

#: What Rekognition answers in this profile.
REKOGNITION_FEATURES: Final = frozenset({FEATURE_CELEBRITIES, FEATURE_TEXT})


class EconomyImageAnalyser:
    """chalicelib.ports.ImageAnalyser: small-model labels, Rekognition's celebrities and text."""

    def __init__(
        self,
        media_store: MediaStore,
        *,
        labeller: ImageLabeller,
        faces: FaceFinder,
        rekognition: ImageAnalyser,
        max_pixels: int,
        max_labels: int = DEFAULT_MAX_LABELS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        check_label_limits(max_labels, min_confidence)
        self._store = media_store
        self._labeller = labeller
        self._faces = faces
        self._rekognition = rekognition
        self._max_pixels = max_pixels
        self._max_labels = max_labels
        self._min_confidence = min_confidence

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        check_image_features(features)
        labels = self._labels(key) if FEATURE_LABELS in features else []
        remote = features & REKOGNITION_FEATURES
        if not remote:
            return ImageAnalysis(labels=labels)
        found = self._rekognition.analyse(key, remote)
        return ImageAnalysis(
            labels=labels,
            text_detections=found.text_detections,
            celebrity_faces=found.celebrity_faces,
            unrecognized_faces=found.unrecognized_faces,
        )

    def _labels(self, key: str) -> list[Record]:
        from chalicelib.smallmodels.decode import decode_stored_photo
        from chalicelib.smallmodels.labels import top_labels
        from chalicelib.smallmodels.photo import AnalysedImage

        body = self._store.get(key)  # MediaError when the photo is gone; other errors are retried
        image = AnalysedImage(decode_stored_photo(key, body, max_pixels=self._max_pixels), faces=self._faces)
        return top_labels(
            self._labeller.labels(image), min_confidence=self._min_confidence, max_labels=self._max_labels
        )
