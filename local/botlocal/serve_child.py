"""The `chalice local` that `botctl serve` starts, made to die with it.

`botctl serve` runs `python -m botlocal.serve_child PARENT_PID chalice-arguments...`: this module
arranges for the process to end as soon as PARENT_PID is no longer its parent, then runs the
Chalice CLI in-process. Without it, a `botctl serve` killed with SIGKILL (or dead in any way that
skips its cleanup) leaves `chalice local` answering 200 to deliveries that no dispatcher will ever
process, and holding the port a restarted server needs.

Two mechanisms, because either alone has a gap:
- on Linux, PR_SET_PDEATHSIG: the kernel sends SIGTERM the moment the parent exits, however it dies;
- everywhere, a watchdog thread that polls os.getppid() and ends the process group when the parent
  changed (reparented to init or a subreaper). It also covers a parent that died before the first
  mechanism was set up.

Kept import-light (standard library only) until the Chalice CLI takes over.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from typing import Final

#: prctl(2) option: the signal this process gets when its parent exits.
_PR_SET_PDEATHSIG: Final = 1
_WATCH_INTERVAL_SECONDS: Final = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this process (and its group) when `parent_pid` stops being its parent."""
    _set_parent_death_signal(signal.SIGTERM)
    # The parent may have died before the death signal was armed: it would never come.
    if os.getppid() != parent_pid:
        _end_process_group()
    watchdog = threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True)
    watchdog.start()


def _set_parent_death_signal(signum: int) -> bool:
    """Ask Linux for `signum` when the parent exits; False where prctl is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(_WATCH_INTERVAL_SECONDS):
        if os.getppid() != parent_pid:
            _end_process_group()


def _end_process_group() -> None:
    """SIGTERM this process's group when it leads it (serve starts it in a new session), then exit."""
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGTERM)
    finally:
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].isdigit():
        sys.stderr.write("usage: python -m botlocal.serve_child PARENT_PID [chalice arguments...]\n")
        return 2
    die_with_parent(int(args[0]))
    from chalice.cli import main as chalice_main

    from botlocal.local_edge import limit_request_bodies

    limit_request_bodies()  # API Gateway's 10 MB, decided before chalice local reads a body

    sys.argv = ["chalice", *args[1:]]
    result: int | None = chalice_main()
    return result or 0


if __name__ == "__main__":
    sys.exit(main())
