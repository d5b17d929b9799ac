"""Durable files for the local runtime's stores."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomically(path: Path, body: bytes) -> None:
    """Write then rename, fsync'ed: a reader (the analysis, the reply, a URI holder) never sees
    half a file, and a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def new_json_lines(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The whole JSON lines appended to `path` after `offset`, and the new offset, for readers that
    follow a file another process appends to (`botctl tail`, the page): a line being written is read
    next time; a file replaced by a shorter one, or gone, is read again from the start."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], 0
    if size < offset:
        offset = 0
    if size == offset:
        return [], offset
    with path.open("rb") as file:
        file.seek(offset)
        data = file.read(size - offset)
    complete = data[: data.rfind(b"\n") + 1]
    records: list[dict[str, Any]] = []
    for raw in complete.split(b"\n"):
        try:
            record = json.loads(raw) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None  # a line torn by a crash: skipped, as read_alerts does
        if isinstance(record, dict):
            records.append(record)
    return records, offset + len(complete)
