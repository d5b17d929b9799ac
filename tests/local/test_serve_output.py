"""The `botctl serve` terminal (issue 11, section 1): start-up lines, one line per message handled,
one line per warning or error; every line of output in the state folder's serve.log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from botlocal.layout import LocalLayout
from botlocal.serve_output import summary_of, verbose_from_env

from tests.e2e.runtime import LocalRuntime, serving

LOG = Path("/state/serve.log")


def test_info_log_lines_and_access_lines_stay_in_the_log_file() -> None:
    botlocal_info = json.dumps({"level": "INFO", "logger": "botlocal.dispatcher", "message": "delivered"})
    powertools_info = json.dumps({"level": "INFO", "message": "reply handled", "service": "xbot"})
    access = '127.0.0.1 - - [03/Dec/2026 07:44:08] "POST /twitter HTTP/1.1" 200 -'
    for line in (botlocal_info, powertools_info, access, '  File "x.py", line 3, in f', "Traceback (most recent"):
        assert summary_of(line + "\n", LOG) is None, line


def test_a_warning_or_an_error_is_one_line_that_points_to_the_log_file() -> None:
    dead = json.dumps(
        {"level": "ERROR", "logger": "botlocal.dispatcher", "message": "dead-lettered", "error": "boom\nsecond"}
    )
    refused = json.dumps({"level": "WARNING", "message": "webhook call refused", "service": "xbot", "reason": "bad"})
    assert summary_of(dead, LOG) == "ERROR botlocal.dispatcher: dead-lettered: second (details in /state/serve.log)"
    assert summary_of(refused, LOG) == "WARNING xbot: webhook call refused: bad (details in /state/serve.log)"
    assert summary_of("ValueError: nope", LOG) == "ValueError: nope (details in /state/serve.log)"


def test_the_start_up_address_and_the_pollers_heartbeat_stay_on_the_terminal() -> None:
    assert summary_of("Serving on http://127.0.0.1:8000\n", LOG) == "Serving on http://127.0.0.1:8000"
    polled = json.dumps({"level": "INFO", "message": "mentions polled", "published": 2, "pages": 1})
    assert summary_of(polled, LOG) == "mentions polled: published 2, pages 1"


def test_bot_log_verbose_turns_verbose_on() -> None:
    assert verbose_from_env({"BOT_LOG_VERBOSE": "1"})
    assert not verbose_from_env({"BOT_LOG_VERBOSE": "0"})
    assert not verbose_from_env({})


def _ask_for_a_joke(runtime: LocalRuntime) -> str:
    sent = runtime.botctl("tweet", "tell me a joke", "--author", "frank", "--url", runtime.url)
    assert sent.returncode == 0, sent.stderr
    runtime.wait()
    outbox = runtime.botctl("outbox", "--format", "json")
    assert outbox.returncode == 0, outbox.stderr
    (reply,) = [entry for entry in json.loads(outbox.stdout) if entry["ReplyToTweetId"] == sent.stdout.strip()]
    return str(reply["Text"])


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            lines.append(record)
    return lines


@pytest.mark.slow
def test_the_terminal_shows_the_reply_in_one_line_and_the_log_file_the_json_lines(tmp_path: Path) -> None:
    with serving(tmp_path) as runtime:
        reply = _ask_for_a_joke(runtime)
        log_file = LocalLayout(runtime.local_dir).log
        # The summary follower polls the journal: give it a moment after the bus went idle.
        _wait_for(tmp_path / "serve.log", reply)
    terminal = (tmp_path / "serve.log").read_text()  # what the terminal showed, including the stop
    (line,) = [line for line in terminal.splitlines() if reply in line]
    assert "SEND_TWEET" in line and "@frank" in line
    assert "Webhook ready at http://127.0.0.1:" in terminal and str(log_file) in terminal
    assert "botctl serve stopped" in terminal
    assert _json_lines(terminal) == [], terminal
    assert '"POST /twitter HTTP/1.1" 200' not in terminal

    logged = log_file.read_text()
    messages = {record.get("message") for record in _json_lines(logged)}
    assert {"ready", "delivered", "delivery accepted", "reply handled"} <= messages  # botlocal's and Powertools'
    assert '"POST /twitter HTTP/1.1" 200' in logged  # chalice local's access line


@pytest.mark.slow
def test_verbose_keeps_every_line_on_the_terminal(tmp_path: Path) -> None:
    with serving(tmp_path, BOT_LOG_VERBOSE="1") as runtime:
        _ask_for_a_joke(runtime)
    terminal = (tmp_path / "serve.log").read_text()
    messages = {record.get("message") for record in _json_lines(terminal)}
    assert {"delivered", "delivery accepted", "reply handled"} <= messages, terminal
    assert '"POST /twitter HTTP/1.1" 200' in terminal
    # ... and the log file has them too.
    assert "reply handled" in (LocalLayout(runtime.local_dir).log).read_text()


def _wait_for(path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in (content := path.read_text()):
        assert time.monotonic() < deadline, content
        time.sleep(0.1)
    return content
