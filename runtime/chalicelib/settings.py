"""Configuration, read from the environment at call time (never at import time).

CDK's synth imports app.py with none of these variables set, so nothing here may be read in a
decorator argument or at module level.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The consumer secret `make local` uses when TWITTER_CONSUMER_SECRET is unset. Public on purpose:
#: it only ever signs local test deliveries.
LOCAL_DEVELOPMENT_CONSUMER_SECRET = "local-development-consumer-secret"  # noqa: S105 (public by design)

RUNTIME_AWS = "aws"
RUNTIME_LOCAL = "local"


@dataclass(frozen=True)
class Settings:
    runtime: str
    event_bus_name: str
    twitter_secret_name: str
    secret_cache_seconds: int
    bot_user_id: str | None
    oversize_bucket: str | None
    local_dir: Path
    local_consumer_secret: str
    max_body_bytes: int
    region: str
    account: str


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        runtime=env.get("BOT_RUNTIME", RUNTIME_AWS),
        event_bus_name=env.get("EVENT_BUS_NAME", "default"),
        twitter_secret_name=env.get("TWITTER_SECRET_NAME", "TwitterSecret"),
        secret_cache_seconds=int(env.get("SECRET_CACHE_SECONDS", "300")),
        bot_user_id=env.get("BOT_USER_ID") or None,
        oversize_bucket=env.get("OVERSIZE_BUCKET") or None,
        local_dir=Path(env.get("BOT_LOCAL_DIR", ".local")).resolve(),
        local_consumer_secret=env.get("TWITTER_CONSUMER_SECRET") or LOCAL_DEVELOPMENT_CONSUMER_SECRET,
        max_body_bytes=int(env.get("MAX_WEBHOOK_BODY_BYTES", str(1024 * 1024))),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "local",
        account=env.get("BOT_ACCOUNT_ID", "000000000000"),
    )
