"""RekognitionImageAnalyser against botocore Stubber: the right calls, once each, trimmed records."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from chalicelib.adapters.rekognition import RekognitionImageAnalyser
from chalicelib.kernel.features import FEATURE_CELEBRITIES, FEATURE_LABELS, FEATURE_TEXT, IMAGE_FEATURES
from chalicelib.ports import MediaError

BUCKET = "media-bucket"
KEY = "2024/05/01/photo.jpg"
IMAGE = {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.2}
FULL_FACE = {
    "BoundingBox": BOX,
    "Confidence": 99.9,
    "Landmarks": [{"Type": "eyeLeft", "X": 0.2, "Y": 0.3}],
    "Pose": {"Roll": 1.0, "Yaw": 2.0, "Pitch": 3.0},
    "Quality": {"Brightness": 50.0, "Sharpness": 60.0},
}
FACE = {"BoundingBox": BOX, "Confidence": 99.9}

LABELS_RESPONSE: dict[str, Any] = {
    "Labels": [
        {
            "Name": "Person",
            "Confidence": 98.5,
            "Instances": [{"BoundingBox": BOX, "Confidence": 98.0}],
            "Parents": [],
            "Aliases": [{"Name": "Human"}],
            "Categories": [{"Name": "Person Description"}],
        },
        {"Name": "Dog", "Confidence": 90.0, "Instances": [], "Parents": [{"Name": "Animal"}, {"Name": "Pet"}]},
    ],
    "LabelModelVersion": "3.0",
}
CELEBRITIES_RESPONSE: dict[str, Any] = {
    "CelebrityFaces": [
        {
            "Urls": ["www.wikidata.org/wiki/Q1"],
            "Name": "Jane Doe",
            "Id": "abc123",
            "Face": FULL_FACE,
            "MatchConfidence": 97.0,
            "KnownGender": {"Type": "Female"},
        }
    ],
    "UnrecognizedFaces": [FULL_FACE],
}
TEXT_RESPONSE: dict[str, Any] = {
    "TextDetections": [
        {
            "DetectedText": "HELLO WORLD",
            "Type": "LINE",
            "Id": 0,
            "Confidence": 99.0,
            "Geometry": {"BoundingBox": BOX, "Polygon": [{"X": 0.1, "Y": 0.2}]},
        },
        {
            "DetectedText": "HELLO",
            "Type": "WORD",
            "Id": 1,
            "ParentId": 0,
            "Confidence": 98.0,
            "Geometry": {"BoundingBox": BOX, "Polygon": [{"X": 0.1, "Y": 0.2}]},
        },
    ],
    "TextModelVersion": "3.0",
}


def _client() -> Any:
    return boto3.client("rekognition", region_name="us-east-1")


def _all_subsets() -> list[frozenset[str]]:
    ordered = sorted(IMAGE_FEATURES)
    return [frozenset(subset) for size in range(len(ordered) + 1) for subset in combinations(ordered, size)]


@pytest.mark.parametrize("features", _all_subsets(), ids=lambda f: "+".join(sorted(f)) or "none")
def test_each_feature_calls_exactly_its_api_once(features: frozenset[str]) -> None:
    client = _client()
    with Stubber(client) as stub:
        if FEATURE_LABELS in features:
            stub.add_response(
                "detect_labels", LABELS_RESPONSE, {"Image": IMAGE, "MaxLabels": 20, "MinConfidence": 70.0}
            )
        if FEATURE_CELEBRITIES in features:
            stub.add_response("recognize_celebrities", CELEBRITIES_RESPONSE, {"Image": IMAGE})
        if FEATURE_TEXT in features:
            stub.add_response("detect_text", TEXT_RESPONSE, {"Image": IMAGE})
        analysis = RekognitionImageAnalyser(client, BUCKET).analyse(KEY, features)
        stub.assert_no_pending_responses()  # and Stubber fails on any call it was not told about
    assert bool(analysis.labels) == (FEATURE_LABELS in features)
    assert bool(analysis.celebrity_faces) == (FEATURE_CELEBRITIES in features)
    assert bool(analysis.unrecognized_faces) == (FEATURE_CELEBRITIES in features)
    assert bool(analysis.text_detections) == (FEATURE_TEXT in features)


def test_records_keep_rekognition_names_and_only_the_typed_fields() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("detect_labels", LABELS_RESPONSE, {"Image": IMAGE, "MaxLabels": 5, "MinConfidence": 80.0})
        stub.add_response("recognize_celebrities", CELEBRITIES_RESPONSE, {"Image": IMAGE})
        stub.add_response("detect_text", TEXT_RESPONSE, {"Image": IMAGE})
        analysis = RekognitionImageAnalyser(client, BUCKET, max_labels=5, min_confidence=80.0).analyse(
            KEY, IMAGE_FEATURES
        )
    assert analysis.to_detail() == {
        "Labels": [
            {"Name": "Person", "Confidence": 98.5, "Parents": []},
            {"Name": "Dog", "Confidence": 90.0, "Parents": [{"Name": "Animal"}, {"Name": "Pet"}]},
        ],
        "TextDetections": [
            {
                "DetectedText": "HELLO WORLD",
                "Type": "LINE",
                "Id": 0,
                "Confidence": 99.0,
                "Geometry": {"BoundingBox": BOX},
            },
            {
                "DetectedText": "HELLO",
                "Type": "WORD",
                "Id": 1,
                "ParentId": 0,
                "Confidence": 98.0,
                "Geometry": {"BoundingBox": BOX},
            },
        ],
        "CelebrityFaces": [
            {
                "Name": "Jane Doe",
                "Id": "abc123",
                "MatchConfidence": 97.0,
                "Urls": ["www.wikidata.org/wiki/Q1"],
                "Face": FACE,
            }
        ],
        "UnrecognizedFaces": [FACE],
    }


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("InvalidImageFormatException", "cannot read the image format"),
        ("ImageTooLargeException", "too large"),
        ("InvalidS3ObjectException", "cannot read the stored photo"),
    ],
)
def test_photo_errors_become_media_errors_with_a_reason(code: str, reason: str) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("detect_text", service_error_code=code, http_status_code=400)
        with pytest.raises(MediaError, match=reason) as raised:
            RekognitionImageAnalyser(client, BUCKET).analyse(KEY, frozenset({FEATURE_TEXT}))
    assert code in str(raised.value)
    assert KEY in str(raised.value)


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError", "AccessDeniedException"],
)
def test_transient_and_other_errors_propagate_for_the_workflow_to_retry(code: str) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("detect_labels", service_error_code=code, http_status_code=500)
        with pytest.raises(ClientError) as raised:
            RekognitionImageAnalyser(client, BUCKET).analyse(KEY, IMAGE_FEATURES)
    assert not isinstance(raised.value, MediaError)
    assert raised.value.response["Error"]["Code"] == code


def test_a_failure_stops_before_the_remaining_calls() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("detect_labels", LABELS_RESPONSE, {"Image": IMAGE, "MaxLabels": 20, "MinConfidence": 70.0})
        stub.add_client_error("recognize_celebrities", service_error_code="ImageTooLargeException")
        with pytest.raises(MediaError):
            RekognitionImageAnalyser(client, BUCKET).analyse(KEY, IMAGE_FEATURES)
        stub.assert_no_pending_responses()


def test_unknown_features_and_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown image features"):
        RekognitionImageAnalyser(_client(), BUCKET).analyse(KEY, frozenset({"faces"}))
    with pytest.raises(ValueError, match="max_labels"):
        RekognitionImageAnalyser(_client(), BUCKET, max_labels=0)
    with pytest.raises(ValueError, match="min_confidence"):
        RekognitionImageAnalyser(_client(), BUCKET, min_confidence=101)
