"""RekognitionPhotoModerator against botocore's Stubber: one DetectModerationLabels per photo, on the
photo in the bucket; the verdict from the refused top-level categories above the confidence; errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from chalicelib.adapters.aws import AwsAdapters
from chalicelib.adapters.rekognition_moderation import (
    ACCEPTED_CATEGORIES,
    CHECKER,
    DEFAULT_CATEGORIES,
    REFUSED_CATEGORIES,
    RekognitionPhotoModerator,
    refused_categories,
)
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.ports import MediaError, ModerationVerdict
from chalicelib.settings import DEFAULT_MODERATION_MIN_CONFIDENCE, load_settings

BUCKET = "media-bucket"
KEY = "users/1/posts/2/photo.jpg"
REQUEST = {"Image": {"S3Object": {"Bucket": BUCKET, "Name": KEY}}, "MinConfidence": 80.0}


def _label(name: str, confidence: float, parent: str = "", level: int | None = None) -> dict[str, Any]:
    label: dict[str, Any] = {"Name": name, "Confidence": confidence, "ParentName": parent}
    if level is not None:
        label["TaxonomyLevel"] = level
    return label


def _response(*labels: dict[str, Any]) -> dict[str, Any]:
    return {"ModerationLabels": list(labels), "ModerationModelVersion": "7.0"}


def _check(response: dict[str, Any], **options: Any) -> ModerationVerdict:
    client = boto3.client("rekognition", region_name="us-east-1")
    moderator = RekognitionPhotoModerator(client, BUCKET, **{"min_confidence": 80, **options})
    expected = {**REQUEST, "MinConfidence": float(options.get("min_confidence", 80))}
    with Stubber(client) as stub:
        stub.add_response("detect_moderation_labels", response, expected)
        verdict = moderator.check(KEY)
        stub.assert_no_pending_responses()  # exactly one call, and Stubber refuses any other
    return verdict


def test_a_photo_with_no_label_is_safe() -> None:
    assert _check(_response()) == ModerationVerdict(unsafe=False, categories=(), checker=CHECKER)


def test_a_refused_top_level_category_is_unsafe() -> None:
    verdict = _check(_response(_label("Violence", 97.0, level=1)))
    assert verdict == ModerationVerdict(unsafe=True, categories=("Violence",), checker="rekognition")


def test_a_third_level_label_is_refused_through_its_ancestors_and_named_by_its_top_level() -> None:
    # As Rekognition answers: the detected L3 label, with its L2 and L1 ancestors as labels too.
    verdict = _check(
        _response(
            _label("Exposed Female Genitalia", 93.0, "Explicit Nudity", 3),
            _label("Explicit Nudity", 93.0, "Explicit", 2),
            _label("Explicit", 93.0, "", 1),
        )
    )
    assert verdict.unsafe and verdict.categories == ("Explicit",)


def test_a_second_level_label_alone_is_refused_by_its_parent_name() -> None:
    # Version 6 answers (no TaxonomyLevel) and any answer missing the L1 label: ParentName is enough.
    verdict = _check(_response(_label("Weapons", 88.0, "Violence")))
    assert verdict == ModerationVerdict(unsafe=True, categories=("Violence",), checker=CHECKER)


def test_categories_out_of_the_set_are_safe() -> None:
    verdict = _check(
        _response(
            _label("Swimwear or Underwear", 99.0, "", 1),
            _label("Female Swimwear or Underwear", 99.0, "Swimwear or Underwear", 2),
            _label("Alcohol", 95.0, "", 1),
            _label("Alcoholic Beverages", 95.0, "Alcohol", 2),
            _label("Gambling", 90.0, "", 1),
        )
    )
    assert verdict == ModerationVerdict(unsafe=False, categories=(), checker=CHECKER)


def test_a_label_below_the_confidence_is_not_refused() -> None:
    # MinConfidence keeps Rekognition from returning it; the check does not rely on that alone.
    verdict = _check(_response(_label("Hate Symbols", 79.9, "", 1), _label("Nazi Party", 79.9, "Hate Symbols", 2)))
    assert not verdict.unsafe and verdict.categories == ()


def test_several_refused_categories_are_all_named_once() -> None:
    verdict = _check(
        _response(
            _label("Blood & Gore", 91.0, "Violence", 2),
            _label("Weapon Violence", 85.0, "Violence", 2),
            _label("Violence", 91.0, "", 1),
            _label("Corpses", 84.0, "Visually Disturbing", 2),
            _label("Alcohol", 99.0, "", 1),
        )
    )
    assert verdict.categories == ("Violence", "Visually Disturbing")


def test_the_confidence_and_the_categories_are_configurable() -> None:
    drinks = _response(_label("Alcohol", 60.0, "", 1), _label("Drinking", 60.0, "Alcohol", 2))
    assert not _check(drinks, min_confidence=50).unsafe
    assert _check(drinks, min_confidence=50, categories=("Alcohol",)).categories == ("Alcohol",)
    # A narrower policy names a second-level category: a weapon on its own, not every fight.
    weapons_only = {"min_confidence": 80, "categories": ("Weapons",)}
    assert _check(_response(_label("Weapons", 90.0, "Violence", 2)), **weapons_only).categories == ("Violence",)
    assert not _check(_response(_label("Physical Violence", 90.0, "Violence", 2)), **weapons_only).unsafe


def test_every_top_level_category_is_either_refused_or_accepted_with_a_reason() -> None:
    # Rekognition's ten L1 categories (taxonomy 7.0), each decided once.
    assert set(REFUSED_CATEGORIES) | set(ACCEPTED_CATEGORIES) == {
        "Explicit",
        "Non-Explicit Nudity of Intimate parts and Kissing",
        "Swimwear or Underwear",
        "Violence",
        "Visually Disturbing",
        "Drugs & Tobacco",
        "Alcohol",
        "Rude Gestures",
        "Gambling",
        "Hate Symbols",
    }
    assert not set(REFUSED_CATEGORIES) & set(ACCEPTED_CATEGORIES)
    assert tuple(REFUSED_CATEGORIES) == DEFAULT_CATEGORIES
    assert all(reason for reason in {**REFUSED_CATEGORIES, **ACCEPTED_CATEGORIES}.values())


def test_a_cycle_in_parent_names_cannot_loop() -> None:
    labels = [_label("A", 90.0, "B"), _label("B", 90.0, "A")]
    assert refused_categories(labels, frozenset({"Violence"}), min_confidence=80) == ()


@pytest.mark.parametrize("code", ["InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException"])
def test_an_image_rekognition_cannot_read_is_a_media_error(code: str) -> None:
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("detect_moderation_labels", service_error_code=code, http_status_code=400)
        with pytest.raises(MediaError, match=code) as raised:
            RekognitionPhotoModerator(client, BUCKET, min_confidence=80).check(KEY)
    assert KEY in str(raised.value)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("InternalServerError", 500),
        ("AccessDeniedException", 403),
    ],
)
def test_throttling_server_and_access_errors_propagate(code: str, status: int) -> None:
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("detect_moderation_labels", service_error_code=code, http_status_code=status)
        with pytest.raises(ClientError) as raised:
            RekognitionPhotoModerator(client, BUCKET, min_confidence=80).check(KEY)
    assert not isinstance(raised.value, MediaError)
    assert raised.value.response["Error"]["Code"] == code


@pytest.mark.parametrize("bad", [-1, 100.5])
def test_a_confidence_outside_0_100_is_refused(bad: float) -> None:
    client = boto3.client("rekognition", region_name="us-east-1")
    with pytest.raises(ValueError, match="min_confidence"):
        RekognitionPhotoModerator(client, BUCKET, min_confidence=bad)
    with pytest.raises(ValueError, match="category"):
        RekognitionPhotoModerator(client, BUCKET, min_confidence=80, categories=())


def test_the_factory_reads_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MEDIA_BUCKET", BUCKET)
    monkeypatch.delenv("MODERATION_MIN_CONFIDENCE", raising=False)
    monkeypatch.delenv("MODERATION_CATEGORIES", raising=False)
    settings = load_settings()
    assert settings.moderation_min_confidence == DEFAULT_MODERATION_MIN_CONFIDENCE == 80
    assert settings.moderation_categories is None
    moderator = AwsAdapters(settings).photo_moderator(media=None)  # type: ignore[arg-type]
    assert isinstance(moderator, RekognitionPhotoModerator)
    assert moderator._categories == frozenset(DEFAULT_CATEGORIES)
    assert moderator._min_confidence == 80.0

    monkeypatch.setenv("MODERATION_MIN_CONFIDENCE", "65")
    monkeypatch.setenv("MODERATION_CATEGORIES", "Explicit, Hate Symbols")
    narrowed = AwsAdapters(load_settings()).photo_moderator(media=None)  # type: ignore[arg-type]
    assert isinstance(narrowed, RekognitionPhotoModerator)
    assert narrowed._categories == {"Explicit", "Hate Symbols"}
    assert narrowed._min_confidence == 65.0


@pytest.mark.parametrize("bad", ["101", "-5", "eighty"])
def test_a_bad_confidence_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("MODERATION_MIN_CONFIDENCE", bad)
    with pytest.raises(ConfigurationError, match="MODERATION_MIN_CONFIDENCE"):
        load_settings()


def test_the_factory_needs_the_media_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIA_BUCKET", raising=False)
    with pytest.raises(ConfigurationError, match="MEDIA_BUCKET"):
        AwsAdapters(load_settings()).photo_moderator(media=None)  # type: ignore[arg-type]


def test_category_names_are_matched_whatever_their_case() -> None:
    from chalicelib.adapters.rekognition_moderation import refused_categories

    labels = [{"Name": "Explicit Nudity", "ParentName": "Explicit", "Confidence": 97.0}]
    assert refused_categories(labels, frozenset({"explicit"}), min_confidence=80) == ("Explicit",)
    assert refused_categories(labels, frozenset({"EXPLICIT NUDITY"}), min_confidence=80) == ("Explicit",)
