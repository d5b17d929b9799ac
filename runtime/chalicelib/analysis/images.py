"""Image analysis: each stored photo analysed once, with the configured features.

Each feature is a paid call on AWS, so the service pays only for answers it can use: labels
first, then RecognizeCelebrities only for a photo whose labels show a person or a face, and
DetectText only for one whose labels show text (the triggers are settings, see
chalicelib.kernel.features.LabelTrigger). Without labels among the features there is nothing to
decide on, and every feature runs, as does a feature whose trigger is "always".
"""

from __future__ import annotations

import logging
from dataclasses import replace

from chalicelib.contracts.analysis import ImageAnalysis, ImageResult
from chalicelib.kernel.features import FEATURE_CELEBRITIES, FEATURE_LABELS, FEATURE_TEXT, LabelTrigger
from chalicelib.ports import ImageAnalyser, MediaError

logger = logging.getLogger(__name__)

_ALWAYS = LabelTrigger(None)


class ImageAnalysisService:
    def __init__(
        self,
        *,
        analyser: ImageAnalyser,
        features: frozenset[str],
        celebrities_when: LabelTrigger = _ALWAYS,
        text_when: LabelTrigger = _ALWAYS,
    ) -> None:
        self._analyser = analyser
        self._features = features
        self._triggers = {FEATURE_CELEBRITIES: celebrities_when, FEATURE_TEXT: text_when}

    def analyse(self, image: ImageResult) -> ImageResult:
        """The photo with its analysis; a photo that failed earlier, or fails here, keeps the reason."""
        if image.key is None or image.error is not None:
            return image
        try:
            # Capped here, on both runtimes, so the workflow's state and MESSAGE_ANALYSED stay small.
            return replace(image, analysis=self._analysed(image.key).capped())
        except MediaError as error:
            return replace(image, error=str(error))

    def _analysed(self, key: str) -> ImageAnalysis:
        conditional = (
            frozenset(
                feature
                for feature in self._features
                if feature in self._triggers and not self._triggers[feature].always
            )
            if FEATURE_LABELS in self._features
            else frozenset()
        )
        # The first call: labels and whatever runs on every photo (all of it, as before, when
        # nothing is conditional: one call, no behaviour change).
        first = self._analyser.analyse(key, self._features - conditional)
        if not conditional:
            return first
        wanted = frozenset(feature for feature in conditional if self._triggers[feature].matches(first.labels))
        skipped = sorted(conditional - wanted)
        if skipped:
            # The key names the stored photo, nothing the user wrote: safe to log.
            logger.info(
                "photo analysis: calls skipped, labels do not call for them", extra={"key": key, "skipped": skipped}
            )
        if not wanted:
            return first
        second = self._analyser.analyse(key, wanted)
        merged = first
        if FEATURE_CELEBRITIES in wanted:
            merged = replace(
                merged, celebrity_faces=second.celebrity_faces, unrecognized_faces=second.unrecognized_faces
            )
        if FEATURE_TEXT in wanted:
            merged = replace(merged, text_detections=second.text_detections)
        return merged
