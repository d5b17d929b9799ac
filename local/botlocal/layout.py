"""The local runtime's state folder ($BOT_LOCAL_DIR, `.local` by default), named once.

Every local adapter, `botctl` command and the demo find their files through `LocalLayout`, so a
folder renamed here is renamed everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: The variable that moves the state folder, and its default (relative to the working directory).
LOCAL_DIR_VARIABLE: Final = "BOT_LOCAL_DIR"
DEFAULT_LOCAL_DIR: Final = ".local"


@dataclass(frozen=True)
class LocalLayout:
    """Where each local store keeps its files under one root."""

    root: Path

    @classmethod
    def from_environment(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> LocalLayout:
        env = os.environ if environ is None else environ
        return cls(Path(env.get(LOCAL_DIR_VARIABLE) or DEFAULT_LOCAL_DIR).resolve())

    @property
    def journal(self) -> Path:
        """The durable bus: every event, its deliveries and dead letters (SQLite)."""
        return self.root / "bus.sqlite3"

    @property
    def datalake(self) -> Path:
        """The data lake: newline-delimited events, partitioned YYYY/MM/DD/HH/."""
        return self.root / "datalake"

    @property
    def media(self) -> Path:
        """Photos between download, analysis and reply (the S3 media bucket's stand-in)."""
        return self.root / "media"

    @property
    def deletion_marks(self) -> Path:
        """The marks of posts deleted on X (the bucket's deleted/ prefix), apart from the photos."""
        return self.root / "media-deleted"

    @property
    def media_inbox(self) -> Path:
        """Photos `botctl tweet --image` puts where the downloader finds them by URL."""
        return self.root / "media-inbox"

    @property
    def oversized(self) -> Path:
        """Events too large for the bus (the claim check's stand-in for the S3 bucket)."""
        return self.root / "oversized"

    @property
    def alerts(self) -> Path:
        """Alerts for negative messages (the SNS topic's stand-in), one JSON object per line."""
        return self.root / "alerts.jsonl"

    @property
    def outbox(self) -> Path:
        """Replies the dry run did not post, one JSON object per line."""
        return self.root / "outbox.jsonl"

    @property
    def outbox_images(self) -> Path:
        """The photos attached to the outbox's replies."""
        return self.root / "outbox"

    @property
    def idempotency(self) -> Path:
        """Which posts were answered (Powertools' records, on SQLite)."""
        return self.root / "idempotency.sqlite3"

    @property
    def poll_checkpoint(self) -> Path:
        """Where `botctl serve --poll` is in the bot's mentions timeline (SQLite)."""
        return self.root / "poll-checkpoint.sqlite3"

    @property
    def known_faces(self) -> Path:
        """Portraits a user adds for the local celebrity recognition."""
        return self.root / "known-faces"

    @property
    def face_embeddings(self) -> Path:
        """The gallery's face embeddings, computed once per portrait."""
        return self.root / "cache" / "face-embeddings"

    @property
    def server(self) -> Path:
        """The address of the running `botctl serve`, so client commands find it."""
        return self.root / "server.json"

    @property
    def serve_lock(self) -> Path:
        """Held by the running `botctl serve`: one server per state folder."""
        return self.root / "serve.lock"

    @property
    def log(self) -> Path:
        """Every log line of the `botctl serve` using this state folder (its terminal shows summaries)."""
        return self.root / "serve.log"

    def serve_log(self) -> Path:
        """The log file of a `botctl serve` the demo starts (beside the state folder)."""
        return self.root.parent / f"{self.root.name}-serve.log"
