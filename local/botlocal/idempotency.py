"""Local idempotency records: a Powertools persistence layer on SQLite (LocalLayout.idempotency).

It keeps the semantics of Powertools' DynamoDBPersistenceLayer, so Egress behaves the same in both
runtimes: a record may be (re)written only when none exists, when it has expired, or when it is
INPROGRESS and its in-progress expiry has passed (the invocation that wrote it died). The check and
the write happen in one IMMEDIATE transaction, which SQLite serialises across the local runtime's
threads and processes as DynamoDB's conditional put does across Lambdas.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord
from chalicelib.adapters.idempotency import DEFAULT_EXPIRES_AFTER_SECONDS, KEY_PREFIX, PowertoolsIdempotency
from chalicelib.kernel.idempotency import COUNTER_EXPIRY_MARGIN_SECONDS, window_key

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS idempotency (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiration INTEGER,
    in_progress_expiration INTEGER,
    data TEXT NOT NULL DEFAULT '',
    validation TEXT NOT NULL DEFAULT ''
)
"""


class SqlitePersistenceLayer(BasePersistenceLayer):
    """Powertools' BasePersistenceLayer with one SQLite table; a connection per operation (thread-safe)."""

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path: Final = path
        _create(path, "PRAGMA journal_mode=WAL", _SCHEMA)  # WAL: readers do not wait for the writer

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with _connect(self.path) as connection:
            row = connection.execute(
                "SELECT id, status, expiration, in_progress_expiration, data, validation FROM idempotency WHERE id = ?",
                (idempotency_key,),
            ).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        with _immediate(self.path) as connection:
            row = connection.execute(
                "SELECT id, status, expiration, in_progress_expiration, data, validation FROM idempotency WHERE id = ?",
                (data_record.idempotency_key,),
            ).fetchone()
            if row is not None and not _replaceable(row, now):
                raise IdempotencyItemAlreadyExistsError(old_data_record=_record(row))
            connection.execute(
                "INSERT OR REPLACE INTO idempotency"
                " (id, status, expiration, in_progress_expiration, data, validation) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.in_progress_expiry_timestamp,
                    data_record.response_data or "",
                    data_record.payload_hash or "",
                ),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        with _connect(self.path) as connection:
            connection.execute(
                "UPDATE idempotency SET status = ?, expiration = ?, data = ?, validation = ? WHERE id = ?",
                (
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.response_data or "",
                    data_record.payload_hash or "",
                    data_record.idempotency_key,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with _connect(self.path) as connection:
            connection.execute("DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,))


def _replaceable(row: tuple[Any, ...], now: float) -> bool:
    """DynamoDBPersistenceLayer's condition: expired, or in progress past its in-progress expiry."""
    _key, status, expiration, in_progress_expiration, _data, _validation = row
    if expiration is not None and expiration < int(now):
        return True
    return bool(
        status == STATUS_CONSTANTS["INPROGRESS"]
        and in_progress_expiration is not None
        and in_progress_expiration < int(now * 1000)
    )


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection per operation (thread-safe). isolation_level=None: transactions are explicit
    (`_immediate`), not implicit."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _create(path: Path, *statements: str) -> None:
    """The SQLite file (and its folder) made if missing, then `statements` run: each store's
    schema (CREATE ... IF NOT EXISTS, and pragmas), in one place for every local store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _connect(path) as connection:
        for statement in statements:
            connection.execute(statement)


@contextlib.contextmanager
def _immediate(path: Path) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction: the check and the write are serialised across threads and
    processes, as DynamoDB's conditional writes are; committed on exit, rolled back on an error."""
    with _connect(path) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _record(row: tuple[Any, ...]) -> DataRecord:
    key, status, expiration, in_progress_expiration, data, validation = row
    return DataRecord(
        idempotency_key=key,
        status=status,
        expiry_timestamp=expiration,
        in_progress_expiry_timestamp=in_progress_expiration,
        response_data=data,
        payload_hash=validation,
    )


def local_idempotency(path: Path, *, key_prefix: str = KEY_PREFIX) -> PowertoolsIdempotency:
    """The idempotency port for the local runtime, in the SQLite file `path` (LocalLayout.idempotency),
    keys under `key_prefix`."""
    return PowertoolsIdempotency(SqlitePersistenceLayer(path), key_prefix=key_prefix)


class SqliteClaims:
    """The Claims port on SQLite, in the idempotency file (a table of its own): claims are taken in
    one IMMEDIATE transaction, as DynamoDB's conditional put takes them."""

    def __init__(self, path: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path: Final = path
        self._now = now
        path.parent.mkdir(parents=True, exist_ok=True)
        with _connect(self.path) as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS claims"
                " (id TEXT PRIMARY KEY, status TEXT NOT NULL, expiration INTEGER, owner TEXT)"
            )
            columns = {row[1] for row in connection.execute("PRAGMA table_info(claims)")}
            if "owner" not in columns:  # a state folder made before claims had owners
                connection.execute("ALTER TABLE claims ADD COLUMN owner TEXT")

    def claim(self, key: str, *, owner: str, hold_seconds: int) -> bool:
        now = int(self._now())
        with _immediate(self.path) as connection:
            row = connection.execute("SELECT expiration, status, owner FROM claims WHERE id = ?", (key,)).fetchone()
            live = row is not None and row[0] is not None and int(row[0]) >= now
            mine = row is not None and row[1] == "INPROGRESS" and row[2] == owner
            if live and not mine:
                return False
            connection.execute(
                "INSERT OR REPLACE INTO claims (id, status, expiration, owner) VALUES (?, 'INPROGRESS', ?, ?)",
                (key, now + hold_seconds, owner),
            )
        return True

    def complete(self, key: str) -> None:
        with _connect(self.path) as connection:
            connection.execute(
                "INSERT OR REPLACE INTO claims (id, status, expiration) VALUES (?, 'COMPLETED', ?)",
                (key, int(self._now()) + DEFAULT_EXPIRES_AFTER_SECONDS),
            )

    def release(self, key: str) -> None:
        with _connect(self.path) as connection:
            connection.execute("DELETE FROM claims WHERE id = ?", (key,))


class SqliteWindowCounters:
    """The WindowCounters port on SQLite, in the idempotency file (a table of its own): a count is
    taken in one IMMEDIATE transaction, as DynamoDB's conditional UpdateItem takes it. Records of
    windows that have ended are deleted as new ones are written (SQLite has no TTL)."""

    def __init__(self, path: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path: Final = path
        self._now = now
        _create(
            path,
            "CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, count INTEGER NOT NULL, expiration INTEGER)",
        )

    def take(self, key: str, *, limit: int, window_seconds: int) -> bool:
        if limit <= 0:  # nothing may be counted: no record needed
            return False
        now = self._now()
        record, ends = window_key(key, window_seconds, now)
        with _immediate(self.path) as connection:
            connection.execute("DELETE FROM counters WHERE expiration < ?", (int(now),))
            row = connection.execute("SELECT count FROM counters WHERE id = ?", (record,)).fetchone()
            if row is not None and int(row[0]) >= limit:
                return False
            connection.execute(
                "INSERT INTO counters (id, count, expiration) VALUES (?, 1, ?)"
                " ON CONFLICT(id) DO UPDATE SET count = count + 1",
                (record, ends + COUNTER_EXPIRY_MARGIN_SECONDS),
            )
        return True
