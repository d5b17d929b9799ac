"""The web page's read model (botlocal.web.state): what became of each message, from the state
folder the local runtime's own stores wrote; read-only, incremental, bounded, never a DM's text."""

from __future__ import annotations

import hashlib
from pathlib import Path

from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.media import LocalMediaStore
from botlocal.web.state import StateReader, message_key
from chalicelib.contracts import names
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import POST_DELETED, MediaDeleted

from tests.local.web_scenario import (
    DEAD_POST,
    DM_KEY,
    EVIL_AUTHOR,
    EVIL_POST,
    EVIL_TEXT,
    FAILED_POST,
    NEGATIVE_POST,
    OWN_POST_REF,
    PHOTO_POST,
    SECRET,
    SECRET_ANSWER,
    T0,
    append,
    write_scenario,
)


def read(layout: LocalLayout) -> StateReader:
    reader = StateReader(layout)
    reader.refresh()
    return reader


def test_an_empty_or_missing_state_folder_reads_as_nothing_and_is_not_created(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path / "state")
    reader = StateReader(layout)
    assert reader.refresh() is False
    view = reader.view()
    assert (view.conversations, view.counts, view.latencies, view.dead_letters) == ([], {}, [], [])
    assert view.journal_exists is False
    assert not layout.root.exists()


def test_each_message_has_its_fate(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    view = read(LocalLayout(tmp_path)).view()
    statuses = {conversation.key: conversation.status for conversation in view.conversations}
    assert statuses == {
        PHOTO_POST.tweet_id: "answered",
        NEGATIVE_POST.tweet_id: "alerted",
        EVIL_POST.tweet_id: "skipped",
        DM_KEY: "answered",
        FAILED_POST.tweet_id: "failed",
        OWN_POST_REF.tweet_id: "skipped",
        DEAD_POST.tweet_id: "failed",
    }
    # Newest first.
    assert [conversation.key for conversation in view.conversations][:2] == [DEAD_POST.tweet_id, OWN_POST_REF.tweet_id]
    assert view.total_conversations == 7


def test_a_photo_post_has_its_photo_analysis_reply_annotated_photo_and_latency(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    view = read(scenario.layout).view()
    photo = next(c for c in view.conversations if c.key == PHOTO_POST.tweet_id)
    assert (photo.author, photo.text, photo.photo_count) == ("alice", "who is this? tell me a joke", 1)
    assert photo.photo_keys == [scenario.photo_key]
    assert photo.analysis is not None and photo.analysis["TextSentiment"] == "POSITIVE"
    assert photo.reply_text == "@alice That looks like Ada Lovelace!"
    assert photo.reply_keys == [scenario.annotated_key]
    assert photo.outbox_images == [scenario.outbox_image]
    assert (photo.posted_id, photo.latency_ms) == (scenario.posted_id, 2300)
    assert (scenario.layout.outbox_images / scenario.outbox_image).is_file()


def test_alerts_skips_failures_and_dead_letters_are_joined_to_their_message(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    view = read(LocalLayout(tmp_path)).view()
    by_key = {conversation.key: conversation for conversation in view.conversations}
    assert by_key[NEGATIVE_POST.tweet_id].alert == "Negative message from @grumpy (NEGATIVE)"
    assert by_key[EVIL_POST.tweet_id].skip_reason == "author limit"
    assert (by_key[EVIL_POST.tweet_id].author, by_key[EVIL_POST.tweet_id].text) == (EVIL_AUTHOR, EVIL_TEXT)
    assert by_key[OWN_POST_REF.tweet_id].skip_reason == "own post"
    assert by_key[FAILED_POST.tweet_id].failure == "analysis failed: States.Timeout"
    assert by_key[DEAD_POST.tweet_id].dead_letters == ["SEND_TWEET to egress_send_tweet given up after 1 attempt(s)"]
    assert [letter.last_error for letter in view.dead_letters] == ["ConnectionError: X did not answer"]
    assert view.dead_letter_count == 1
    assert view.alert_count == 2


def test_dead_letters_are_read_again_only_when_one_dies_or_is_redriven(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    layout = LocalLayout(tmp_path)
    reader = StateReader(layout)
    reader.refresh()
    assert reader.view().dead_letter_count == 1
    assert reader.refresh() is False  # nothing new: the dead letters are not read again
    with Journal(layout.journal) as journal:
        assert journal.redrive() == 1
    assert reader.refresh() is True
    assert reader.view().dead_letters == []


def test_counts_and_latencies(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    view = read(LocalLayout(tmp_path)).view()
    assert view.counts[names.MESSAGE_RECEIVED] == 6
    assert view.counts[names.REPLY_POSTED] == 2
    assert view.counts[names.SEND_TWEET] == 2
    assert [(point.at, point.milliseconds) for point in view.latencies] == [(T0 + 2.3, 2300), (T0 + 33, 3100)]


def test_a_direct_message_keeps_neither_its_text_nor_what_quotes_it(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    view = read(LocalLayout(tmp_path)).view()
    dm = next(c for c in view.conversations if c.key == DM_KEY)
    assert (dm.is_dm, dm.author, dm.text, dm.reply_text, dm.status) == (True, "bob", None, None, "answered")
    assert dm.analysis == {"TextSentiment": "NEGATIVE", "SentimentScore": {"Negative": 0.8}, "Language": "en"}
    assert dm.alert == "Negative direct message from @bob (NEGATIVE)"
    everything = repr(view)
    assert SECRET not in everything and "PIN 4321" not in everything and SECRET_ANSWER not in everything


def test_a_latency_without_latency_ms_comes_from_the_journals_times(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    post = TwitterRef(tweet_id="11", user_id="1")
    append(layout, names.MESSAGE_RECEIVED, MessageReceived("hi", "eve", "en", post).to_detail(), at=T0)
    append(
        layout,
        names.REPLY_POSTED,
        {"ReplyToTweetId": "11", "ReplyToUserId": "1", "PostedTweetId": "12"},
        at=T0 + 1.5,
    )
    (conversation,) = read(layout).view().conversations
    assert (conversation.status, conversation.latency_ms) == ("answered", 1500)


def test_refresh_reads_only_what_is_new_and_says_whether_anything_was(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    layout = LocalLayout(tmp_path)
    reader = read(layout)
    version = reader.version
    assert reader.refresh() is False
    assert reader.version == version
    post = TwitterRef(tweet_id="99", user_id="1")
    append(layout, names.MESSAGE_RECEIVED, MessageReceived("one more", "zed", "en", post).to_detail(), at=T0 + 99)
    assert reader.refresh() is True
    assert reader.version == version + 1
    newest = reader.view().conversations[0]
    assert (newest.key, newest.text, newest.status) == ("99", "one more", "pending")


def test_a_half_written_outbox_line_waits_for_its_newline(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    post = TwitterRef(tweet_id="21", user_id="1")
    append(layout, names.MESSAGE_RECEIVED, MessageReceived("hi", "eve", "en", post).to_detail(), at=T0)
    reader = read(layout)
    line = b'{"PostId":"5","ReplyToTweetId":"21","Text":"x","Images":["/o/5-1.png"]}'
    layout.outbox.write_bytes(line[:20])
    reader.refresh()
    assert reader.view().conversations[0].outbox_images == []
    layout.outbox.write_bytes(line + b"\n")
    reader.refresh()
    assert reader.view().conversations[0].outbox_images == ["5-1.png"]


def test_only_the_newest_conversations_are_kept(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    for number in range(12):
        post = TwitterRef(tweet_id=str(100 + number), user_id="1")
        append(layout, names.MESSAGE_RECEIVED, MessageReceived(f"n{number}", "eve", "en", post).to_detail(), at=T0)
    # A reply to a message no longer kept is ignored, not shown as a message of its own.
    append(layout, names.SEND_TWEET, {"Text": "late", "ReplyToTweetId": "100", "ReplyToUserId": "1"}, at=T0)
    reader = StateReader(layout, kept=5, shown=3)
    reader.refresh()
    view = reader.view()
    assert [conversation.key for conversation in view.conversations] == ["111", "110", "109"]
    assert view.total_conversations == 12


def test_deleted_photos_are_no_longer_shown(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    LocalMediaStore(scenario.layout.media).delete_prefix(f"users/{PHOTO_POST.user_id}/")
    deleted = MediaDeleted(
        user_id=PHOTO_POST.user_id, tweet_id=PHOTO_POST.tweet_id, reason=POST_DELETED, deleted_count=2
    )
    append(scenario.layout, names.MEDIA_DELETED, deleted.to_detail(), at=T0 + 100)
    photo = next(c for c in read(scenario.layout).view().conversations if c.key == PHOTO_POST.tweet_id)
    assert photo.photos_deleted == POST_DELETED


def test_reading_changes_nothing_in_the_state_folder(tmp_path: Path) -> None:
    write_scenario(tmp_path)
    before = _snapshot(tmp_path)
    reader = read(LocalLayout(tmp_path))
    reader.refresh()
    reader.view()
    reader.close()
    after = _snapshot(tmp_path)
    # SQLite's shared-memory and WAL index files may appear beside the journal (a WAL reader
    # needs them); every file that was there is unchanged.
    assert {name: digest for name, digest in after.items() if name in before} == before
    assert set(after) - set(before) <= {"bus.sqlite3-wal", "bus.sqlite3-shm"}


def test_message_keys() -> None:
    assert message_key({"Twitter": {"TweetId": "5"}}) == "5"
    assert message_key({"ReplyToTweetId": "6"}) == "6"
    assert message_key({"Channel": "DM", "DirectMessage": {"EventId": "7"}}) == "dm:7"
    assert message_key({"Channel": "DM"}) is None
    assert message_key({"Text": "x"}) is None


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
