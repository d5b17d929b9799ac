"""`botctl serve --poll`: the app's scheduled mentions poller, run locally at its interval.

On AWS an EventBridge schedule invokes `ingress_poll_mentions`; here a thread of `botctl serve`
invokes the same handler in-process, the way Lambda would (botlocal.chalice_app.lambda_invoker),
with a scheduled event. It polls the real X: the credentials come from the environment
(TWITTER_API_KEY, ... as for BOT_EGRESS=x) and BOT_USER_ID names the account; the checkpoint is
SQLite in the state folder (LocalLayout.poll_checkpoint). The posts it finds go on the local bus
like the webhook's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from chalicelib.kernel.errors import ConfigurationError
from chalicelib.kernel.x_ids import is_x_id
from chalicelib.settings import Settings

from botlocal.config import LocalConfig, x_credentials
from botlocal.logs import fields

logger = logging.getLogger("botlocal.polling")

#: The app's scheduled handler (chalicelib/ingress/blueprint.py, registered with the ingress_ prefix).
POLL_FUNCTION: Final = "ingress_poll_mentions"
#: Why the credentials are asked for, in the error that names the missing ones.
POLL_PURPOSE: Final = "`botctl serve --poll` (polling X for mentions)"


class PollingSetupError(Exception):
    """Polling cannot start as configured; the message says what to set."""


@dataclass
class LocalPolling:
    """The poll thread: a first poll at once, then one every `interval_seconds` until `stop`."""

    invoke: Callable[[dict[str, Any]], Any]
    bot_user_id: str
    interval_seconds: float
    _thread: threading.Thread | None = None

    def start(self, stop: threading.Event, out: TextIO) -> None:
        minutes = self.interval_seconds / 60
        out.write(
            f"Polling X for mentions of {self.bot_user_id} every {minutes:g} minute{'s' if minutes != 1 else ''} "
            "(GET /2/users/:id/mentions)\n"
        )
        out.flush()
        self._thread = threading.Thread(target=self._run, args=(stop,), name="poller", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 30) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()
            stop.wait(self.interval_seconds)

    def poll_once(self) -> Any:
        """One scheduled run; its failure is logged (the handler has logged X's refusal already)
        and the next run tries again, as the schedule does on AWS."""
        try:
            return self.invoke(scheduled_event())
        except Exception as error:
            logger.warning("poll failed", extra=fields(error=f"{type(error).__name__}: {error}"))
            return None


def prepare_polling(
    app: Any,
    settings: Settings,
    runtime_dir: Path,
    *,
    interval_minutes: float,
    environ: dict[str, str] | None = None,
) -> LocalPolling:
    """The poll thread for `botctl serve --poll`, or PollingSetupError naming what is missing
    (BOT_USER_ID, the X credentials), before anything starts."""
    from botlocal.chalice_app import lambda_invoker

    problems = []
    if not settings.bot_user_id:
        problems.append("BOT_USER_ID (the bot's numeric X account id: `botctl x whoami` prints it)")
    elif not is_x_id(settings.bot_user_id):
        problems.append(
            f"BOT_USER_ID to be the bot's numeric X account id, not {settings.bot_user_id[:40]!r} "
            "(`botctl x whoami` prints it)"
        )
    try:
        x_credentials(environ, purpose=POLL_PURPOSE)
    except ConfigurationError as error:
        problems.append(str(error).split(" needs ", 1)[-1])
    if problems:
        raise PollingSetupError(f"{POLL_PURPOSE} needs {'; '.join(problems)}")
    if POLL_FUNCTION not in app.handler_map:
        raise PollingSetupError(f"the Chalice app has no {POLL_FUNCTION} handler")
    assert settings.bot_user_id is not None  # checked above
    return LocalPolling(
        invoke=lambda_invoker(app, POLL_FUNCTION, settings, runtime_dir),
        bot_user_id=settings.bot_user_id,
        interval_seconds=interval_minutes * 60,
    )


def scheduled_event() -> dict[str, Any]:
    """The event an EventBridge schedule sends its target."""
    config = LocalConfig.from_environment()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": config.account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": config.region,
        "resources": [f"arn:aws:events:{config.region}:{config.account}:rule/local-{POLL_FUNCTION}"],
        "detail": {},
    }
