"""AWS adapters against botocore Stubber and moto (no AWS account, no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client
from chalicelib import wiring
from chalicelib.adapters.eventbridge import EventBridgeBus
from chalicelib.adapters.s3_store import S3PayloadStore
from chalicelib.adapters.secrets import SecretConfigurationError, SecretsManagerCredentials
from chalicelib.ingress.signature import sign
from moto import mock_aws

from tests.conftest import FIXTURES

SECRET_DOCUMENT = {"ApiKey": "k", "ApiSecret": "consumer-secret", "AccessToken": "t", "AccessTokenSecret": "ts"}


def test_eventbridge_results_map_to_entry_results() -> None:
    client = boto3.client("events", region_name="us-east-1")
    entries = [{"Source": "xbot.ingress", "DetailType": "A", "Detail": "{}", "EventBusName": "bus"}] * 2
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "e1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}],
            },
            {"Entries": entries},
        )
        results = EventBridgeBus(client).put_entries(entries)
    assert [r.ok for r in results] == [True, False]
    assert results[0].event_id == "e1"
    assert results[1].error_code == "InternalFailure"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _clear_powertools_cache() -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_secret_is_read_once_and_cached(aws: None) -> None:
    _clear_powertools_cache()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="TwitterSecret", SecretString=json.dumps(SECRET_DOCUMENT))
    credentials = SecretsManagerCredentials("TwitterSecret", max_age_seconds=300)
    assert credentials.consumer_secret() == "consumer-secret"
    sm.update_secret(SecretId="TwitterSecret", SecretString=json.dumps({**SECRET_DOCUMENT, "ApiSecret": "rotated"}))
    assert credentials.consumer_secret() == "consumer-secret"  # cached in the container
    _clear_powertools_cache()


@pytest.mark.parametrize(
    ("secret_string", "message"),
    [(None, "cannot read"), ("not json", "not a JSON object"), (json.dumps({"ApiKey": "k"}), "lacks ApiSecret")],
)
def test_secret_errors_name_the_secret_never_its_values(aws: None, secret_string: str | None, message: str) -> None:
    _clear_powertools_cache()
    if secret_string is not None:
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name="Bad", SecretString=secret_string)
    with pytest.raises(SecretConfigurationError, match=message) as raised:
        SecretsManagerCredentials("Bad", max_age_seconds=0).consumer_secret()
    assert "'Bad'" in str(raised.value)
    _clear_powertools_cache()


def test_s3_payload_store(aws: None) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    uri = S3PayloadStore(s3, "lake").put("oversized/a.json", b'{"a":1}')
    assert uri == "s3://lake/oversized/a.json"
    assert s3.get_object(Bucket="lake", Key="oversized/a.json")["Body"].read() == b'{"a":1}'


def test_webhook_to_a_real_eventbridge_bus(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole AWS path: Secrets Manager, the route, PutEvents on the custom bus, a rule's target."""
    _clear_powertools_cache()
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="TwitterSecret", SecretString=json.dumps(SECRET_DOCUMENT)
    )
    events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name="xbot-bus")
    queue_url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="xbot-bus", EventPattern=json.dumps({"source": [{"prefix": "xbot."}]}))
    events.put_targets(Rule="all", EventBusName="xbot-bus", Targets=[{"Id": "q", "Arn": queue_arn}])
    monkeypatch.delenv("BOT_ADAPTERS", raising=False)
    monkeypatch.setenv("EVENT_BUS_NAME", "xbot-bus")
    wiring.reset()

    from app import app

    body = (FIXTURES / "tweet_create_events_quote.json").read_bytes()
    with Client(app) as client:
        response = client.http.post(
            "/twitter",
            headers={"Content-Type": "application/json", "x-twitter-webhooks-signature": sign("consumer-secret", body)},
            body=body,
        )
    assert response.status_code == 200
    received: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages]
        )
    assert sorted(e["detail-type"] for e in received) == ["MESSAGE_RECEIVED", "TWITTER_TWEETED"]
    message = next(e for e in received if e["detail-type"] == "MESSAGE_RECEIVED")
    assert message["detail"]["Author"] == "nneleaa"
    _clear_powertools_cache()
