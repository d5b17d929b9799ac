"""The workflow's Lambda tasks through Chalice's test client, with fakes behind the ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.kernel.errors import TransientError

from tests.fakes import FakeAdapters, FakeFetcher, FakeImageAnalyser, image_bytes, use_fake_adapters

PHOTOS = ["https://pbs.twimg.com/media/one.png", "https://pbs.twimg.com/media/two.png"]
MESSAGE: dict[str, Any] = {
    "Text": "@xbot this is terrible",
    "Author": "alice",
    "Lang": "en",
    "ImageUrls": PHOTOS,
    "Twitter": {"TweetId": "1900000000000000001", "UserId": "42", "ConversationId": None},
}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> FakeAdapters:
    adapters = use_fake_adapters(monkeypatch)
    adapters.fetcher = FakeFetcher({PHOTOS[0]: image_bytes("PNG")})
    return adapters


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def _invoke(client: Client, name: str, payload: Any) -> Any:
    return client.lambda_.invoke(name, payload).payload


def test_the_steps_in_order_give_message_analysed(client: Client, fakes: FakeAdapters) -> None:
    downloaded = _invoke(client, "analysis_download_media", {"Message": MESSAGE})["Images"]
    assert [image["Error"] for image in downloaded] == [None, "404 not found"]
    images = [_invoke(client, "analysis_analyse_image", image) for image in downloaded]
    text = _invoke(client, "analysis_analyse_text", {"Message": MESSAGE})
    published = _invoke(client, "analysis_publish_analysis", {"Message": MESSAGE, "Text": text, "Images": images})
    assert published["EventId"]
    (entry,) = [entry for call in fakes.bus.calls for entry in call]
    assert (entry["Source"], entry["DetailType"]) == ("xbot.analysis", "MESSAGE_ANALYSED")
    detail = json.loads(entry["Detail"])
    assert detail["HasImages"] is True
    assert detail["Analysis"]["TextSentiment"] == "NEGATIVE"
    assert [image["Analysis"] is not None for image in detail["Analysis"]["Images"]] == [True, False]
    assert MessageAnalysed.from_detail(detail).to_detail() == detail


def test_a_text_only_message_has_an_empty_images_list(client: Client, fakes: FakeAdapters) -> None:
    message = {**MESSAGE, "ImageUrls": []}
    assert _invoke(client, "analysis_download_media", {"Message": message}) == {"Claimed": True, "Images": []}
    text = _invoke(client, "analysis_analyse_text", {"Message": message})
    _invoke(client, "analysis_publish_analysis", {"Message": message, "Text": text, "Images": []})
    detail = json.loads(fakes.bus.calls[0][0]["Detail"])
    assert (detail["HasImages"], detail["Analysis"]["Images"]) == (False, [])


def test_a_post_is_claimed_once_completed_on_publish_and_released_on_failure(
    client: Client, fakes: FakeAdapters
) -> None:
    message = {**MESSAGE, "ImageUrls": []}
    key = f"analysis:{MESSAGE['Twitter']['TweetId']}"
    assert _invoke(client, "analysis_download_media", {"Message": message})["Claimed"] is True
    # A second arrival of the same post (a redelivery, another route) is not analysed again.
    assert _invoke(client, "analysis_download_media", {"Message": message}) == {"Claimed": False, "Images": []}
    _invoke(client, "analysis_publish_failure", {"Message": message, "Error": "ValueError", "Cause": "bad"})
    assert key not in fakes.claimed.states  # given back: a later arrival is analysed
    assert _invoke(client, "analysis_download_media", {"Message": message})["Claimed"] is True
    text = _invoke(client, "analysis_analyse_text", {"Message": message})
    _invoke(client, "analysis_publish_analysis", {"Message": message, "Text": text, "Images": []})
    assert fakes.claimed.states[key] == "completed"
    assert _invoke(client, "analysis_download_media", {"Message": message})["Claimed"] is False


def test_throttling_is_raised_as_transient_error_for_the_state_machine(client: Client, fakes: FakeAdapters) -> None:
    class ThrottledError(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.response = {"Error": {"Code": "ThrottlingException"}}

    fakes.text.error = ThrottledError("Rate exceeded")
    # Lambda reports an unhandled exception's class name as errorType, which the ASL retries on.
    with pytest.raises(TransientError, match="ThrottledError: Rate exceeded"):
        client.lambda_.invoke("analysis_analyse_text", {"Message": MESSAGE})


def test_other_failures_keep_their_type(client: Client, fakes: FakeAdapters) -> None:
    fakes.text.error = ValueError("model exploded")
    with pytest.raises(ValueError, match="model exploded"):
        client.lambda_.invoke("analysis_analyse_text", {"Message": MESSAGE})


def test_publish_failure_publishes_the_reason(client: Client, fakes: FakeAdapters) -> None:
    payload = {"Message": MESSAGE, "Error": "ValueError", "Cause": "model exploded"}
    assert _invoke(client, "analysis_publish_failure", payload)["EventId"]
    (entry,) = fakes.bus.calls[0]
    assert entry["DetailType"] == "MESSAGE_ANALYSIS_FAILED"
    detail = json.loads(entry["Detail"])
    assert detail["Reason"] == "ValueError: model exploded"
    assert detail["Twitter"]["TweetId"] == MESSAGE["Twitter"]["TweetId"]


def test_failure_reason_from_a_lambda_cause_keeps_type_and_message_only() -> None:
    from chalicelib.analysis.blueprint import failure_reason

    cause = json.dumps({"errorType": "ValueError", "errorMessage": "model exploded", "stackTrace": ["  File x"]})
    assert failure_reason("ValueError", cause) == "ValueError: model exploded"
    assert failure_reason("States.Timeout", "") == "States.Timeout"
    assert failure_reason("States.TaskFailed", "plain words") == "States.TaskFailed: plain words"


def test_a_lasting_failure_on_one_photo_is_reported_on_that_photo(client: Client, fakes: FakeAdapters) -> None:
    fakes.images = FakeImageAnalyser(default=RuntimeError("model file corrupt"))
    image = {"Url": PHOTOS[0], "Key": "k.png", "Error": None, "Analysis": None}
    result = _invoke(client, "analysis_analyse_image", image)
    assert result["Error"] == "analysis failed: RuntimeError"
    assert result["Key"] == "k.png"


def test_the_same_event_run_again_after_a_crash_gets_its_claim_back(client: Client, fakes: FakeAdapters) -> None:
    message = {**MESSAGE, "ImageUrls": []}
    first = {"Message": message, "EventId": "event-1"}
    assert _invoke(client, "analysis_download_media", first)["Claimed"] is True
    # The runtime died mid-analysis; the dispatcher (or EventBridge) runs the same event again.
    assert _invoke(client, "analysis_download_media", first)["Claimed"] is True
    # Another arrival of the post (X's redelivery is a new event) is still turned away.
    assert _invoke(client, "analysis_download_media", {"Message": message, "EventId": "event-2"})["Claimed"] is False
