"""Rekognition DetectModerationLabels behind the PhotoModerator port: is a photo safe to repost?

One call per photo, made only for a photo about to be reposted (the responder decides that), on the
photo in the media bucket (S3Object, as chalicelib.adapters.rekognition reads it: its bytes never
pass through the Lambda).

Rekognition's moderation taxonomy (model 7.0, the Developer Guide's "Using the image and video
moderation APIs") has three levels. Each label carries `ParentName` ("" at the top) and, since
January 2024, `TaxonomyLevel` (1-3); a response lists a detected label's ancestors as labels too,
so the top-level category of any label is found by following `ParentName` within the response. A
photo is unsafe when a label in one of the refused categories (DEFAULT_CATEGORIES, or the
MODERATION_CATEGORIES setting) is found at or above the minimum confidence; the verdict names the
top-level categories found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from chalicelib.adapters.rekognition import call_on_photo
from chalicelib.ports import ModerationVerdict

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.type_defs import ImageTypeDef

#: What the verdict's `checker` says.
CHECKER: Final = "rekognition"

#: The top-level (L1) categories of the 7.0 taxonomy a bot that reposts strangers' photos to its
#: followers refuses. The bot republishes the photo under its own name, to people who did not choose
#: to see it, and nobody reviews it first: when in doubt, it answers with text only.
REFUSED_CATEGORIES: Final[Mapping[str, str]] = {
    "Explicit": "explicit nudity and sexual activity: never reposted",
    "Non-Explicit Nudity of Intimate parts and Kissing": (
        "partial or implied nudity; it also covers a bare back, a bare male chest and a kiss on the lips, "
        "which the bot refuses too rather than judge which is which"
    ),
    "Violence": "weapons, weapon violence, fights, self-harm, blood and gore, explosions",
    "Visually Disturbing": "corpses, emaciated bodies, crashes",
    "Hate Symbols": "extremist and hate-group symbols: the bot must never amplify them",
    "Drugs & Tobacco": "drugs, pills and smoking: a public bot should not promote them",
    "Rude Gestures": "a middle finger reposted by the bot is the bot making the gesture",
}
#: The other top-level categories, and why a photo showing them is still reposted.
ACCEPTED_CATEGORIES: Final[Mapping[str, str]] = {
    "Swimwear or Underwear": "beach and pool photos are ordinary; real nudity is in the refused categories",
    "Alcohol": "a glass of wine at dinner or a beer at a match is an ordinary photo",
    "Gambling": "cards, dice, a casino's lights: legal and ordinary",
}
DEFAULT_CATEGORIES: Final = tuple(REFUSED_CATEGORIES)


class RekognitionPhotoModerator:
    """chalicelib.ports.PhotoModerator on Amazon Rekognition: one DetectModerationLabels per check.

    `categories` are the names refused: top-level categories, or second-level ones for a narrower
    policy (a label is refused when it or any of its ancestors is named). `min_confidence` (0-100)
    is sent as the call's MinConfidence, so weaker labels are not even returned.

    Errors: an image Rekognition cannot read (format, size, unreadable object) raises MediaError
    and the responder withholds the photo; anything else (throttling, which the client retries
    first, 5xx, access denied) propagates, and the event is retried.
    """

    def __init__(
        self,
        client: RekognitionClient,
        bucket: str,
        *,
        min_confidence: float,
        categories: Sequence[str] = DEFAULT_CATEGORIES,
    ) -> None:
        if not 0 <= min_confidence <= 100:
            raise ValueError(f"min_confidence must be between 0 and 100, got {min_confidence}")
        if not categories:
            raise ValueError("at least one moderation category must be refused")
        self._client = client
        self._bucket = bucket
        self._min_confidence = float(min_confidence)
        self._categories = frozenset(categories)

    def check(self, key: str) -> ModerationVerdict:
        image: ImageTypeDef = {"S3Object": {"Bucket": self._bucket, "Name": key}}
        response = call_on_photo(
            key, lambda: self._client.detect_moderation_labels(Image=image, MinConfidence=self._min_confidence)
        )
        found = refused_categories(
            response.get("ModerationLabels", []), self._categories, min_confidence=self._min_confidence
        )
        return ModerationVerdict(unsafe=bool(found), categories=found, checker=CHECKER)


def refused_categories(
    labels: Iterable[Mapping[str, Any]], refused: frozenset[str], *, min_confidence: float
) -> tuple[str, ...]:
    """The top-level categories of the labels at or above `min_confidence` that are, or descend
    from, a `refused` name; sorted, without repeats.

    A label's ancestors are followed through the response's own labels by ParentName; a parent the
    response does not list is taken as the top of the chain (it is the L1 name of an L2 label).
    """
    labels = list(labels)
    parent_of = {str(label.get("Name", "")): str(label.get("ParentName") or "") for label in labels}
    found: set[str] = set()
    for label in labels:
        if float(label.get("Confidence", 0.0)) < min_confidence:
            continue
        chain = _chain(str(label.get("Name", "")), parent_of)
        # Case-insensitive: "explicit" in MODERATION_CATEGORIES must not silently refuse nothing.
        if {name.casefold() for name in refused} & {name.casefold() for name in chain}:
            found.add(chain[-1])
    return tuple(sorted(found))


def _chain(name: str, parent_of: Mapping[str, str]) -> list[str]:
    """The name and its ancestors, nearest first (the last is the top-level category)."""
    chain = [name]
    parent = parent_of.get(name, "")
    while parent and parent not in chain:  # a malformed cycle cannot loop forever
        chain.append(parent)
        parent = parent_of.get(parent, "")
    return chain
