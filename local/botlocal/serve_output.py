"""What `botctl serve` shows on its terminal: start-up lines, one line per message handled, and
one line per warning or error; everything else goes to the log file in the state folder.

Today's output comes from three writers: botlocal's JSON log lines (stderr), the Powertools JSON
lines of the Chalice functions run in this process (stdout), and the `chalice local` child (it
inherits both). Redirecting the process's file descriptors 1 and 2 into a pipe catches all three
without touching any of them: a pump thread copies every line to the log file and prints the few
that matter. The messages handled are read from the journal by `botlocal.tail`'s follower, as
`botctl tail` does. With --verbose (or BOT_LOG_VERBOSE=1) every line is printed too, as before.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, TextIO

if TYPE_CHECKING:
    from botlocal.layout import LocalLayout

#: Environment switch equal to --verbose.
VERBOSE_ENV: Final = "BOT_LOG_VERBOSE"
#: Outcome events shown, one line each: what the bot did with a message (see botlocal.tail).
OUTCOME_TYPES: Final = (
    "SEND_TWEET",
    "SEND_DM",
    "REPLY_SKIPPED",
    "MESSAGE_SKIPPED",
    "MESSAGE_ANALYSIS_FAILED",
    "DELIVERY_REJECTED",
    "ALERT",
)
#: Log messages kept on the terminal besides warnings and errors (the poller's heartbeat).
_SHOWN_MESSAGES: Final = frozenset({"mentions polled"})
_PROBLEM_LEVELS: Final = frozenset({"WARNING", "WARN", "ERROR", "CRITICAL", "EXCEPTION"})
#: A plain (not JSON) line worth a terminal line: `chalice local`'s address and exception lines.
_PLAIN_SHOWN = re.compile(r"^(Serving on |\S*(Error|Exception|Warning)\b)")
_MAX_LINE: Final = 200


def posting_notice(environ: Mapping[str, str] | None = None) -> str:
    """serve's start-up line about the kill switch: "" when BOT_POSTING is on (the default); one
    line when it is off or unreadable, so that a SEND_TWEET line on the terminal is not read as a
    post (REPLY_SKIPPED "posting paused" follows it; an unreadable switch retries, then dead-letters)."""
    from chalicelib.kernel.errors import TransientError

    from botlocal.posting import POSTING_VARIABLE, EnvironmentPostingSwitch

    try:
        if EnvironmentPostingSwitch(environ).posting_enabled():
            return ""
    except TransientError as error:
        return (
            f"Posting: {error}: nothing is posted; each reply is retried, then dead-lettered "
            f"(botctl deadletters). Set {POSTING_VARIABLE}=on or off and restart.\n"
        )
    return f'Posting: off ({POSTING_VARIABLE}): replies are composed and skipped ("posting paused"), none posted.\n'


def verbose_from_env(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(VERBOSE_ENV, "")
    return value.strip().lower() not in ("", "0", "false", "no")


class Terminal(io.TextIOBase):
    """The terminal serve started on, shared by threads: each write is whole and flushed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            written = self._stream.write(text)
            self._stream.flush()
        return written

    def isatty(self) -> bool:
        return self._stream.isatty()

    def width(self) -> int:
        if not self.isatty():
            return _MAX_LINE
        return shutil.get_terminal_size((_MAX_LINE, 24)).columns


def summary_of(line: str, log_path: Path) -> str | None:
    """The terminal line for one line of output, or None when it belongs in the log file only."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        level = str(record.get("level", "")).upper()
        message = str(record.get("message", ""))
        where = record.get("logger") or record.get("service") or "?"
        if level in _PROBLEM_LEVELS:
            problem = record.get("error") or record.get("reason") or record.get("exception")
            detail = f": {_first_line(str(problem))}" if problem else ""
            return _clip(f"{level} {where}: {message}{detail}") + f" (details in {log_path})"
        if message in _SHOWN_MESSAGES:
            counts = ", ".join(f"{key} {value}" for key, value in record.items() if isinstance(value, int))
            return _clip(f"{message}: {counts}" if counts else message)
        return None
    if _PLAIN_SHOWN.match(text):
        suffix = "" if text.startswith("Serving on ") else f" (details in {log_path})"
        return _clip(text) + suffix
    return None


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""  # a traceback's last line names the exception


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_LINE else text[: _MAX_LINE - 1] + "…"


@contextmanager
def quiet_terminal(log_path: Path, *, verbose: bool) -> Iterator[Terminal]:
    """File descriptors 1 and 2 (and so the child's) go to a pipe until the block ends; a pump
    thread writes every line to `log_path` and the summaries (all lines when `verbose`) to the
    yielded Terminal, the original stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = Terminal(open(saved_out, "w", encoding="utf-8", errors="replace", closefd=False))  # noqa: SIM115
    read_end, write_end = os.pipe()
    with log_path.open("ab") as log:
        pump = threading.Thread(
            target=_pump, args=(os.fdopen(read_end, "rb"), log, terminal, log_path, verbose), name="serve-output"
        )
        pump.daemon = True
        pump.start()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        try:
            yield terminal
        finally:
            with suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            # The last write end is closed now (the child is stopped): the pump reads to the end.
            pump.join(timeout=5)


def _pump(source: BinaryIO, log: BinaryIO, terminal: Terminal, log_path: Path, verbose: bool) -> None:
    """Copy every line to the log; never stop on a bad line, or the writers would block on a full pipe."""
    with source:
        for raw in source:
            try:
                log.write(raw)
                log.flush()
                text = raw.decode("utf-8", errors="replace")
                shown = text.rstrip("\r\n") if verbose else summary_of(text, log_path)
                if shown is not None:
                    terminal.write(shown + "\n")
            except Exception:  # noqa: S112 (a full disk must not block the server)
                continue


def follow_outcomes(layout: LocalLayout, terminal: Terminal, stop: threading.Event) -> threading.Thread:
    """A thread printing one line per message handled (botlocal.tail's summaries of the outcome
    events and alerts) from now until `stop` is set."""
    from botlocal import tail

    source = tail.TailSource(layout, types=OUTCOME_TYPES)
    colour = tail.use_colour(terminal=terminal.isatty(), no_color=False, environ=dict(os.environ))

    def emit(entry: Any) -> None:
        terminal.write(tail.render(entry, colour=colour, width=terminal.width()) + "\n")

    source.backlog(0)  # now, before the thread starts: what happens next is shown, nothing before

    def run() -> None:
        try:
            while not stop.wait(tail.POLL_SECONDS):
                for entry in source.poll():
                    emit(entry)
            for entry in source.poll():  # the last outcomes before serve stopped
                emit(entry)
        finally:
            source.close()

    thread = threading.Thread(target=run, name="serve-summaries", daemon=True)
    thread.start()
    return thread
