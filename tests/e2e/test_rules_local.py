"""Playing by X's rules and the operator's (issue 9, section 3) on the real local runtime, in this
process (the harness of test_failure_injection: the Chalice app's webhook through chalice.test.Client
on the local stage, its handlers and the analysis workflow as the dispatcher's targets, the local
adapters with their state in a temporary folder):
- a deleted post's photos and their annotated copies are gone from the media folder, and a user who
  revokes the app loses every photo of theirs (nobody else's); MEDIA_DELETED says how many;
- a post deleted before it arrives (X does not promise an order) is not answered (Egress finds the
  deletion's mark), and its photo is not downloaded (the download step finds it too);
- "stop" gets one confirmation, then silence (REPLY_SKIPPED "opted out") until "start", and a reply
  still waiting in Egress when the "stop" comes is dropped;
- with BOT_POSTING=off nothing reaches the outbox (REPLY_SKIPPED "posting paused"), while the
  analysis, the alerts and the lake carry on; back on, only new posts are answered.

The photos' analysis is the one fake here: it names a celebrity in every photo (the local face
model would need a portrait of one), so that the photo responder makes annotated copies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botlocal.adapters import LocalAdapters
from botlocal.alerts import read_alerts
from botlocal.compose import compose_mention, user_id_of
from botlocal.outbox import read_outbox
from chalicelib.analysis.media import NOT_STORED_POST_DELETED
from chalicelib.contracts.analysis import ImageAnalysis
from chalicelib.ports import MediaStore
from chalicelib.responding.optout import STARTED_CONFIRMATION, STOPPED_CONFIRMATION

from tests.e2e.test_failure_injection import InProcessRuntime, in_process_runtime
from tests.fakes import FakeImageAnalyser, image_bytes
from tests.local.journal_views import drain

NEGATIVE_TEXT = "I hate you, you are a terrible and useless bot"
CELEBRITY = {
    "Name": "Ada Lovelace",
    "Id": "ada",
    "Urls": [],
    "MatchConfidence": 98.0,
    "Face": {"BoundingBox": {"Width": 0.3, "Height": 0.3, "Left": 0.3, "Top": 0.2}, "Confidence": 99.0},
}


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessRuntime]:
    def celebrity_everywhere(adapters: LocalAdapters, media: MediaStore) -> FakeImageAnalyser:
        # Reads the stored photo back (a missing one fails), as Rekognition reads the bucket.
        return FakeImageAnalyser(default=lambda body: ImageAnalysis(celebrity_faces=[CELEBRITY]), store=media)

    monkeypatch.setattr(LocalAdapters, "image_analyser", celebrity_everywhere)
    yield from in_process_runtime(tmp_path, monkeypatch)


def _photo_mention(runtime: InProcessRuntime, author: str, name: str) -> str:
    """A mention with two photos (served from the media inbox); returns the post's id."""
    urls = []
    runtime.layout.media_inbox.mkdir(parents=True, exist_ok=True)
    for n in range(2):
        (runtime.layout.media_inbox / f"{name}{n}.jpg").write_bytes(image_bytes("JPEG", size=(160, 120)))
        urls.append(f"https://pbs.twimg.com/media/{name}{n}.jpg")
    composed = compose_mention("who is this?", author=author, photo_urls=urls)
    assert runtime.deliver_as_x(composed.delivery) == [200]
    return composed.tweet_id


def _stored(runtime: InProcessRuntime) -> list[str]:
    root = runtime.layout.media
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _of_type(runtime: InProcessRuntime, detail_type: str) -> list[dict[str, Any]]:
    return [event["detail"] for event in runtime.lake() if event["detail-type"] == detail_type]


@pytest.mark.slow
def test_deleted_posts_and_revoked_users_lose_their_photos_and_annotated_copies(runtime: InProcessRuntime) -> None:
    alice, bob = user_id_of("alice"), user_id_of("bob")
    first, second = _photo_mention(runtime, "alice", "a1-"), _photo_mention(runtime, "alice", "a2-")
    bobs = _photo_mention(runtime, "bob", "b1-")
    runtime.settle()

    # Each post's photos and their annotated copies are in its folder, under its author.
    replies = read_outbox(runtime.layout.outbox)
    assert len(replies) == 3 and all(len(reply["Images"]) == 2 for reply in replies), replies
    stored = _stored(runtime)
    for user, post in ((alice, first), (alice, second), (bob, bobs)):
        folder = f"users/{user}/posts/{post}/"
        assert len([key for key in stored if key.startswith(folder) and "/annotated/" not in key]) == 2
        assert len([key for key in stored if key.startswith(f"{folder}annotated/")]) == 2
    assert len(stored) == 12

    # X: alice deleted her first post.
    deletion = {
        "for_user_id": "1000000000000000001",
        "tweet_delete_events": [{"status": {"id": first, "user_id": alice}, "timestamp_ms": "1432228155593"}],
    }
    assert runtime.deliver_as_x(deletion) == [200]
    runtime.settle()
    stored = _stored(runtime)
    assert not [key for key in stored if f"/posts/{first}/" in key]
    assert len(stored) == 8
    assert _of_type(runtime, "MEDIA_DELETED") == [
        {"Twitter": {"TweetId": first, "UserId": alice}, "Reason": "post deleted", "DeletedCount": 4}
    ]

    # X: alice revoked the app (user_event has no for_user_id).
    revoke = {
        "user_event": {
            "revoke": {
                "date_time": "2026-12-03T09:48:12+00:00",
                "target": {"app_id": "13090192"},
                "source": {"user_id": alice},
            }
        }
    }
    assert runtime.deliver_as_x(revoke) == [200]
    runtime.settle()
    stored = _stored(runtime)
    assert stored and all(key.startswith(f"users/{bob}/posts/{bobs}/") for key in stored)
    assert len(stored) == 4
    assert _of_type(runtime, "MEDIA_DELETED")[-1] == {
        "Twitter": {"TweetId": None, "UserId": alice},
        "Reason": "access revoked",
        "DeletedCount": 4,
    }
    assert runtime.dead_letters() == []


@pytest.mark.slow
def test_stop_is_confirmed_once_then_silence_until_start(runtime: InProcessRuntime) -> None:
    def mention(text: str) -> str:
        composed = compose_mention(text, author="carol", photo_urls=[])
        assert runtime.deliver_as_x(composed.delivery) == [200]
        runtime.settle()
        return composed.tweet_id

    stop = mention("STOP please 🛑")
    again = mention("stop")
    ignored = mention("tell me a joke")
    start = mention("start")
    answered = mention("tell me a joke")

    replies = read_outbox(runtime.layout.outbox)
    assert [reply["ReplyToTweetId"] for reply in replies] == [stop, start, answered]
    assert replies[0]["Text"] == f"@carol {STOPPED_CONFIRMATION}"
    assert replies[1]["Text"] == f"@carol {STARTED_CONFIRMATION}"
    skipped = _of_type(runtime, "REPLY_SKIPPED")
    assert [(detail["Twitter"]["TweetId"], detail["Reason"]) for detail in skipped] == [
        (again, "opted out"),
        (ignored, "opted out"),
    ]
    # Skipped messages are still analysed and kept in the lake.
    analysed = {detail["Twitter"]["TweetId"] for detail in _of_type(runtime, "MESSAGE_ANALYSED")}
    assert {stop, again, ignored, start, answered} <= analysed


@pytest.mark.slow
def test_the_kill_switch_stops_posting_and_nothing_else(
    runtime: InProcessRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_POSTING", "off")
    paused = compose_mention(NEGATIVE_TEXT, author="dave", photo_urls=[])
    assert runtime.deliver_as_x(paused.delivery) == [200]
    runtime.settle()

    assert read_outbox(runtime.layout.outbox) == []
    # Everything else ran: the analysis, the alert, the reply composed, the lake.
    analysed = [d for d in _of_type(runtime, "MESSAGE_ANALYSED") if d["Twitter"]["TweetId"] == paused.tweet_id]
    assert len(analysed) == 1 and analysed[0]["Analysis"]["TextSentiment"] == "NEGATIVE"
    assert any(paused.tweet_id in json.dumps(alert) for alert in read_alerts(runtime.layout.alerts))
    assert [d["ReplyToTweetId"] for d in _of_type(runtime, "SEND_TWEET")] == [paused.tweet_id]
    assert [(d["Twitter"]["TweetId"], d["Reason"]) for d in _of_type(runtime, "REPLY_SKIPPED")] == [
        (paused.tweet_id, "posting paused")
    ]
    assert runtime.dead_letters() == []

    # Back on (no restart: read at each post): only what comes after is posted.
    monkeypatch.setenv("BOT_POSTING", "on")
    later = compose_mention("tell me a joke", author="dave", photo_urls=[])
    assert runtime.deliver_as_x(later.delivery) == [200]
    runtime.settle()
    assert [reply["ReplyToTweetId"] for reply in read_outbox(runtime.layout.outbox)] == [later.tweet_id]


@pytest.mark.slow
def test_a_post_deleted_before_it_arrives_is_not_answered_and_keeps_no_photo(runtime: InProcessRuntime) -> None:
    """X does not promise the order of its deliveries: the deletion of a post may come before the
    post (or while it is analysed). Its photos, downloaded afterwards, and their annotated copies
    must not stay, and the post must not be answered."""
    alice = user_id_of("alice")
    runtime.layout.media_inbox.mkdir(parents=True, exist_ok=True)
    (runtime.layout.media_inbox / "late0.jpg").write_bytes(image_bytes("JPEG", size=(160, 120)))
    composed = compose_mention("who is this?", author="alice", photo_urls=["https://pbs.twimg.com/media/late0.jpg"])
    deletion = {
        "for_user_id": "1000000000000000001",
        "tweet_delete_events": [
            {"status": {"id": composed.tweet_id, "user_id": alice}, "timestamp_ms": "1432228155593"}
        ],
    }
    assert runtime.deliver_as_x(deletion) == [200]
    runtime.settle()
    assert runtime.deliver_as_x(composed.delivery) == [200]
    runtime.settle()

    assert read_outbox(runtime.layout.outbox) == []
    assert _stored(runtime) == []
    assert [(d["Twitter"]["TweetId"], d["Reason"]) for d in _of_type(runtime, "REPLY_SKIPPED")] == [
        (composed.tweet_id, "post deleted")
    ]
    # The deletion found nothing and marked the post: its photo is then not even downloaded (the
    # download step checks the mark), so nothing is stored for Egress to delete.
    assert [d["DeletedCount"] for d in _of_type(runtime, "MEDIA_DELETED")] == [0]
    (analysed,) = [d for d in _of_type(runtime, "MESSAGE_ANALYSED") if d["Twitter"]["TweetId"] == composed.tweet_id]
    assert [image.get("Error") for image in analysed["Analysis"]["Images"]] == [NOT_STORED_POST_DELETED]
    assert runtime.dead_letters() == []


@pytest.mark.slow
def test_a_reply_still_waiting_in_egress_when_its_person_says_stop_is_not_posted(
    runtime: InProcessRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply to erin's joke request is held in Egress (here by a switch it cannot read, which
    makes it retry later; the posting budget or X's rate limit hold replies the same way). She says
    stop meanwhile: she gets the confirmation, and the held reply is dropped when it comes back."""
    monkeypatch.setenv("BOT_POSTING", "unreadable")
    joke = compose_mention("tell me a joke", author="erin", photo_urls=[])
    assert runtime.deliver_as_x(joke.delivery) == [200]
    drain(runtime.dispatcher)  # one round: Egress's delivery failed and waits for its retry
    assert read_outbox(runtime.layout.outbox) == []

    monkeypatch.setenv("BOT_POSTING", "on")
    stop = compose_mention("stop", author="erin", photo_urls=[])
    assert runtime.deliver_as_x(stop.delivery) == [200]
    runtime.settle()  # brings the held reply's retry due

    assert [reply["ReplyToTweetId"] for reply in read_outbox(runtime.layout.outbox)] == [stop.tweet_id]
    assert [(d["Twitter"]["TweetId"], d["Reason"]) for d in _of_type(runtime, "REPLY_SKIPPED")] == [
        (joke.tweet_id, "opted out")
    ]
    assert runtime.dead_letters() == []
