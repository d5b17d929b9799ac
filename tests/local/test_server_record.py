"""The address `botctl serve` records in its state folder, and how a client tells a live one from a stale one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botlocal.layout import LocalLayout
from botlocal.server_record import (
    NoServerError,
    ServeLockError,
    ServerRecord,
    hold_serve_lock,
    is_running,
    new_record,
    read_record,
    remove_record,
    running_server,
    webhook_url,
    write_record,
)


@pytest.fixture
def layout(tmp_path: Path) -> LocalLayout:
    root = tmp_path / "state"
    root.mkdir()
    return LocalLayout(root)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_record_names_url_pid_folder_and_start_time(layout: LocalLayout) -> None:
    record = new_record(layout, "http://127.0.0.1:18801/twitter")
    write_record(layout, record)
    on_disk = json.loads(layout.server.read_text(encoding="utf-8"))
    assert on_disk == {
        "url": "http://127.0.0.1:18801/twitter",
        "pid": os.getpid(),
        "local_dir": str(layout.root),
        "started_at": record.started_at,
    }
    assert record.started_at.endswith("+00:00")
    assert read_record(layout) == record
    assert [path.name for path in layout.root.iterdir()] == [layout.server.name]  # written atomically: no temp file


def test_no_record_reads_as_none(layout: LocalLayout) -> None:
    assert read_record(layout) is None


@pytest.mark.parametrize(
    "content", [b"", b"{", b"[]", b'{"url": "u"}', b'{"url": "u", "pid": 0, "local_dir": "d", "started_at": "t"}']
)
def test_a_damaged_record_is_refused(layout: LocalLayout, content: bytes) -> None:
    layout.server.write_bytes(content)
    with pytest.raises(ValueError, match="not a server record"):
        read_record(layout)
    with pytest.raises(NoServerError, match="is damaged"):
        running_server(layout)


def test_a_record_is_live_while_its_server_holds_the_lock(layout: LocalLayout) -> None:
    record = new_record(layout, "http://127.0.0.1:1/twitter")
    write_record(layout, record)
    with hold_serve_lock(layout):
        assert is_running(layout, record)
        assert running_server(layout) == record
    # The pid is alive (ours) but the lock is free: the server that wrote it is gone, the pid reused.
    assert not is_running(layout, record)
    with pytest.raises(NoServerError, match=r"\(pid \d+, started .*\) is no longer running"):
        running_server(layout)


def test_a_record_whose_pid_is_dead_is_stale(layout: LocalLayout) -> None:
    record = new_record(layout, "http://127.0.0.1:1/twitter", pid=dead_pid())
    write_record(layout, record)
    with hold_serve_lock(layout):  # even with the lock held (by someone else), a dead pid is no server
        assert not is_running(layout, record)
        with pytest.raises(NoServerError, match=f"pid {record.pid}, .* is no longer running"):
            running_server(layout)


def test_missing_folder_and_missing_record_say_so(tmp_path: Path, layout: LocalLayout) -> None:
    with pytest.raises(NoServerError, match="no local state in"):
        running_server(LocalLayout(tmp_path / "nowhere"))
    with pytest.raises(NoServerError, match=r"no `botctl serve` is recorded in .* \(server.json is missing\)"):
        running_server(layout)


def test_a_server_removes_only_its_own_record(layout: LocalLayout) -> None:
    write_record(layout, new_record(layout, "http://127.0.0.1:1/twitter", pid=12345))
    remove_record(layout, pid=54321)  # an older server stopping late must not remove a newer one's record
    assert layout.server.exists()
    remove_record(layout, pid=12345)
    assert not layout.server.exists()
    remove_record(layout, pid=12345)  # already gone: fine


def test_one_server_per_state_folder(layout: LocalLayout) -> None:
    with (
        hold_serve_lock(layout),
        pytest.raises(ServeLockError, match="another `botctl serve` is already using"),
        hold_serve_lock(layout),
    ):
        pass
    with hold_serve_lock(layout):  # released when the first server stops
        pass


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/twitter"),
        ("0.0.0.0", "http://127.0.0.1:8000/twitter"),  # a wildcard is reached on loopback
        ("::", "http://[::1]:8000/twitter"),
        ("::1", "http://[::1]:8000/twitter"),
        ("localhost", "http://localhost:8000/twitter"),
    ],
)
def test_the_url_is_what_a_client_on_this_machine_connects_to(host: str, url: str) -> None:
    assert webhook_url(host, 8000) == url


def test_the_record_round_trips() -> None:
    record = ServerRecord(
        url="http://127.0.0.1:1/twitter", pid=7, local_dir="/x", started_at="2026-12-02T10:00:00+00:00"
    )
    assert ServerRecord.from_json(record.to_json()) == record
