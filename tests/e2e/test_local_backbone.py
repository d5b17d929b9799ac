"""The backbone's promise on the local runtime, through the real commands a user runs.

`botctl serve` (what `make local` runs), `botctl send` with every real body from X, a forged and an
unsigned POST, `botctl wait`, then `botctl query` on the data lake.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chalicelib.ingress.signature import sign

from tests.conftest import FIXTURES, delivery_files

BOTCTL = Path(sys.executable).parent / "botctl"
VECTORS = json.loads((FIXTURES / "signature_test_vectors.json").read_text())
#: The runtime is configured with the vectors' consumer secret, so X's own answers must come back.
SECRET = VECTORS["crc"][0]["consumer_secret"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    state = tmp_path_factory.mktemp("local")
    port = _free_port()
    env = {**os.environ, "BOT_LOCAL_DIR": str(state / "bot"), "TWITTER_CONSUMER_SECRET": SECRET}
    log = (state / "serve.log").open("w")
    # Output goes to a file: a pipe nobody reads would fill up and block the server.
    process = subprocess.Popen(
        [str(BOTCTL), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}/twitter"
    try:
        deadline = time.monotonic() + 60
        while "Webhook ready" not in (state / "serve.log").read_text():
            assert process.poll() is None, (state / "serve.log").read_text()
            assert time.monotonic() < deadline, "botctl serve did not start"
            time.sleep(0.1)
        yield url, env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _botctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BOTCTL), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _query(env: dict[str, str], sql: str) -> list[dict[str, Any]]:
    result = _botctl(env, "query", sql, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.mark.slow
def test_local_backbone_end_to_end(runtime: tuple[str, dict[str, str]]) -> None:
    url, env = runtime
    # CRC: the vector's own query (with X's nonce) gets X's expected answer; invalid tokens get 400.
    crc = VECTORS["crc"][0]
    answer = requests.get(f"{url}?{crc['request_query']}", timeout=10)
    assert (answer.status_code, answer.json()) == (200, crc["expected_response_body"])
    assert requests.get(url, params={"crc_token": "not valid!"}, timeout=10).status_code == 400
    assert requests.get(url, timeout=10).status_code == 400

    # The signed POST vector: exact bytes and header as X sent them.
    (signed,) = VECTORS["post_signature"]
    assert signed["consumer_secret"] == SECRET
    accepted = requests.post(
        url,
        data=(FIXTURES / signed["body_file"]).read_bytes(),
        headers={"content-type": "application/json", **signed["header"]},
        timeout=10,
    )
    assert accepted.status_code == 200, accepted.text

    # Forged and unsigned deliveries are refused and add nothing.
    body = (FIXTURES / "tweet_create_events_mention_reply.json").read_bytes()
    forged = requests.post(url, data=body, headers={"x-twitter-webhooks-signature": sign("wrong", body)}, timeout=10)
    unsigned = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=10)
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert _botctl(env, "wait", "--timeout", "30").returncode == 0
    assert _query(env, 'SELECT detail_type FROM "analysed-messages-table"') == [{"detail_type": "TWITTER_TWEETED"}]

    # Every real body from X is accepted.
    files = [str(path) for path in delivery_files()]
    sent = _botctl(env, "send", "--url", url, *files)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    waited = _botctl(env, "wait", "--timeout", "60")
    assert waited.returncode == 0, waited.stdout + waited.stderr

    counts = {
        row["detail_type"]: row["events"]
        for row in _query(env, 'SELECT detail_type, count(*) AS events FROM "analysed-messages-table" GROUP BY 1')
    }
    assert counts["TWITTER_TWEETED"] == 9 + 1  # and the signed vector's body
    assert counts["TWITTER_UNFOLLOWED"] == 1
    assert counts["TWITTER_PERMISSION_REVOKED"] == 1
    assert counts["X_POST_MENTION_CREATE"] == 1
    assert counts["MESSAGE_RECEIVED"] == 5

    messages = _query(
        env,
        'SELECT detail.author AS author, detail.twitter.tweetid AS tweet_id FROM "analysed-messages-table" '
        "WHERE detail_type = 'MESSAGE_RECEIVED' ORDER BY tweet_id",
    )
    own_reply = json.loads((FIXTURES / "tweet_create_events_own_reply.json").read_text())["tweet_create_events"][0]
    retweet = json.loads((FIXTURES / "tweet_create_events_retweet.json").read_text())["tweet_create_events"][0]
    tweet_ids = {row["tweet_id"] for row in messages}
    assert own_reply["id_str"] not in tweet_ids
    assert retweet["id_str"] not in tweet_ids
    assert {row["author"] for row in messages} >= {"TanuLearns", "JE_Gordon", "nneleaa", "OtherUser"}
