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

#: Image analyses that can be switched on and off (IMAGE_FEATURES, comma-separated).
FEATURE_LABELS = "labels"
FEATURE_CELEBRITIES = "celebrities"  # its unrecognised faces are the face list: no separate face call
FEATURE_TEXT = "text"
IMAGE_FEATURES = frozenset({FEATURE_LABELS, FEATURE_CELEBRITIES, FEATURE_TEXT})


def check_image_features(features: frozenset[str]) -> None:
    """ValueError for a feature no image analyser knows (a typo in IMAGE_FEATURES or a caller's bug)."""
    unknown = features - IMAGE_FEATURES
    if unknown:
        raise ValueError(f"unknown image features {sorted(unknown)}; known: {sorted(IMAGE_FEATURES)}")


#: X serves photos from these hosts only.
DEFAULT_MEDIA_HOSTS = ("pbs.twimg.com", "ton.twimg.com")

EGRESS_X = "x"
EGRESS_OUTBOX = "outbox"

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
    media_bucket: str | None
    media_hosts: tuple[str, ...]
    max_media_bytes: int
    max_image_pixels: int
    image_features: frozenset[str]
    key_phrases: bool
    alert_topic_arn: str | None
    chat_webhook_secret_name: str | None
    local_chat_webhook_url: str | None
    lex_bot_id: str | None
    lex_bot_alias_id: str | None
    lex_locale_id: str
    blur_unrecognised_faces: bool
    egress: str
    idempotency_table: str | None


def load_settings() -> Settings:
    env = os.environ
    runtime = env.get("BOT_RUNTIME", RUNTIME_AWS)
    return Settings(
        runtime=runtime,
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
        media_bucket=env.get("MEDIA_BUCKET") or None,
        media_hosts=_csv(env.get("MEDIA_HOSTS")) or DEFAULT_MEDIA_HOSTS,
        max_media_bytes=int(env.get("MAX_MEDIA_BYTES", str(5 * 1024 * 1024))),
        max_image_pixels=int(env.get("MAX_IMAGE_PIXELS", str(50_000_000))),
        image_features=_features(env.get("IMAGE_FEATURES")),
        key_phrases=_flag(env.get("TEXT_KEY_PHRASES"), default=False),
        alert_topic_arn=env.get("ALERT_TOPIC_ARN") or None,
        chat_webhook_secret_name=env.get("CHAT_WEBHOOK_SECRET_NAME") or None,
        local_chat_webhook_url=env.get("CHAT_WEBHOOK_URL") or None,
        lex_bot_id=env.get("LEX_BOT_ID") or None,
        lex_bot_alias_id=env.get("LEX_BOT_ALIAS_ID") or None,
        lex_locale_id=env.get("LEX_LOCALE_ID", "en_US"),
        # On by default: the bot republishes the photo, and people it does not recognise did not
        # ask to be shown to its followers.
        blur_unrecognised_faces=_flag(env.get("BLUR_UNRECOGNISED_FACES"), default=True),
        # Locally replies go to the dry-run outbox unless BOT_EGRESS=x; on AWS they go to X.
        egress=_egress(env.get("BOT_EGRESS"), runtime),
        idempotency_table=env.get("IDEMPOTENCY_TABLE") or None,
    )


def _egress(value: str | None, runtime: str) -> str:
    if not value:
        return EGRESS_OUTBOX if runtime == RUNTIME_LOCAL else EGRESS_X
    if value.strip().lower() not in (EGRESS_X, EGRESS_OUTBOX):
        raise ValueError(f"BOT_EGRESS must be {EGRESS_X!r} or {EGRESS_OUTBOX!r}, not {value!r}")
    return value.strip().lower()


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _features(value: str | None) -> frozenset[str]:
    if value is None:
        return IMAGE_FEATURES
    features = frozenset(_csv(value))
    check_image_features(features)
    return features
