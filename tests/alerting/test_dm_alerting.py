"""A negative direct message's alert (issue 10): who wrote and the sentiment, never the text and no
link; the chat webhook never receives the text, and no log line carries it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from botlocal.alerts import LocalAlertSink, read_alerts
from chalice.test import Client
from chalicelib.alerting.service import AlertForwarder, AlertService, alert_text
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import DirectMessageRef, MessageReceived

from tests.fakes import FakeChatWebhook, MemoryIdempotency, RecordingSink, use_fake_adapters

PRIVATE = "I am so angry at my boss, he is awful"
DM_REF = DirectMessageRef("1247299084244979717", "1693649419", "42", "42-1693649419")
NEGATIVE_DM = MessageAnalysed(
    message=MessageReceived.direct(text=PRIVATE, author="tweetinvitest", lang="en", direct_message=DM_REF),
    text=TextAnalysis(
        sentiment="NEGATIVE",
        sentiment_score={"Positive": 0.01, "Negative": 0.93, "Neutral": 0.05, "Mixed": 0.01},
        language="en",
    ),
)


def _nothing_private(*parts: object) -> None:
    dumped = json.dumps(parts, default=str)
    assert PRIVATE not in dumped
    for word in ("angry", "boss", "awful"):
        assert word not in dumped
    assert "x.com/" not in dumped and "status/" not in dumped  # no link: a DM has no public address


def test_a_dm_alert_says_who_and_how_negative_and_nothing_of_the_text() -> None:
    subject, message, attributes = alert_text(NEGATIVE_DM)
    assert subject == "Negative direct message from @tweetinvitest"
    assert "@tweetinvitest (user id 1693649419) sent the bot a direct message" in message
    assert "Sentiment: NEGATIVE (negative 0.93, positive 0.01, neutral 0.05, mixed 0.01)" in message
    assert attributes == {
        "Channel": "DM",
        "DmEventId": DM_REF.event_id,
        "Author": "tweetinvitest",
        "Sentiment": "NEGATIVE",
    }
    _nothing_private(subject, message, attributes)


def test_the_chat_webhook_never_receives_a_dms_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    webhook = FakeChatWebhook()
    forwarder = AlertForwarder(webhook=webhook, sleep=lambda _: None)
    sink = LocalAlertSink(tmp_path / "alerts.jsonl", forward=forwarder.forward)
    service = AlertService(sink=sink, once=MemoryIdempotency())
    assert service.alert(NEGATIVE_DM) is True
    assert service.alert(NEGATIVE_DM) is False  # once per DM
    (payload,) = webhook.payloads
    assert "Negative direct message from @tweetinvitest" in payload["text"]
    _nothing_private(payload, read_alerts(tmp_path / "alerts.jsonl"))
    assert PRIVATE not in caplog.text


def test_a_dm_alert_key_is_apart_from_a_post_with_the_same_number() -> None:
    once = MemoryIdempotency()
    service = AlertService(sink=RecordingSink(), once=once)
    service.alert(NEGATIVE_DM)
    assert once.runs == [f"alert:dm:{DM_REF.event_id}"]


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def test_the_alerting_handlers_log_no_dm_text(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    fakes = use_fake_adapters(monkeypatch)
    event = client.events.generate_cw_event(
        source="xbot.analysis", detail_type="MESSAGE_ANALYSED", detail=NEGATIVE_DM.to_detail(), resources=[]
    )
    client.lambda_.invoke("alerting_alert_negative", event)
    client.lambda_.invoke("alerting_alert_negative", event)  # the redelivery logs "already sent"
    ((subject, message, attributes),) = fakes.alerts.alerts
    _nothing_private(subject, message, attributes)
    assert PRIVATE not in caplog.text
    assert PRIVATE not in capsys.readouterr().out  # Powertools' JSON log lines go to stdout
