"""Honouring deletions: a post deleted on X, or a user who revoked the app, loses its stored photos.

X's developer policy asks apps to delete what they keep of a post when it is deleted, and of a
user when they revoke the app. Analysis stores the photos (and Responding their annotated copies)
under the post and its author (chalicelib.kernel.media_keys), so each deletion is one delete by
prefix in the media store:
- TWITTER_DELETED (tweet_delete_events: {"status": {"id", "user_id"}}) -> the post's folder (the X
  Activity API's post.delete is not routed here: X sends it for the subscribed user's own posts,
  the bot's, which have no photos stored);
- TWITTER_PERMISSION_REVOKED (user_event: {"revoke": {"source": {"user_id"}}}) and X_OAUTH_REVOKE
  (the X Activity API's {"payload": {"user_id"}}) -> the user's folder, every post of theirs.
What was deleted is published as MEDIA_DELETED (how many objects, possibly 0), the record in the
data lake that the deletion was honoured. What the lake and the archive keep (the raw events, the
text) is not touched here: README, "Deleted posts and revoked access", says how to purge it.

Deleting is idempotent: a redelivered event deletes nothing more and records 0.

A post's deletion may arrive while its analysis is still running, or even before the post itself
(X does not promise an order): a photo could then be stored after the folder was emptied. So a
deleted post is first marked (MediaStore.mark_deleted, a mark kept apart from the photos), then
its folder emptied; the download step (analysis/media.py) checks the mark before it downloads and
again after it stores each photo, and deletes the post's folder when the mark is there. Mark then
delete, store then check: whichever comes first, the photo is caught where it is stored, whether or
not the post is ever answered. Egress checks the mark again before it posts (egress/service.py):
it does not answer a marked post, and deletes what was stored for it since (an annotated copy).
Marking is best effort: if it fails (a grant missing) the deletion itself still happens, and the
failure is logged; the lifecycle rule remains the last resort. A revocation marks nothing: the
user's later posts are answered as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from chalicelib.contracts import names
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.outcomes import ACCESS_REVOKED, POST_DELETED, MediaDeleted
from chalicelib.kernel.media_keys import post_prefix, user_prefix
from chalicelib.observability import logger
from chalicelib.ports import MediaStore
from chalicelib.publishing import EventPublisher

_ID: Final = re.compile(r"[0-9]{1,32}")
_REVOCATIONS: Final = frozenset({names.TWITTER_PERMISSION_REVOKED, names.x_activity_detail_type("oauth.revoke")})


@dataclass(frozen=True)
class DeletionRequest:
    """What to delete: one post of a user (`tweet_id` set), or everything of the user."""

    user_id: str
    tweet_id: str | None
    reason: str

    @property
    def prefix(self) -> str:
        return post_prefix(self.user_id, self.tweet_id) if self.tweet_id is not None else user_prefix(self.user_id)


def deletion_request(detail_type: str, detail: dict[str, Any]) -> DeletionRequest | None:
    """The deletion a raw event asks for; None when it names no valid ids (nothing can be found
    by them: a retry would not help)."""
    if detail_type == names.TWITTER_DELETED:
        status = _object(detail.get("status"))
        user_id, tweet_id = status.get("user_id"), status.get("id")
        if _is_id(user_id) and _is_id(tweet_id):
            return DeletionRequest(user_id=user_id, tweet_id=tweet_id, reason=POST_DELETED)
        return None
    if detail_type in _REVOCATIONS:
        # Account Activity's user_event names the user in revoke.source; the X Activity API in payload.
        user_id = _object(_object(detail.get("revoke")).get("source")).get("user_id")
        if not _is_id(user_id):
            user_id = _object(detail.get("payload")).get("user_id")
        if _is_id(user_id):
            return DeletionRequest(user_id=user_id, tweet_id=None, reason=ACCESS_REVOKED)
    return None


class MediaDeletionService:
    def __init__(self, *, store: MediaStore, publisher: EventPublisher) -> None:
        self._store = store
        self._publisher = publisher

    def honour(self, detail_type: str, detail: dict[str, Any]) -> MediaDeleted | None:
        """Delete what is stored for the post or user the event names; MEDIA_DELETED says how
        much. A store that fails raises (the event is retried, then dead-lettered)."""
        request = deletion_request(detail_type, detail)
        if request is None:
            logger.warning("deletion event without valid ids: nothing deleted", extra={"detail_type": detail_type})
            return None
        if request.tweet_id is not None:
            self._mark(request)
        count = self._store.delete_prefix(request.prefix)
        deleted = MediaDeleted(
            user_id=request.user_id, tweet_id=request.tweet_id, reason=request.reason, deleted_count=count
        )
        logger.info(
            "stored media deleted",
            extra={"reason": request.reason, "user_id": request.user_id, "tweet_id": request.tweet_id, "count": count},
        )
        self._publisher.publish([BusEvent(names.SOURCE_ANALYSIS, names.MEDIA_DELETED, deleted.to_detail())])
        return deleted

    def _mark(self, request: DeletionRequest) -> None:
        try:
            self._store.mark_deleted(request.prefix)
        except Exception:  # the deletion matters more than the mark: go on, and say so
            logger.exception(
                "deleted post not marked: a photo stored for it later is left to the lifecycle rule",
                extra={"user_id": request.user_id, "tweet_id": request.tweet_id},
            )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and _ID.fullmatch(value) is not None
