"""One analysis, at most one alert and one reply per post, however many times it is delivered
(issue: "Hold under real traffic", section 1), on the real local runtime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botlocal.alerts import read_alerts
from botlocal.compose import compose_mention
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

from tests.e2e.runtime import serving


@pytest.mark.slow
def test_three_deliveries_of_one_negative_post_give_one_analysis_one_alert_one_reply(tmp_path: Path) -> None:
    composed = compose_mention("I hate you, you are a terrible and useless bot", author="eve", photo_urls=[])
    body = json.dumps(composed.delivery).encode("utf-8")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)}
    with serving(tmp_path) as runtime:
        for _ in range(3):  # X's redeliveries (or the same post by another route: the key is the post)
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
    layout = LocalLayout(runtime.local_dir)
    # Every arrival is recorded in the lake; only the first is analysed and answered.
    assert counts == {"MESSAGE_RECEIVED": 3, "MESSAGE_ANALYSED": 1, "SEND_TWEET": 1, "REPLY_POSTED": 1}
    assert len(read_alerts(layout.alerts)) == 1
    replies = read_outbox(layout.outbox)
    assert [reply["ReplyToTweetId"] for reply in replies] == [composed.tweet_id]


def v2_post(post: dict[str, Any]) -> dict[str, Any]:
    """A v1.1 post (tweet_create_events element) as the X API v2 shows it (the X Activity API's
    payload, and a mentions page's data)."""
    return {
        "id": post["id_str"],
        "text": post["text"],
        "author_id": post["user"]["id_str"],
        "conversation_id": post["id_str"],
        "edit_history_tweet_ids": [post["id_str"]],
        "lang": post.get("lang") or "und",
        "entities": {
            "mentions": [
                {"start": m["indices"][0], "end": m["indices"][1], "username": m["screen_name"], "id": m["id_str"]}
                for m in post["entities"]["user_mentions"]
            ]
        },
    }


def _x_activity(post: dict[str, Any], bot_user_id: str, event_type: str) -> bytes:
    """The same post in the X Activity API's envelope (see tests/fixtures/x-webhooks/xaa_*.json)."""
    user = post["user"]
    payload = v2_post(post)
    if event_type == "post.reply.create":
        payload["in_reply_to_user_id"] = bot_user_id
        payload["referenced_tweets"] = [{"type": "replied_to", "id": "1000000000000000099"}]
    envelope = {
        "data": {
            "event_uuid": f"{post['id_str']}-{event_type}",
            "filter": {"user_id": bot_user_id},
            "event_type": event_type,
            "payload": payload,
            "includes": {"users": [{"id": user["id_str"], "username": user["screen_name"], "name": user["name"]}]},
        }
    }
    return json.dumps(envelope).encode("utf-8")


@pytest.mark.slow
def test_one_post_by_three_routes_gives_one_analysis_one_alert_one_reply(tmp_path: Path) -> None:
    """The issue's case: the same post as an Account Activity event and as X Activity mention and
    reply events."""
    composed = compose_mention("I hate you, you are a terrible and useless bot", author="mallory", photo_urls=[])
    post = composed.delivery["tweet_create_events"][0]
    bot = composed.delivery["for_user_id"]
    bodies = [
        json.dumps(composed.delivery).encode("utf-8"),
        _x_activity(post, bot, "post.mention.create"),
        _x_activity(post, bot, "post.reply.create"),
    ]
    with serving(tmp_path) as runtime:
        for body in bodies:
            headers = {
                "content-type": "application/json",
                SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body),
            }
            assert requests.post(runtime.url, data=body, headers=headers, timeout=10).status_code == 200
        runtime.wait()
        rows = runtime.query(
            'SELECT detail_type, count(*) AS n FROM "analysed-messages-table" '
            f"WHERE detail.twitter.tweetid = '{composed.tweet_id}' GROUP BY detail_type"
        )
    counts = {row["detail_type"]: row["n"] for row in rows}
    layout = LocalLayout(runtime.local_dir)
    assert counts.get("MESSAGE_RECEIVED", 0) >= 2, counts  # each route that addresses the bot arrives
    assert counts["MESSAGE_ANALYSED"] == 1, counts
    assert len(read_alerts(layout.alerts)) == 1
    assert [reply["ReplyToTweetId"] for reply in read_outbox(layout.outbox)] == [composed.tweet_id]
