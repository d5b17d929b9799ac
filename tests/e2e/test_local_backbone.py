"""The backbone's promise on the local runtime, through the real commands a user runs.

`botctl serve` (what `make local` runs), `botctl send` with every real body from X, a forged and an
unsigned POST, `botctl wait`, then `botctl query` on the data lake.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from chalicelib.ingress.signature import sign

from tests.conftest import FIXTURES, delivery_files
from tests.e2e.runtime import LocalRuntime, serving

#: The fixtures' direct messages sent to the bot by someone else: received, received_photo, docs and
#: X Activity's dm.received (the sent ones are the bot's own).
DMS_FROM_OTHERS = 4
VECTORS = json.loads((FIXTURES / "signature_test_vectors.json").read_text())
#: The runtime is configured with the vectors' consumer secret, so X's own answers must come back.
SECRET = VECTORS["crc"][0]["consumer_secret"]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with serving(tmp_path_factory.mktemp("local"), TWITTER_CONSUMER_SECRET=SECRET) as served:
        yield served


@pytest.mark.slow
def test_local_backbone_end_to_end(runtime: LocalRuntime) -> None:
    url = runtime.url
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
    runtime.wait()
    # The signed vector is the bot's own reply: recorded, and skipped (never answered).
    assert runtime.query('SELECT detail_type FROM "analysed-messages-table" ORDER BY detail_type') == [
        {"detail_type": "MESSAGE_SKIPPED"},
        {"detail_type": "TWITTER_TWEETED"},
    ]

    # Every real body from X is accepted.
    files = [str(path) for path in delivery_files()]
    sent = runtime.botctl("send", "--url", url, *files)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    runtime.wait()

    counts = {
        row["detail_type"]: row["events"]
        for row in runtime.query('SELECT detail_type, count(*) AS events FROM "analysed-messages-table" GROUP BY 1')
    }
    assert counts["TWITTER_TWEETED"] == 9 + 1  # and the signed vector's body
    assert counts["TWITTER_UNFOLLOWED"] == 1
    assert counts["TWITTER_PERMISSION_REVOKED"] == 1
    assert counts["X_POST_MENTION_CREATE"] == 1
    # Five posts, and the direct messages someone else sent the bot (the bot's own DMs are not messages).
    dms = runtime.query(
        'SELECT detail.directmessage.senderid AS sender FROM "analysed-messages-table" '
        "WHERE detail_type = 'MESSAGE_RECEIVED' AND detail.channel = 'DM'"
    )
    assert counts["MESSAGE_RECEIVED"] == 5 + len(dms)
    assert len(dms) == DMS_FROM_OTHERS

    messages = runtime.query(
        'SELECT detail.author AS author, detail.twitter.tweetid AS tweet_id FROM "analysed-messages-table" '
        "WHERE detail_type = 'MESSAGE_RECEIVED' AND detail.channel IS NULL ORDER BY tweet_id",
    )
    own_reply = json.loads((FIXTURES / "tweet_create_events_own_reply.json").read_text())["tweet_create_events"][0]
    retweet = json.loads((FIXTURES / "tweet_create_events_retweet.json").read_text())["tweet_create_events"][0]
    tweet_ids = {row["tweet_id"] for row in messages}
    assert own_reply["id_str"] not in tweet_ids
    skipped = runtime.query(
        'SELECT detail.twitter.tweetid AS tweet_id, detail.reason AS reason FROM "analysed-messages-table" '
        "WHERE detail_type = 'MESSAGE_SKIPPED'"
    )
    assert {"tweet_id": own_reply["id_str"], "reason": "own post"} in skipped
    assert retweet["id_str"] not in tweet_ids
    assert {row["author"] for row in messages} >= {"TanuLearns", "JE_Gordon", "nneleaa", "OtherUser"}
