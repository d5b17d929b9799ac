"""`botctl serve --poll` on the local runtime: it refuses to start without what polling needs, and
its poll thread runs the app's scheduled handler against recorded X answers onto the local bus."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import responses
from botlocal.chalice_app import find_runtime_dir, load_chalice_app
from botlocal.checkpoint import SqlitePollCheckpoint
from botlocal.cli import main
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.polling import prepare_polling
from chalicelib import wiring
from chalicelib.contracts import names
from chalicelib.settings import load_settings
from click.testing import CliRunner

BOT = "1111111111111111111"
API = "https://api.x.test"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x-mentions"
CREDENTIALS = {
    "TWITTER_API_KEY": "consumer-key-123",
    "TWITTER_API_SECRET": "consumer-secret-SECRET",
    "TWITTER_ACCESS_TOKEN": "1234-access-token",
    "TWITTER_ACCESS_TOKEN_SECRET": "access-token-secret-SECRET",
}


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_poll_without_bot_user_id_or_credentials_says_what_to_set(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOT_USER_ID", raising=False)
    for variable in CREDENTIALS:
        monkeypatch.delenv(variable, raising=False)
    result = CliRunner().invoke(main, ["serve", "--poll", "--port", str(free_port()), "--local-dir", str(local_dir)])
    assert result.exit_code == 1, result.output
    assert "BOT_USER_ID" in result.output and "TWITTER_ACCESS_TOKEN_SECRET" in result.output
    assert "Webhook ready" not in result.output and "Traceback" not in result.output
    assert not LocalLayout(local_dir.resolve()).server.exists()


def test_serve_poll_with_credentials_but_no_bot_user_id_names_only_that(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOT_USER_ID", raising=False)
    for variable, value in CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["serve", "--poll", "--port", str(free_port()), "--local-dir", str(local_dir)])
    assert result.exit_code == 1
    assert "BOT_USER_ID" in result.output and "TWITTER_API_KEY" not in result.output


@pytest.mark.parametrize("bot_user_id", ["@ExampleUser", "9" * 20, str(2**63), "0"])
def test_serve_poll_with_a_bot_user_id_that_is_not_an_x_id_says_it_needs_the_numeric_id(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch, bot_user_id: str
) -> None:
    # Digits alone are not enough: 20 digits, 2**63 or 0 would start, and every poll would fail.
    monkeypatch.setenv("BOT_USER_ID", bot_user_id)
    monkeypatch.setenv("X_API_BASE", API)  # never the real X, should it start polling after all
    for variable, value in CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["serve", "--poll", "--port", str(free_port()), "--local-dir", str(local_dir)])
    assert result.exit_code == 1, result.output
    assert f"numeric X account id, not '{bot_user_id}'" in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    assert not LocalLayout(local_dir.resolve()).server.exists()


def test_the_poll_thread_runs_the_scheduled_handler_onto_the_local_bus(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_USER_ID", BOT)
    monkeypatch.setenv("X_API_BASE", API)
    for variable, value in CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    runtime_dir = find_runtime_dir()
    app = load_chalice_app(runtime_dir)
    wiring.reset()
    polling = prepare_polling(app, load_settings(), runtime_dir, interval_minutes=1)
    layout = LocalLayout(local_dir.resolve())
    url = f"{API}/2/users/{BOT}/mentions"
    with responses.RequestsMock() as x:
        x.get(url, json=fixture("first_run.json"), headers={"x-rate-limit-remaining": "9"})
        x.get(url, json=fixture("page_older.json"), headers={"x-rate-limit-remaining": "8"})
        assert polling.poll_once() == {"outcome": "started", "pages": 1, "events": 0, "messages": 0, "not_before": None}
        second = polling.poll_once()
    assert second["outcome"] == "caught-up" and second["messages"] == 1
    with Journal(layout.journal) as journal:
        recorded = [event.envelope["detail-type"] for event in journal.unrouted(limit=100)]
    assert recorded.count(names.TWITTER_MENTION_POLLED) == 3
    assert recorded.count(names.MESSAGE_RECEIVED) == 1 and recorded.count(names.MESSAGE_SKIPPED) == 1
    state = SqlitePollCheckpoint(layout.poll_checkpoint).load(BOT)
    assert state is not None and state.since_id == "2080765813578191320"


def test_a_failed_poll_is_logged_and_the_thread_goes_on(local_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_USER_ID", BOT)
    monkeypatch.setenv("X_API_BASE", API)
    for variable, value in CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    runtime_dir = find_runtime_dir()
    app = load_chalice_app(runtime_dir)
    wiring.reset()
    polling = prepare_polling(app, load_settings(), runtime_dir, interval_minutes=1)
    with responses.RequestsMock() as x:
        x.get(f"{API}/2/users/{BOT}/mentions", json=fixture("error_401.json"), status=401)
        assert polling.poll_once() is None
