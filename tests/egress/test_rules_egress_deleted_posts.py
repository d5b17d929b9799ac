"""A post deleted on X while it was being analysed, or before it arrived (issue 9, section 3): Egress
does not answer it (REPLY_SKIPPED "post deleted", recorded), deletes what Analysis and Responding
stored for it after the deletion was honoured (MEDIA_DELETED), and answers every other post."""

from __future__ import annotations

from pathlib import Path

from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.contracts.outcomes import POST_DELETED
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import SKIPPED_POST_DELETED, EgressService
from chalicelib.kernel.media_keys import annotated_key, photo_key, post_prefix
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import FakePoster, FakePostingSwitch, MemoryMediaStore, RecordingBus

NOW = 1_767_225_000.0
ALICE = "42"


def _service(
    tmp_path: Path, poster: FakePoster, bus: RecordingBus, media: MemoryMediaStore, switch: FakePostingSwitch | None
) -> EgressService:
    return EgressService(
        poster=poster,
        media=media,
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
        publisher=EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
        max_reply_age_seconds=3600,
        switch=switch,
        now=lambda: NOW,
    )


def _stored(media: MemoryMediaStore, tweet_id: str) -> list[str]:
    photo = photo_key(ALICE, tweet_id, "p", "jpg")
    keys = [photo, annotated_key(photo, "jpg")]
    for key in keys:
        media.put(key, b"\xff\xd8\xff photo", "image/jpeg")
    return keys


def _reply(tweet_id: str, image_keys: list[str]) -> SendTweet:
    return SendTweet(f"@alice about {tweet_id}", tweet_id, ALICE, image_keys, received_at_ms=int(NOW * 1000) - 1000)


def test_a_post_deleted_before_its_reply_is_not_answered_and_its_late_photos_go(tmp_path: Path) -> None:
    poster, bus, media = FakePoster("9001"), RecordingBus(), MemoryMediaStore()
    # The deletion was honoured (marked, folder emptied) while the post was still being analysed...
    media.mark_deleted(post_prefix(ALICE, "10"))
    # ...and the analysis then stored its photo, and Responding the annotated copy.
    late = _stored(media, "10")
    kept = _stored(media, "11")
    service = _service(tmp_path, poster, bus, media, FakePostingSwitch(True))

    assert service.send(_reply("10", late[1:])) == SKIPPED_POST_DELETED
    assert service.send(_reply("11", kept[1:])) == "9001"

    assert [call[1] for call in poster.calls] == ["11"]
    assert sorted(media.objects) == sorted(kept)
    [skipped] = bus.details("REPLY_SKIPPED")
    assert skipped["Reason"] == POST_DELETED and skipped["Twitter"]["TweetId"] == "10"
    [deleted] = bus.details("MEDIA_DELETED")
    assert deleted["Twitter"] == {"TweetId": "10", "UserId": ALICE} and deleted["DeletedCount"] == 2
    # A redelivery is answered from the record: nothing posted, nothing more published.
    assert service.send(_reply("10", late[1:])) == SKIPPED_POST_DELETED
    assert len(bus.details("REPLY_SKIPPED")) == 1


def test_a_deleted_post_is_honoured_even_while_posting_is_paused(tmp_path: Path) -> None:
    poster, bus, media = FakePoster(), RecordingBus(), MemoryMediaStore()
    media.mark_deleted(post_prefix(ALICE, "10"))
    late = _stored(media, "10")
    assert _service(tmp_path, poster, bus, media, FakePostingSwitch(False)).send(_reply("10", late)) == (
        SKIPPED_POST_DELETED
    )
    assert media.objects == {} and poster.calls == []


def test_a_clean_up_that_fails_still_skips_the_reply(tmp_path: Path) -> None:
    class NoDeleteGrant(MemoryMediaStore):
        def delete_prefix(self, prefix: str) -> int:
            raise PermissionError("AccessDenied")

    poster, bus, media = FakePoster(), RecordingBus(), NoDeleteGrant()
    media.mark_deleted(post_prefix(ALICE, "10"))
    late = _stored(media, "10")
    assert _service(tmp_path, poster, bus, media, None).send(_reply("10", late)) == SKIPPED_POST_DELETED
    assert poster.calls == [] and bus.details("MEDIA_DELETED") == []
    assert [d["Reason"] for d in bus.details("REPLY_SKIPPED")] == [POST_DELETED]
