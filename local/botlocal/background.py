"""`botctl serve` as a background process, for the demo and the load test: start it on a free port,
wait until it records its address, stop it at the end; and `botctl wait` until the bus is idle."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from botlocal.layout import LocalLayout
from botlocal.server_record import read_record

BOTCTL: Final = Path(sys.executable).parent / "botctl"
#: Loading the local models on first use can take a while on a slow machine.
START_TIMEOUT: Final = 90.0


class BackgroundServeError(RuntimeError):
    """`botctl serve` stopped or did not start; the message names its log file."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(layout: LocalLayout, env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """`botctl serve` on `port` (a free one by default) until the block ends; yields the webhook's
    URL it recorded. Its output goes to the layout's serve log. No page (--no-page): the demo and the
    load test do not show it, and its port (the webhook's + 1) is not known to be free."""
    log_path = layout.serve_log()
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own botctl, fixed arguments)
            [str(BOTCTL), "serve", "--port", str(port or free_port()), "--no-page", "--local-dir", str(layout.root)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while (url := _recorded_url(layout, process.pid)) is None:
                if process.poll() is not None:
                    raise BackgroundServeError(f"botctl serve stopped; see {log_path}")
                if time.monotonic() > deadline:
                    raise BackgroundServeError(f"botctl serve did not start in {START_TIMEOUT:.0f} s; see {log_path}")
                time.sleep(0.1)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_idle(layout: LocalLayout, env: dict[str, str], timeout: float) -> str | None:
    """`botctl wait`: None once nothing is pending on the local bus, else what it said."""
    result = subprocess.run(  # noqa: S603 (our own botctl, fixed arguments)
        [str(BOTCTL), "wait", "--timeout", str(timeout), "--local-dir", str(layout.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 30,
        check=False,
    )
    return None if result.returncode == 0 else (result.stderr or result.stdout).strip()


def _recorded_url(layout: LocalLayout, pid: int) -> str | None:
    """The URL `botctl serve` (process `pid`) recorded once its webhook answers; None until then."""
    try:
        record = read_record(layout)
    except ValueError:  # being replaced: read again
        return None
    return record.url if record is not None and record.pid == pid else None
