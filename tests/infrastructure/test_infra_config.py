"""Deployment settings from CDK context."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from stacks.config import BotConfig


def _config(**context: object) -> BotConfig:
    return BotConfig.from_context(cdk.App(context=dict(context)).node)


def test_defaults():
    config = _config()
    assert config == BotConfig(
        bot_user_id=None, twitter_secret_name="TwitterSecret", archive_retention_days=365, log_retention_days=90
    )
    assert config.log_retention == logs.RetentionDays.THREE_MONTHS


def test_values_given_with_dash_c_arrive_as_strings():
    config = _config(botUserId="1234567890123456789", archiveRetentionDays="30", logRetentionDays="14")
    assert config.bot_user_id == "1234567890123456789"
    assert config.archive_retention_days == 30
    assert config.log_retention == logs.RetentionDays.TWO_WEEKS


def test_an_empty_bot_user_id_is_unset():
    assert _config(botUserId="").bot_user_id is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("logRetentionDays", 42), ("logRetentionDays", "ninety"), ("archiveRetentionDays", 0)],
)
def test_invalid_retentions_fail_at_synth(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})
