"""Image analysis: each stored photo analysed once, with the configured features."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.contracts.analysis import ImageResult
from chalicelib.ports import ImageAnalyser, MediaError


class ImageAnalysisService:
    def __init__(self, *, analyser: ImageAnalyser, features: frozenset[str]) -> None:
        self._analyser = analyser
        self._features = features

    def analyse(self, image: ImageResult) -> ImageResult:
        """The photo with its analysis; a photo that failed earlier, or fails here, keeps the reason."""
        if image.key is None or image.error is not None:
            return image
        try:
            # Capped here, on both runtimes, so the workflow's state and MESSAGE_ANALYSED stay small.
            return replace(image, analysis=self._analyser.analyse(image.key, self._features).capped())
        except MediaError as error:
            return replace(image, error=str(error))
