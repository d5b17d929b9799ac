"""Image analyses that can be switched on and off (IMAGE_FEATURES, comma-separated)."""

from __future__ import annotations

from typing import Final

FEATURE_LABELS: Final = "labels"
#: Its unrecognised faces are the face list: no separate face call.
FEATURE_CELEBRITIES: Final = "celebrities"
FEATURE_TEXT: Final = "text"
IMAGE_FEATURES: Final = frozenset({FEATURE_LABELS, FEATURE_CELEBRITIES, FEATURE_TEXT})


def check_image_features(features: frozenset[str]) -> None:
    """ValueError for a feature no image analyser knows (a typo in IMAGE_FEATURES or a caller's bug)."""
    unknown = features - IMAGE_FEATURES
    if unknown:
        raise ValueError(f"unknown image features {sorted(unknown)}; known: {sorted(IMAGE_FEATURES)}")
