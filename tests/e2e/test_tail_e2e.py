"""Issue 11's "Done when": `botctl tail` shows a scenario's events as they happen.

`botctl serve` runs; `botctl tail --json` follows it as a separate process (as a person would in a
second terminal) from before the first post; `botctl tweet` sends a joke request and a negative
post; the test reads the tail's output line by line until it has seen, for each post, the events
of its way through the bot (and the alert for the negative one).
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.runtime import BOTCTL, serving

#: How long the bot may take to answer both posts (local models load on first use).
TIMEOUT_SECONDS = 240


def _lines(stream: Any, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.mark.slow
def test_tail_shows_a_scenarios_events_as_they_happen(tmp_path: Path) -> None:
    with serving(tmp_path) as runtime:
        env = {**runtime.env, "NO_COLOR": "1"}
        follower = subprocess.Popen(
            [str(BOTCTL), "tail", "--json", "--lines", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        received: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_lines, args=(follower.stdout, received), daemon=True).start()
        try:
            time.sleep(1.0)  # the tail is following (it starts at the journal's end: -n 0)
            joke = runtime.botctl("tweet", "tell me a joke", "--author", "frank", "--url", runtime.url)
            assert joke.returncode == 0, joke.stderr
            negative = runtime.botctl(
                "tweet", "you are a terrible, useless and awful bot", "--author", "grumpy", "--url", runtime.url
            )
            assert negative.returncode == 0, negative.stderr
            joke_id, negative_id = joke.stdout.strip(), negative.stdout.strip()

            wanted = {
                (joke_id, "MESSAGE_RECEIVED"),
                (joke_id, "MESSAGE_ANALYSED"),
                (joke_id, "SEND_TWEET"),
                (joke_id, "REPLY_POSTED"),
                (negative_id, "MESSAGE_RECEIVED"),
                (negative_id, "MESSAGE_ANALYSED"),
                (negative_id, "ALERT"),
            }
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while wanted - {(_post_of(record), record["type"]) for record in seen}:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"tail showed only {seen}; serve log: {(tmp_path / 'serve.log').read_text()}"
                try:
                    line = received.get(timeout=remaining)
                except queue.Empty:
                    continue
                assert line is not None, f"tail ended: {follower.stderr.read() if follower.stderr else ''}"
                seen.append(json.loads(line))
        finally:
            follower.kill()
            follower.wait(timeout=30)

    by_kind = {(_post_of(record), record["type"]): record for record in seen}
    assert by_kind[(joke_id, "MESSAGE_RECEIVED")]["summary"].endswith('tell me a joke"')
    assert by_kind[(joke_id, "MESSAGE_RECEIVED")]["author"] == "frank"
    assert by_kind[(joke_id, "SEND_TWEET")]["summary"].startswith('reply "@frank ')
    assert by_kind[(negative_id, "MESSAGE_ANALYSED")]["summary"].startswith("NEGATIVE")
    assert by_kind[(negative_id, "ALERT")]["summary"] == "Negative message from @grumpy (NEGATIVE)"
    # In the order they happened: a post is received, analysed, answered, and the answer posted.
    order = [(_post_of(record), record["type"]) for record in seen]
    joke_steps = ["MESSAGE_RECEIVED", "MESSAGE_ANALYSED", "SEND_TWEET", "REPLY_POSTED"]
    assert [kind for post, kind in order if post == joke_id and kind in joke_steps] == joke_steps
    assert "\x1b" not in "".join(json.dumps(record) for record in seen)


def _post_of(record: dict[str, Any]) -> str | None:
    """The post a line is about: its own id, or the one a reply answers."""
    ids = record["ids"]
    post = ids.get("TweetId") or ids.get("ReplyToTweetId")
    return str(post) if post else None
