"""The local bus's durable store: every published event and its delivery state, in one SQLite file.

Two processes share it: `chalice local` appends events while serving the webhook, the dispatcher
in `botctl serve` routes and delivers them. SQLite in WAL mode with synchronous=FULL gives both
what they need: an append is on disk when it returns (so the webhook may answer 200), readers
never block the writer, and state survives a crash or restart.

Lifecycle of an event:
1. append(): stored with routed_at NULL (not yet routed).
2. route(): the dispatcher decides the matching targets; one delivery row per target, pending.
3. mark_delivered() / mark_failed(): per target. A delivered target is never delivered again; a
   failed one is retried at `retry_at`, or becomes a dead letter when the caller gives up.
Deliveries are at-least-once (as with EventBridge): a crash between a target running and its
success being recorded means that target runs again after restart.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"

_SCHEMA_VERSION: Final = 1
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    envelope    TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    routed_at   REAL
);
CREATE INDEX IF NOT EXISTS events_unrouted ON events (seq) WHERE routed_at IS NULL;
CREATE TABLE IF NOT EXISTS deliveries (
    event_id        TEXT NOT NULL REFERENCES events (id),
    target          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('{PENDING}', '{DELIVERED}', '{DEAD}')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    updated_at      REAL NOT NULL,
    PRIMARY KEY (event_id, target)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at) WHERE state = '{PENDING}';
"""
#: Seconds a writer waits for another process's transaction before giving up.
_BUSY_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class RecordedEvent:
    """An event as appended, waiting to be routed."""

    seq: int
    event_id: str
    envelope: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """One event due at one target."""

    event_id: str
    target: str
    attempts: int
    envelope: dict[str, Any]


@dataclass(frozen=True)
class DeadLetter:
    """A delivery the dispatcher gave up on, with the last error it saw."""

    event_id: str
    target: str
    attempts: int
    last_error: str | None
    failed_at: float
    envelope: dict[str, Any]

    @property
    def detail_type(self) -> str:
        return str(self.envelope.get("detail-type", ""))

    @property
    def source(self) -> str:
        return str(self.envelope.get("source", ""))


class Journal:
    """The SQLite-backed event store in the file `path` (the local runtime's is LocalLayout.journal).

    Thread-safe; open one per process (or per thread, cheaply).
    """

    def __init__(self, path: Path) -> None:
        self.path: Final = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: chalice local serves requests on several threads.
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            str(path), timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (the WAL fsync'ed) before it returns; NORMAL could lose the
        # last commits on power loss, after the webhook already answered 200.
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        with self._write() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise RuntimeError(
                    f"{path} was written by a newer botlocal (schema {version} > {_SCHEMA_VERSION}); "
                    "upgrade, or use another --local-dir"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    # --- writing -------------------------------------------------------------------------------

    def append(self, envelopes: Sequence[Mapping[str, Any]], *, now: float | None = None) -> None:
        """Store the envelopes in one transaction: all of them are durable when this returns, or none."""
        recorded_at = time.time() if now is None else now
        rows = [
            (str(envelope["id"]), json.dumps(envelope, separators=(",", ":")), recorded_at) for envelope in envelopes
        ]
        with self._write() as connection:
            connection.executemany("INSERT INTO events (id, envelope, recorded_at) VALUES (?, ?, ?)", rows)

    def route(self, event_id: str, targets: Sequence[str], *, now: float | None = None) -> None:
        """Record which targets an event goes to (possibly none); from now on it is routed."""
        at = time.time() if now is None else now
        with self._write() as connection:
            # OR IGNORE: routing again after a crash must not reset a target's state.
            connection.executemany(
                "INSERT OR IGNORE INTO deliveries (event_id, target, state, next_attempt_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(event_id, target, PENDING, at, at) for target in targets],
            )
            connection.execute("UPDATE events SET routed_at = ? WHERE id = ? AND routed_at IS NULL", (at, event_id))

    def mark_delivered(self, event_id: str, target: str, *, now: float | None = None) -> None:
        at = time.time() if now is None else now
        with self._write() as connection:
            connection.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = NULL, updated_at = ? "
                "WHERE event_id = ? AND target = ? AND state = ?",
                (DELIVERED, at, event_id, target, PENDING),
            )

    def mark_failed(
        self, event_id: str, target: str, error: str, *, retry_at: float | None, now: float | None = None
    ) -> None:
        """Count a failed attempt: retry at `retry_at`, or dead-letter it when `retry_at` is None."""
        at = time.time() if now is None else now
        state = PENDING if retry_at is not None else DEAD
        with self._write() as connection:
            connection.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, updated_at = ? WHERE event_id = ? AND target = ? AND state = ?",
                (state, error, retry_at if retry_at is not None else at, at, event_id, target, PENDING),
            )

    def defer(self, event_id: str, target: str, reason: str, *, retry_at: float, now: float | None = None) -> None:
        """Try a pending delivery again at `retry_at` without counting an attempt (not a failure:
        the target said "later", e.g. Egress's posting budget is full until its window resets)."""
        at = time.time() if now is None else now
        with self._write() as connection:
            connection.execute(
                "UPDATE deliveries SET last_error = ?, next_attempt_at = ?, updated_at = ? "
                "WHERE event_id = ? AND target = ? AND state = ?",
                (reason, retry_at, at, event_id, target, PENDING),
            )

    def redrive(self, *, event_id: str | None = None, now: float | None = None) -> int:
        """Make dead letters (all, or one event's) pending again with a fresh attempt budget."""
        at = time.time() if now is None else now
        with self._write() as connection:
            cursor = connection.execute(
                "UPDATE deliveries SET state = ?, attempts = 0, next_attempt_at = ?, updated_at = ? "
                "WHERE state = ? AND (? IS NULL OR event_id = ?)",
                (PENDING, at, at, DEAD, event_id, event_id),
            )
            return cursor.rowcount

    # --- reading -------------------------------------------------------------------------------

    def unrouted(self, *, limit: int = 100) -> list[RecordedEvent]:
        rows = self._read("SELECT seq, id, envelope FROM events WHERE routed_at IS NULL ORDER BY seq LIMIT ?", (limit,))
        return [RecordedEvent(row["seq"], row["id"], json.loads(row["envelope"])) for row in rows]

    def due(self, *, now: float | None = None, limit: int = 100) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest event first."""
        at = time.time() if now is None else now
        rows = self._read(
            "SELECT d.event_id, d.target, d.attempts, e.envelope FROM deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE d.state = ? AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, e.seq LIMIT ?",
            (PENDING, at, limit),
        )
        return [Delivery(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def next_attempt_at(self) -> float | None:
        """When the earliest pending delivery is due (None if there is none)."""
        rows = self._read("SELECT min(next_attempt_at) FROM deliveries WHERE state = ?", (PENDING,))
        value = rows[0][0]
        return float(value) if value is not None else None

    def pending_count(self) -> int:
        """Events not yet routed plus deliveries not yet delivered nor dead: the work left to do."""
        rows = self._read(
            "SELECT (SELECT count(*) FROM events WHERE routed_at IS NULL) "
            "+ (SELECT count(*) FROM deliveries WHERE state = ?)",
            (PENDING,),
        )
        return int(rows[0][0])

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter, oldest first (an envelope that is not a JSON object reads as {})."""
        with self._lock:
            return read_dead_letters(self._connection)

    # --- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading
        # read locks; the busy timeout makes the other one wait instead of failing.
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def _read(self, sql: str, parameters: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()


def connect_read_only(path: Path) -> sqlite3.Connection | None:
    """A connection that can only read the journal at `path`, for readers beside the server
    (`botctl tail`, the page); None while it does not exist or cannot be opened yet.

    Read-only (mode=ro): such a reader never writes the state nor takes a write lock. In autocommit
    mode each SELECT is its own short read transaction, so the server's writes and WAL checkpoints
    never wait for it.
    """
    if not path.exists():
        return None
    try:
        uri = path.resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.OperationalError:
        return None


class JournalReader:
    """A reader beside the server (`botctl tail`, the page): its read-only connection, opened on
    first use once the journal exists (`connect_read_only`), kept until `close`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection | None:
        """The connection; None while the journal does not exist or cannot be opened yet."""
        if self._connection is None:
            self._connection = connect_read_only(self._path)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def read_dead_letters(connection: sqlite3.Connection) -> list[DeadLetter]:
    """Every dead letter, oldest first, with its event's envelope: the server's journal or a
    read-only reader's (`connect_read_only`). An envelope that is not a JSON object reads as {}."""
    rows = connection.execute(
        "SELECT d.event_id, d.target, d.attempts, d.last_error, d.updated_at, e.envelope "
        "FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.state = ? ORDER BY d.updated_at, e.seq",
        (DEAD,),
    ).fetchall()
    return [
        DeadLetter(str(row[0]), str(row[1]), int(row[2]), row[3], float(row[4]), json_object(row[5]) or {})
        for row in rows
    ]


def rows_after(
    connection: sqlite3.Connection, query: str, parameters: tuple[Any, ...], after: int, *, batch: int
) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` past event `after`, read `batch` at a time, for readers that follow the
    journal (`botctl tail`, the page). `query` takes `parameters`, then the seq to start after and
    the batch size, and selects the seq first, in order. Stops quietly when the journal is not
    readable (the server is creating its schema, or it is busy): the next poll goes on from there."""
    while True:
        try:
            rows = connection.execute(query, (*parameters, after, batch)).fetchall()
        except sqlite3.OperationalError:
            return
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def json_object(text: str) -> dict[str, Any] | None:
    """A journal column's JSON object, or None when it holds anything else (the readers skip it)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
