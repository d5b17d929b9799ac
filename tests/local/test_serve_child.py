"""`botlocal.serve_child` ends when its parent dies, however it dies, and on any platform.

A stand-in parent starts the wrapper with `sleep` in place of `chalice local` (never reached: the
wrapper's watch starts first and the test ends it before), then is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botlocal import serve_child

#: The parent: starts the wrapper on a stand-in command, prints its pid, then waits to be killed.
PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid())], start_new_session=True)
print(child.pid, flush=True)
time.sleep(600)
"""
#: The wrapper's death arrangements, then a long wait where `chalice local` would serve.
WRAPPER = """
import sys, time
from botlocal import serve_child
if {no_prctl}:
    serve_child._set_parent_death_signal = lambda signum: False
serve_child.die_with_parent(int(sys.argv[1]))
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("no_prctl", [False, True], ids=["parent-death-signal", "watchdog-only"])
def test_the_child_ends_when_its_parent_is_killed(no_prctl: bool) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, WRAPPER.format(no_prctl=no_prctl)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        time.sleep(1.0)  # the wrapper is set up and waiting
        assert not _gone(child), "the wrapper ended while its parent was alive"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _wait_gone(child, timeout=5), "the wrapper outlived its parent"
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.slow
def test_a_child_whose_parent_is_already_gone_ends_at_once() -> None:
    """The parent died before the wrapper armed its watch: the death signal would never come."""
    stand_in = subprocess.Popen([sys.executable, "-c", "pass"])
    stand_in.wait()
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER.format(no_prctl=False), str(stand_in.pid)], start_new_session=True
    )
    assert wrapper.wait(timeout=10) != 0


def test_the_wrapper_refuses_a_missing_parent_pid() -> None:
    assert serve_child.main([]) == 2
    assert serve_child.main(["local"]) == 2
