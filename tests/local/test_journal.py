"""The journal: durable, transactional, safe across processes, with per-target delivery state."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botlocal.journal import DEAD, DELIVERED, PENDING, Journal, connect_read_only, read_dead_letters, rows_after
from botlocal.layout import LocalLayout

from tests.local.journal_views import delivery_states, event_count


def test_the_database_is_in_wal_mode_with_full_sync(local_dir: Path) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        assert journal.path == LocalLayout(local_dir).journal
        assert journal.path.is_file()  # its folder made as needed
        assert journal._connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert journal._connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_appended_events_wait_to_be_routed_in_order(local_dir: Path, envelope: Callable[..., Any]) -> None:
    first, second = envelope(event_id="a"), envelope(event_id="b")
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([first, second])
        assert [event.envelope for event in journal.unrouted()] == [first, second]
        assert journal.pending_count() == 2


def test_one_append_is_one_transaction(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="dup")])
        with pytest.raises(sqlite3.IntegrityError):
            journal.append([envelope(event_id="new"), envelope(event_id="dup")])
        assert [event.event_id for event in journal.unrouted()] == ["dup"]


def test_routing_creates_one_pending_delivery_per_target(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="e")])
        journal.route("e", ["t1", "t2"], now=100.0)
        assert journal.unrouted() == []
        assert delivery_states(journal, "e") == {"t1": PENDING, "t2": PENDING}
        assert [(d.target, d.attempts) for d in journal.due(now=100.0)] == [("t1", 0), ("t2", 0)]
        assert journal.pending_count() == 2


def test_an_event_no_target_wants_is_done_once_routed(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="e")])
        journal.route("e", [])
        assert journal.pending_count() == 0


def test_routing_again_never_resets_a_delivered_target(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="e")])
        journal.route("e", ["t1", "t2"])
        journal.mark_delivered("e", "t1")
        journal.route("e", ["t1", "t2"])
        assert delivery_states(journal, "e") == {"t1": DELIVERED, "t2": PENDING}


def test_a_delivered_target_is_never_due_again(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="e")])
        journal.route("e", ["ok", "flaky"], now=0.0)
        journal.mark_delivered("e", "ok", now=1.0)
        journal.mark_failed("e", "flaky", "boom", retry_at=10.0, now=1.0)
        journal.mark_failed("e", "ok", "late failure report", retry_at=10.0, now=2.0)  # ignored: already delivered
        assert journal.due(now=5.0) == []
        assert [(d.target, d.attempts) for d in journal.due(now=10.0)] == [("flaky", 1)]
        assert journal.next_attempt_at() == 10.0


def test_giving_up_makes_a_dead_letter_that_redrive_revives(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope("SEND_TWEET", event_id="e")])
        journal.route("e", ["egress"], now=0.0)
        journal.mark_failed("e", "egress", "first", retry_at=1.0, now=0.0)
        journal.mark_failed("e", "egress", "ValueError: last", retry_at=None, now=2.0)
        assert journal.pending_count() == 0
        (letter,) = journal.dead_letters()
        assert (letter.event_id, letter.target, letter.attempts, letter.last_error) == (
            "e",
            "egress",
            2,
            "ValueError: last",
        )
        assert (letter.detail_type, letter.source, letter.failed_at) == ("SEND_TWEET", "xbot.ingress", 2.0)
        assert delivery_states(journal, "e") == {"egress": DEAD}

        assert journal.redrive(now=3.0) == 1
        assert journal.dead_letters() == []
        assert [(d.target, d.attempts) for d in journal.due(now=3.0)] == [("egress", 0)]


def test_state_survives_reopening(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="routed"), envelope(event_id="new")])
        journal.route("routed", ["t"], now=0.0)
    with Journal(LocalLayout(local_dir).journal) as reopened:
        assert [event.event_id for event in reopened.unrouted()] == ["new"]
        assert [d.event_id for d in reopened.due(now=0.0)] == ["routed"]
        assert event_count(reopened) == 2


def test_a_newer_schema_is_refused(local_dir: Path) -> None:
    Journal(LocalLayout(local_dir).journal).close()
    with sqlite3.connect(LocalLayout(local_dir).journal) as connection:
        connection.execute("PRAGMA user_version=99")
    with pytest.raises(RuntimeError, match="newer botlocal"):
        Journal(LocalLayout(local_dir).journal)


def test_a_writer_process_and_a_routing_process_share_the_journal(local_dir: Path) -> None:
    """chalice local appends in one process while the dispatcher routes in another."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from botlocal.journal import Journal
        with Journal(Path({str(LocalLayout(local_dir).journal)!r})) as journal:
            for batch in range(50):
                journal.append([{{"id": f"{{batch}}-{{i}}", "detail-type": "X"}} for i in range(4)])
        """
    )
    routed: list[str] = []
    with Journal(LocalLayout(local_dir).journal) as dispatcher_side:
        writer = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 60
        while len(routed) < 200 and time.monotonic() < deadline:
            for event in dispatcher_side.unrouted():
                dispatcher_side.route(event.event_id, ["t"])
                routed.append(event.event_id)
        assert writer.wait(timeout=60) == 0
        assert dispatcher_side.pending_count() == 200
    assert len(routed) == 200
    assert routed[0] == "0-0"
    assert routed[-1] == "49-3"


def test_a_follower_reads_every_event_across_batches_in_order(local_dir: Path, envelope: Callable[..., Any]) -> None:
    """rows_after pages through the journal: 7 events in batches of 3 (two full ones, then one),
    and an exact multiple of the batch (an empty last page) ends it too."""
    path = LocalLayout(local_dir).journal
    with Journal(path) as journal:
        journal.append([envelope(event_id=f"e{index}") for index in range(7)])
    connection = connect_read_only(path)
    assert connection is not None
    query = "SELECT seq, id FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
    assert [row[1] for row in rows_after(connection, query, (), 0, batch=3)] == [f"e{i}" for i in range(7)]
    assert [row[1] for row in rows_after(connection, query, (), 0, batch=7)] == [f"e{i}" for i in range(7)]
    seq_of_third = next(row[0] for row in rows_after(connection, query, (), 0, batch=3) if row[1] == "e2")
    assert [row[1] for row in rows_after(connection, query, (), seq_of_third, batch=2)] == ["e3", "e4", "e5", "e6"]


def test_a_follower_stops_quietly_while_the_journal_is_not_readable(tmp_path: Path) -> None:
    """No events table yet (the server is creating the file): nothing, and no error; the next poll
    reads on."""
    connection = sqlite3.connect(tmp_path / "empty.db")
    query = "SELECT seq, id FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
    assert list(rows_after(connection, query, (), 0, batch=3)) == []


def test_dead_letters_read_by_a_reader_beside_the_server(local_dir: Path, envelope: Callable[..., Any]) -> None:
    """The page's read-only connection sees the same dead letters as the server's journal."""
    path = LocalLayout(local_dir).journal
    with Journal(path) as journal:
        journal.append([envelope(event_id="dead")])
        journal.route("dead", ["target"])
        journal.mark_failed("dead", "target", "boom", retry_at=None)
        expected = journal.dead_letters()
    connection = connect_read_only(path)
    assert connection is not None
    assert read_dead_letters(connection) == expected
    assert [(letter.event_id, letter.last_error) for letter in expected] == [("dead", "boom")]
