"""How client commands find the running `botctl serve`: its address, recorded in the state folder.

`botctl serve` holds LocalLayout.serve_lock while it runs (one server per state folder), writes
LocalLayout.server atomically once its webhook answers, and removes it when it stops. `botctl tweet`
and `botctl send` post to the recorded URL unless given --url. A record can outlive its server
(SIGKILL, a crash, a reboot): it is stale when its pid is gone or nothing holds the serve lock
(the pid may be reused), and a client says so instead of posting to nobody.

`botctl serve` also registers itself in a per-user folder (`registry_dir()`), so a client that was
not told where the state is (no --local-dir, no BOT_LOCAL_DIR, nothing in `.local/`) finds the one
server running: the case of a server started with BOT_LOCAL_DIR set for it alone.

Kept import-light (standard library only): every `botctl` command imports it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botlocal.files import write_atomically
from botlocal.layout import LocalLayout

#: The webhook's route in the Chalice app (chalicelib.ingress.blueprint).
WEBHOOK_PATH: Final = "/twitter"
#: Moves the per-user registry of running servers (tests give each its own).
REGISTRY_VARIABLE: Final = "BOT_SERVER_REGISTRY"


class NoServerError(Exception):
    """No running `botctl serve` is recorded for the state folder; the message says why and what to do."""


class ServeLockError(Exception):
    """Another `botctl serve` holds the state folder."""


@dataclass(frozen=True)
class ServerRecord:
    """What a running `botctl serve` tells its clients."""

    url: str  # the webhook, as a client on this machine reaches it
    pid: int
    local_dir: str
    started_at: str  # ISO 8601, UTC

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> ServerRecord:
        """Raises ValueError when `data` is not a whole record (a foreign or damaged file)."""
        try:
            value: Any = json.loads(data)
            record = cls(
                url=str(value["url"]),
                pid=int(value["pid"]),
                local_dir=str(value["local_dir"]),
                started_at=str(value["started_at"]),
            )
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a server record: {error}") from None
        if record.pid <= 0:
            raise ValueError(f"not a server record: pid {record.pid}")
        return record


def connect_host(host: str) -> str:
    """The address a client on this machine connects to for a server listening on `host`."""
    # A wildcard address accepts connections on loopback.
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def webhook_url(host: str, port: int) -> str:
    """The webhook's URL for a client on this machine, for a server listening on host:port."""
    connect = connect_host(host)
    return f"http://{f'[{connect}]' if ':' in connect else connect}:{port}{WEBHOOK_PATH}"


def new_record(layout: LocalLayout, url: str, *, pid: int | None = None) -> ServerRecord:
    return ServerRecord(
        url=url,
        pid=os.getpid() if pid is None else pid,
        local_dir=str(layout.root),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def write_record(layout: LocalLayout, record: ServerRecord) -> None:
    """Atomically: a client never reads half a record."""
    write_atomically(layout.server, record.to_json())


def remove_record(layout: LocalLayout, *, pid: int) -> None:
    """Remove the record if it is `pid`'s (a newer server's record is left alone)."""
    with suppress(FileNotFoundError, ValueError):
        if ServerRecord.from_json(layout.server.read_bytes()).pid == pid:
            layout.server.unlink()


def read_record(layout: LocalLayout) -> ServerRecord | None:
    """The record in the state folder, live or stale; None when there is none.

    Raises ValueError when the file is not a record.
    """
    try:
        data = layout.server.read_bytes()
    except FileNotFoundError:
        return None
    return ServerRecord.from_json(data)


def is_running(layout: LocalLayout, record: ServerRecord) -> bool:
    """Whether the server that wrote `record` still runs: its pid is alive and holds the serve lock."""
    return _pid_alive(record.pid) and _lock_held(layout)


def running_server(layout: LocalLayout) -> ServerRecord:
    """The record of the `botctl serve` running on this state folder.

    NoServerError says why there is none (the caller adds what to do about it): no state folder, no
    record, a damaged record, or a stale one.
    """
    if not layout.root.is_dir():
        raise NoServerError(f"no local state in {layout.root}, so no `botctl serve` uses it")
    try:
        record = read_record(layout)
    except ValueError as error:
        raise NoServerError(f"{layout.server} is damaged ({error})") from None
    if record is None:
        raise NoServerError(f"no `botctl serve` is recorded in {layout.root} ({layout.server.name} is missing)")
    if not is_running(layout, record):
        raise NoServerError(
            f"the `botctl serve` recorded in {layout.server} (pid {record.pid}, started {record.started_at}) "
            "is no longer running"
        )
    return record


def registry_dir() -> Path:
    """This user's registry of running servers: $BOT_SERVER_REGISTRY, else a folder of the user's own
    in $XDG_RUNTIME_DIR or the temporary directory."""
    configured = os.environ.get(REGISTRY_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"xbot-servers-{os.getuid()}"


def register(record: ServerRecord) -> None:
    """Add a running server to the registry (one file per pid, private to the user)."""
    registry = registry_dir()
    registry.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(registry / f"{record.pid}.json", record.to_json())


def unregister(pid: int) -> None:
    with suppress(FileNotFoundError):
        (registry_dir() / f"{pid}.json").unlink()


def registered_servers() -> list[ServerRecord]:
    """The registered servers still running (stale entries are skipped, and removed when possible)."""
    registry = registry_dir()
    if not registry.is_dir():
        return []
    running = []
    for entry in sorted(registry.glob("*.json")):
        try:
            record = ServerRecord.from_json(entry.read_bytes())
        except (OSError, ValueError):
            continue
        if is_running(LocalLayout(Path(record.local_dir)), record):
            running.append(record)
        else:
            with suppress(OSError):
                entry.unlink()
    return running


@contextmanager
def hold_serve_lock(layout: LocalLayout) -> Iterator[None]:
    """One `botctl serve` per state folder (two dispatchers would deliver every event twice)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.serve_lock.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServeLockError(f"another `botctl serve` is already using {layout.root}") from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    except OSError as error:
        return error.errno != errno.ESRCH
    return True


def _lock_held(layout: LocalLayout) -> bool:
    """Whether a process holds the serve lock; probed with a shared lock, released at once."""
    try:
        lock_file = layout.serve_lock.open("rb")
    except FileNotFoundError:
        return False
    with lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        return False
