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
