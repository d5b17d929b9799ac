"""Rekognition behind the ImageAnalyser port: labels, celebrities (and other faces), text in a photo.

The photo is read by Rekognition straight from the media bucket (S3Object), so its bytes never pass
through the Lambda. Records keep Rekognition's field names but only the fields the data lake's
table types (chalicelib.contracts.datalake.IMAGE_ANALYSIS): the rest would be dropped by Glue anyway
and would only make events larger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from chalicelib.contracts.analysis import ImageAnalysis, Record
from chalicelib.kernel.features import (
    DEFAULT_MAX_LABELS,
    DEFAULT_MIN_CONFIDENCE,
    FEATURE_CELEBRITIES,
    FEATURE_LABELS,
    FEATURE_TEXT,
    check_image_features,
    check_label_limits,
)
from chalicelib.ports import MediaError

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.type_defs import ImageTypeDef

#: Errors that say this photo cannot be analysed (bad format, too large, unreadable object). The
#: photo is reported as failed and the message's other photos go on. Everything else (throttling,
#: ProvisionedThroughputExceeded, InternalServerError, access denied, ...) propagates, so the Step
#: Functions workflow retries the transient ones and reports the rest.
PHOTO_ERRORS: Final[Mapping[str, str]] = {
    "InvalidImageFormatException": "Rekognition cannot read the image format",
    "ImageTooLargeException": "the image is too large for Rekognition",
    "InvalidS3ObjectException": "Rekognition cannot read the stored photo",
}


class RekognitionImageAnalyser:
    """chalicelib.ports.ImageAnalyser on Amazon Rekognition; one API call per feature per photo."""

    def __init__(
        self,
        client: RekognitionClient,
        bucket: str,
        *,
        max_labels: int = DEFAULT_MAX_LABELS,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        check_label_limits(max_labels, min_confidence)
        self._client = client
        self._bucket = bucket
        self._max_labels = max_labels
        self._min_confidence = min_confidence

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        check_image_features(features)
        image: ImageTypeDef = {"S3Object": {"Bucket": self._bucket, "Name": key}}
        labels: list[Record] = []
        text: list[Record] = []
        celebrities: list[Record] = []
        faces: list[Record] = []
        if FEATURE_LABELS in features:
            response = call_on_photo(
                key,
                lambda: self._client.detect_labels(
                    Image=image, MaxLabels=self._max_labels, MinConfidence=self._min_confidence
                ),
            )
            labels = [_label(label) for label in response.get("Labels", [])]
        if FEATURE_CELEBRITIES in features:
            # Its UnrecognizedFaces are every other face in the photo: the face list, without the
            # cost of a separate DetectFaces call.
            celebrity_response = call_on_photo(key, lambda: self._client.recognize_celebrities(Image=image))
            celebrities = [_celebrity(face) for face in celebrity_response.get("CelebrityFaces", [])]
            faces = [_face(face) for face in celebrity_response.get("UnrecognizedFaces", [])]
        if FEATURE_TEXT in features:
            text_response = call_on_photo(key, lambda: self._client.detect_text(Image=image))
            text = [_text_detection(detection) for detection in text_response.get("TextDetections", [])]
        return ImageAnalysis(labels=labels, text_detections=text, celebrity_faces=celebrities, unrecognized_faces=faces)


def call_on_photo[T](key: str, request: Callable[[], T]) -> T:
    """`request()`, with an image Rekognition cannot read (PHOTO_ERRORS) raised as MediaError."""
    try:
        return request()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        reason = PHOTO_ERRORS.get(code)
        if reason is None:
            raise
        raise MediaError(f"{reason} ({code}) for {key}") from error


def _pick(source: Mapping[str, Any], *names: str) -> Record:
    """The named fields that are present: Rekognition omits some (ParentId on a LINE, ...)."""
    return {name: source[name] for name in names if name in source}


def _bounding_box(source: Mapping[str, Any]) -> Record:
    return _pick(source, "Width", "Height", "Left", "Top")


def _face(face: Mapping[str, Any]) -> Record:
    record = _pick(face, "Confidence")
    if "BoundingBox" in face:
        record["BoundingBox"] = _bounding_box(face["BoundingBox"])
    return record


def _label(label: Mapping[str, Any]) -> Record:
    record = _pick(label, "Name", "Confidence")
    record["Parents"] = [_pick(parent, "Name") for parent in label.get("Parents", [])]
    return record


def _celebrity(celebrity: Mapping[str, Any]) -> Record:
    record = _pick(celebrity, "Name", "Id", "MatchConfidence")
    record["Urls"] = list(celebrity.get("Urls", []))
    if "Face" in celebrity:
        record["Face"] = _face(celebrity["Face"])
    return record


def _text_detection(detection: Mapping[str, Any]) -> Record:
    record = _pick(detection, "DetectedText", "Type", "Id", "ParentId", "Confidence")
    geometry = detection.get("Geometry", {})
    if "BoundingBox" in geometry:
        record["Geometry"] = {"BoundingBox": _bounding_box(geometry["BoundingBox"])}
    return record
