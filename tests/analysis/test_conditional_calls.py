"""Pay only for answers used: DetectLabels first, RecognizeCelebrities only for a photo whose labels
show a person or a face, DetectText only for one whose labels show text (README, "Analysis and
alerting"). The service runs on the real Rekognition adapter against botocore's Stubber, with its
triggers read from the environment as the wiring reads them, so each test sees the calls a
deployed function would make."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from chalicelib.adapters.rekognition import RekognitionImageAnalyser
from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.kernel.features import (
    ALWAYS,
    DEFAULT_CELEBRITIES_WHEN_LABELS,
    DEFAULT_TEXT_WHEN_LABELS,
    LabelTrigger,
    label_trigger,
)
from chalicelib.settings import load_settings

from tests.fakes import FakeImageAnalyser

BUCKET = "media-bucket"
KEY = "users/42/1900/1.jpg"
IMAGE = {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.2}


def _label(name: str, *parents: str) -> dict[str, Any]:
    return {"Name": name, "Confidence": 95.0, "Instances": [], "Parents": [{"Name": parent} for parent in parents]}


CAT = [_label("Cat", "Animal", "Mammal", "Pet"), _label("Animal"), _label("Mammal", "Animal"), _label("Pet", "Animal")]
PERSON = [_label("Person"), _label("Face", "Head", "Person"), _label("Head", "Person"), _label("Suit", "Clothing")]
SHOP_SIGN = [_label("Text"), _label("Sign", "Symbol"), _label("Shop", "Building")]
MENU_HELD_BY_A_WOMAN = [_label("Woman", "Adult", "Female", "Person"), _label("Menu", "Text")]
CELEBRITIES = {
    "CelebrityFaces": [
        {"Name": "Jane Doe", "Id": "abc", "Urls": [], "MatchConfidence": 97.0, "Face": {"BoundingBox": BOX}}
    ],
    "UnrecognizedFaces": [{"BoundingBox": BOX, "Confidence": 99.0}],
}
TEXT = {"TextDetections": [{"DetectedText": "OPEN", "Type": "LINE", "Id": 0, "Confidence": 99.0}]}


def _service(monkeypatch: pytest.MonkeyPatch, client: Any, **env: str) -> ImageAnalysisService:
    """The service as chalicelib.wiring builds it, from these environment variables."""
    for variable in ("IMAGE_FEATURES", "CELEBRITIES_WHEN_LABELS", "TEXT_WHEN_LABELS"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    settings = load_settings()
    return ImageAnalysisService(
        analyser=RekognitionImageAnalyser(client, BUCKET),
        features=settings.image_features,
        celebrities_when=settings.celebrities_when,
        text_when=settings.text_when,
    )


@pytest.fixture
def rekognition() -> Any:
    return boto3.client("rekognition", region_name="us-east-1")


def _expect(stubber: Stubber, *, labels: list[dict[str, Any]] | None, celebrities: bool, text: bool) -> None:
    if labels is not None:
        stubber.add_response(
            "detect_labels",
            {"Labels": labels, "LabelModelVersion": "3.0"},
            {"Image": IMAGE, "MaxLabels": 20, "MinConfidence": 70.0},
        )
    if celebrities:
        stubber.add_response("recognize_celebrities", CELEBRITIES, {"Image": IMAGE})
    if text:
        stubber.add_response("detect_text", TEXT, {"Image": IMAGE})


def _analyse(service: ImageAnalysisService, stubber: Stubber) -> ImageAnalysis:
    with stubber:
        result = service.analyse(ImageResult(url="https://pbs.twimg.com/media/a.jpg", key=KEY))
        # Every expected call was made, and (Stubber raises on an unexpected one) no other.
        stubber.assert_no_pending_responses()
    assert result.error is None and result.analysis is not None
    return result.analysis


@pytest.mark.parametrize(
    ("labels", "celebrities", "text"),
    [
        pytest.param(CAT, False, False, id="cat: labels only"),
        pytest.param(PERSON, True, False, id="person: + celebrities"),
        pytest.param(SHOP_SIGN, False, True, id="text: + text"),
        pytest.param(MENU_HELD_BY_A_WOMAN, True, True, id="both"),
    ],
)
def test_the_default_triggers_call_only_what_the_labels_show(monkeypatch, rekognition, labels, celebrities, text):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition)
    _expect(stubber, labels=labels, celebrities=celebrities, text=text)
    analysis = _analyse(service, stubber)
    assert [label["Name"] for label in analysis.labels] == [label["Name"] for label in labels]
    assert [face["Name"] for face in analysis.celebrity_faces] == (["Jane Doe"] if celebrities else [])
    assert len(analysis.unrecognized_faces) == (1 if celebrities else 0)
    assert [line["DetectedText"] for line in analysis.text_detections] == (["OPEN"] if text else [])


def test_always_calls_all_three_as_before(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, CELEBRITIES_WHEN_LABELS="always", TEXT_WHEN_LABELS="ALWAYS")
    _expect(stubber, labels=CAT, celebrities=True, text=True)
    analysis = _analyse(service, stubber)
    assert analysis.celebrity_faces and analysis.text_detections


def test_one_trigger_always_and_the_other_conditional(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, TEXT_WHEN_LABELS="always")
    _expect(stubber, labels=CAT, celebrities=False, text=True)
    assert _analyse(service, stubber).text_detections


def test_without_labels_among_the_features_every_feature_runs_as_today(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, IMAGE_FEATURES="celebrities,text")
    _expect(stubber, labels=None, celebrities=True, text=True)
    analysis = _analyse(service, stubber)
    assert analysis.labels == [] and analysis.celebrity_faces and analysis.text_detections


def test_a_feature_switched_off_stays_off_whatever_the_labels(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, IMAGE_FEATURES="labels,text")
    _expect(stubber, labels=MENU_HELD_BY_A_WOMAN, celebrities=False, text=True)
    assert _analyse(service, stubber).celebrity_faces == []


def test_a_parent_pulls_the_trigger(monkeypatch, rekognition):
    # "Adult" is in no trigger list; its parent Person is.
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, CELEBRITIES_WHEN_LABELS="Person")
    _expect(stubber, labels=[_label("Adult", "Person")], celebrities=True, text=False)
    assert _analyse(service, stubber).celebrity_faces


def test_names_are_compared_without_regard_to_case(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, TEXT_WHEN_LABELS=" menu , whiteboard ")
    _expect(stubber, labels=[_label("MENU")], celebrities=False, text=True)
    assert _analyse(service, stubber).text_detections


def test_custom_triggers_replace_the_defaults(monkeypatch, rekognition):
    # Text is a default text trigger, not a configured one: no DetectText.
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition, TEXT_WHEN_LABELS="Whiteboard")
    _expect(stubber, labels=SHOP_SIGN, celebrities=False, text=False)
    assert _analyse(service, stubber).text_detections == []


def test_skipped_calls_are_logged_per_photo(monkeypatch, rekognition, caplog):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition)
    _expect(stubber, labels=PERSON, celebrities=True, text=False)
    with caplog.at_level(logging.INFO, logger="chalicelib.analysis.images"):
        _analyse(service, stubber)
    (record,) = [record for record in caplog.records if record.name == "chalicelib.analysis.images"]
    assert record.__dict__["skipped"] == ["text"] and record.__dict__["key"] == KEY


def test_a_photo_rekognition_cannot_read_in_the_follow_up_call_is_reported_failed(monkeypatch, rekognition):
    stubber = Stubber(rekognition)
    service = _service(monkeypatch, rekognition)
    _expect(stubber, labels=PERSON, celebrities=False, text=False)
    stubber.add_client_error("recognize_celebrities", "ImageTooLargeException", expected_params={"Image": IMAGE})
    with stubber:
        result = service.analyse(ImageResult(url="https://pbs.twimg.com/media/a.jpg", key=KEY))
    assert result.analysis is None and result.error is not None and "ImageTooLargeException" in result.error


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CELEBRITIES_WHEN_LABELS", "Person;Face"),
        ("CELEBRITIES_WHEN_LABELS", "always,Person"),
        ("TEXT_WHEN_LABELS", "Text,*"),
        ("CELEBRITIES_WHEN_LABELS", "never"),
        ("TEXT_WHEN_LABELS", "Text,none"),
    ],
)
def test_a_bad_value_is_a_configuration_error_naming_the_setting(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings()


def test_defaults_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("CELEBRITIES_WHEN_LABELS", raising=False)
    monkeypatch.setenv("TEXT_WHEN_LABELS", " ")
    settings = load_settings()
    assert settings.celebrities_when == label_trigger(None, DEFAULT_CELEBRITIES_WHEN_LABELS)
    assert settings.text_when == LabelTrigger(frozenset(name.casefold() for name in DEFAULT_TEXT_WHEN_LABELS))
    assert settings.celebrities_when.names is not None and "person" in settings.celebrities_when.names
    assert ALWAYS not in DEFAULT_TEXT_WHEN_LABELS


def test_the_fake_analysers_whole_answer_is_kept_when_a_call_is_skipped():
    # The port returns only what was asked; a fake (tests/fakes.py) answers everything at once.
    # What the first call brought is kept, so scripted analyses in other tests stay whole.
    scripted = ImageAnalysis(labels=[{"Name": "Cat", "Parents": []}], text_detections=[{"DetectedText": "hi"}])
    analyser = FakeImageAnalyser({KEY: scripted})
    service = ImageAnalysisService(
        analyser=analyser,
        features=frozenset({"labels", "celebrities", "text"}),
        celebrities_when=label_trigger(None, DEFAULT_CELEBRITIES_WHEN_LABELS),
        text_when=label_trigger(None, DEFAULT_TEXT_WHEN_LABELS),
    )
    result = service.analyse(ImageResult(url="https://pbs.twimg.com/media/a.jpg", key=KEY))
    assert result.analysis is not None and result.analysis.text_detections == [{"DetectedText": "hi"}]
    assert analyser.calls == [(KEY, frozenset({"labels"}))]


def test_the_default_trigger_lists_are_valid_label_names() -> None:
    for default in (DEFAULT_CELEBRITIES_WHEN_LABELS, DEFAULT_TEXT_WHEN_LABELS):
        assert label_trigger(",".join(default), ()) == label_trigger(None, default)
