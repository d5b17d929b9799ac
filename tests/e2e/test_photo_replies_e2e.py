"""Issue 10's promise for photos, on the local runtime's real models and through `botctl`: a cat
photo gets a reply that says cat, a coffee photo one that says coffee or cup, and neither photo
(nobody is named on them) comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalicelib.responding.photos import UNSAFE_PHOTO_REPLY

from tests.e2e.runtime import LocalRuntime, serving

PHOTOS = Path(__file__).parents[1] / "fixtures" / "photos"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with serving(tmp_path_factory.mktemp("photo-replies")) as served:
        yield served


@pytest.mark.slow
def test_cat_and_coffee_photos_are_described(runtime: LocalRuntime) -> None:
    def tweet(author: str, photo: str) -> str:
        sent = runtime.botctl(
            "tweet", "look at this", "--image", str(PHOTOS / photo), "--author", author, "--url", runtime.url
        )
        assert sent.returncode == 0, sent.stderr
        return sent.stdout.strip()

    cat = tweet("hana", "chelsea.jpg")
    coffee = tweet("ivan", "coffee.jpg")
    runtime.wait(timeout=240)

    result = runtime.botctl("outbox", "--format", "json")
    assert result.returncode == 0, result.stderr
    outbox = {entry["ReplyToTweetId"]: entry for entry in json.loads(result.stdout)}

    cat_reply = outbox[cat]
    assert cat_reply["Text"].startswith("@hana ")
    assert "cat" in cat_reply["Text"].lower(), cat_reply["Text"]
    assert "recognise" not in cat_reply["Text"]
    assert not cat_reply.get("Image")

    coffee_text = outbox[coffee]["Text"].lower()
    assert "coffee" in coffee_text or "cup" in coffee_text, coffee_text
    assert "it says" not in coffee_text  # no stray OCR read quoted
    assert not outbox[coffee].get("Image")


def _send_tweet_detail(runtime: LocalRuntime, tweet_id: str) -> dict[str, Any]:
    rows = runtime.query(
        'SELECT detail FROM "analysed-messages-table" '
        f"WHERE detail_type = 'SEND_TWEET' AND detail.replytotweetid = '{tweet_id}'"
    )
    assert len(rows) == 1, rows
    detail: dict[str, Any] = rows[0]["detail"]
    return detail


@pytest.mark.slow
def test_a_named_photo_is_checked_before_it_is_reposted(runtime: LocalRuntime) -> None:
    sent = runtime.botctl(
        "tweet", "who?", "--image", str(PHOTOS / "obama2.jpg"), "--author", "jo", "--url", runtime.url
    )
    assert sent.returncode == 0, sent.stderr
    runtime.wait(timeout=240)
    reply = {entry["ReplyToTweetId"]: entry for entry in _outbox(runtime)}[sent.stdout.strip()]
    assert reply["Text"] == "@jo I recognised: Barack Obama"
    assert Path(reply["Image"]).is_file()
    moderation = _send_tweet_detail(runtime, sent.stdout.strip())["moderation"]
    assert moderation["checked"] == 1 and moderation["withheld"] == 0 and moderation["unsafe"] == 0


@pytest.mark.slow
def test_an_unsafe_photo_is_answered_in_text_only_with_an_alert(tmp_path: Path) -> None:
    """The refusal path on the local runtime: BOT_MODERATION=unsafe makes the local check refuse."""
    with serving(tmp_path, BOT_MODERATION="unsafe") as runtime:
        sent = runtime.botctl(
            "tweet", "who?", "--image", str(PHOTOS / "obama2.jpg"), "--author", "kai", "--url", runtime.url
        )
        assert sent.returncode == 0, sent.stderr
        tweet_id = sent.stdout.strip()
        runtime.wait(timeout=240)
        reply = {entry["ReplyToTweetId"]: entry for entry in _outbox(runtime)}[tweet_id]
        moderation = _send_tweet_detail(runtime, tweet_id)["moderation"]
        alerts = runtime.botctl("alerts", "--format", "json")
    assert reply["Text"] == f"@kai {UNSAFE_PHOTO_REPLY}"  # nothing of the photo, not even who is in it
    assert not reply["Image"] and reply["Images"] == []
    assert moderation["checked"] == 1 and moderation["unsafe"] == 1 and moderation["withheld"] == 1
    assert moderation["categories"] == ["BOT_MODERATION=unsafe"]
    (alert,) = json.loads(alerts.stdout)
    assert "@kai" in alert["subject"] and "BOT_MODERATION=unsafe" in alert["message"]
    assert tweet_id in alert["message"]


def _outbox(runtime: LocalRuntime) -> list[dict[str, Any]]:
    result = runtime.botctl("outbox", "--format", "json")
    assert result.returncode == 0, result.stderr
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries
