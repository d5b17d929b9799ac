"""Nothing acknowledged is lost when `botctl serve` is killed with SIGKILL in the middle of a burst.

A burst of signed text mentions from concurrent senders; `botctl serve` gets SIGKILL once some of
them were answered 200. Its `chalice local` child must die with it (nothing answers the port any
more: no delivery is acknowledged with nobody behind it). `botctl serve` then restarts on the same
state folder and every delivery that was answered 200 is analysed and answered exactly once
(with two known gaps, named where they are asserted).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from botlocal.compose import compose_mention
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from botlocal.query import run_query
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

from tests.e2e.runtime import BOTCTL

SENDERS = 4
#: Each sender's cap; the kill comes long before it.
POSTS_PER_SENDER = 60
#: Between one sender's posts: a burst that lasts while the first replies are written.
SEND_INTERVAL_SECONDS = 0.4
#: SIGKILL once this many deliveries were answered 200 and this many replies are in the outbox: the
#: dispatcher is busy and the burst goes on.
KILL_AFTER_ACCEPTED = 12
KILL_AFTER_REPLIES = 2


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    port: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> set[int]:
    """The direct children of pid (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(map(int, (task / "children").read_text().split()))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def _serve(local_dir: Path, log_path: Path, env: dict[str, str]) -> Iterator[Server]:
    port = _free_port()
    with log_path.open("w") as log:
        # Output goes to a file: a pipe nobody reads would fill up and block the server.
        process = subprocess.Popen(
            [str(BOTCTL), "serve", "--port", str(port), "--no-page", "--local-dir", str(local_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while "Webhook ready" not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "botctl serve did not start"
                time.sleep(0.1)
            yield Server(process=process, url=f"http://127.0.0.1:{port}/twitter", port=port)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


def _mention(sender: int, index: int) -> tuple[str, bytes]:
    # Each post by its own author in its own thread: no per-author or per-thread limit applies.
    composed = compose_mention(
        f"What a lovely morning, thank you! ({sender}-{index})", author=f"crash_{sender}_{index}", photo_urls=[]
    )
    return composed.tweet_id, json.dumps(composed.delivery).encode("utf-8")


class _Burst:
    """Concurrent senders posting signed mentions; records which tweet got which answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.accepted: list[str] = []  # answered 200
        self.other: list[tuple[str, str]] = []  # (tweet id, what happened instead)
        self.lock = threading.Lock()

    def send(self, sender: int) -> None:
        with requests.Session() as session:
            for index in range(POSTS_PER_SENDER):
                tweet_id, body = _mention(sender, index)
                headers = {
                    "content-type": "application/json",
                    SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body),
                }
                try:
                    status = str(session.post(self.url, data=body, headers=headers, timeout=10).status_code)
                except requests.RequestException as error:
                    status = type(error).__name__
                with self.lock:
                    if status == "200":
                        self.accepted.append(tweet_id)
                    else:
                        self.other.append((tweet_id, status))
                        return  # the server is gone: the rest of this sender's burst is never sent
                time.sleep(SEND_INTERVAL_SECONDS)


def _count_by_tweet(local_dir: Path, detail_type: str) -> Counter[str]:
    """Events (distinct ids: a lake may hold a replayed record twice) of one type, per post."""
    _, rows = run_query(
        'SELECT DISTINCT id, detail.twitter.tweetid AS tweet_id FROM "analysed-messages-table" '
        f"WHERE detail_type = '{detail_type}'",
        local_dir,
    )
    return Counter(str(row[1]) for row in rows)


def _cut_between_publish_and_mark(local_dir: Path) -> set[str]:
    """Posts whose MESSAGE_ANALYSED was published while their analysis claim was still in progress:
    the kill fell between the publish (the journal) and the claim's "completed" mark (another
    store). The delivery is replayed, its own claim is granted again and the analysis is published
    a second time; no store can make two stores' writes atomic (EventBridge takes no deduplication
    id either), so the reply's exactly-once store is what keeps the answer single (asserted below).
    """
    layout = LocalLayout(local_dir)
    with sqlite3.connect(layout.idempotency) as claims:
        in_progress = {
            str(key).removeprefix("analysis:")
            for (key,) in claims.execute("SELECT id FROM claims WHERE status = 'INPROGRESS' AND id LIKE 'analysis:%'")
        }
    with sqlite3.connect(layout.journal) as journal:
        envelopes = [json.loads(envelope) for (envelope,) in journal.execute("SELECT envelope FROM events")]
    published = {
        str(envelope["detail"]["Twitter"]["TweetId"])
        for envelope in envelopes
        if envelope.get("detail-type") == "MESSAGE_ANALYSED"
    }
    return in_progress & published


@pytest.mark.slow
def test_sigkill_mid_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    local_dir = (tmp_path / "bot").resolve()
    env = {**os.environ, "BOT_LOCAL_DIR": str(local_dir)}

    with _serve(local_dir, tmp_path / "serve-1.log", env) as first:
        (chalice_child,) = _children(first.process.pid)
        burst = _Burst(first.url)
        senders = [threading.Thread(target=burst.send, args=(sender,)) for sender in range(SENDERS)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 45
        while (
            len(burst.accepted) < KILL_AFTER_ACCEPTED
            or len(read_outbox(LocalLayout(local_dir).outbox)) < KILL_AFTER_REPLIES
        ):
            assert time.monotonic() < deadline, (
                f"no replies while the burst went on: {len(burst.accepted)} accepted, {burst.other}\n"
                + (tmp_path / "serve-1.log").read_text()[-3000:]
            )
            time.sleep(0.05)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        for thread in senders:
            thread.join(timeout=60)

        # The child noticed: it is gone and nothing answers the port (nothing acknowledged in vain).
        deadline = time.monotonic() + 10
        while (_alive(chalice_child) or _answers(first.port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(chalice_child), "chalice local outlived botctl serve"
        assert not _answers(first.port), "something still answers the killed server's port"

    accepted = set(burst.accepted)
    cut = _cut_between_publish_and_mark(local_dir)
    assert accepted, "nothing was accepted"
    assert len(accepted) < SENDERS * POSTS_PER_SENDER, "the kill landed after the burst, not in it"

    # Restarted on the same state: what the first run acknowledged and did not finish is delivered.
    with _serve(local_dir, tmp_path / "serve-2.log", env):
        waited = subprocess.run(
            # Long enough for an in-progress mark left by the kill to lapse (the function's 60 s).
            [str(BOTCTL), "wait", "--timeout", "150", "--local-dir", str(local_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=210,
            check=False,
        )
        assert waited.returncode == 0, waited.stdout + waited.stderr

    layout = LocalLayout(local_dir)
    analysed = _count_by_tweet(local_dir, "MESSAGE_ANALYSED")
    replies = Counter(str(entry.get("ReplyToTweetId")) for entry in read_outbox(layout.outbox))
    with Journal(layout.journal) as journal:
        dead = journal.dead_letters()
    report = (
        f"accepted {len(accepted)}, other answers {Counter(status for _, status in burst.other)}, "
        f"dead letters {[(letter.target, letter.last_error) for letter in dead]}"
    )
    # Exactly once: the analysis claim (issue 8 section 1) stops a redelivery after the restart from
    # analysing a post twice (before it, about one run in twenty analysed one post twice); the one
    # gap is a kill between the publish and the claim's mark (see _cut_between_publish_and_mark).
    report += f", cut between publish and mark {sorted(cut)}"
    expected = {tweet: (analysed[tweet] if tweet in cut and analysed[tweet] <= 2 else 1) for tweet in accepted}
    assert {tweet: analysed[tweet] for tweet in accepted} == expected, report
    # Exactly one reply each, with no dead letter: a kill while egress held its in-progress mark
    # leaves the mark to lapse (at most the function's 60 s); meanwhile the dispatcher defers the
    # reply (ConcurrentDeliveryError is a RetryLaterError) instead of dead-lettering it, and then
    # posts it, or finds it already in the outbox, which refuses the same reply twice, as X does.
    assert not dead, report
    assert {tweet: replies[tweet] for tweet in accepted} == dict.fromkeys(accepted, 1), report
    # A delivery cut off by the kill may or may not have been recorded; it is never answered twice.
    assert max(replies.values()) == 1, replies
    sent = accepted | {tweet for tweet, _ in burst.other}
    assert set(replies) <= sent, "a reply to a post nobody sent"
