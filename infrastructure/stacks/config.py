"""Deployment settings read from CDK context (cdk.json "context" or `cdk synth -c key=value`)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from chalicelib.contracts import datalake
from chalicelib.kernel.features import (
    ALWAYS,
    DEFAULT_CELEBRITIES_WHEN_LABELS,
    DEFAULT_TEXT_WHEN_LABELS,
    FEATURE_CELEBRITIES,
    FEATURE_LABELS,
    FEATURE_TEXT,
    IMAGE_FEATURES,
    label_trigger,
)
from chalicelib.kernel.x_ids import is_x_id
from chalicelib.settings import (
    DEFAULT_MAX_REPLY_AGE_SECONDS,
    DEFAULT_POLL_INTERVAL_MINUTES,
    DEFAULT_POST_BUDGET,
    DEFAULT_POST_BUDGET_WINDOW_SECONDS,
    DEFAULT_REPLIES_PER_AUTHOR,
    DEFAULT_REPLIES_PER_CONVERSATION,
    DEFAULT_REPLY_CHAIN_MAX_DEPTH,
    DEFAULT_REPLY_WINDOW_SECONDS,
    NEGATIVE_CALM,
    NEGATIVE_SILENT,
)
from constructs import Node

#: The stack of the default stage (no `-c stage`); a stage's stack is STACK_NAME-<stage>.
STACK_NAME = "XBot"
#: Lowercase letters and digits, single hyphens between them: valid in a stack name, a Lex bot name
#: (no "--"), a log group and, with "_" for "-", a Glue database name. Short, because generated
#: names (roles, functions, buckets) are truncated to fit and should still show the stage.
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
STAGE_MAX_LENGTH = 20
#: Enough to catch a typo or a missing value at synth; SNS asks the address to confirm anyway.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DEFAULT_TWITTER_SECRET_NAME = "TwitterSecret"  # noqa: S105 - the secret's name, not its value
#: `-c ingress=` values: X's webhook (today's template), the mentions poller, or both.
INGRESS_WEBHOOK = "webhook"
INGRESS_POLL = "poll"
INGRESS_BOTH = "both"
INGRESS_MODES = (INGRESS_WEBHOOK, INGRESS_POLL, INGRESS_BOTH)
#: `-c profile=` values: the AWS AI services in every function (Comprehend, Rekognition's
#: DetectLabels, a Lex bot), or small models in the analysis and text-reply functions, from the
#: economy layer (stacks/small_models.py; docs/economy-profile-plan.md).
PROFILE_DEFAULT = "default"
PROFILE_ECONOMY = "economy"
PROFILES = (PROFILE_DEFAULT, PROFILE_ECONOMY)
DEFAULT_ARCHIVE_RETENTION_DAYS = 365
DEFAULT_LOG_RETENTION_DAYS = 90
#: Photos stay in the media bucket this long: the reply (annotated photo) must still find them.
DEFAULT_MEDIA_RETENTION_DAYS = 30
#: Every image analysis the runtime knows (chalicelib.settings.IMAGE_FEATURES), in a stable order.
DEFAULT_IMAGE_FEATURES = (FEATURE_LABELS, FEATURE_CELEBRITIES, FEATURE_TEXT)


@dataclass(frozen=True)
class BotConfig:
    """What one deployment of the bot may vary; everything else is fixed by the code."""

    #: The bot's own X account id (a string: X ids exceed 2^53). Optional: without it the runtime
    #: cannot recognise its own posts, so a real deployment should set it.
    bot_user_id: str | None = None
    twitter_secret_name: str = DEFAULT_TWITTER_SECRET_NAME
    archive_retention_days: int = DEFAULT_ARCHIVE_RETENTION_DAYS
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    media_retention_days: int = DEFAULT_MEDIA_RETENTION_DAYS
    #: Which Rekognition calls run per photo (IMAGE_FEATURES); each one is paid.
    image_features: tuple[str, ...] = DEFAULT_IMAGE_FEATURES
    #: Which photos get RecognizeCelebrities and DetectText (`-c celebritiesWhenLabels=Person,Face`,
    #: `-c textWhenLabels=always`): label names, or "always"; None: the runtime's defaults
    #: (chalicelib.kernel.features), and no variable is set. The analyse-image function's
    #: CELEBRITIES_WHEN_LABELS / TEXT_WHEN_LABELS (analysis_environment).
    celebrities_when_labels: tuple[str, ...] | None = None
    text_when_labels: tuple[str, ...] | None = None
    #: Comprehend DetectKeyPhrases per message (TEXT_KEY_PHRASES): off by default, each call is paid.
    text_key_phrases: bool = False
    #: A Secrets Manager secret holding the chat incoming-webhook URL alerts are forwarded to; optional.
    chat_webhook_secret_name: str | None = None
    #: Blur the faces Rekognition found but did not recognise on the photos the bot posts back
    #: (BLUR_UNRECOGNISED_FACES). On by default: the people in a photo did not ask to be shown to
    #: the bot's followers.
    blur_unrecognised_faces: bool = True
    #: What a negative text message gets: "calm" (a calm answer, never a joke or a fact) or "silent"
    #: (no reply) (NEGATIVE_REPLIES, chalicelib/settings.py).
    negative_replies: str = NEGATIVE_CALM
    #: The Responding guards (README, "Responding"): replies per author and per conversation in
    #: each window of reply_window_seconds, and how deep a chain of replies to the bot's own
    #: replies is answered (REPLIES_PER_AUTHOR, REPLIES_PER_CONVERSATION, REPLY_WINDOW_SECONDS,
    #: REPLY_CHAIN_MAX_DEPTH).
    replies_per_author: int = DEFAULT_REPLIES_PER_AUTHOR
    replies_per_conversation: int = DEFAULT_REPLIES_PER_CONVERSATION
    reply_window_seconds: int = DEFAULT_REPLY_WINDOW_SECONDS
    reply_chain_max_depth: int = DEFAULT_REPLY_CHAIN_MAX_DEPTH
    #: Egress (README, "Egress"): the posting budget, at most post_budget posts per
    #: post_budget_window_seconds (defaults from X's documented limit for creating posts, see
    #: chalicelib/settings.py), and the age past which a reply is skipped as too old
    #: (POST_BUDGET, POST_BUDGET_WINDOW_SECONDS, MAX_REPLY_AGE_SECONDS).
    post_budget: int = DEFAULT_POST_BUDGET
    post_budget_window_seconds: int = DEFAULT_POST_BUDGET_WINDOW_SECONDS
    max_reply_age_seconds: int = DEFAULT_MAX_REPLY_AGE_SECONDS
    #: The stage (`-c stage=dev`): the stack is XBot-<stage> and every name it sets carries the stage,
    #: so stages deploy side by side in one account and region. None: the stack XBot, today's names.
    stage: str | None = None
    #: An address subscribed (by email, confirmed by its owner) to the operations topic (alarms,
    #: budget) and to the negative-message alert topic.
    alert_email: str | None = None
    #: An AWS Budgets cost budget (USD a month) notifying the operations topic and alert_email.
    monthly_budget_usd: float | None = None
    #: Whether this stage owns the region's API Gateway account setting (AWS::ApiGateway::Account,
    #: the CloudWatch role API Gateway logs with): one per account and region, so one stage only.
    api_gateway_account: bool = True
    #: Where mentions come from (`-c ingress=webhook|poll|both`): X's webhook deliveries (the API is
    #: deployed in every mode), the mentions poller (a schedule and its checkpoint table), or both.
    ingress: str = INGRESS_WEBHOOK
    #: How often the poller runs (`-c pollIntervalMinutes=`), see chalicelib/settings.py for X's limits.
    poll_interval_minutes: int = DEFAULT_POLL_INTERVAL_MINUTES
    #: What analyses text, labels photos and answers text posts (`-c profile=default|economy`):
    #: the AWS AI services, or the economy layer's small models in those functions (no Comprehend,
    #: no DetectLabels, no Lex bot); moderation, celebrities and text in photos stay Rekognition's.
    profile: str = PROFILE_DEFAULT

    @property
    def economy(self) -> bool:
        """Whether the analysis and text-reply functions run the small models (`-c profile=economy`)."""
        return self.profile == PROFILE_ECONOMY

    @property
    def polls(self) -> bool:
        """Whether the mentions poller runs (ingress poll or both)."""
        return self.ingress in (INGRESS_POLL, INGRESS_BOTH)

    @property
    def stack_name(self) -> str:
        """XBot, or XBot-<stage>: CloudFormation's stack, and the prefix of the names the stack sets."""
        return f"{STACK_NAME}-{self.stage}" if self.stage else STACK_NAME

    @property
    def glue_database_name(self) -> str:
        """The Glue database: xbot_datalake, or xbot_datalake_<stage> (Glue and Athena want no hyphens).
        The table in it keeps its name (datalake.TABLE_NAME), which the original project's queries use."""
        return f"{datalake.DATABASE_NAME}_{self.stage.replace('-', '_')}" if self.stage else datalake.DATABASE_NAME

    @property
    def egress_environment(self) -> dict[str, str]:
        """Egress's settings as the runtime reads them (chalicelib/settings.py)."""
        return {
            "POST_BUDGET": str(self.post_budget),
            "POST_BUDGET_WINDOW_SECONDS": str(self.post_budget_window_seconds),
            "MAX_REPLY_AGE_SECONDS": str(self.max_reply_age_seconds),
        }

    def __post_init__(self) -> None:
        # Triggers decide on the labels: without labels they would be ignored without a word.
        if FEATURE_LABELS not in self.image_features and (self.celebrities_when_labels or self.text_when_labels):
            raise ValueError(
                "context values celebritiesWhenLabels and textWhenLabels need 'labels' in imageFeatures "
                f"(they decide on a photo's labels), got imageFeatures={','.join(self.image_features)!r}"
            )

    @property
    def analysis_environment(self) -> dict[str, str]:
        """The image triggers as the runtime reads them (chalicelib/settings.py): only those the context set."""
        variables = {"CELEBRITIES_WHEN_LABELS": self.celebrities_when_labels, "TEXT_WHEN_LABELS": self.text_when_labels}
        return {variable: ",".join(names) for variable, names in variables.items() if names is not None}

    @property
    def reply_guard_environment(self) -> dict[str, str]:
        """The guards' settings as the runtime reads them (chalicelib/settings.py)."""
        return {
            "REPLIES_PER_AUTHOR": str(self.replies_per_author),
            "REPLIES_PER_CONVERSATION": str(self.replies_per_conversation),
            "REPLY_WINDOW_SECONDS": str(self.reply_window_seconds),
            "REPLY_CHAIN_MAX_DEPTH": str(self.reply_chain_max_depth),
        }

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION_BY_DAYS[self.log_retention_days]

    @classmethod
    def from_context(cls, node: Node) -> BotConfig:
        """Read the settings; `-c` values arrive as strings, cdk.json values as JSON types."""
        bot_user_id = _bot_user_id(node.try_get_context("botUserId"))
        config = cls(
            bot_user_id=bot_user_id,
            twitter_secret_name=str(node.try_get_context("twitterSecretName") or DEFAULT_TWITTER_SECRET_NAME),
            archive_retention_days=_positive_int(
                node.try_get_context("archiveRetentionDays"), "archiveRetentionDays", DEFAULT_ARCHIVE_RETENTION_DAYS
            ),
            log_retention_days=_log_retention_days(node.try_get_context("logRetentionDays")),
            media_retention_days=_positive_int(
                node.try_get_context("mediaRetentionDays"), "mediaRetentionDays", DEFAULT_MEDIA_RETENTION_DAYS
            ),
            image_features=_image_features(node.try_get_context("imageFeatures")),
            celebrities_when_labels=_label_names(
                node.try_get_context("celebritiesWhenLabels"), "celebritiesWhenLabels", DEFAULT_CELEBRITIES_WHEN_LABELS
            ),
            text_when_labels=_label_names(
                node.try_get_context("textWhenLabels"), "textWhenLabels", DEFAULT_TEXT_WHEN_LABELS
            ),
            text_key_phrases=_flag(node.try_get_context("textKeyPhrases"), "textKeyPhrases"),
            chat_webhook_secret_name=_optional_str(node.try_get_context("chatWebhookSecretName")),
            blur_unrecognised_faces=_flag(
                node.try_get_context("blurUnrecognisedFaces"), "blurUnrecognisedFaces", default=True
            ),
            negative_replies=_negative_replies(node.try_get_context("negativeReplies")),
            replies_per_author=_count(node, "repliesPerAuthor", DEFAULT_REPLIES_PER_AUTHOR, minimum=1),
            replies_per_conversation=_count(
                node, "repliesPerConversation", DEFAULT_REPLIES_PER_CONVERSATION, minimum=1
            ),
            reply_window_seconds=_count(node, "replyWindowSeconds", DEFAULT_REPLY_WINDOW_SECONDS, minimum=1),
            reply_chain_max_depth=_count(node, "replyChainMaxDepth", DEFAULT_REPLY_CHAIN_MAX_DEPTH, minimum=0),
            post_budget=_count(node, "postBudget", DEFAULT_POST_BUDGET, minimum=1),
            post_budget_window_seconds=_count(
                node, "postBudgetWindowSeconds", DEFAULT_POST_BUDGET_WINDOW_SECONDS, minimum=1
            ),
            max_reply_age_seconds=_count(node, "maxReplyAgeSeconds", DEFAULT_MAX_REPLY_AGE_SECONDS, minimum=1),
            stage=_stage(node.try_get_context("stage")),
            alert_email=_email(node.try_get_context("alertEmail")),
            monthly_budget_usd=_budget_usd(node.try_get_context("monthlyBudgetUsd")),
            api_gateway_account=_flag(node.try_get_context("apiGatewayAccount"), "apiGatewayAccount", default=True),
            ingress=_ingress(node.try_get_context("ingress"), bot_user_id),
            poll_interval_minutes=_count(node, "pollIntervalMinutes", DEFAULT_POLL_INTERVAL_MINUTES, minimum=1),
            profile=_profile(node.try_get_context("profile")),
        )
        _check_poll_interval(config)
        return config


def _check_poll_interval(config: BotConfig) -> None:
    """A polled post is stamped with when it was written (the poller's catch-up age cut), and Egress
    skips a reply older than maxReplyAgeSeconds: polling less often than every half of it would
    leave most mentions too old by the time they are read, and the bot would silently answer none."""
    if config.ingress == INGRESS_WEBHOOK or config.poll_interval_minutes * 60 * 2 <= config.max_reply_age_seconds:
        return
    raise ValueError(
        f"context value pollIntervalMinutes={config.poll_interval_minutes} is over half of "
        f"maxReplyAgeSeconds={config.max_reply_age_seconds}: most mentions would be too old to answer when read; "
        "poll more often or raise maxReplyAgeSeconds"
    )


#: CloudWatch Logs accepts only these retention periods (days); anything else fails at deploy time.
LOG_RETENTION_BY_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _log_retention_days(value: Any) -> int:
    days = _positive_int(value, "logRetentionDays", DEFAULT_LOG_RETENTION_DAYS)
    if days not in LOG_RETENTION_BY_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_BY_DAYS)
        raise ValueError(f"context value logRetentionDays must be one of {allowed}, got {days}")
    return days


def _image_features(value: Any) -> tuple[str, ...]:
    """A comma-separated string (`-c imageFeatures=labels,text`) or a JSON list (cdk.json)."""
    if value is None:
        return DEFAULT_IMAGE_FEATURES
    features = _names(value, "imageFeatures")
    unknown = sorted(set(features) - IMAGE_FEATURES)
    if unknown:
        raise ValueError(f"context value imageFeatures has unknown features {unknown}; known: {sorted(IMAGE_FEATURES)}")
    return features


def _names(value: Any, key: str) -> tuple[str, ...]:
    """The names of a comma-separated string or a JSON list (cdk.json), stripped, empty ones
    dropped, each once, in order."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"context value {key} must be a comma-separated string or a list, got {value!r}")
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _label_names(value: Any, key: str, default: tuple[str, ...]) -> tuple[str, ...] | None:
    """A comma-separated string (`-c textWhenLabels=Text,Menu`) or a JSON list (cdk.json) of label
    names, or "always"; checked as the runtime will read it. None when the context says nothing."""
    if value is None or value == "":
        return None
    names = _names(value, key)
    try:
        trigger = label_trigger(names, default)
    except ValueError as error:
        raise ValueError(f"context value {key}: {error}") from None
    return (ALWAYS,) if trigger.always else names or None


def _flag(value: Any, key: str, *, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"context value {key} must be true or false, got {value!r}")


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _count(node: Node, key: str, default: int, *, minimum: int) -> int:
    """A whole number of at least `minimum` (a string with -c, a number in cdk.json)."""
    value = node.try_get_context(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"context value {key} must be a whole number, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"context value {key} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"context value {key} must be at least {minimum}, got {number}")
    return number


def _positive_int(value: Any, key: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"context value {key} must be a whole number of days, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"context value {key} must be positive, got {number}")
    return number


def _bot_user_id(value: Any) -> str | None:
    """The bot's numeric X account id (a string: X ids exceed 2^53; a number in cdk.json); unset:
    None. A handle in its place would keep the runtime from recognising the bot's own posts."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 2**53:
        # CDK context passes through JavaScript numbers: the digits past 2^53 are already lost.
        raise ValueError(
            f'context value botUserId must be written as a string in cdk.json ("botUserId": "..."): '
            f"as a number it exceeds 2^53 and arrives changed, got {value!r}"
        )
    text = str(value).strip()
    if isinstance(value, bool) or not is_x_id(text):
        raise ValueError(
            f"context value botUserId must be the bot's numeric X account id (digits only, not the @handle; "
            f"`botctl x whoami` prints it), got {value!r}"
        )
    return text


def _stage(value: Any) -> str | None:
    if value is None or value == "":
        return None
    stage = str(value)
    if len(stage) > STAGE_MAX_LENGTH or not STAGE_PATTERN.fullmatch(stage):
        raise ValueError(
            f"context value stage must be at most {STAGE_MAX_LENGTH} lowercase letters, digits and single "
            f"hyphens, starting with a letter (e.g. dev, prod-2), got {value!r}"
        )
    return stage


def _email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    email = str(value).strip()
    if not EMAIL_PATTERN.fullmatch(email):
        raise ValueError(f"context value alertEmail must be an email address, got {value!r}")
    return email


def _budget_usd(value: Any) -> float | None:
    """A positive amount of US dollars (`-c monthlyBudgetUsd=20` or 20.5); unset: no budget."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"context value monthlyBudgetUsd must be an amount of US dollars, got {value!r}")
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"context value monthlyBudgetUsd must be an amount of US dollars, got {value!r}") from None
    if not math.isfinite(amount) or amount <= 0:
        raise ValueError(f"context value monthlyBudgetUsd must be a positive amount of US dollars, got {value!r}")
    return amount


def _negative_replies(value: Any) -> str:
    if value is None or value == "":
        return NEGATIVE_CALM
    mode = str(value).strip().lower()
    if mode not in (NEGATIVE_CALM, NEGATIVE_SILENT):
        raise ValueError(f"context value negativeReplies must be {NEGATIVE_CALM} or {NEGATIVE_SILENT}, got {value!r}")
    return mode


def _ingress(value: Any, bot_user_id: Any) -> str:
    """webhook (the default), poll or both; polling reads the bot's own timeline, so it needs botUserId."""
    if value is None or value == "":
        return INGRESS_WEBHOOK
    mode = str(value).strip().lower()
    if mode not in INGRESS_MODES:
        raise ValueError(f"context value ingress must be one of {', '.join(INGRESS_MODES)}, got {value!r}")
    if mode != INGRESS_WEBHOOK and bot_user_id in (None, ""):
        raise ValueError(
            f"context value ingress={mode} needs botUserId, the bot's numeric X account id "
            "(`botctl x whoami` prints it): -c botUserId=..."
        )
    return mode


def _profile(value: Any) -> str:
    """default (unset) or economy, in any case; anything else stops the synth before anything is built."""
    if value is None or value == "":
        return PROFILE_DEFAULT
    profile = str(value).strip().lower()
    if profile not in PROFILES:
        raise ValueError(
            f"context value profile must be {PROFILE_DEFAULT} or {PROFILE_ECONOMY}, got {value!r} "
            f"({PROFILE_ECONOMY}: small models from a Lambda layer instead of Comprehend, DetectLabels and Lex; "
            f"unset: {PROFILE_DEFAULT})"
        )
    return profile
