"""The /twitter route through Chalice's test client, with an in-memory bus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from chalicelib import wiring
from chalicelib.ingress.signature import sign

from tests.conftest import FIXTURES, delivery_files
from tests.fakes import RecordingBus, StaticSecret

SECRET = "test-consumer-secret"


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> RecordingBus:
    recording = RecordingBus()
    monkeypatch.setattr(wiring, "event_bus", lambda: recording)
    monkeypatch.setattr(wiring, "webhook_secret", lambda: StaticSecret(SECRET))
    return recording


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def _post(client: Client, body: bytes, signature: str | None = None, **headers: str) -> Any:
    all_headers = {"Content-Type": "application/json", **headers}
    if signature is not None:
        all_headers["x-twitter-webhooks-signature"] = signature
    return client.http.post("/twitter", headers=all_headers, body=body)


def _published(bus: RecordingBus) -> list[str]:
    return [entry["DetailType"] for call in bus.calls for entry in call]


def test_crc_vectors(client: Client, monkeypatch: pytest.MonkeyPatch, signature_vectors: dict[str, Any]) -> None:
    for vector in signature_vectors["crc"]:
        monkeypatch.setattr(wiring, "webhook_secret", lambda v=vector: StaticSecret(v["consumer_secret"]))
        wiring.reset()
        query = vector.get("request_query", f"crc_token={vector['crc_token']}")
        response = client.http.get(f"/twitter?{query}")
        assert response.status_code == 200
        assert response.json_body == vector["expected_response_body"]


@pytest.mark.parametrize("query", ["", "?nonce=abc", "?crc_token=", "?crc_token=a%20b", "?crc_token=" + "a" * 257])
def test_crc_without_a_valid_token_is_refused(client: Client, bus: RecordingBus, query: str) -> None:
    assert client.http.get(f"/twitter{query}").status_code == 400


def test_signed_delivery_is_published(client: Client, bus: RecordingBus) -> None:
    body = (FIXTURES / "tweet_create_events_mention_reply.json").read_bytes()
    response = _post(client, body, sign(SECRET, body))
    assert response.status_code == 200
    assert response.json_body == {"events": 2}
    assert _published(bus) == ["TWITTER_TWEETED", "MESSAGE_RECEIVED"]
    assert all(entry["Source"] == "xbot.ingress" for call in bus.calls for entry in call)


def test_signature_header_name_in_any_case(client: Client, bus: RecordingBus) -> None:
    body = b'{"for_user_id": "1", "follow_events": []}'
    response = client.http.post(
        "/twitter",
        headers={"Content-Type": "application/json; charset=utf-8", "X-Twitter-Webhooks-Signature": sign(SECRET, body)},
        body=body,
    )
    assert response.status_code == 200


def test_post_signature_vector_through_the_route(
    client: Client, monkeypatch: pytest.MonkeyPatch, bus: RecordingBus, signature_vectors: dict[str, Any]
) -> None:
    (vector,) = signature_vectors["post_signature"]
    monkeypatch.setattr(wiring, "webhook_secret", lambda: StaticSecret(vector["consumer_secret"]))
    body = (FIXTURES / vector["body_file"]).read_bytes()
    response = _post(client, body, vector["header"]["x-twitter-webhooks-signature"])
    assert response.status_code == 200
    # the bot's own reply is not a message: it is recorded as skipped, never answered
    assert _published(bus) == ["TWITTER_TWEETED", "MESSAGE_SKIPPED"]


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=AAAA", "garbage", sign("other-secret", b"{}")])
def test_forged_or_unsigned_posts_get_401_and_publish_nothing(
    client: Client, bus: RecordingBus, signature: str | None
) -> None:
    response = _post(client, b"{}", signature)
    assert response.status_code == 401
    assert bus.calls == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_400(client: Client, bus: RecordingBus, body: bytes) -> None:
    assert _post(client, body, sign(SECRET, body)).status_code == 400
    assert bus.calls == []


def test_a_body_over_one_mib_gets_413(client: Client, bus: RecordingBus) -> None:
    body = json.dumps({"pad": "x" * (1024 * 1024)}).encode()
    assert _post(client, body, sign(SECRET, body)).status_code == 413
    assert bus.calls == []


def test_bus_failure_gets_500_so_x_redelivers(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    failing = RecordingBus(failures=[ConnectionError("down")] * 10)
    monkeypatch.setattr(wiring, "event_bus", lambda: failing)
    monkeypatch.setattr(wiring, "webhook_secret", lambda: StaticSecret(SECRET))
    monkeypatch.setattr("chalicelib.publishing.time.sleep", lambda _: None)
    body = (FIXTURES / "follow_events_follow.json").read_bytes()
    response = _post(client, body, sign(SECRET, body))
    assert response.status_code == 500
    assert "down" not in response.body.decode()


@pytest.mark.parametrize("path", delivery_files(), ids=lambda p: p.name)
def test_every_real_delivery_is_accepted(client: Client, bus: RecordingBus, path: Any) -> None:
    body = path.read_bytes()
    assert _post(client, body, sign(SECRET, body)).status_code == 200
    assert len(_published(bus)) >= 1
