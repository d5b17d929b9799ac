"""Test-only views of the local runtime's stores (what the production code never needs to ask)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from botlocal.dispatcher import Dispatcher
from botlocal.journal import Journal


def drain(dispatcher: Dispatcher, *, max_passes: int = 1000) -> None:
    """Pass until a pass finds nothing to do (what `botctl serve` does forever, done once)."""
    for _ in range(max_passes):
        if not dispatcher.run_once():
            return
    raise AssertionError(f"the dispatcher was still busy after {max_passes} passes")


def _rows(journal: Journal, sql: str, parameters: tuple[object, ...]) -> list[tuple[object, ...]]:
    # A connection of its own, read-only, as a second process would read the journal.
    with closing(sqlite3.connect(f"file:{journal.path}?mode=ro", uri=True)) as connection:
        return connection.execute(sql, parameters).fetchall()


def delivery_states(journal: Journal, event_id: str) -> dict[str, str]:
    """Target -> state of every delivery of one event."""
    rows = _rows(journal, "SELECT target, state FROM deliveries WHERE event_id = ?", (event_id,))
    return {str(target): str(state) for target, state in rows}


def event_count(journal: Journal) -> int:
    return int(str(_rows(journal, "SELECT count(*) FROM events", ())[0][0]))
