"""What the analysis keeps per photo and of the text, and why the workflow's state then fits 256 KiB."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.contracts import analysis as caps
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.ingress.translate import MAX_MEDIA_URL_CHARS, MAX_PHOTOS_PER_POST, MAX_TEXT_CHARS

from tests.fakes import FakeImageAnalyser

#: A Step Functions state (the analysis workflow's input and every state after it).
STATE_LIMIT = 256 * 1024


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _huge_image_analysis() -> ImageAnalysis:
    box = {"Width": 0.123456789, "Height": 0.123456789, "Left": 0.123456789, "Top": 0.123456789}
    long = "W" * 5000
    return ImageAnalysis(
        labels=[{"Name": long, "Confidence": 99.9, "Parents": [{"Name": long}] * 50} for _ in range(1000)],
        text_detections=[
            {"DetectedText": long, "Type": "LINE", "Id": i, "Confidence": 99.9, "Geometry": {"BoundingBox": box}}
            for i in range(1000)
        ],
        celebrity_faces=[{"Name": long, "Id": "x", "Urls": [long] * 50, "Face": {"BoundingBox": box}}] * 500,
        unrecognized_faces=[{"Confidence": 99.9, "BoundingBox": box}] * 1000,
    )


def _huge_text_analysis() -> TextAnalysis:
    record = {"Text": "E" * 5000, "Type": "PERSON", "Score": 0.99, "BeginOffset": 1, "EndOffset": 5001}
    return TextAnalysis("NEGATIVE", {"Negative": 0.9}, [record] * 1000, [record] * 1000, "en")


def test_a_photo_keeps_at_most_the_named_caps() -> None:
    capped = _huge_image_analysis().capped()
    assert len(capped.labels) <= caps.MAX_LABELS_PER_PHOTO
    assert len(capped.text_detections) <= caps.MAX_TEXT_DETECTIONS_PER_PHOTO
    assert len(capped.celebrity_faces) <= caps.MAX_FACES_PER_PHOTO
    assert len(capped.unrecognized_faces) <= caps.MAX_FACES_PER_PHOTO
    assert all(len(record["DetectedText"]) <= caps.MAX_RECORD_TEXT_CHARS for record in capped.text_detections)
    assert all(len(record["Parents"]) <= caps.MAX_RECORD_LIST_ITEMS for record in capped.labels)
    assert _size(capped.to_detail()) <= caps.MAX_IMAGE_ANALYSIS_BYTES
    assert capped.text_detections, "the byte bound drops records from the longest list, not everything"


def test_a_small_analysis_is_kept_as_it_is() -> None:
    small = ImageAnalysis(labels=[{"Name": "Cat", "Confidence": 99.0, "Parents": [{"Name": "Animal"}]}])
    assert small.capped() == small
    text = TextAnalysis("POSITIVE", {"Positive": 0.9}, [{"Text": "Paris", "Type": "LOCATION"}], [], "en")
    assert text.capped() == text


def test_the_text_analysis_keeps_at_most_the_named_caps() -> None:
    capped = _huge_text_analysis().capped()
    assert len(capped.entities) <= caps.MAX_TEXT_ENTITIES
    assert len(capped.key_phrases) <= caps.MAX_KEY_PHRASES
    assert (capped.sentiment, capped.language) == ("NEGATIVE", "en")
    assert _size(capped.to_detail()) <= caps.MAX_TEXT_ANALYSIS_BYTES


def test_the_image_service_caps_what_any_analyser_returns() -> None:
    service = ImageAnalysisService(analyser=FakeImageAnalyser(default=_huge_image_analysis()), features=frozenset())
    result = service.analyse(ImageResult(url="u", key="k"))
    assert result.analysis is not None
    assert _size(result.analysis.to_detail()) <= caps.MAX_IMAGE_ANALYSIS_BYTES


def test_the_worst_case_workflow_state_and_message_analysed_fit_256_kib() -> None:
    # The longest text ingress accepts, in the characters JSON escapes the most (6 bytes each).
    message = MessageReceived(
        "\x01" * MAX_TEXT_CHARS,
        "a" * 64,
        "en",
        TwitterRef("1" * 32, "2" * 32, "3" * 32),
        ["https://pbs.twimg.com/" + "m" * (MAX_MEDIA_URL_CHARS - 22)] * MAX_PHOTOS_PER_POST,
    )
    images = [
        ImageResult(url=url, key="2026/01/01/" + "k" * 40 + ".jpeg", analysis=_huge_image_analysis().capped())
        for url in message.image_urls
    ]
    text = _huge_text_analysis().capped()
    envelope = {
        "version": "0",
        "id": "x" * 36,
        "detail-type": "MESSAGE_RECEIVED",
        "source": "xbot.ingress",
        "account": "1" * 12,
        "time": "2026-01-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": message.to_detail(),
    }
    # The state after Analyse (the largest): the event, the downloads and the analyses.
    state = {
        **envelope,
        "media": {"Claimed": True, "Images": [ImageResult(url=i.url, key=i.key).to_detail() for i in images]},
        "analysis": {"Images": [image.to_detail() for image in images], "Text": text.to_detail()},
    }
    assert _size(state) < STATE_LIMIT
    analysed = MessageAnalysed(message=message, text=text, images=images)
    assert _size(analysed.to_detail()) < STATE_LIMIT
