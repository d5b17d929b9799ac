"""`botctl serve` in the background, and the botctl commands a person types, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOTCTL = Path(sys.executable).parent / "botctl"


@dataclass(frozen=True)
class LocalRuntime:
    url: str
    env: dict[str, str]
    local_dir: Path

    def botctl(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BOTCTL), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def query(self, sql: str) -> list[dict[str, Any]]:
        result = self.botctl("query", sql, "--format", "json")
        assert result.returncode == 0, result.stderr
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        return rows

    def wait(self, timeout: float = 120) -> None:
        waited = self.botctl("wait", "--timeout", str(timeout), timeout=timeout + 30)
        assert waited.returncode == 0, waited.stdout + waited.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(state: Path, *, options: tuple[str, ...] = ("--no-page",), **environment: str) -> Iterator[LocalRuntime]:
    """Run `botctl serve` on a free port with its state in `state`/bot and `options` (no page by
    default: its port is not known to be free) until the block ends; its terminal output is in
    `state`/serve.log."""
    port = _free_port()
    state.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BOT_LOCAL_DIR": str(state / "bot"), **environment}
    log_path = state / "serve.log"
    with log_path.open("w") as log:
        # Output goes to a file: a pipe nobody reads would fill up and block the server.
        process = subprocess.Popen(
            [str(BOTCTL), "serve", "--port", str(port), *options], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        try:
            deadline = time.monotonic() + 60
            # The last start-up line: every other one (the page's address among them) is out.
            while "Press Ctrl+C to stop." not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "botctl serve did not start"
                time.sleep(0.1)
            yield LocalRuntime(url=f"http://127.0.0.1:{port}/twitter", env=env, local_dir=state / "bot")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
