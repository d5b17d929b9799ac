"""One process at a time on a shared build folder (two test workers, a synth beside `make bench`
or `make economy-layer`, two stages deployed at once from one checkout)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Holds an exclusive lock on `lock_file` (made, with its folder, if missing) until the block
    ends; another process asking for it waits. The lock goes with the process if it is killed."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
