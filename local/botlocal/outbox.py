"""The dry-run outbox: where the local runtime "posts" its replies instead of X.

Each reply is one JSON object per line in the outbox file (LocalLayout.outbox):
    {"time", "PostId", "ReplyToTweetId", "Text", "Images": [paths], "Image": first path or null}
and its photos are files <PostId>-<n>.<ext> (n from 1) in the images folder (LocalLayout.outbox_images),
written before the line, so a line never names a photo that is not there. A direct message (the
answer to a DM) is a line marked as one, text only:
    {"time", "Channel": "DM", "DmEventId", "ParticipantId", "Text", "Images": [], "Image": null}
`botctl outbox` reads it with read_outbox() and shows a DM as "DM to <participant id>".
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts.messages import DM
from chalicelib.ports import DuplicateContentError

from botlocal.alerts import read_alerts
from botlocal.compose import snowflake
from botlocal.files import write_atomically

logger = logging.getLogger(__name__)

_EXTENSIONS: Final = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class OutboxPoster:
    """chalicelib.ports.ReplyPoster for the local runtime: writes the reply down, posts nothing.

    Replies go to the file `path`, their photos into `images_dir`.
    """

    def __init__(self, path: Path, images_dir: Path) -> None:
        self.path: Final = path.resolve()
        self.images_dir: Final = images_dir.resolve()
        # The local runtime delivers on threads; one writer at a time keeps lines whole.
        self._lock = threading.Lock()
        self._posted: set[tuple[str, str]] | None = None  # (ReplyToTweetId, Text), read on first use

    def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
        """Write the reply down. The same text in reply to the same post again is refused as X
        refuses duplicate content (403): a reply written just before a crash, and so never recorded
        by Egress's idempotency, is not written twice when the event is retried or redriven."""
        with self._lock:
            if (reply_to_tweet_id, text) in self._already_posted():
                raise DuplicateContentError(f"the outbox already has this reply to {reply_to_tweet_id}")
        now = datetime.now(UTC)
        post_id = snowflake(now)  # shaped like X's ids, so the rest of the pipeline cannot tell
        paths = [
            self._write_image(post_id, index, body, content_type) for index, (body, content_type) in enumerate(images)
        ]
        record: dict[str, Any] = {
            "time": now.isoformat(timespec="milliseconds"),
            "PostId": post_id,
            "ReplyToTweetId": reply_to_tweet_id,
            "Text": text,
            "Images": paths,
            "Image": paths[0] if paths else None,
        }
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            _append_durably(self.path, line.encode("utf-8"))
            self._already_posted().add((reply_to_tweet_id, text))
        logger.info("reply written to the outbox", extra={"post_id": post_id, "in_reply_to": reply_to_tweet_id})
        return post_id

    def send_direct_message(self, text: str, participant_id: str) -> str:
        """chalicelib.ports.DirectMessageSender: write the DM down, marked as one. Unlike a post, a DM
        is never refused as a duplicate: X does not refuse a DM for repeating one (Egress's record
        of the DM answered is what keeps an answer from going twice)."""
        now = datetime.now(UTC)
        event_id = snowflake(now)  # shaped like X's DM event ids
        record: dict[str, Any] = {
            "time": now.isoformat(timespec="milliseconds"),
            "Channel": DM,
            "DmEventId": event_id,
            "ParticipantId": participant_id,
            "Text": text,
            "Images": [],
            "Image": None,
        }
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            _append_durably(self.path, line.encode("utf-8"))
        # Ids only: a DM's text stays out of the logs.
        logger.info("DM written to the outbox", extra={"dm_event_id": event_id, "participant_id": participant_id})
        return event_id

    def _already_posted(self) -> set[tuple[str, str]]:
        if self._posted is None:
            self._posted = {(str(r.get("ReplyToTweetId")), str(r.get("Text"))) for r in read_outbox(self.path)}
        return self._posted

    def _write_image(self, post_id: str, index: int, body: bytes, content_type: str) -> str:
        self.images_dir.mkdir(parents=True, exist_ok=True)
        path = self.images_dir / f"{post_id}-{index + 1}.{_EXTENSIONS.get(content_type, 'bin')}"
        write_atomically(path, body)
        return str(path)


def _append_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # A crash mid-write leaves a line without its newline: start a fresh line after it, so the
        # torn line is skipped alone by read_outbox instead of swallowing this reply too.
        size = os.fstat(descriptor).st_size
        if size:
            with path.open("rb") as file:
                file.seek(size - 1)
                if file.read(1) != b"\n":
                    data = b"\n" + data
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """Every reply in the outbox file, oldest first (none if the file does not exist yet).

    Damaged lines (a crash mid-write) are skipped, as in alerts.jsonl: the format is the same.
    """
    return read_alerts(path)
