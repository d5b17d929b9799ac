"""Local alerts: one JSON object per line in the state folder's alerts file, then an optional forward.

`botctl alerts` reads the file with read_alerts(). The line is written (and fsync'ed) before the
alert is forwarded to a chat webhook, so a webhook that is down never costs the alert.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

#: The topic's subscriber, called with (subject, message) after the alert is on disk, as SNS
#: delivers them; raising is tolerated.
Forward = Callable[[str, str], None]


class LocalAlertSink:
    """chalicelib.ports.AlertSink for the local runtime."""

    def __init__(self, path: Path, forward: Forward | None = None) -> None:
        self.path: Final = path
        self._forward = forward
        # The local runtime runs targets on threads; one writer at a time keeps lines whole.
        self._lock = threading.Lock()

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "subject": subject,
            "message": message,
            "attributes": dict(attributes),
        }
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._append(line.encode("utf-8"))
        if self._forward is None:
            return
        try:
            self._forward(subject, message)
        except Exception as error:  # the alert is already stored: report, don't fail the publish
            # The type and message only: adapters keep secrets (a webhook URL) out of their messages.
            logger.warning("alert stored but not forwarded: %s: %s", type(error).__name__, error)

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A crash mid-write leaves a line without its newline: start a fresh line after it, so
            # the torn line is skipped alone instead of swallowing this alert too.
            size = os.fstat(descriptor).st_size
            if size and _last_byte(self.path, size) != b"\n":
                data = b"\n" + data
            view = memoryview(data)
            while view:
                written = os.write(descriptor, view)
                view = view[written:]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(size - 1)
        return file.read(1)


def read_alerts(path: Path) -> list[dict[str, Any]]:
    """Every alert in the file, oldest first; lines that are not whole JSON objects are skipped.

    Such a line is what a crash mid-write leaves (normally the last one); a missing file means no
    alert yet.
    """
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return []
    alerts: list[dict[str, Any]] = []
    last = len(lines) - 1
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        if isinstance(value, dict):
            alerts.append(value)
        elif number != last:
            logger.warning("skipped a damaged line in %s (line %d)", path.name, number + 1)
    return alerts
