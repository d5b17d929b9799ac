"""S3MediaStore, SnsAlertSink and webhook_url_from_secret against moto (no AWS account, no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from chalicelib.adapters.chat_webhook import webhook_url_from_secret
from chalicelib.adapters.s3_media import S3MediaStore
from chalicelib.adapters.secrets import SecretConfigurationError
from chalicelib.adapters.sns_alerts import MAX_SUBJECT_CHARS, SnsAlertSink, sanitize_subject
from chalicelib.ports import MediaError
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from tests.fakes import FakeChatWebhook

REGION = "us-east-1"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _clear_powertools_cache() -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]


# --- S3MediaStore ---------------------------------------------------------------------------------


def test_s3_media_round_trip_with_content_type(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    store = S3MediaStore(s3, "media")
    store.put("2024/05/01/abc.jpg", b"\xff\xd8photo", "image/jpeg")
    assert store.get("2024/05/01/abc.jpg") == b"\xff\xd8photo"
    head = s3.head_object(Bucket="media", Key="2024/05/01/abc.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_s3_missing_photo_is_a_media_error(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="media")
    with pytest.raises(MediaError, match=r"no stored photo under 2024/05/01/gone\.jpg"):
        S3MediaStore(s3, "media").get("2024/05/01/gone.jpg")


def test_s3_other_errors_propagate(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    with pytest.raises(ClientError, match="NoSuchBucket"):
        S3MediaStore(s3, "no-such-bucket").get("k.jpg")


# --- SnsAlertSink ---------------------------------------------------------------------------------


def _topic_with_queue() -> tuple[Any, str, Any, str]:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return sns, topic_arn, sqs, queue_url


def test_sns_alert_reaches_a_subscriber(aws: None) -> None:
    sns, topic_arn, sqs, queue_url = _topic_with_queue()
    SnsAlertSink(sns, topic_arn).publish(
        "Negative message from @jane 😠\nplease look",
        "jane: I hate this\nhttps://x.com/jane/status/1",
        {"Author": "jane", "TweetId": "1790000000000000001", "Empty": ""},
    )
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == "Negative message from @jane please look"
    assert envelope["Message"] == "jane: I hate this\nhttps://x.com/jane/status/1"
    assert envelope["MessageAttributes"] == {
        "Author": {"Type": "String", "Value": "jane"},
        "TweetId": {"Type": "String", "Value": "1790000000000000001"},
    }


def test_sns_refuses_more_attributes_than_sns_allows(aws: None) -> None:
    sns, topic_arn, _, _ = _topic_with_queue()
    with pytest.raises(ValueError, match="at most 10"):
        SnsAlertSink(sns, topic_arn).publish("s", "m", {f"a{i}": "v" for i in range(11)})


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Café crème", "Cafe creme"),
        ("line\nbreak\ttab", "line break tab"),
        ("😠😠", "Alert"),
        ("", "Alert"),
        ("x" * 150, "x" * 97 + "..."),
    ],
)
def test_subjects_are_made_acceptable_to_sns(subject: str, expected: str) -> None:
    assert sanitize_subject(subject) == expected


@given(st.text(max_size=400))
def test_any_subject_becomes_printable_ascii_within_the_limit(subject: str) -> None:
    cleaned = sanitize_subject(subject)
    assert 0 < len(cleaned) <= MAX_SUBJECT_CHARS
    assert cleaned.isascii()
    assert cleaned.isprintable()
    assert cleaned == cleaned.strip()


# --- webhook_url_from_secret ----------------------------------------------------------------------

HOOK = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def test_webhook_url_is_read_from_the_secret_and_cached(aws: None) -> None:
    _clear_powertools_cache()
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="ChatWebhook", SecretString=json.dumps({"Url": HOOK}))
    assert webhook_url_from_secret("ChatWebhook", max_age_seconds=300) == HOOK
    sm.update_secret(SecretId="ChatWebhook", SecretString=json.dumps({"Url": HOOK + "-rotated"}))
    assert webhook_url_from_secret("ChatWebhook", max_age_seconds=300) == HOOK
    _clear_powertools_cache()


@pytest.mark.parametrize(
    ("secret_string", "message"),
    [
        (None, "cannot read"),
        ("not json very-secret-token", "not a JSON object"),
        (json.dumps(["very-secret-token"]), "not a JSON object"),
        (json.dumps({"url": "https://very-secret-token"}), "lacks Url"),
        (json.dumps({"Url": ""}), "lacks Url"),
        (json.dumps({"Url": "http://hooks.example/very-secret-token"}), "must use https"),
    ],
)
def test_webhook_secret_errors_name_the_secret_never_its_value(
    aws: None, secret_string: str | None, message: str
) -> None:
    _clear_powertools_cache()
    if secret_string is not None:
        boto3.client("secretsmanager", region_name=REGION).create_secret(Name="Hook", SecretString=secret_string)
    with pytest.raises(SecretConfigurationError, match=message) as raised:
        webhook_url_from_secret("Hook", max_age_seconds=0)
    assert "'Hook'" in str(raised.value)
    assert "very-secret-token" not in str(raised.value)
    assert raised.value.__cause__ is None or "very-secret-token" not in str(raised.value.__cause__)
    _clear_powertools_cache()


def test_secret_webhook_reads_the_url_at_each_post_through_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.adapters import chat_webhook

    reads: list[tuple[str, int]] = []
    webhooks: dict[str, FakeChatWebhook] = {}

    def fake_url(secret_name: str, max_age_seconds: int) -> str:
        reads.append((secret_name, max_age_seconds))
        return f"https://hooks.example/{len(reads)}"

    monkeypatch.setattr(chat_webhook, "webhook_url_from_secret", fake_url)
    monkeypatch.setattr(chat_webhook, "SlackWebhook", lambda url: webhooks.setdefault(url, FakeChatWebhook()))
    webhook = chat_webhook.SecretSlackWebhook("ChatWebhook", 300)
    webhook.post({"text": "a"})
    webhook.post({"text": "b"})
    assert reads == [("ChatWebhook", 300), ("ChatWebhook", 300)]
    posts = [(url, payload) for url, fake in webhooks.items() for payload in fake.payloads]
    assert [url for url, _ in posts] == ["https://hooks.example/1", "https://hooks.example/2"]
    assert "hooks.example" not in repr(webhook)
