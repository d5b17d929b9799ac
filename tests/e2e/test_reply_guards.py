"""The loop and abuse guards on the real local runtime (issue: "Hold under real traffic", section 2):
a burst of mentions by one author in one thread gets at most the configured number of replies, and
every other one is recorded in the lake as REPLY_SKIPPED with its reason; each reply posted is
recorded as REPLY_POSTED with its latency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from botlocal.compose import compose_mention, snowflake
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

from tests.e2e.runtime import serving

MENTIONS = 20
PER_AUTHOR = 4


@pytest.mark.slow
def test_twenty_rapid_mentions_by_one_author_in_one_thread_get_at_most_the_limit(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    thread = snowflake(datetime.now(UTC))
    bodies: list[bytes] = []
    tweet_ids: list[str] = []
    for n in range(MENTIONS):
        composed = compose_mention(f"tell me a joke, number {n}", author="mallory", photo_urls=[])
        (post,) = composed.delivery["tweet_create_events"]
        post["in_reply_to_status_id_str"] = thread  # one thread: every mention answers its first post
        bodies.append(json.dumps(composed.delivery).encode("utf-8"))
        tweet_ids.append(composed.tweet_id)

    def deliver(body: bytes) -> int:
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)}
        return requests.post(runtime.url, data=body, headers=headers, timeout=30).status_code

    with serving(tmp_path, REPLIES_PER_AUTHOR=str(PER_AUTHOR)) as runtime:
        with ThreadPoolExecutor(max_workers=5) as pool:
            assert list(pool.map(deliver, bodies)) == [200] * MENTIONS
        runtime.wait(timeout=300)
        # `botctl query skipped-messages`: the named query, by its name.
        skipped = runtime.query("skipped-messages")
        posted = runtime.query("replies-posted")

    replies = read_outbox(LocalLayout(runtime.local_dir).outbox)
    answered = {reply["ReplyToTweetId"] for reply in replies}
    assert len(replies) == len(answered) == PER_AUTHOR
    assert answered <= set(tweet_ids)
    # Every other mention is recorded, with the reason, and nothing is lost.
    assert [row["detail_type"] for row in skipped] == ["REPLY_SKIPPED"] * (MENTIONS - PER_AUTHOR)
    assert {row["reason"] for row in skipped} == {"author limit"}
    assert {row["tweet_id"] for row in skipped} == set(tweet_ids) - answered
    assert {row["conversation_id"] for row in skipped} == {None}  # v1.1 says no conversation id
    # Each reply posted is recorded with the id the outbox gave it and its latency.
    assert {row["reply_to_tweet_id"] for row in posted} == answered
    assert all(row["latency_ms"] is not None and row["latency_ms"] >= 0 for row in posted)
