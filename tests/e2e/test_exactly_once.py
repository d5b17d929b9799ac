"""One analysis, at most one alert and one reply per post, however many times it is delivered
(issue: "Hold under real traffic", section 1), on the real local runtime."""

from __future__ import annotations

import json
from pathlib import Path

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
