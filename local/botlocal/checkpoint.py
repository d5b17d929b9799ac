"""The PollCheckpoint port on SQLite, in the state folder (LocalLayout.poll_checkpoint).

A save checks the stored version and writes in one IMMEDIATE transaction, which SQLite serialises
across threads and processes as DynamoDB's conditional put does across Lambdas: of two overlapping
polls, the second to save fails instead of moving the checkpoint backwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from chalicelib.ports import PollState

from botlocal.idempotency import _connect, _create, _immediate

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS poll_checkpoint (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    since_id TEXT,
    start_time REAL,
    range_newest_id TEXT,
    pagination_token TEXT,
    not_before REAL NOT NULL DEFAULT 0
)
"""
_COLUMNS: Final = "version, since_id, start_time, range_newest_id, pagination_token, not_before"


class SqlitePollCheckpoint:
    def __init__(self, path: Path) -> None:
        self.path: Final = path
        _create(path, "PRAGMA journal_mode=WAL", _SCHEMA)

    def load(self, key: str) -> PollState | None:
        with _connect(self.path) as connection:
            row = connection.execute(f"SELECT {_COLUMNS} FROM poll_checkpoint WHERE id = ?", (key,)).fetchone()  # noqa: S608 (constant columns)
        if row is None:
            return None
        version, since_id, start_time, range_newest_id, pagination_token, not_before = row
        return PollState(
            since_id=since_id,
            start_time=start_time,
            range_newest_id=range_newest_id,
            pagination_token=pagination_token,
            not_before=float(not_before or 0.0),
            version=int(version),
        )

    def save(self, key: str, state: PollState) -> bool:
        with _immediate(self.path) as connection:
            row = connection.execute("SELECT version FROM poll_checkpoint WHERE id = ?", (key,)).fetchone()
            stored = None if row is None else int(row[0])
            expected = None if state.version <= 1 else state.version - 1
            if stored != expected:
                return False
            connection.execute(
                f"INSERT OR REPLACE INTO poll_checkpoint (id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    key,
                    state.version,
                    state.since_id,
                    state.start_time,
                    state.range_newest_id,
                    state.pagination_token,
                    state.not_before,
                ),
            )
        return True
