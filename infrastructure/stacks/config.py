"""Deployment settings read from CDK context (cdk.json "context" or `cdk synth -c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

DEFAULT_TWITTER_SECRET_NAME = "TwitterSecret"  # noqa: S105 - the secret's name, not its value
DEFAULT_ARCHIVE_RETENTION_DAYS = 365
DEFAULT_LOG_RETENTION_DAYS = 90


@dataclass(frozen=True)
class BotConfig:
    """What one deployment of the bot may vary; everything else is fixed by the code."""

    #: The bot's own X account id (a string: X ids exceed 2^53). Optional: without it the runtime
    #: cannot recognise its own posts, so a real deployment should set it.
    bot_user_id: str | None = None
    twitter_secret_name: str = DEFAULT_TWITTER_SECRET_NAME
    archive_retention_days: int = DEFAULT_ARCHIVE_RETENTION_DAYS
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION_BY_DAYS[self.log_retention_days]

    @classmethod
    def from_context(cls, node: Node) -> BotConfig:
        """Read the settings; `-c` values arrive as strings, cdk.json values as JSON types."""
        bot_user_id = node.try_get_context("botUserId")
        return cls(
            bot_user_id=str(bot_user_id) if bot_user_id not in (None, "") else None,
            twitter_secret_name=str(node.try_get_context("twitterSecretName") or DEFAULT_TWITTER_SECRET_NAME),
            archive_retention_days=_positive_int(
                node.try_get_context("archiveRetentionDays"), "archiveRetentionDays", DEFAULT_ARCHIVE_RETENTION_DAYS
            ),
            log_retention_days=_log_retention_days(node.try_get_context("logRetentionDays")),
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
