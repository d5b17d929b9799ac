"""Every consumer of an event that may be claim-checked resolves it before use, with fakes behind the ports.

MESSAGE_RECEIVED (the analysis workflow's tasks), MESSAGE_ANALYSED (the alert and both responders)
and SEND_TWEET (Egress): each handler gets the pointer event the bus delivers and must act on the
whole event read back from the payload store. A message whose analysis cannot be published, or
whose claim-checked message cannot be read, ends as MESSAGE_ANALYSIS_FAILED with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botlocal.workflow import AnalysisFailedError, LocalAnalysisWorkflow
from chalice.test import Client
from chalicelib import wiring
from chalicelib.contracts import names, workflow
from chalicelib.contracts.analysis import ImageAnalysis, MessageAnalysed
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.oversized import OVERSIZED_KEY
from chalicelib.contracts.replies import SendTweet
from chalicelib.publishing import EventPublisher

from tests.contracts.test_oversized_events import LONG, analysed
from tests.fakes import FakeAdapters, FakeFetcher, FakeImageAnalyser, image_bytes, queued_event, use_fake_adapters

LIMIT = 2048
PHOTO = "https://pbs.twimg.com/media/one.png"
MESSAGE: dict[str, Any] = {
    "Text": "@xbot read this " + LONG,
    "Author": "alice",
    "Lang": "en",
    "ImageUrls": [PHOTO],
    "Twitter": {"TweetId": "1900000000000000001", "UserId": "42", "ConversationId": None},
}


class Recorder:
    def __init__(self, result: Any = None) -> None:
        self.calls: list[Any] = []
        self.result = result

    def respond(self, message: Any) -> Any:
        self.calls.append(message)
        return self.result

    def send(self, reply: Any, **_: Any) -> Any:
        self.calls.append(reply)
        return self.result

    def alert(self, message: Any, **_: Any) -> bool:
        self.calls.append(message)
        return True


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> FakeAdapters:
    adapters = use_fake_adapters(monkeypatch)
    adapters.fetcher = FakeFetcher({PHOTO: image_bytes("PNG")})
    return adapters


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def pointer(fakes: FakeAdapters, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The detail the bus carries for `detail` over a low limit: a pointer into the fakes' store."""
    publisher = EventPublisher(bus=fakes.bus, bus_name="b", payload_store=fakes.payloads, max_bytes=LIMIT)
    publisher.publish([BusEvent(source, detail_type, detail)])
    carried: dict[str, Any] = json.loads(fakes.bus.entries[-1]["Detail"])
    assert OVERSIZED_KEY in carried
    return carried


@pytest.mark.parametrize(
    ("function", "service", "photos"),
    [
        ("alerting_alert_negative", "alert_service", True),
        ("responding_reply_to_photos", "photo_responder", True),
        ("responding_reply_to_text", "text_responder", False),
    ],
)
def test_message_analysed_consumers_resolve_the_pointer(
    client: Client, fakes: FakeAdapters, monkeypatch: pytest.MonkeyPatch, function: str, service: str, photos: bool
) -> None:
    whole = analysed("NEGATIVE", photos=photos)
    detail = pointer(fakes, names.SOURCE_ANALYSIS, names.MESSAGE_ANALYSED, whole.to_detail())
    recorder = Recorder()
    monkeypatch.setattr(wiring, service, lambda: recorder)
    event = client.events.generate_cw_event(
        source=names.SOURCE_ANALYSIS, detail_type=names.MESSAGE_ANALYSED, detail=detail, resources=[]
    )
    client.lambda_.invoke(function, event)
    assert recorder.calls == [MessageAnalysed.from_detail(whole.to_detail())]


def test_egress_resolves_a_claim_checked_send_tweet(
    client: Client, fakes: FakeAdapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = SendTweet("@alice " + LONG, "1900", "42", [])
    detail = pointer(fakes, names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail())
    egress = Recorder(result="1901")
    monkeypatch.setattr(wiring, "egress_service", lambda: egress)
    event = queued_event(client, source=names.SOURCE_RESPONDING, detail_type=names.SEND_TWEET, detail=detail)
    client.lambda_.invoke("egress_post_reply", event)
    assert egress.calls == [SendTweet.from_detail(reply.to_detail())]


def _workflow(client: Client) -> LocalAnalysisWorkflow:
    """The local state machine on the app's own task functions (through Chalice's test client)."""

    def task(name: str) -> Any:
        return lambda payload: client.lambda_.invoke(name, payload).payload

    return LocalAnalysisWorkflow({t.function: task(t.function) for t in workflow.TASKS}, sleep=lambda _: None)


def _published(fakes: FakeAdapters, detail_type: str) -> list[dict[str, Any]]:
    return [json.loads(e["Detail"]) for e in fakes.bus.entries if e["DetailType"] == detail_type]


def test_the_analysis_workflow_resolves_a_claim_checked_message_received(client: Client, fakes: FakeAdapters) -> None:
    detail = pointer(fakes, names.SOURCE_INGRESS, names.MESSAGE_RECEIVED, MESSAGE)
    _workflow(client).run({"id": "e-1", "detail": detail})
    (analysed_detail,) = _published(fakes, names.MESSAGE_ANALYSED)
    assert analysed_detail["Text"] == MESSAGE["Text"]
    assert analysed_detail["HasImages"] is True
    assert analysed_detail["Analysis"]["Images"][0]["Analysis"] is not None
    assert fakes.images.calls, "the photo of the resolved message was analysed"


def test_a_message_whose_analysis_is_too_large_ends_as_message_analysis_failed(
    client: Client, fakes: FakeAdapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_EVENT_BYTES", str(LIMIT))
    fakes.payloads = None  # nowhere to claim-check it: the analysis cannot fit on the bus
    # A photo full of text: within the per-photo caps, still over this (lowered) limit.
    words = [{"DetectedText": f"word {i} " * 10, "Type": "WORD", "Id": i} for i in range(100)]
    fakes.images = FakeImageAnalyser(default=ImageAnalysis(text_detections=words))
    with pytest.raises(AnalysisFailedError):
        _workflow(client).run({"id": "e-1", "detail": {**MESSAGE, "Text": "@xbot hi"}})
    assert _published(fakes, names.MESSAGE_ANALYSED) == []
    (failed,) = _published(fakes, names.MESSAGE_ANALYSIS_FAILED)
    assert failed["Twitter"]["TweetId"] == MESSAGE["Twitter"]["TweetId"]
    assert "MESSAGE_ANALYSED event of" in failed["Reason"] and f"exceeds {LIMIT} bytes" in failed["Reason"]


def test_a_claim_checked_message_that_cannot_be_read_ends_as_message_analysis_failed(
    client: Client, fakes: FakeAdapters
) -> None:
    detail = pointer(fakes, names.SOURCE_INGRESS, names.MESSAGE_RECEIVED, MESSAGE)
    assert fakes.payloads is not None
    fakes.payloads.objects.clear()  # expired, or never written
    with pytest.raises(AnalysisFailedError):
        _workflow(client).run({"id": "e-1", "detail": detail})
    (failed,) = _published(fakes, names.MESSAGE_ANALYSIS_FAILED)
    assert failed["Twitter"]["TweetId"] == MESSAGE["Twitter"]["TweetId"]  # kept beside the pointer
    assert failed["Reason"].startswith("PayloadError: the claim-checked event at memory://oversized/")
