"""EconomyImageAnalyser: labels from the real small models (the photo read once from the MediaStore),
celebrities and text from Rekognition (botocore Stubber), DetectLabels never called."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botlocal.analysis import MODELS_DIR
from botocore.stub import Stubber
from chalicelib.adapters.economy_images import EconomyImageAnalyser
from chalicelib.adapters.rekognition import RekognitionImageAnalyser
from chalicelib.contracts.analysis import Record
from chalicelib.kernel.features import FEATURE_CELEBRITIES, FEATURE_LABELS, FEATURE_TEXT, IMAGE_FEATURES
from chalicelib.ports import MediaError
from chalicelib.smallmodels.labels import MergedLabeller

from tests.fakes import MemoryMediaStore
from tests.local_analysis.conftest import text_photo

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
BUCKET = "media-bucket"
KEY = "2026/12/03/photo.jpg"
IMAGE = {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.2}

needs_models = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("dlib", "onnxruntime", "rapidocr")),
    reason="the small models' libraries are not installed (requirements-local.txt)",
)


class CountingStore(MemoryMediaStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return super().get(key)


class NoLabels:
    """A labeller that must not be asked (the photo is not read when no labels are wanted)."""

    def labels(self, image: Any) -> list[Record]:
        raise AssertionError("labels were not asked for")


class NoFaces:
    def detect(self, rgb: Any) -> list[Any]:
        raise AssertionError("faces were not asked for")


@pytest.fixture
def rekognition() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "rekognition", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    # A stubber with no responses queued fails any call: DetectLabels included.
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


@pytest.fixture(scope="module")
def models() -> tuple[MergedLabeller, Any]:
    """The economy adapters' labeller and face finder, loaded once for the module."""
    from chalicelib.smallmodels.cues import FaceCue, TextCue
    from chalicelib.smallmodels.faces import HogFaceDetector
    from chalicelib.smallmodels.imagenet import ImageNetLabeller

    return MergedLabeller([ImageNetLabeller(models_dir=MODELS_DIR), FaceCue(), TextCue()]), HogFaceDetector()


def _analyser(store: MemoryMediaStore, client: Any, labeller: Any, faces: Any) -> EconomyImageAnalyser:
    return EconomyImageAnalyser(
        store,
        labeller=labeller,
        faces=faces,
        rekognition=RekognitionImageAnalyser(client, BUCKET),
        max_pixels=50_000_000,
    )


def _names(labels: list[Record]) -> set[str]:
    return {str(record["Name"]) for record in labels}


@pytest.mark.slow
@needs_models
@pytest.mark.parametrize(
    ("photo", "present", "absent"),
    [
        ("obama2.jpg", {"Person", "Face", "Head"}, {"Text"}),
        ("chelsea.jpg", {"Cat"}, {"Person", "Face", "Text"}),
        ("coffee.jpg", set(), {"Person", "Face", "Text"}),
        ("text", {"Text"}, {"Person", "Face"}),
    ],
)
def test_labels_come_from_the_small_models_and_never_from_detect_labels(
    models: tuple[MergedLabeller, Any],
    rekognition: tuple[Any, Stubber],
    photo: str,
    present: set[str],
    absent: set[str],
) -> None:
    store = CountingStore()
    store.put(KEY, text_photo() if photo == "text" else (PHOTOS / photo).read_bytes(), "image/jpeg")
    labeller, faces = models

    analysis = _analyser(store, rekognition[0], labeller, faces).analyse(KEY, frozenset({FEATURE_LABELS}))

    names = _names(analysis.labels)
    assert present <= names
    assert not absent & names
    assert all(float(record["Confidence"]) >= 70.0 for record in analysis.labels)
    assert store.reads == [KEY]
    assert analysis.celebrity_faces == analysis.text_detections == analysis.unrecognized_faces == []


def test_celebrities_and_text_are_rekognitions_and_the_photo_is_not_read(rekognition: tuple[Any, Stubber]) -> None:
    client, stub = rekognition
    stub.add_response(
        "recognize_celebrities",
        {
            "CelebrityFaces": [
                {
                    "Name": "Barack Obama",
                    "Id": "3R3sg9u",
                    "MatchConfidence": 99.0,
                    "Urls": [],
                    "Face": {"BoundingBox": BOX, "Confidence": 99.9},
                }
            ],
            "UnrecognizedFaces": [{"BoundingBox": BOX, "Confidence": 98.0}],
        },
        {"Image": IMAGE},
    )
    stub.add_response(
        "detect_text",
        {"TextDetections": [{"DetectedText": "YES WE CAN", "Type": "LINE", "Id": 0, "Confidence": 99.0}]},
        {"Image": IMAGE},
    )
    store = CountingStore()

    analysis = _analyser(store, client, NoLabels(), NoFaces()).analyse(
        KEY, frozenset({FEATURE_CELEBRITIES, FEATURE_TEXT})
    )

    assert [face["Name"] for face in analysis.celebrity_faces] == ["Barack Obama"]
    assert len(analysis.unrecognized_faces) == 1
    assert [line["DetectedText"] for line in analysis.text_detections] == ["YES WE CAN"]
    assert analysis.labels == []
    assert store.reads == []


def test_only_the_asked_rekognition_feature_is_called(rekognition: tuple[Any, Stubber]) -> None:
    client, stub = rekognition
    stub.add_response("detect_text", {"TextDetections": []}, {"Image": IMAGE})

    analysis = _analyser(CountingStore(), client, NoLabels(), NoFaces()).analyse(KEY, frozenset({FEATURE_TEXT}))

    assert analysis.text_detections == []


def test_no_feature_calls_nothing(rekognition: tuple[Any, Stubber]) -> None:
    store = CountingStore()
    assert _analyser(store, rekognition[0], NoLabels(), NoFaces()).analyse(KEY, frozenset()).labels == []
    assert store.reads == []


def test_a_photo_that_cannot_be_decoded_is_a_media_error(rekognition: tuple[Any, Stubber]) -> None:
    store = CountingStore()
    store.put(KEY, b"not an image", "image/jpeg")
    with pytest.raises(MediaError, match="cannot be analysed"):
        _analyser(store, rekognition[0], NoLabels(), NoFaces()).analyse(KEY, frozenset({FEATURE_LABELS}))


def test_a_missing_photo_is_a_media_error(rekognition: tuple[Any, Stubber]) -> None:
    with pytest.raises(MediaError, match="no stored photo"):
        _analyser(CountingStore(), rekognition[0], NoLabels(), NoFaces()).analyse(KEY, IMAGE_FEATURES)


def test_labels_are_filtered_sorted_and_capped(rekognition: tuple[Any, Stubber]) -> None:
    class Fixed:
        def labels(self, image: Any) -> list[Record]:
            return [
                {"Name": "Low", "Confidence": 69.9, "Parents": []},
                {"Name": "B", "Confidence": 80.0, "Parents": []},
                {"Name": "A", "Confidence": 80.0, "Parents": []},
                {"Name": "Top", "Confidence": 99.0, "Parents": []},
            ]

    store = CountingStore()
    store.put(KEY, text_photo(), "image/png")
    analyser = EconomyImageAnalyser(
        store,
        labeller=Fixed(),
        faces=NoFaces(),
        rekognition=RekognitionImageAnalyser(rekognition[0], BUCKET),
        max_pixels=50_000_000,
        max_labels=2,
    )
    assert [record["Name"] for record in analyser.analyse(KEY, frozenset({FEATURE_LABELS})).labels] == ["Top", "A"]


@pytest.mark.parametrize(("keyword", "value"), [("max_labels", 0), ("min_confidence", 101.0)])
def test_wrong_limits_are_refused(keyword: str, value: float) -> None:
    with pytest.raises(ValueError, match=keyword):
        EconomyImageAnalyser(
            MemoryMediaStore(),
            labeller=NoLabels(),
            faces=NoFaces(),
            rekognition=object(),  # type: ignore[arg-type]
            max_pixels=1,
            **{keyword: value},  # type: ignore[arg-type]
        )
