"""The OptOuts port on SQLite, in the idempotency file of the state folder (a table of its own).

Each change is one IMMEDIATE transaction, as DynamoDB's conditional UpdateItem is one step: only
the first of two simultaneous "stop"s from a person says it changed anything, and the same post
again (a retry, a redelivery) is recognised by the `post` kept with the change, and a post older than
it changes nothing (chalicelib.kernel.opt_out_order: a late "stop" does not undo a newer "start"). A row that says
opted in is not needed after its post's retries, but is small and kept (SQLite has no TTL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from chalicelib.kernel.opt_out_order import is_older

from botlocal.idempotency import _connect, _create, _immediate


class SqliteOptOuts:
    def __init__(self, path: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path: Final = path
        self._now = now
        _create(
            path,
            "CREATE TABLE IF NOT EXISTS opt_outs"
            " (user_id TEXT PRIMARY KEY, opted_out INTEGER NOT NULL, post TEXT NOT NULL, since INTEGER NOT NULL)",
        )

    def is_opted_out(self, user_id: str) -> bool:
        return self.opted_out_by(user_id) is not None

    def opted_out_by(self, user_id: str) -> str | None:
        with _connect(self.path) as connection:
            row = connection.execute("SELECT opted_out, post FROM opt_outs WHERE user_id = ?", (user_id,)).fetchone()
        return row[1] if row is not None and bool(row[0]) else None  # `post` is TEXT NOT NULL

    def opt_out(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=True)

    def opt_in(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=False)

    def _change(self, user_id: str, post_id: str, *, opted_out: bool) -> bool:
        with _immediate(self.path) as connection:
            row = connection.execute("SELECT opted_out, post FROM opt_outs WHERE user_id = ?", (user_id,)).fetchone()
            current = row is not None and bool(row[0])
            same_post = row is not None and row[1] == post_id
            if current == opted_out and not same_post:
                return False
            if row is not None and is_older(post_id, row[1]):
                return False  # a late "stop" never undoes a newer "start" (nor the reverse)
            connection.execute(
                "INSERT OR REPLACE INTO opt_outs (user_id, opted_out, post, since) VALUES (?, ?, ?, ?)",
                (user_id, int(opted_out), post_id, int(self._now())),
            )
        return True
