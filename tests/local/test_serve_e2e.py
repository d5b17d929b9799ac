"""`botctl serve` for real: starts, answers on the port, stops cleanly leaving no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

BOTCTL = Path(sys.executable).parent / "botctl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every process below pid (Linux /proc)."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent is gone or about to reap it).
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    local_dir = tmp_path / "state"
    env = {**os.environ, "BOT_LOCAL_DIR": str(local_dir), "AWS_DEFAULT_REGION": "us-east-1"}
    process = subprocess.Popen(
        [str(BOTCTL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        yield process, f"http://127.0.0.1:{port}", local_dir
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_serve_starts_answers_and_stops_cleanly(served: tuple[subprocess.Popen[str], str, Path]) -> None:
    process, base_url, local_dir = served
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, f"botctl serve exited early:\n{''.join(banner)}"
        banner.append(line)
        if line.startswith("Webhook ready at"):
            break
    assert banner[-1].strip() == f"Webhook ready at {base_url}/twitter", "".join(banner)

    response = requests.get(f"{base_url}/twitter", timeout=10)
    assert response.status_code not in (404, 405), response.text  # the route exists and answers
    assert (local_dir / "bus.sqlite3").exists()

    children = descendants(process.pid)
    assert children, "chalice local should run as a child process"
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "botctl serve stopped" in output
    time.sleep(0.2)
    assert not [pid for pid in children if alive(pid)], "processes left behind"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/twitter", timeout=2)
