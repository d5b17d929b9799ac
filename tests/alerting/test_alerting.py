from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client
from chalicelib import wiring
from chalicelib.alerting.service import AlertForwarder, AlertService, ForwardingError, alert_text
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef

from tests.fakes import FakeChatWebhook, MemoryIdempotency, RecordingSink, use_fake_adapters

NEGATIVE = MessageAnalysed(
    message=MessageReceived(
        text="@xbot you are the worst bot ever",
        author="alice",
        lang="en",
        twitter=TwitterRef(tweet_id="1900000000000000001", user_id="42"),
    ),
    text=TextAnalysis(
        sentiment="NEGATIVE",
        sentiment_score={"Positive": 0.01, "Negative": 0.93, "Neutral": 0.05, "Mixed": 0.01},
        language="en",
    ),
)


CHAT_IS_DOWN = ConnectionError("chat is down")


def test_the_alert_is_readable_with_link_and_scores() -> None:
    subject, message, attributes = alert_text(NEGATIVE)
    assert subject == "Negative message from @alice"
    assert "@alice wrote:\n@xbot you are the worst bot ever" in message
    assert "https://x.com/alice/status/1900000000000000001" in message
    assert "Sentiment: NEGATIVE (negative 0.93, positive 0.01, neutral 0.05, mixed 0.01)" in message
    assert attributes == {"TweetId": "1900000000000000001", "Author": "alice", "Sentiment": "NEGATIVE"}


def test_an_unknown_author_still_gets_a_working_link() -> None:
    unknown = MessageAnalysed(
        message=MessageReceived(text="bad", author=None, lang="en", twitter=TwitterRef("7", "42")),
        text=NEGATIVE.text,
    )
    subject, message, _ = alert_text(unknown)
    assert subject == "Negative message from someone"
    assert "https://x.com/i/status/7" in message


def test_alert_service_publishes_to_the_sink() -> None:
    sink = RecordingSink()
    assert AlertService(sink=sink, once=MemoryIdempotency()).alert(NEGATIVE) is True
    assert sink.alerts[0][0] == "Negative message from @alice"


def test_one_alert_per_post_however_often_it_is_analysed() -> None:
    # A redelivery, or the same post by a second route (Account Activity and X Activity).
    sink = RecordingSink()
    service = AlertService(sink=sink, once=MemoryIdempotency())
    assert [service.alert(NEGATIVE) for _ in range(3)] == [True, False, False]
    assert len(sink.alerts) == 1
    other = MessageAnalysed(
        message=MessageReceived(
            text=NEGATIVE.message.text,
            author="bob",
            lang="en",
            twitter=TwitterRef(tweet_id="1900000000000000002", user_id="43"),
        ),
        text=NEGATIVE.text,
        images=[],
    )
    assert service.alert(other) is True
    assert len(sink.alerts) == 2


def test_a_failed_alert_is_not_remembered() -> None:
    class DownSink(RecordingSink):
        def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
            raise ConnectionError("topic unavailable")

    service = AlertService(sink=DownSink(), once=MemoryIdempotency())
    with pytest.raises(ConnectionError):
        service.alert(NEGATIVE)
    working = RecordingSink()
    service._sink = working  # the topic is back: the retry publishes
    assert service.alert(NEGATIVE) is True
    assert len(working.alerts) == 1


def test_forwarding_retries_then_succeeds() -> None:
    webhook = FakeChatWebhook(CHAT_IS_DOWN, CHAT_IS_DOWN, None)
    AlertForwarder(webhook=webhook, attempts=3, sleep=lambda _: None).forward("Subject", "Body")
    assert len(webhook.payloads) == 3
    assert webhook.payloads[-1] == {"text": "*Subject*\nBody"}


def test_forwarding_gives_up_with_a_clear_error() -> None:
    webhook = FakeChatWebhook(CHAT_IS_DOWN)
    with pytest.raises(ForwardingError, match="failed 3 times; last error ConnectionError: chat is down"):
        AlertForwarder(webhook=webhook, attempts=3, sleep=lambda _: None).forward("S", "B")


def test_forwarding_stops_at_once_when_the_webhook_is_gone() -> None:
    class GoneError(Exception):
        retryable = False

    webhook = FakeChatWebhook(GoneError("404"))
    with pytest.raises(ForwardingError, match="refused the alert: GoneError: 404"):
        AlertForwarder(webhook=webhook, attempts=3, sleep=lambda _: None).forward("S", "B")
    assert len(webhook.payloads) == 1


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def test_negative_rule_handler_alerts(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = use_fake_adapters(monkeypatch).alerts
    event = client.events.generate_cw_event(
        source="xbot.analysis", detail_type="MESSAGE_ANALYSED", detail=NEGATIVE.to_detail(), resources=[]
    )
    client.lambda_.invoke("alerting_alert_negative", event)
    assert [alert[0] for alert in sink.alerts] == ["Negative message from @alice"]


def test_sns_subscriber_forwards_when_a_webhook_is_configured(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    webhook = FakeChatWebhook()
    monkeypatch.setattr(wiring, "alert_forwarder", lambda: AlertForwarder(webhook=webhook, sleep=lambda _: None))
    event = client.events.generate_sns_event(message="Body", subject="Negative message from @alice")
    client.lambda_.invoke("alerting_forward_alert", event)
    assert webhook.payloads == [{"text": "*Negative message from @alice*\nBody"}]


def test_sns_subscriber_without_a_webhook_does_nothing(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "alert_forwarder", lambda: None)
    event = client.events.generate_sns_event(message="Body", subject="S")
    assert client.lambda_.invoke("alerting_forward_alert", event).payload is None
