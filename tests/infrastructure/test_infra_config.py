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


def test_analysis_and_alerting_defaults():
    config = _config()
    assert config.media_retention_days == 30
    assert config.image_features == ("labels", "celebrities", "text")
    assert config.text_key_phrases is False
    assert config.chat_webhook_secret_name is None


def test_analysis_and_alerting_from_dash_c_strings():
    config = _config(
        mediaRetentionDays="7", imageFeatures="text, labels", textKeyPhrases="true", chatWebhookSecretName="chat"
    )
    assert config.media_retention_days == 7
    assert config.image_features == ("text", "labels")
    assert config.text_key_phrases is True
    assert config.chat_webhook_secret_name == "chat"


def test_analysis_settings_from_cdk_json_types():
    config = _config(imageFeatures=["celebrities"], textKeyPhrases=False, chatWebhookSecretName="")
    assert config.image_features == ("celebrities",)
    assert config.text_key_phrases is False
    assert config.chat_webhook_secret_name is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("imageFeatures", "labels,faces"), ("textKeyPhrases", "maybe"), ("mediaRetentionDays", "0")],
)
def test_invalid_analysis_settings_fail_at_synth(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})


def test_unrecognised_faces_are_blurred_by_default():
    assert _config().blur_unrecognised_faces is True


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("true", True), (False, False), ("", True)])
def test_blurring_unrecognised_faces_from_dash_c_strings_and_cdk_json(value, expected):
    assert _config(blurUnrecognisedFaces=value).blur_unrecognised_faces is expected


def test_an_invalid_blur_setting_fails_at_synth():
    with pytest.raises(ValueError, match="blurUnrecognisedFaces"):
        _config(blurUnrecognisedFaces="sometimes")


@pytest.mark.parametrize(("value", "expected"), [(None, "calm"), ("", "calm"), ("SILENT", "silent"), ("calm", "calm")])
def test_negative_replies_from_context(value, expected):
    context = {} if value is None else {"negativeReplies": value}
    assert _config(**context).negative_replies == expected


def test_an_invalid_negative_replies_setting_fails_at_synth():
    with pytest.raises(ValueError, match="negativeReplies"):
        _config(negativeReplies="rude")


def test_the_reply_guards_default_to_the_runtimes_defaults():
    from chalicelib.settings import (
        DEFAULT_REPLIES_PER_AUTHOR,
        DEFAULT_REPLIES_PER_CONVERSATION,
        DEFAULT_REPLY_CHAIN_MAX_DEPTH,
        DEFAULT_REPLY_WINDOW_SECONDS,
    )

    assert _config().reply_guard_environment == {
        "REPLIES_PER_AUTHOR": str(DEFAULT_REPLIES_PER_AUTHOR),
        "REPLIES_PER_CONVERSATION": str(DEFAULT_REPLIES_PER_CONVERSATION),
        "REPLY_WINDOW_SECONDS": str(DEFAULT_REPLY_WINDOW_SECONDS),
        "REPLY_CHAIN_MAX_DEPTH": str(DEFAULT_REPLY_CHAIN_MAX_DEPTH),
    }


def test_the_reply_guards_from_context():
    config = _config(repliesPerAuthor="3", repliesPerConversation=20, replyWindowSeconds="600", replyChainMaxDepth="0")
    assert (
        config.replies_per_author,
        config.replies_per_conversation,
        config.reply_window_seconds,
        config.reply_chain_max_depth,
    ) == (3, 20, 600, 0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("repliesPerAuthor", 0),
        ("repliesPerConversation", "many"),
        ("replyWindowSeconds", -1),
        ("replyChainMaxDepth", True),
    ],
)
def test_invalid_reply_guards_fail_at_synth(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})


def test_egress_defaults_to_the_runtimes_defaults():
    from chalicelib.settings import (
        DEFAULT_MAX_REPLY_AGE_SECONDS,
        DEFAULT_POST_BUDGET,
        DEFAULT_POST_BUDGET_WINDOW_SECONDS,
    )

    assert _config().egress_environment == {
        "POST_BUDGET": str(DEFAULT_POST_BUDGET),
        "POST_BUDGET_WINDOW_SECONDS": str(DEFAULT_POST_BUDGET_WINDOW_SECONDS),
        "MAX_REPLY_AGE_SECONDS": str(DEFAULT_MAX_REPLY_AGE_SECONDS),
    }


def test_egress_from_context():
    config = _config(postBudget="300", postBudgetWindowSeconds=900, maxReplyAgeSeconds="1800")
    assert (config.post_budget, config.post_budget_window_seconds, config.max_reply_age_seconds) == (300, 900, 1800)


@pytest.mark.parametrize(
    ("key", "value"), [("postBudget", 0), ("postBudgetWindowSeconds", "soon"), ("maxReplyAgeSeconds", -5)]
)
def test_invalid_egress_settings_fail_at_synth(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})


@pytest.mark.parametrize(
    "value",
    # The runtime's rule (chalicelib.kernel.x_ids): 20 digits, 2**63 and 0 pass a digits-only check,
    # and then every scheduled poll would fail.
    ["@mybot", "mybot", "12 34", "-5", "1.5", "0x1F", "١٢٣", "1" * 21, "12\n34", "1" * 20, str(2**63), "0"],
)
def test_a_bot_user_id_that_is_not_a_numeric_x_id_fails_at_synth(value):
    # A handle where the id belongs would keep the runtime from recognising the bot's own posts
    # (and the poller from reading its timeline): stopped at synth, with the command that prints it.
    with pytest.raises(ValueError, match=r"botUserId must be the bot's numeric X account id .*botctl x whoami"):
        _config(botUserId=value)


def test_a_bot_user_id_from_cdk_json_may_be_a_number_only_below_2_to_the_53():
    assert _config(botUserId=42).bot_user_id == "42"
    assert _config(botUserId=" 42 ").bot_user_id == "42"
    # Context passes through JavaScript: 1234567890123456789 arrives as 1234567890123456800, another
    # account. A number that large cannot be trusted; the message says to quote it.
    with pytest.raises(ValueError, match=r"botUserId .* a string in cdk\.json"):
        _config(botUserId=1234567890123456789)
    with pytest.raises(ValueError, match=r"botUserId .* a string in cdk\.json"):
        _config(botUserId=2**53)
    assert _config(botUserId=2**53 - 1).bot_user_id == str(2**53 - 1)


@pytest.mark.parametrize("ingress", ["poll", "both"])
def test_a_poll_interval_over_half_the_reply_age_fails_at_synth(ingress):
    # Mentions would mostly be older than maxReplyAgeSeconds when read: the bot would answer none.
    with pytest.raises(ValueError, match=r"pollIntervalMinutes=31 is over half of maxReplyAgeSeconds=3600"):
        _config(ingress=ingress, botUserId="1500000000000000001", pollIntervalMinutes="31", maxReplyAgeSeconds="3600")
    polling = _config(ingress=ingress, botUserId="1500000000000000001", pollIntervalMinutes="30")
    assert (polling.poll_interval_minutes, polling.max_reply_age_seconds) == (30, 3600)
    # Raising the reply age allows the longer interval; the webhook alone never polls.
    assert (
        _config(ingress=ingress, botUserId="1", pollIntervalMinutes="60", maxReplyAgeSeconds="7200").ingress == ingress
    )
    assert _config(pollIntervalMinutes="60").poll_interval_minutes == 60
