"""The Firehose stand-in: every event as one JSON line under the lake's folder, in YYYY/MM/DD/HH/.

Firehose writes the same envelopes to S3 under events/YYYY/MM/DD/HH/; locally the folder
(LocalLayout.datalake) is the data lake itself, so the prefix is dropped. The hour is the event's
own time (UTC), which is the partition `dt` = "YYYY/MM/DD/HH" the query layer derives from the path.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

#: Every file of the lake, for readers: YYYY/MM/DD/HH/<name>.jsonl under the lake's root.
FILES_GLOB: Final = "*/*/*/*/*.jsonl"
_EVENT_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def partition_of(event_time: str) -> str:
    """The dt partition and folder of an event time: "2024-05-01T13:04:05Z" -> "2024/05/01/13"."""
    try:
        when = datetime.strptime(event_time, _EVENT_TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise ValueError(f"event time {event_time!r} is not an EventBridge time (YYYY-MM-DDTHH:MM:SSZ)") from None
    return when.strftime("%Y/%m/%d/%H")


class LocalDataLake:
    """Appends envelopes to hourly newline-delimited JSON files, fsync'ed before returning.

    An envelope whose id is already in its hour's file is not written again: the journal delivers
    at least once, and a crash between this append and the journal's "delivered" mark replays the
    delivery. (Firehose on AWS may also write a record twice; the README's queries say so.)
    """

    def __init__(self, root: Path, *, file_stem: str = "xbot-events") -> None:
        self.root: Final = root
        self._file_stem = file_stem
        self._lock = threading.Lock()
        self._ids: dict[Path, set[str]] = {}

    def path_for(self, envelope: Mapping[str, Any]) -> Path:
        partition = partition_of(envelope.get("time", ""))
        # One file per hour, named like Firehose's objects (stream name, then the hour).
        return self.root / partition / f"{self._file_stem}-{partition.replace('/', '-')}.jsonl"

    def append(self, envelope: Mapping[str, Any]) -> Path:
        path = self.path_for(envelope)
        line = (json.dumps(envelope, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            created = not path.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            if path not in self._ids:
                _repair_torn_tail(path)
                self._ids[path] = _ids_in(path)
            event_id = str(envelope.get("id", ""))
            if event_id and event_id in self._ids[path]:
                return path
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:
                _fsync_directory(path.parent)
            if event_id:
                self._ids[path].add(event_id)
        return path


def _ids_in(path: Path) -> set[str]:
    """The event ids already written to one hour's file (read once per file and process)."""
    if not path.exists():
        return set()
    ids: set[str] = set()
    with path.open("rb") as file:
        for line in file:
            try:
                ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return ids


def _repair_torn_tail(path: Path) -> None:
    """Drop a partial last line left by a crash mid-write, so the next line starts clean."""
    if not path.exists():
        return
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return
        file.seek(0)
        data = file.read()
        file.truncate(data.rfind(b"\n") + 1)
        file.flush()
        os.fsync(file.fileno())


def _fsync_directory(directory: Path) -> None:
    # A new file's name is durable only once its directory is fsync'ed.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
