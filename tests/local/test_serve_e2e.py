"""`botctl serve` for real: starts, records its address, answers on the port, stops cleanly leaving
no process and no record behind."""

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
from botlocal.layout import LocalLayout
from botlocal.server_record import new_record, read_record, registered_servers, running_server, write_record

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
    # A record left by a server that was killed: the new one replaces it.
    local_dir.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    layout = LocalLayout(local_dir.resolve())
    write_record(layout, new_record(layout, "http://127.0.0.1:9/twitter", pid=gone.pid))
    env = {**os.environ, "BOT_LOCAL_DIR": str(local_dir), "AWS_DEFAULT_REGION": "us-east-1"}
    process = subprocess.Popen(
        [str(BOTCTL), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-page"],
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
    layout = LocalLayout(local_dir.resolve())
    assert layout.journal.exists()
    # The client commands find the server through its record (written before "Webhook ready").
    record = running_server(layout)
    assert (record.url, record.pid, record.local_dir) == (f"{base_url}/twitter", process.pid, str(layout.root))
    # ... and, when they were not told where its state is, through this user's registry.
    assert registered_servers() == [record]

    children = descendants(process.pid)
    assert children, "chalice local should run as a child process"
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "botctl serve stopped" in output
    assert read_record(layout) is None  # a clean exit removes the record
    assert registered_servers() == []
    time.sleep(0.2)
    assert not [pid for pid in children if alive(pid)], "processes left behind"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/twitter", timeout=2)


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGHUP, signal.SIGKILL], ids=lambda sig: sig.name)
def test_chalice_local_dies_with_serve(
    served: tuple[subprocess.Popen[str], str, Path], stop_signal: signal.Signals
) -> None:
    """However serve ends, its child does too: nothing answers 200 with no dispatcher behind it.

    SIGTERM is the test above. SIGINT and SIGHUP are handled like it; SIGKILL skips every cleanup,
    so the child has to notice on its own that its parent is gone."""
    process, base_url, _ = served
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while not (line := process.stdout.readline()).startswith("Webhook ready at"):
        assert line and time.monotonic() < deadline, "botctl serve did not start"
    children = descendants(process.pid)
    assert children, "chalice local should run as a child process"

    process.send_signal(stop_signal)
    output, _ = process.communicate(timeout=30)
    if stop_signal != signal.SIGKILL:
        assert process.returncode == 0, output
        assert "botctl serve stopped" in output
    deadline = time.monotonic() + 10
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], "processes left behind"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/twitter", timeout=2)


@pytest.mark.slow
def test_a_body_over_api_gateways_limit_is_refused_before_it_is_read(
    served: tuple[subprocess.Popen[str], str, Path],
) -> None:
    """A client announcing 256 MiB gets 413 at once: nothing waits for, or buffers, the body."""
    import socket
    from urllib.parse import urlsplit

    process, base_url, _ = served
    assert process.stdout is not None
    for line in process.stdout:
        if "Webhook ready" in line:
            break
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /twitter HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {256 * 1024 * 1024}\r\n\r\n".encode()
            + b'{"for_user_id": "1", '  # a few bytes of the announced 256 MiB, and no more
        )
        # The headers and the body may come in separate segments: read until the server closes.
        received = b""
        while chunk := connection.recv(4096):
            received += chunk
        answer = received.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "Request Too Long" in answer
