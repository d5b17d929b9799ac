"""`botctl serve`: the webhook under `chalice local`, and the bus's dispatcher, as one command.

`chalice local` runs in a child process (its own process group, so nothing it forks outlives
us); the dispatcher runs on a thread of this process, with the Chalice app imported here too so
its event handlers run in-process. Both find their state through BOT_LOCAL_DIR.

The two live and die together: SIGINT, SIGTERM and SIGHUP stop both, and the child, started through
`botlocal.serve_child`, ends itself when this process dies in a way that skips our cleanup
(SIGKILL, a crash). Otherwise it would answer 200 to deliveries no dispatcher ever processes.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, TextIO

from chalicelib.settings import DEFAULT_POLL_INTERVAL_MINUTES, load_settings

from botlocal.chalice_app import (
    LOCAL_STAGE,
    apply_stage_environment,
    chalice_targets,
    find_runtime_dir,
    load_chalice_app,
)
from botlocal.dispatcher import Dispatcher
from botlocal.journal import Journal
from botlocal.layout import DEFAULT_LOCAL_DIR, LocalLayout
from botlocal.logs import fields
from botlocal.server_record import (
    ServeLockError,
    connect_host,
    hold_serve_lock,
    new_record,
    register,
    remove_record,
    unregister,
    webhook_url,
    write_record,
)
from botlocal.targets import build_targets
from botlocal.workflow import analysis_workflow_target

if TYPE_CHECKING:
    from chalicelib.settings import Settings

    from botlocal.polling import LocalPolling
    from botlocal.web.server import PageServer

logger = logging.getLogger("botlocal.server")

_STOP_GRACE_SECONDS: Final = 5.0
#: Each stops serve: SIGHUP too, so closing the terminal does not leave the child serving.
_STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ServeError(Exception):
    """serve could not start or its webhook process died; the message says what to do."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    local_dir: Path = Path(DEFAULT_LOCAL_DIR)
    runtime_dir: Path | None = None
    ready_timeout_seconds: float = 60.0
    #: `--poll`: also poll X for the bot's mentions every poll_interval_minutes (botlocal.polling).
    poll: bool = False
    poll_interval_minutes: float = DEFAULT_POLL_INTERVAL_MINUTES
    #: Where the full output goes (botlocal.serve_output), announced at start-up; None: on the terminal.
    log_file: Path | None = None
    #: Print one line per message handled (the outcome events and alerts, botlocal.tail's lines).
    summaries: bool = False
    #: The local web page's port on 127.0.0.1 (botlocal.web; 0: a free one); None: no page.
    page_port: int | None = None


def serve(options: ServeOptions, *, out: TextIO = sys.stdout) -> int:
    """Run until SIGINT/SIGTERM/SIGHUP (exit code 0) or until chalice local dies (ServeError).

    While the webhook answers, its address is recorded in the state folder (LocalLayout.server) for
    the client commands; the record is removed when serve stops.
    """
    local_dir = options.local_dir.resolve()
    layout = LocalLayout(local_dir)
    runtime_dir = (options.runtime_dir or find_runtime_dir()).resolve()
    local_dir.mkdir(parents=True, exist_ok=True)
    # The child and the app imported here read their configuration from the environment: the local
    # stage's variables (which adapters) and the state folder.
    apply_stage_environment(runtime_dir)
    os.environ["BOT_LOCAL_DIR"] = str(local_dir)

    with _exclusive(layout), _stop_on_signals() as stop:
        # Holding the lock, any record found is a dead server's: clients must not post to it.
        layout.server.unlink(missing_ok=True)
        _check_port_free(options.host, options.port)
        settings = load_settings()
        app = load_chalice_app(runtime_dir)
        polling = _polling(options, app, settings, runtime_dir)
        app_targets = [
            *chalice_targets(app, settings, runtime_dir),
            analysis_workflow_target(app, settings, runtime_dir),
        ]
        targets = build_targets(layout, app_targets)
        journal = Journal(layout.journal)
        dispatcher = Dispatcher(journal, targets)
        # Started first: work left pending by a previous run is delivered even before the webhook is up.
        dispatcher_thread = threading.Thread(target=dispatcher.run_forever, args=(stop,), name="dispatcher")
        dispatcher_thread.start()
        child: subprocess.Popen[bytes] | None = None
        page: PageServer | None = None
        try:
            child = _start_chalice_local(options.host, options.port, runtime_dir)
            stop.forward_to = child.pid
            _wait_until_ready(child, options.host, options.port, stop, options.ready_timeout_seconds)
            if not stop.is_set():
                # Recorded before the announcement: whoever sees "Webhook ready" finds the record.
                record = new_record(layout, webhook_url(options.host, options.port))
                write_record(layout, record)
                register(record)
                if options.summaries:
                    from botlocal.serve_output import Terminal, follow_outcomes

                    follow_outcomes(layout, out if isinstance(out, Terminal) else Terminal(out), stop)
                page, page_line = _start_page(layout, options.page_port)
                _announce(out, options, layout, targets.names(), page_line)
                if polling is not None:
                    polling.start(stop, out)
            while not stop.wait(0.5):
                if child.poll() is not None:
                    raise ServeError(f"chalice local exited unexpectedly with code {child.returncode}")
        finally:
            remove_record(layout, pid=os.getpid())
            unregister(os.getpid())
            stop.set()
            if page is not None:
                page.stop()
            if child is not None:
                _stop_process_group(child)
            dispatcher_thread.join(timeout=30)
            if polling is not None:
                polling.join()
            journal.close()
    out.write("botctl serve stopped\n")
    out.flush()
    return 0


def _polling(options: ServeOptions, app: Any, settings: Settings, runtime_dir: Path) -> LocalPolling | None:
    """With --poll, the poll thread to start once the webhook is up; a ServeError naming what is
    missing (BOT_USER_ID, the X credentials) before anything starts."""
    if not options.poll:
        return None
    from botlocal.polling import PollingSetupError, prepare_polling

    try:
        return prepare_polling(app, settings, runtime_dir, interval_minutes=options.poll_interval_minutes)
    except PollingSetupError as error:
        raise ServeError(str(error)) from None


def _start_page(layout: LocalLayout, port: int | None) -> tuple[PageServer | None, str]:
    """The local web page (botlocal.web) and its start-up line; a page that cannot start (its port
    is taken) costs one warning line, never the bot."""
    if port is None:
        return None, ""
    from botlocal.web.server import PAGE_HOST, start_page

    try:
        page = start_page(layout, port=port)
    except Exception as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        # One line on the terminal (below), the same in the log file: the bot runs on without its page.
        logger.info("page not started", extra=fields(port=port, reason=reason))
        return None, (
            f"page: not started: cannot listen on {PAGE_HOST}:{port} ({reason}); "
            "choose another --page-port (0: any free one), or --no-page\n"
        )
    return page, f"page: {page.url}\n"


def _announce(
    out: TextIO, options: ServeOptions, layout: LocalLayout, target_names: list[str], page_line: str = ""
) -> None:
    from botlocal.serve_output import posting_notice

    local_dir = layout.root
    out.write(
        f"Webhook ready at http://{options.host}:{options.port}/twitter\n"
        + page_line
        + f"State in {local_dir}: {layout.journal.name} (events, deliveries), {layout.datalake.name}/, "
        f"{layout.oversized.name}/\n"
        f"Targets: {', '.join(target_names)}\n"
        + posting_notice()
        + (
            f"Full log (JSON lines, access lines) in {options.log_file}; --verbose prints it here too\n"
            if options.log_file is not None
            else ""
        )
        + "Press Ctrl+C to stop.\n"
    )
    out.flush()
    logger.info("ready", extra=fields(host=options.host, port=options.port, local_dir=str(local_dir)))


def _start_chalice_local(host: str, port: int, runtime_dir: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "botlocal.serve_child",
        # The child ends itself when this process is no longer its parent (see serve_child).
        str(os.getpid()),
        "local",
        "--stage",
        LOCAL_STAGE,
        # Autoreload forks a worker that survives its parent; one process is simpler to stop.
        "--no-autoreload",
        "--host",
        host,
        "--port",
        str(port),
    ]
    env = os.environ.copy()
    # This interpreter runs the child: it finds Chalice as we do, and botlocal where we found it.
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, env.get("PYTHONPATH"))))
    # A new session makes the child a process-group leader, so we can stop everything it starts.
    # Called on the main thread, which lives as long as serve: Linux's parent-death signal follows the
    # thread that started the child, not the process.
    return subprocess.Popen(command, cwd=runtime_dir, env=env, start_new_session=True)  # noqa: S603


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ServeError(f"cannot listen on {host}:{port} ({error.strerror}); choose another --port") from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _wait_until_ready(
    child: subprocess.Popen[bytes], host: str, port: int, stop: threading.Event, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        if child.poll() is not None:
            raise ServeError(f"chalice local exited with code {child.returncode} before it was ready")
        try:
            with socket.create_connection((connect_host(host), port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ServeError(f"chalice local did not answer on {host}:{port} within {timeout:.0f}s")
        stop.wait(0.1)


def _stop_process_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's whole group, then SIGKILL what is left after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            child.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure nothing else it started is left in the group.
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        break
    if child.poll() is None:
        child.wait()


class _StopEvent(threading.Event):
    """Set by SIGINT/SIGTERM/SIGHUP; the child's process group is then sent SIGTERM."""

    forward_to: int | None = None


@contextmanager
def _stop_on_signals() -> Iterator[_StopEvent]:
    stop = _StopEvent()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if stop.forward_to is not None:
            with suppress(ProcessLookupError):
                # SIGTERM whichever signal stopped us: the child stops the same way for each.
                os.killpg(stop.forward_to, signal.SIGTERM)

    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
    for sig in _STOP_SIGNALS:
        previous[sig] = signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _exclusive(layout: LocalLayout) -> Iterator[None]:
    """One serve per state folder: two dispatchers would deliver every event twice."""
    try:
        with hold_serve_lock(layout):
            yield
    except ServeLockError as error:  # raised only when taking the lock, before any work starts
        raise ServeError(str(error)) from None
