"""The handler-testing recipes of CONTRIBUTING.md, run as written, so the page stays true."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client
from chalicelib.ingress.signature import sign

from tests.conftest import FIXTURES
from tests.fakes import use_fake_adapters

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def test_the_crc_check_answers_on_fake_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import app

    adapters = use_fake_adapters(monkeypatch)
    with Client(app) as client:
        response = client.http.get("/twitter?crc_token=abc")
    assert response.status_code == 200
    assert adapters.bus.entries == []


def test_a_delivery_is_recorded_on_the_local_stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app import app
    from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
    from botlocal.journal import Journal
    from botlocal.layout import LocalLayout

    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    body = (FIXTURES / "tweet_create_events_quote.json").read_bytes()
    headers = {
        "Content-Type": "application/json",
        "x-twitter-webhooks-signature": sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body),
    }
    with Client(app, stage_name="local", project_dir=str(RUNTIME)) as client:
        response = client.http.post("/twitter", headers=headers, body=body)
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"events": 2}
    journal = Journal(LocalLayout(tmp_path).journal)
    try:
        assert sorted(event.envelope["detail-type"] for event in journal.unrouted()) == [
            "MESSAGE_RECEIVED",
            "TWITTER_TWEETED",
        ]
    finally:
        journal.close()
