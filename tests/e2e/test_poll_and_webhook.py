"""A post that reaches the bot by the webhook AND by the mentions poller is analysed once and
answered once (issue 9, section 1), on the real local runtime: `botctl serve --poll` polling a
server that replays X's recorded answer (tests/fixtures/x-mentions/SOURCES.md), the webhook
receiving the same post as Account Activity delivers it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from botlocal.background import free_port
from botlocal.checkpoint import SqlitePollCheckpoint
from botlocal.compose import LOCAL_BOT_USER_ID, compose_mention
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign
from chalicelib.ports import PollState

from tests.e2e.runtime import BOTCTL, LocalRuntime
from tests.e2e.test_exactly_once import v2_post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x-mentions"


def _mentions_page(post: dict[str, Any]) -> dict[str, Any]:
    """X's answer (the shape of tests/fixtures/x-mentions/page_older.json) holding the same post."""
    user = post["user"]
    page: dict[str, Any] = json.loads((FIXTURES / "page_empty.json").read_text(encoding="utf-8"))
    page["data"] = [v2_post(post)]
    page["includes"] = {"users": [{"id": user["id_str"], "username": user["screen_name"], "name": user["name"]}]}
    page["meta"] = {"newest_id": post["id_str"], "oldest_id": post["id_str"], "result_count": 1}
    return page


@contextmanager
def replaying_x(answer: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server answering GET /2/users/<bot>/mentions with `answer` and X's rate-limit
    headers; yields its base URL and the paths it was asked for."""
    asked: list[str] = []
    body = json.dumps(answer).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            known = self.path.startswith(f"/2/users/{LOCAL_BOT_USER_ID}/mentions?")
            self.send_response(200 if known else 404)
            self.send_header("content-type", "application/json")
            self.send_header("x-rate-limit-limit", "10")
            self.send_header("x-rate-limit-remaining", "9")
            self.send_header("x-rate-limit-reset", str(int(time.time()) + 900))
            self.end_headers()
            self.wfile.write(body if known else b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serving_with_poll(state: Path, x_api_base: str) -> Iterator[tuple[LocalRuntime, Path]]:
    port = free_port()
    env = {
        **os.environ,
        "BOT_LOCAL_DIR": str(state / "bot"),
        "BOT_USER_ID": LOCAL_BOT_USER_ID,
        "X_API_BASE": x_api_base,
        "TWITTER_API_KEY": "recorded-key",
        "TWITTER_API_SECRET": "recorded-secret",
        "TWITTER_ACCESS_TOKEN": "recorded-token",
        "TWITTER_ACCESS_TOKEN_SECRET": "recorded-token-secret",
    }
    env.pop("BOT_EGRESS", None)  # replies go to the dry-run outbox
    log_path = state / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BOTCTL), "serve", "--port", str(port), "--no-page", "--poll", "--poll-interval", "60"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while "Polling X for mentions" not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "botctl serve --poll did not start"
                time.sleep(0.1)
            yield LocalRuntime(url=f"http://127.0.0.1:{port}/twitter", env=env, local_dir=state / "bot"), log_path
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.mark.slow
def test_a_post_by_webhook_and_by_poll_is_analysed_once_and_answered_once(tmp_path: Path) -> None:
    composed = compose_mention("tell me a joke please", author="polly", photo_urls=[])
    (post,) = composed.delivery["tweet_create_events"]
    # The poller has run before (its checkpoint is older than the post): this run reads the post.
    layout = LocalLayout((tmp_path / "bot").resolve())
    assert SqlitePollCheckpoint(layout.poll_checkpoint).save(
        LOCAL_BOT_USER_ID, PollState(since_id="1000000000000000002", version=1)
    )
    body = json.dumps(composed.delivery).encode("utf-8")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)}
    with (
        replaying_x(_mentions_page(post)) as (x_api_base, asked),
        serving_with_poll(tmp_path, x_api_base) as (
            runtime,
            log_path,
        ),
    ):
        deadline = time.monotonic() + 60
        while "mentions polled" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert requests.post(runtime.url, data=body, headers=headers, timeout=10).status_code == 200
        runtime.wait()
        counts = {
            row["detail_type"]: row["n"]
            for row in runtime.query(
                'SELECT detail_type, count(*) AS n FROM "analysed-messages-table" '
                f"WHERE detail.twitter.tweetid = '{composed.tweet_id}' "
                f"OR detail.replytotweetid = '{composed.tweet_id}' GROUP BY detail_type"
            )
        }
    assert asked and "since_id=1000000000000000002" in asked[0]
    # Both arrivals are in the lake; one analysis, one reply.
    assert counts == {"MESSAGE_RECEIVED": 2, "MESSAGE_ANALYSED": 1, "SEND_TWEET": 1, "REPLY_POSTED": 1}
    assert [reply["ReplyToTweetId"] for reply in read_outbox(layout.outbox)] == [composed.tweet_id]
