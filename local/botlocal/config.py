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

#: `BOT_EGRESS=x` posts for real with these variables (one per key of the TwitterSecret document).
LOCAL_CREDENTIAL_VARIABLES: Final = {
    "ApiKey": "TWITTER_API_KEY",
    "ApiSecret": "TWITTER_API_SECRET",
    "AccessToken": "TWITTER_ACCESS_TOKEN",
    "AccessTokenSecret": "TWITTER_ACCESS_TOKEN_SECRET",
}
assert tuple(LOCAL_CREDENTIAL_VARIABLES) == REQUIRED_KEYS, "one variable per key of the X credentials"


#: BOT_MODERATION: what the local photo check (botlocal.moderation) answers before a repost.
#: "check" (the default) runs the local stand-in on the photo; "off" passes every photo and
#: "unsafe" refuses every photo, without looking at it (for demos and tests of the refusal path).
MODERATION_VARIABLE: Final = "BOT_MODERATION"
MODERATION_CHECK: Final = "check"
MODERATION_OFF: Final = "off"
MODERATION_UNSAFE: Final = "unsafe"
MODERATION_MODES: Final = (MODERATION_CHECK, MODERATION_OFF, MODERATION_UNSAFE)


def moderation_mode(environ: Mapping[str, str] | None = None) -> str:
    """BOT_MODERATION's value (MODERATION_CHECK when unset); another value is a ConfigurationError."""
    env = os.environ if environ is None else environ
    raw = env.get(MODERATION_VARIABLE) or MODERATION_CHECK
    mode = raw.strip().lower()
    if mode not in MODERATION_MODES:
        raise ConfigurationError(f"{MODERATION_VARIABLE} must be one of {', '.join(MODERATION_MODES)}, not {raw!r}")
    return mode


@dataclass(frozen=True)
class LocalConfig:
    layout: LocalLayout
    consumer_secret: str
    chat_webhook_url: str | None
    #: The account and region the local bus writes into its envelopes (EventBridge's fields).
    account: str
    region: str
    #: BOT_MODERATION (see MODERATION_MODES).
    moderation: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if environ is None else environ
        return cls(
            layout=LocalLayout.from_environment(dict(env)),
            consumer_secret=env.get("TWITTER_CONSUMER_SECRET") or LOCAL_DEVELOPMENT_CONSUMER_SECRET,
            chat_webhook_url=env.get("CHAT_WEBHOOK_URL") or None,
            account=env.get("BOT_ACCOUNT_ID") or "000000000000",
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "local",
            moderation=moderation_mode(env),
        )


def x_credentials(
    environ: Mapping[str, str] | None = None,
    *,
    purpose: str = "BOT_EGRESS=x (posting on X; unset BOT_EGRESS for the outbox)",
) -> dict[str, str]:
    """The X credentials, from their variables, for `purpose` (what needs them: posting with
    BOT_EGRESS=x by default); names the missing ones, never values."""
    env = os.environ if environ is None else environ
    values = {key: env.get(variable, "") for key, variable in LOCAL_CREDENTIAL_VARIABLES.items()}
    missing = [LOCAL_CREDENTIAL_VARIABLES[key] for key, value in values.items() if not value]
    if missing:
        raise ConfigurationError(f"{purpose} needs {', '.join(missing)}")
    return values


#: `botctl x` also takes the app-only bearer token (the secret's optional BearerToken key).
X_BEARER_TOKEN_VARIABLE: Final = "TWITTER_BEARER_TOKEN"  # noqa: S105 (a variable's name, not a secret)


def x_credentials_present(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The X credentials that are set (the four keys and BearerToken), by the secret's key names.

    For `botctl x`, whose commands each need a different subset: the caller names what is missing.
    """
    env = os.environ if environ is None else environ
    variables = {**LOCAL_CREDENTIAL_VARIABLES, "BearerToken": X_BEARER_TOKEN_VARIABLE}
    return {key: env[variable] for key, variable in variables.items() if env.get(variable)}


#: Where the local runtime calls the X API (`X_API_BASE`): X itself unless a test points it at a
#: server replaying recorded answers.
X_API_BASE_VARIABLE: Final = "X_API_BASE"


def x_api_base(environ: Mapping[str, str] | None = None) -> str:
    """The X API's base URL for the local runtime's X adapters (X_API_BASE, or X's own)."""
    from chalicelib.adapters.x_api import DEFAULT_API_BASE

    env = os.environ if environ is None else environ
    return (env.get(X_API_BASE_VARIABLE) or DEFAULT_API_BASE).rstrip("/")


class StaticConsumerSecret:
    """The SecretProvider port for the local runtime: the consumer secret as a value."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def consumer_secret(self) -> str:
        return self._secret
