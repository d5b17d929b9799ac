"""Honouring deletions (issue 9, section 3): the media keys' layout, reading X's deletion and revocation
events (the recorded fixtures), and the service that deletes by prefix and records MEDIA_DELETED."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.analysis.deletion import DeletionRequest, MediaDeletionService, deletion_request
from chalicelib.analysis.media import NOT_STORED_POST_DELETED, MediaDownloadService
from chalicelib.contracts import names
from chalicelib.contracts.outcomes import ACCESS_REVOKED, POST_DELETED, MediaDeleted
from chalicelib.ingress.translate import translate_delivery
from chalicelib.kernel.media_keys import annotated_key, check_folder_prefix, photo_key, post_prefix, user_prefix
from chalicelib.publishing import EventPublisher

from tests.conftest import FIXTURES
from tests.fakes import FakeFetcher, MemoryMediaStore, RecordingBus, image_bytes

USER, POST, OTHER_POST = "930524282358325248", "1045405559317569537", "1045405559317569999"


def _raw_events(fixture: str) -> list[tuple[str, dict[str, Any]]]:
    """The raw events Ingress makes of a recorded delivery, as the handler receives them."""
    delivery = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
    return [(event.detail_type, event.detail) for event in translate_delivery(delivery)]


# --- the keys ---------------------------------------------------------------------------------------


def test_a_photo_and_its_annotated_copy_are_under_the_post_under_its_author() -> None:
    photo = photo_key(USER, POST, "abc", "jpg")
    assert photo == f"users/{USER}/posts/{POST}/abc.jpg"
    assert annotated_key(photo, "png") == f"users/{USER}/posts/{POST}/annotated/abc.png"
    assert photo.startswith(post_prefix(USER, POST)) and photo.startswith(user_prefix(USER))
    assert annotated_key(photo, "png").startswith(post_prefix(USER, POST))


def test_a_prefix_cannot_reach_another_user_or_climb_out() -> None:
    assert not photo_key("12", POST, "a", "jpg").startswith(user_prefix("1"))
    for bad in ("", "../1", "1/2", "a1", "1 ", "١٢"):
        with pytest.raises(ValueError):
            user_prefix(bad)
        with pytest.raises(ValueError):
            post_prefix(USER, bad)


@pytest.mark.parametrize("prefix", ["", "/", "users", "users/1", "//"])
def test_only_a_folder_prefix_may_be_deleted(prefix: str) -> None:
    with pytest.raises(ValueError):
        check_folder_prefix(prefix)


# --- reading the events -----------------------------------------------------------------------------


def test_a_recorded_tweet_delete_event_asks_to_delete_the_post() -> None:
    ((detail_type, detail),) = _raw_events("tweet_delete_events.json")
    assert detail_type == names.TWITTER_DELETED
    assert deletion_request(detail_type, detail) == DeletionRequest(USER, POST, POST_DELETED)
    assert DeletionRequest(USER, POST, POST_DELETED).prefix == f"users/{USER}/posts/{POST}/"


@pytest.mark.parametrize(
    ("fixture", "user"),
    [("user_event_revoke.json", "63046977"), ("xaa_oauth_revoke.json", "1111111111111111111")],
)
def test_a_recorded_revocation_asks_to_delete_everything_of_the_user(fixture: str, user: str) -> None:
    ((detail_type, detail),) = _raw_events(fixture)
    assert detail_type in names.MEDIA_DELETION_PATTERN["detail-type"]
    request = deletion_request(detail_type, detail)
    assert request == DeletionRequest(user, None, ACCESS_REVOKED)
    assert request.prefix == f"users/{user}/"


@pytest.mark.parametrize(
    ("detail_type", "detail"),
    [
        (names.TWITTER_DELETED, {"status": {"id": POST}}),
        (names.TWITTER_DELETED, {"status": {"id": "../x", "user_id": USER}}),
        (names.TWITTER_DELETED, {"status": "gone"}),
        (names.TWITTER_PERMISSION_REVOKED, {"revoke": {"source": {"user_id": 63046977}}}),
        (names.TWITTER_FOLLOWED, {"status": {"id": POST, "user_id": USER}}),
    ],
)
def test_an_event_without_valid_ids_asks_for_nothing(detail_type: str, detail: dict[str, Any]) -> None:
    assert deletion_request(detail_type, detail) is None


# --- the service ------------------------------------------------------------------------------------


def _service(store: MemoryMediaStore, bus: RecordingBus) -> MediaDeletionService:
    return MediaDeletionService(store=store, publisher=EventPublisher(bus=bus, bus_name="xbot", payload_store=None))


def _stored(store: MemoryMediaStore) -> None:
    for key in (
        photo_key(USER, POST, "a", "jpg"),
        annotated_key(photo_key(USER, POST, "a", "jpg"), "jpg"),
        photo_key(USER, POST, "b", "png"),
        photo_key(USER, OTHER_POST, "c", "jpg"),
        photo_key("93052428235832524", POST, "d", "jpg"),  # a user whose id is a prefix of USER's
    ):
        store.put(key, b"photo", "image/jpeg")


def test_a_deleted_post_loses_its_photos_and_copies_and_nothing_else() -> None:
    store, bus = MemoryMediaStore(), RecordingBus()
    _stored(store)
    deleted = _service(store, bus).honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}})
    assert deleted == MediaDeleted(USER, POST, POST_DELETED, 3)
    assert sorted(store.objects) == [
        photo_key("93052428235832524", POST, "d", "jpg"),
        photo_key(USER, OTHER_POST, "c", "jpg"),
    ]
    (entry,) = bus.entries
    assert (entry["Source"], entry["DetailType"]) == (names.SOURCE_ANALYSIS, names.MEDIA_DELETED)
    assert MediaDeleted.from_detail(json.loads(entry["Detail"])) == deleted


def test_a_revocation_deletes_every_post_of_the_user_only() -> None:
    store, bus = MemoryMediaStore(), RecordingBus()
    _stored(store)
    deleted = _service(store, bus).honour(
        names.TWITTER_PERMISSION_REVOKED, {"revoke": {"source": {"user_id": USER}, "target": {"app_id": "1"}}}
    )
    assert deleted == MediaDeleted(USER, None, ACCESS_REVOKED, 4)
    assert list(store.objects) == [photo_key("93052428235832524", POST, "d", "jpg")]


def test_a_redelivered_deletion_deletes_nothing_more_and_says_so() -> None:
    store, bus = MemoryMediaStore(), RecordingBus()
    _stored(store)
    service = _service(store, bus)
    detail = {"status": {"id": POST, "user_id": USER}}
    service.honour(names.TWITTER_DELETED, detail)
    again = service.honour(names.TWITTER_DELETED, detail)
    assert again is not None and again.deleted_count == 0
    assert len(bus.entries) == 2


def test_an_event_without_ids_deletes_and_publishes_nothing() -> None:
    store, bus = MemoryMediaStore(), RecordingBus()
    _stored(store)
    assert _service(store, bus).honour(names.TWITTER_DELETED, {"status": {}}) is None
    assert len(store.objects) == 5 and bus.entries == []


def test_a_store_that_fails_is_raised_so_the_event_is_retried() -> None:
    class Broken(MemoryMediaStore):
        def delete_prefix(self, prefix: str) -> int:
            raise ConnectionError("S3 unreachable")

    bus = RecordingBus()
    with pytest.raises(ConnectionError):
        _service(Broken(), bus).honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}})
    assert bus.entries == []


# --- deletions that arrive before the photos (review of issue 9) ------------------------------------


def test_a_deleted_post_is_marked_before_its_folder_is_emptied_and_a_revocation_marks_nothing() -> None:
    order: list[str] = []

    class Recording(MemoryMediaStore):
        def mark_deleted(self, prefix: str) -> None:
            order.append(f"mark {prefix}")
            super().mark_deleted(prefix)

        def delete_prefix(self, prefix: str) -> int:
            order.append(f"delete {prefix}")
            return super().delete_prefix(prefix)

    store, bus = Recording(), RecordingBus()
    _service(store, bus).honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}})
    # Mark, then delete: a photo stored in between is under the mark, one stored before is deleted.
    assert order == [f"mark {post_prefix(USER, POST)}", f"delete {post_prefix(USER, POST)}"]
    assert store.is_deleted(post_prefix(USER, POST)) and not store.is_deleted(post_prefix(USER, OTHER_POST))
    order.clear()
    _service(store, bus).honour(names.TWITTER_PERMISSION_REVOKED, {"revoke": {"source": {"user_id": USER}}})
    assert order == [f"delete {user_prefix(USER)}"]


def test_a_mark_that_cannot_be_written_does_not_stop_the_deletion() -> None:
    class NoMarks(MemoryMediaStore):
        def mark_deleted(self, prefix: str) -> None:
            raise PermissionError("AccessDenied: s3:PutObject on deleted/*")

    store, bus = NoMarks(), RecordingBus()
    _stored(store)
    deleted = _service(store, bus).honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}})
    assert deleted == MediaDeleted(USER, POST, POST_DELETED, 3)
    assert len(bus.entries) == 1


# --- store then check: the download step (review of issue 9) ---------------------------------------

PHOTO = "https://pbs.twimg.com/media/a.jpg"


def _downloader(store: MemoryMediaStore, fetcher: FakeFetcher) -> MediaDownloadService:
    return MediaDownloadService(
        fetcher=fetcher, store=store, allowed_hosts=("pbs.twimg.com",), max_bytes=100_000, max_pixels=1_000_000
    )


def test_a_photo_of_a_post_deleted_before_its_download_is_not_downloaded() -> None:
    store, fetcher = MemoryMediaStore(), FakeFetcher({PHOTO: image_bytes("JPEG")})
    _service(store, RecordingBus()).honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}})
    (result,) = _downloader(store, fetcher).download_all([PHOTO], user_id=USER, tweet_id=POST)
    assert (result.key, result.error) == (None, NOT_STORED_POST_DELETED)
    assert fetcher.calls == []
    assert store.objects == {}


def test_a_photo_stored_while_its_post_was_deleted_is_deleted_at_once_whatever_happens_next() -> None:
    """The deletion ran during the download: it found no photo yet and marked the post. The photo
    is then deleted where it is stored, not left for Egress (a post skipped by the guards, by an
    opt-out or by moderation, or whose analysis fails, never reaches Egress)."""
    store = MemoryMediaStore()
    deletion = _service(store, RecordingBus())
    fetcher = FakeFetcher(
        {PHOTO: image_bytes("JPEG")},
        on_fetch=lambda _url: deletion.honour(names.TWITTER_DELETED, {"status": {"id": POST, "user_id": USER}}),
    )
    (result,) = _downloader(store, fetcher).download_all([PHOTO], user_id=USER, tweet_id=POST)
    assert (result.key, result.error) == (None, NOT_STORED_POST_DELETED)
    assert store.objects == {}
    (other,) = _downloader(store, FakeFetcher({PHOTO: image_bytes("JPEG")})).download_all(
        [PHOTO], user_id=USER, tweet_id=OTHER_POST
    )
    assert other.key is not None and list(store.objects) == [other.key]  # another post: stored as before
