"""Configuration, read from the environment at call time (never at import time).

CDK's synth imports app.py with none of these variables set, so nothing here may be read in a
decorator argument or at module level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from chalicelib.kernel.errors import ConfigurationError
from chalicelib.kernel.features import (
    DEFAULT_CELEBRITIES_WHEN_LABELS,
    DEFAULT_TEXT_WHEN_LABELS,
    IMAGE_FEATURES,
    LabelTrigger,
    check_image_features,
    label_trigger,
)
from chalicelib.kernel.media_policy import DEFAULT_MEDIA_HOSTS

#: The Adapters factory the runtime uses unless BOT_ADAPTERS names another ("module:Class"). The
#: local stage of .chalice/config.json names the local runtime's factory:
#: this package never imports it.
AWS_ADAPTERS: Final = "chalicelib.adapters.aws:AwsAdapters"
#: EventBridge's entry limit as the analysis workflow's input allows it (a Step Functions state is 256 KiB).
MAX_EVENT_BYTES: Final = 256 * 1024


@dataclass(frozen=True)
class Settings:
    """The runtime's configuration, read from the environment by load_settings() (chalicelib.wiring
    keeps one per container). Documented: without a docstring, dataclass() computes one from the
    signature of __init__, which costs about 10% of defining this class on every cold start."""

    adapters: str
    event_bus_name: str
    twitter_secret_name: str
    secret_cache_seconds: int
    bot_user_id: str | None
    oversize_bucket: str | None
    #: MAX_EVENT_BYTES: events over this are claim-checked; EventBridge's 256 KiB (the most allowed)
    #: unless lowered, which tests do to exercise the claim check on small events.
    max_event_bytes: int
    max_body_bytes: int
    media_bucket: str | None
    media_hosts: tuple[str, ...]
    max_media_bytes: int
    max_image_pixels: int
    image_features: frozenset[str]
    #: Which photos get RecognizeCelebrities and DetectText (README, "Analysis and alerting"): those
    #: whose labels name one of CELEBRITIES_WHEN_LABELS / TEXT_WHEN_LABELS (comma-separated label
    #: names, or "always"; defaults in chalicelib.kernel.features). Only when "labels" is a feature.
    celebrities_when: LabelTrigger
    text_when: LabelTrigger
    key_phrases: bool
    alert_topic_arn: str | None
    chat_webhook_secret_name: str | None
    lex_bot_id: str | None
    lex_bot_alias_id: str | None
    lex_locale_id: str
    blur_unrecognised_faces: bool
    idempotency_table: str | None
    #: The Responding guards (README, "Responding"): at most this many replies per author and per
    #: conversation in each window of reply_window_seconds, and no answer to a chain of replies to
    #: the bot's own replies deeper than reply_chain_max_depth in a conversation.
    replies_per_author: int
    replies_per_conversation: int
    reply_window_seconds: int
    reply_chain_max_depth: int
    #: Egress's posting budget (README, "Egress"): at most post_budget posts in each window of
    #: post_budget_window_seconds, across every invocation; a reply over it is delayed, not lost.
    post_budget: int
    post_budget_window_seconds: int
    #: A reply whose post was received longer ago than this is skipped ("too old"), not posted late.
    max_reply_age_seconds: int
    #: BOT_EGRESS: "x" (post on X), "outbox" (the local runtime's dry run) or None (the runtime's
    #: default: X on AWS, the outbox locally). The AWS adapters refuse "outbox".
    egress: str | None
    #: True inside a Lambda function (AWS_LAMBDA_FUNCTION_NAME is set): the local adapters refuse to run.
    on_lambda: bool
    #: The mentions poller (chalicelib/ingress/poller.py): its checkpoint table on AWS
    #: (POLL_CHECKPOINT_TABLE; unset: polling is not deployed), the pages one run reads at most
    #: (POLL_MAX_PAGES) and the requests it leaves unspent in X's window (POLL_RATE_RESERVE).
    poll_checkpoint_table: str | None
    poll_max_pages: int
    poll_rate_reserve: int
    #: The kill switch on AWS (README, "Stopping all posting"): the name of the SSM parameter ("on"
    #: or "off") Egress reads at each post; unset: no switch, posting is on. Locally: BOT_POSTING.
    posting_switch_parameter: str | None
    #: What a negative message gets (README, "Conversation"): NEGATIVE_CALM (a calm answer, never a
    #: joke or a fact) or NEGATIVE_SILENT (no reply: REPLY_SKIPPED "negative message"). NEGATIVE_REPLIES.
    negative_replies: str
    #: The photo check before a repost (README, "Safe to repost"): a photo is unsafe when Rekognition
    #: finds one of moderation_categories (MODERATION_CATEGORIES, comma-separated top-level or
    #: second-level names of its moderation taxonomy; None: the adapter's stated default,
    #: chalicelib.adapters.rekognition_moderation.DEFAULT_CATEGORIES) at or above
    #: moderation_min_confidence (MODERATION_MIN_CONFIDENCE, 0-100).
    moderation_min_confidence: int
    moderation_categories: tuple[str, ...] | None
    #: SMALL_MODELS_DIR: the folder of the small models' files (chalicelib.smallmodels.files), the
    #: economy layer's /opt/models on Lambda. The economy adapters need it for photos (no package
    #: ships the image-label model); files it lacks are looked for in their installed packages.
    small_models_dir: str | None = None


#: The Responding guards' defaults (REPLIES_PER_AUTHOR, REPLIES_PER_CONVERSATION,
#: REPLY_WINDOW_SECONDS, REPLY_CHAIN_MAX_DEPTH); the CDK context of infrastructure/stacks/config.py
#: sets the deployed values, these defaults when it says nothing.
DEFAULT_REPLIES_PER_AUTHOR: Final = 5
DEFAULT_REPLIES_PER_CONVERSATION: Final = 10
DEFAULT_REPLY_WINDOW_SECONDS: Final = 15 * 60
DEFAULT_REPLY_CHAIN_MAX_DEPTH: Final = 3
#: Egress's posting budget (POST_BUDGET posts per POST_BUDGET_WINDOW_SECONDS). X's documented rate
#: limit for creating posts (POST /2/tweets, docs.x.com "Rate limits") is 100 requests per 15 minutes
#: per user on the lower access tiers (higher tiers allow more); the account's 24-hour cap on posts
#: applies as well. Configurable (CDK context postBudget / postBudgetWindowSeconds) for another tier.
DEFAULT_POST_BUDGET: Final = 100
DEFAULT_POST_BUDGET_WINDOW_SECONDS: Final = 15 * 60
#: MAX_REPLY_AGE_SECONDS: a reply an hour after its post is more confusing than useful.
DEFAULT_MAX_REPLY_AGE_SECONDS: Final = 60 * 60

#: The mentions poller's interval (CDK context pollIntervalMinutes; `botctl serve --poll-interval`).
#: X's limit for GET /2/users/:id/mentions with a user's token: 10 requests per 15 minutes per user
#: on the Basic tier (the developer portal, quoted in tweepy discussion #2127, 2023; Free: unverified,
#: as low as 1 per 15 minutes); X's per-endpoint table read 2026-08-28 (docs.x.com "Rate limits",
#: pay-per-use) says 300 per 15 minutes per user. Every 3 minutes spends 5 of Basic's 10, leaving
#: the rest for catch-up pages; the poller also stops at the headers' reserve, whatever the tier.
DEFAULT_POLL_INTERVAL_MINUTES: Final = 3
DEFAULT_POLL_MAX_PAGES: Final = 5
DEFAULT_POLL_RATE_RESERVE: Final = 1

#: MODERATION_MIN_CONFIDENCE: Rekognition's own default floor is 50; 80 refuses what it is fairly
#: sure of without refusing every beach photo it half-suspects (README, "Safe to repost").
DEFAULT_MODERATION_MIN_CONFIDENCE: Final = 80

#: NEGATIVE_REPLIES values; calm unless set.
NEGATIVE_CALM: Final = "calm"
NEGATIVE_SILENT: Final = "silent"
#: BOT_EGRESS values.
EGRESS_X: Final = "x"
EGRESS_OUTBOX: Final = "outbox"


def load_settings() -> Settings:
    """The settings from the environment. A value that cannot be read is a ConfigurationError that
    names the variable (and what it accepts), never a bare ValueError."""
    env = os.environ
    return Settings(
        adapters=env.get("BOT_ADAPTERS") or AWS_ADAPTERS,
        event_bus_name=env.get("EVENT_BUS_NAME", "default"),
        twitter_secret_name=env.get("TWITTER_SECRET_NAME", "TwitterSecret"),
        secret_cache_seconds=_int(env, "SECRET_CACHE_SECONDS", 300, minimum=0),
        bot_user_id=env.get("BOT_USER_ID") or None,
        oversize_bucket=env.get("OVERSIZE_BUCKET") or None,
        max_event_bytes=min(_int(env, "MAX_EVENT_BYTES", MAX_EVENT_BYTES, minimum=1024), MAX_EVENT_BYTES),
        max_body_bytes=_int(env, "MAX_WEBHOOK_BODY_BYTES", 1024 * 1024, minimum=1),
        media_bucket=env.get("MEDIA_BUCKET") or None,
        media_hosts=_csv(env.get("MEDIA_HOSTS")) or DEFAULT_MEDIA_HOSTS,
        max_media_bytes=_int(env, "MAX_MEDIA_BYTES", 5 * 1024 * 1024, minimum=1),
        max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 50_000_000, minimum=1),
        image_features=_features(env.get("IMAGE_FEATURES")),
        celebrities_when=_trigger(env, "CELEBRITIES_WHEN_LABELS", DEFAULT_CELEBRITIES_WHEN_LABELS),
        text_when=_trigger(env, "TEXT_WHEN_LABELS", DEFAULT_TEXT_WHEN_LABELS),
        key_phrases=_flag(env.get("TEXT_KEY_PHRASES"), default=False),
        alert_topic_arn=env.get("ALERT_TOPIC_ARN") or None,
        chat_webhook_secret_name=env.get("CHAT_WEBHOOK_SECRET_NAME") or None,
        lex_bot_id=env.get("LEX_BOT_ID") or None,
        lex_bot_alias_id=env.get("LEX_BOT_ALIAS_ID") or None,
        lex_locale_id=env.get("LEX_LOCALE_ID", "en_US"),
        # On by default: the bot republishes the photo, and people it does not recognise did not
        # ask to be shown to its followers.
        blur_unrecognised_faces=_flag(env.get("BLUR_UNRECOGNISED_FACES"), default=True),
        idempotency_table=env.get("IDEMPOTENCY_TABLE") or None,
        replies_per_author=_int(env, "REPLIES_PER_AUTHOR", DEFAULT_REPLIES_PER_AUTHOR, minimum=1),
        replies_per_conversation=_int(env, "REPLIES_PER_CONVERSATION", DEFAULT_REPLIES_PER_CONVERSATION, minimum=1),
        reply_window_seconds=_int(env, "REPLY_WINDOW_SECONDS", DEFAULT_REPLY_WINDOW_SECONDS, minimum=1),
        reply_chain_max_depth=_int(env, "REPLY_CHAIN_MAX_DEPTH", DEFAULT_REPLY_CHAIN_MAX_DEPTH, minimum=0),
        post_budget=_int(env, "POST_BUDGET", DEFAULT_POST_BUDGET, minimum=1),
        post_budget_window_seconds=_int(
            env, "POST_BUDGET_WINDOW_SECONDS", DEFAULT_POST_BUDGET_WINDOW_SECONDS, minimum=1
        ),
        max_reply_age_seconds=_int(env, "MAX_REPLY_AGE_SECONDS", DEFAULT_MAX_REPLY_AGE_SECONDS, minimum=1),
        egress=_choice(env, "BOT_EGRESS", (EGRESS_X, EGRESS_OUTBOX)),
        on_lambda=bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),
        poll_checkpoint_table=env.get("POLL_CHECKPOINT_TABLE") or None,
        poll_max_pages=_int(env, "POLL_MAX_PAGES", DEFAULT_POLL_MAX_PAGES, minimum=1),
        poll_rate_reserve=_int(env, "POLL_RATE_RESERVE", DEFAULT_POLL_RATE_RESERVE, minimum=0),
        posting_switch_parameter=env.get("POSTING_SWITCH_PARAMETER") or None,
        negative_replies=_choice(env, "NEGATIVE_REPLIES", (NEGATIVE_CALM, NEGATIVE_SILENT)) or NEGATIVE_CALM,
        moderation_min_confidence=_percent(env, "MODERATION_MIN_CONFIDENCE", DEFAULT_MODERATION_MIN_CONFIDENCE),
        moderation_categories=_csv(env.get("MODERATION_CATEGORIES")) or None,
        small_models_dir=env.get("SMALL_MODELS_DIR") or None,
    )


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
    try:
        check_image_features(features)
    except ValueError as error:
        raise ConfigurationError(f"IMAGE_FEATURES: {error}") from None
    return features


def _trigger(env: Mapping[str, str], variable: str, default: tuple[str, ...]) -> LabelTrigger:
    try:
        return label_trigger(env.get(variable), default)
    except ValueError as error:
        raise ConfigurationError(f"{variable}: {error}") from None


def _int(env: Mapping[str, str], variable: str, default: int, *, minimum: int) -> int:
    raw = env.get(variable)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{variable} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{variable} must be at least {minimum}, not {value}")
    return value


def _percent(env: Mapping[str, str], variable: str, default: int) -> int:
    value = _int(env, variable, default, minimum=0)
    if value > 100:
        raise ConfigurationError(f"{variable} is a confidence in percent: at most 100, not {value}")
    return value


def _choice(env: Mapping[str, str], variable: str, choices: tuple[str, ...]) -> str | None:
    raw = env.get(variable)
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{variable} must be one of {', '.join(map(repr, choices))}, not {raw!r}")
    return value
