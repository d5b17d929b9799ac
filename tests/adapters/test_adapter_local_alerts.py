"""LocalAlertSink and read_alerts: durable JSON lines, forwarding that cannot lose an alert."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
from botlocal.alerts import LocalAlertSink, read_alerts


def test_alert_is_appended_as_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = LocalAlertSink(path, forward=None)
    sink.publish("Negative message", "jane: I hate this ☹", {"Author": "jane"})
    sink.publish("Another", "bob: awful", {})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["subject"] == "Negative message"
    assert first["message"] == "jane: I hate this ☹"
    assert first["attributes"] == {"Author": "jane"}
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert [alert["subject"] for alert in read_alerts(path)] == ["Negative message", "Another"]


def test_forward_is_called_after_the_line_is_written(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    seen: list[tuple[str, str, int]] = []

    def forward(subject: str, message: str) -> None:
        seen.append((subject, message, len(read_alerts(path))))

    LocalAlertSink(path, forward).publish("s", "m", {"a": "b"})
    assert seen == [("s", "m", 1)]


def test_a_failing_forward_keeps_the_alert(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "alerts.jsonl"

    def forward(subject: str, message: str) -> None:
        raise RuntimeError("the chat webhook answered HTTP 500")

    LocalAlertSink(path, forward).publish("s", "m", {})
    assert [alert["message"] for alert in read_alerts(path)] == ["m"]
    assert "not forwarded: RuntimeError: the chat webhook answered HTTP 500" in caplog.text


def test_a_torn_last_line_is_skipped_and_the_next_alert_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = LocalAlertSink(path)
    sink.publish("first", "m1", {})
    with path.open("ab") as file:
        file.write(b'{"time": "2024-05-01T00:00:00+00:00", "subj')  # a crash mid-write
    assert [alert["subject"] for alert in read_alerts(path)] == ["first"]
    sink.publish("second", "m2", {})
    assert [alert["subject"] for alert in read_alerts(path)] == ["first", "second"]


def test_no_file_means_no_alerts(tmp_path: Path) -> None:
    assert read_alerts(tmp_path / "alerts.jsonl") == []


def test_concurrent_publishers_keep_every_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "alerts.jsonl"
    sink = LocalAlertSink(path)

    def publish(worker: int) -> None:
        for index in range(10):
            sink.publish(f"w{worker}", "x" * 5000, {"index": str(index)})

    threads = [threading.Thread(target=publish, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    alerts = read_alerts(path)
    assert len(alerts) == 80
    assert len(path.read_text(encoding="utf-8").splitlines()) == 80
