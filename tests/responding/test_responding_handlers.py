"""The Responding and Egress handlers through Chalice's test client: what they pass to the services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from chalicelib import wiring
from chalicelib.contracts.analysis import MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.replies import SendTweet

from tests.fakes import queued_event

ANALYSED = MessageAnalysed(
    message=MessageReceived("@xbot tell me a joke", "alice", "en", TwitterRef("1900", "42")),
    text=TextAnalysis("NEUTRAL", language="en"),
)


class Recorder:
    def __init__(self, result: Any = None) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.result = result

    def respond(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.result

    def send(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def test_text_only_analysed_message_goes_to_the_text_responder(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    text, photos = Recorder(), Recorder()
    monkeypatch.setattr(wiring, "text_responder", lambda: text)
    monkeypatch.setattr(wiring, "photo_responder", lambda: photos)
    event = client.events.generate_cw_event(
        source="xbot.analysis", detail_type="MESSAGE_ANALYSED", detail=ANALYSED.to_detail(), resources=[]
    )
    client.lambda_.invoke("responding_reply_to_text", event)
    ((args, _),) = text.calls
    assert args[0] == ANALYSED


def test_post_reply_passes_the_reply_and_the_time_left(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # The idempotency key is the post replied to (inside the reply), not the event id.
    egress = Recorder(result="1901")
    monkeypatch.setattr(wiring, "egress_service", lambda: egress)
    reply = SendTweet("@alice hi", "1900", "42", ["annotated/a.jpg"])
    event = queued_event(client, source="xbot.responding", detail_type="SEND_TWEET", detail=reply.to_detail())
    client.lambda_.invoke("egress_post_reply", event)
    ((args, kwargs),) = egress.calls
    assert args == (reply,)
    assert set(kwargs) == {"remaining_ms"}
    assert callable(kwargs["remaining_ms"]) and kwargs["remaining_ms"]() > 0


def test_lex_fulfilment_answers_in_the_lex_v2_format(client: Client) -> None:
    event = {
        "sessionId": "42",
        "inputTranscript": "tell me a joke",
        "invocationSource": "FulfillmentCodeHook",
        "sessionState": {"intent": {"name": "Joke", "state": "ReadyForFulfillment"}, "sessionAttributes": {}},
    }
    response = client.lambda_.invoke("responding_lex_fulfilment", event).payload
    assert response["sessionState"]["dialogAction"] == {"type": "Close"}
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    (message,) = response["messages"]
    assert message["contentType"] == "PlainText" and message["content"]
