"""The local runtime's own configuration, read from the environment when the adapters are built.

The runtime's settings (chalicelib.settings) hold what both runtimes share; what only a laptop
needs (where the state folder is, the development consumer secret, the dry-run outbox or real
posting, a chat webhook URL without Secrets Manager) is read here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from chalicelib.kernel.credentials import REQUIRED_KEYS
from chalicelib.kernel.errors import ConfigurationError

from botlocal.layout import LocalLayout

#: The consumer secret the local runtime signs and checks deliveries with when
#: TWITTER_CONSUMER_SECRET is unset. Public on purpose: it only ever signs local test deliveries.
LOCAL_DEVELOPMENT_CONSUMER_SECRET: Final = "local-development-consumer-secret"  # noqa: S105 (public by design)

#: BOT_EGRESS: where replies go locally.
EGRESS_OUTBOX: Final = "outbox"
EGRESS_X: Final = "x"

#: `BOT_EGRESS=x` posts for real with these variables (one per key of the TwitterSecret document).
LOCAL_CREDENTIAL_VARIABLES: Final = {
    "ApiKey": "TWITTER_API_KEY",
    "ApiSecret": "TWITTER_API_SECRET",
    "AccessToken": "TWITTER_ACCESS_TOKEN",
    "AccessTokenSecret": "TWITTER_ACCESS_TOKEN_SECRET",
}
assert tuple(LOCAL_CREDENTIAL_VARIABLES) == REQUIRED_KEYS, "one variable per key of the X credentials"


@dataclass(frozen=True)
class LocalConfig:
    layout: LocalLayout
    consumer_secret: str
    egress: str
    chat_webhook_url: str | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if environ is None else environ
        return cls(
            layout=LocalLayout.from_environment(dict(env)),
            consumer_secret=env.get("TWITTER_CONSUMER_SECRET") or LOCAL_DEVELOPMENT_CONSUMER_SECRET,
            egress=_egress(env.get("BOT_EGRESS")),
            chat_webhook_url=env.get("CHAT_WEBHOOK_URL") or None,
        )


def x_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The X credentials for `BOT_EGRESS=x`, from their variables; names the missing ones, never values."""
    env = os.environ if environ is None else environ
    values = {key: env.get(variable, "") for key, variable in LOCAL_CREDENTIAL_VARIABLES.items()}
    missing = [LOCAL_CREDENTIAL_VARIABLES[key] for key, value in values.items() if not value]
    if missing:
        raise ConfigurationError(f"BOT_EGRESS=x needs {', '.join(missing)} (or unset BOT_EGRESS for the outbox)")
    return values


def _egress(value: str | None) -> str:
    """Replies go to the dry-run outbox unless BOT_EGRESS=x."""
    if not value or not value.strip():
        return EGRESS_OUTBOX
    choice = value.strip().lower()
    if choice not in (EGRESS_X, EGRESS_OUTBOX):
        raise ConfigurationError(f"BOT_EGRESS must be {EGRESS_X!r} or {EGRESS_OUTBOX!r}, not {value!r}")
    return choice
