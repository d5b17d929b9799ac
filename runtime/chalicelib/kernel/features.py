"""Image analyses that can be switched on and off (IMAGE_FEATURES, comma-separated), and the label
triggers that decide which photos get the paid follow-up calls (CELEBRITIES_WHEN_LABELS, TEXT_WHEN_LABELS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

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


#: What an image analyser answers with unless told otherwise (Rekognition's DetectLabels call, the
#: economy and local analysers alike): at most 20 labels, at 70% confidence or more.
DEFAULT_MAX_LABELS: Final = 20
DEFAULT_MIN_CONFIDENCE: Final = 70.0


def check_label_limits(max_labels: int, min_confidence: float) -> None:
    """ValueError for label limits no labeller can honour (every image analyser takes the same two)."""
    if max_labels < 1:
        raise ValueError(f"max_labels must be at least 1, got {max_labels}")
    if not 0 <= min_confidence <= 100:
        raise ValueError(f"min_confidence must be between 0 and 100, got {min_confidence}")


# Which photos get the paid follow-up calls (README, "Analysis and alerting"). DetectLabels runs
# first; RecognizeCelebrities and DetectText run only on a photo whose labels (or a label's
# Parents) name one of their trigger labels, compared without regard to case. The names are
# Rekognition's (label model v3: https://docs.aws.amazon.com/rekognition/latest/dg/labels.html,
# its list AmazonRekognitionLabels_v3.0.zip); v3 lists every ancestor as a Parent (a "Selfie" or
# a "Woman" carries Person), so the first names catch most photos and the rest are belt and braces
# (Human and People are v2's names). A name Rekognition never returns costs nothing: it never matches.
#: The value of CELEBRITIES_WHEN_LABELS / TEXT_WHEN_LABELS that means "on every photo" (as before).
ALWAYS: Final = "always"
DEFAULT_CELEBRITIES_WHEN_LABELS: Final = (
    "Person",
    "Human",
    "People",
    "Face",
    "Head",
    "Portrait",
    "Selfie",
    "Crowd",
    "Man",
    "Woman",
    "Boy",
    "Girl",
    "Child",
    "Adult",
    "Baby",
)
DEFAULT_TEXT_WHEN_LABELS: Final = (
    "Text",
    "Document",
    "Page",
    "Paper",
    "Letter",
    "Handwriting",
    "Book",
    "Publication",
    "Newspaper",
    "Magazine",
    "Poster",
    "Advertisement",
    "Flyer",
    "Brochure",
    "Menu",
    "Screenshot",
    "Label",
    "Sign",
    "Road Sign",
    "Symbol",
    "Logo",
    "Billboard",
    "Banner",
    "Receipt",
    "Business Card",
    "Id Cards",
    "License Plate",
    "Calendar",
    "Scoreboard",
    "Word",
    "Alphabet",
    "Number",
)
_LABEL_NAME = r"\w[\w '&./-]{0,99}"


class LabelTrigger:
    """When a follow-up call runs: on every photo (`names` None) or on a photo whose labels, or
    their Parents, include one of `names` (kept casefolded). A plain class, not a dataclass: this
    module is on the webhook's import path, and a dataclass costs milliseconds to create."""

    __slots__ = ("names",)

    def __init__(self, names: frozenset[str] | None) -> None:
        self.names = names

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelTrigger) and other.names == self.names

    def __hash__(self) -> int:
        return hash(self.names)

    def __repr__(self) -> str:
        return f"LabelTrigger({self.names!r})"

    @property
    def always(self) -> bool:
        return self.names is None

    def matches(self, labels: Iterable[Mapping[str, Any]]) -> bool:
        """Whether these Rekognition-shaped labels ({Name, Parents: [{Name}]}) pull the trigger."""
        if self.names is None:
            return True
        for label in labels:
            found = [label.get("Name"), *(parent.get("Name") for parent in label.get("Parents") or [])]
            if any(isinstance(name, str) and name.casefold() in self.names for name in found):
                return True
        return False


#: Words that mean "never" rather than name a label (refused: see label_trigger).
_NEVER_WORDS: Final = frozenset({"none", "never", "off", "no", "false", "0", "disabled", "nothing"})


def label_trigger(value: str | Iterable[str] | None, default: Iterable[str]) -> LabelTrigger:
    """A trigger from a comma-separated value (or a list): ALWAYS, or label names; None or nothing
    in it: `default`. ValueError (naming nothing: the caller names its setting) for a bad value."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names = [str(item).strip() for item in items if str(item).strip()]
    if not names:
        # The defaults are the code's own (checked by a test): not checked again at each cold start.
        return LabelTrigger(frozenset(name.casefold() for name in default))
    # A word meaning "never" would be read as a label name that never matches, and would silently
    # stop every call: switching a call off is IMAGE_FEATURES's job.
    never = [name for name in names if name.casefold() in _NEVER_WORDS]
    if never:
        raise ValueError(
            f"{never[0]!r} is not a label name; to never make the call, leave it out of IMAGE_FEATURES "
            f"(-c imageFeatures), or use {ALWAYS!r} for every photo"
        )
    if any(name.casefold() == ALWAYS for name in names):
        if len(names) > 1:
            raise ValueError(f"{ALWAYS!r} cannot be combined with label names, got {','.join(names)!r}")
        return LabelTrigger(None)
    import re  # only when the settings are read, not at import

    bad = [name for name in names if not re.fullmatch(_LABEL_NAME, name)]
    if bad:
        raise ValueError(
            f"label names are letters, digits, spaces and - ' & . / (at most 100 characters), got {bad!r}; "
            f"or {ALWAYS!r} for every photo"
        )
    return LabelTrigger(frozenset(name.casefold() for name in names))
