"""The scheduled handler ingress_poll_mentions through Chalice's test client: thin, and quiet when
polling is not configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.app import Rate, ScheduledEventConfig
from chalice.test import Client
from chalicelib import wiring
from chalicelib.contracts import names
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.ports import MentionsPage, RateLimit, XReadError
from chalicelib.settings import DEFAULT_POLL_INTERVAL_MINUTES

from tests.fakes import FakeAdapters, FakeMentionsReader, use_fake_adapters

BOT = "1111111111111111111"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x-mentions"
RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def page(name: str) -> MentionsPage:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    meta = body.get("meta", {})
    return MentionsPage(
        posts=body.get("data", []),
        includes=body.get("includes", {}),
        next_token=meta.get("next_token"),
        rate_limit=RateLimit(remaining=9, reset_at=None),
    )


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def invoke(client: Client) -> Any:
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:::rule/poll"]
    )
    return client.lambda_.invoke("ingress_poll_mentions", event).payload


def test_the_schedule_is_registered_at_the_default_interval() -> None:
    from app import app

    (schedule,) = [s for s in app.event_sources if getattr(s, "name", "") == "ingress_poll_mentions"]
    assert isinstance(schedule, ScheduledEventConfig)
    assert isinstance(schedule.schedule_expression, Rate)
    assert schedule.schedule_expression.to_string() == f"rate({DEFAULT_POLL_INTERVAL_MINUTES} minutes)"


def test_without_bot_user_id_it_logs_and_returns(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("BOT_USER_ID", raising=False)
    adapters = use_fake_adapters(monkeypatch)
    assert invoke(client) == {"outcome": "not-configured"}
    assert adapters.mentions.calls == []
    (record,) = [r for r in caplog.records if r.getMessage() == "mentions poller not configured; nothing polled"]
    assert "BOT_USER_ID is not set" in record.__dict__["reason"]


@pytest.mark.parametrize("bot_user_id", ["@ExampleUser", "9" * 20, "0"])
def test_a_bot_user_id_that_is_not_an_x_id_is_a_configuration_error_not_a_refusal_by_x(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, bot_user_id: str
) -> None:
    # The wiring refuses it beside "not set": X was never called, so nothing may say X refused it.
    monkeypatch.setenv("BOT_USER_ID", bot_user_id)
    adapters = use_fake_adapters(monkeypatch)
    with pytest.raises(ConfigurationError, match="not a numeric X account id"):
        wiring.mentions_poller()
    assert invoke(client) == {"outcome": "not-configured"}
    assert adapters.mentions.calls == []
    (record,) = [r for r in caplog.records if r.getMessage() == "mentions poller not configured; nothing polled"]
    assert "not a numeric X account id" in record.__dict__["reason"]
    assert not [r for r in caplog.records if "refused by X" in r.getMessage()]


def test_a_poll_publishes_the_new_mentions(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_USER_ID", BOT)
    adapters = FakeAdapters()
    adapters.mentions = FakeMentionsReader([page("first_run.json"), page("page_older.json")])
    use_fake_adapters(monkeypatch, adapters)

    assert invoke(client)["outcome"] == "started"
    assert adapters.bus.entries == []
    result = invoke(client)
    assert result["outcome"] == "caught-up" and result["messages"] == 1
    assert adapters.mentions.calls[1]["since_id"] == "2080765813578191290"
    types = [entry["DetailType"] for entry in adapters.bus.entries]
    assert types.count(names.MESSAGE_RECEIVED) == 1 and types.count(names.TWITTER_MENTION_POLLED) == 3


def test_x_refusing_is_logged_on_one_line_and_fails_the_run(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BOT_USER_ID", BOT)
    adapters = FakeAdapters()
    adapters.mentions = FakeMentionsReader([XReadError("GET /2/users/1/mentions -> 401: Unauthorized", status=401)])
    use_fake_adapters(monkeypatch, adapters)

    with pytest.raises(Exception, match="401: Unauthorized"):
        invoke(client)
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.getMessage() == "mentions poll refused by X"
    reason = record.__dict__["reason"]
    assert "401: Unauthorized" in reason and "\n" not in reason


def test_the_aws_poller_needs_its_checkpoint_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_ADAPTERS", raising=False)
    monkeypatch.setenv("BOT_USER_ID", BOT)
    monkeypatch.delenv("POLL_CHECKPOINT_TABLE", raising=False)
    with pytest.raises(ConfigurationError, match="POLL_CHECKPOINT_TABLE"):
        wiring.mentions_poller()


def test_the_local_poller_names_the_missing_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from botlocal.adapters import LOCAL_ADAPTERS

    monkeypatch.setenv("BOT_ADAPTERS", LOCAL_ADAPTERS)
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("BOT_USER_ID", BOT)
    for variable in ("TWITTER_API_KEY", "TWITTER_API_SECRET", "TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        wiring.mentions_poller()
    message = str(caught.value)
    assert "polling X for mentions" in message and "TWITTER_ACCESS_TOKEN_SECRET" in message


def test_a_transient_failure_is_logged_on_one_line_and_fails_the_run(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chalicelib.adapters.x_api import XApiTransientError

    monkeypatch.setenv("BOT_USER_ID", BOT)
    adapters = FakeAdapters()
    adapters.mentions = FakeMentionsReader(
        [page("first_run.json"), XApiTransientError("GET /2/users/1/mentions -> 200: the answer is not JSON")]
    )
    use_fake_adapters(monkeypatch, adapters)
    assert invoke(client)["outcome"] == "started"

    with pytest.raises(Exception, match="not JSON"):
        invoke(client)
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.getMessage() == "mentions poll failed; the next run retries"
    assert record.__dict__["reason"] == "XApiTransientError: GET /2/users/1/mentions -> 200: the answer is not JSON"
