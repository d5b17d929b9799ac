"""The analysis state machine, as synthesized, run by moto's Step Functions interpreter.

The ASL comes from the synthesized template (its function ARNs resolved to moto's); every Lambda
task is answered in-process by the real handler of runtime/app.py, with the real services, the real
S3 and EventBridge adapters on moto, and honest fakes for the network and the AI services.
"""

from __future__ import annotations

import importlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from chalicelib import wiring
from chalicelib.adapters.aws import AwsAdapters
from chalicelib.contracts import names
from chalicelib.contracts.analysis import ImageAnalysis
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from stacks.chalice_app import function_logical_id

from tests.fakes import FakeFetcher, FakeImageAnalyser, FakeTextAnalyser, image_bytes

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUS = "xbot-workflow-test"
MEDIA_BUCKET = "xbot-workflow-test-media"
PHOTO_ONE = "https://pbs.twimg.com/media/one.png"
PHOTO_TWO = "https://pbs.twimg.com/media/two.png"
MISSING_PHOTO = "https://pbs.twimg.com/media/gone.png"
#: moto answers with these states while an execution runs.
RUNNING = "RUNNING"


def png(colour: tuple[int, int, int]) -> bytes:
    return image_bytes("PNG", (32, 24), colour)


def colour_label(photo: bytes) -> ImageAnalysis:
    """What the fake Rekognition sees in a stored photo (read back, as Rekognition reads S3): its colour."""
    from PIL import Image

    with Image.open(io.BytesIO(photo)) as image:
        red, green, blue = image.convert("RGB").getpixel((0, 0))  # type: ignore[misc]
    colour = "Red" if red > max(green, blue) else "Blue"
    return ImageAnalysis(labels=[{"Name": colour, "Confidence": 99.0, "Parents": [], "Instances": []}])


#: What boto3 raises for a throttled Comprehend call.
THROTTLED = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DetectSentiment")


IDEMPOTENCY_TABLE = "idempotency"


@dataclass
class World:
    sfn: Any
    sqs: Any
    s3: Any
    queue_url: str
    state_machine_arn: str
    invocations: list[str]

    def run(self, detail: dict[str, Any]) -> dict[str, Any]:
        """Start an execution with the MESSAGE_RECEIVED event EventBridge would deliver; wait for its end."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": names.MESSAGE_RECEIVED,
            "source": names.SOURCE_INGRESS,
            "account": ACCOUNT,
            "time": "2026-01-01T12:00:00Z",
            "region": REGION,
            "resources": [],
            "detail": detail,
        }
        started = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=f"test-{uuid.uuid4()}", input=json.dumps(event)
        )
        deadline = time.monotonic() + 60
        while True:
            execution: dict[str, Any] = self.sfn.describe_execution(executionArn=started["executionArn"])
            if execution["status"] != RUNNING:
                return execution
            assert time.monotonic() < deadline, "the execution did not finish within 60 s"
            time.sleep(0.05)

    def published(self) -> list[dict[str, Any]]:
        """The events the workflow put on the bus (a rule forwards xbot.analysis to the queue)."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


def _message(*image_urls: str) -> dict[str, Any]:
    return {
        "Text": "@xbot what a lovely day",
        "Author": "someone",
        "Lang": "en",
        "ImageUrls": list(image_urls),
        "Twitter": {"TweetId": "1850000000000000001", "UserId": "1850000000000000002", "ConversationId": None},
    }


def _handlers() -> dict[str, Any]:
    """runtime/app.py's pure Lambda functions, by the logical id the template gives each one."""
    module = importlib.import_module("app")
    return {function_logical_id(f.name): f for f in module.app.pure_lambda_functions}


def _resolve(value: Any, arns: dict[str, str]) -> str:
    """One part of the DefinitionString's Fn::Join, as CloudFormation would render it here."""
    if isinstance(value, str):
        return value
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    (logical_id, attribute) = value["Fn::GetAtt"]
    assert attribute == "Arn", value
    return arns[logical_id]


def _definition(template: dict[str, Any], arns: dict[str, str]) -> tuple[str, str]:
    ((state_machine,),) = [
        [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    ]
    (delimiter, parts) = state_machine["DefinitionString"]["Fn::Join"]
    definition = delimiter.join(_resolve(part, arns) for part in parts)
    json.loads(definition)  # every intrinsic resolved
    return definition, state_machine["StateMachineType"]


class _Context:
    """What a Lambda context offers the handlers (they tag their logs with these)."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())


@pytest.fixture
def text_analyser() -> FakeTextAnalyser:
    return FakeTextAnalyser()


@pytest.fixture
def world(synth, monkeypatch: pytest.MonkeyPatch, text_analyser: FakeTextAnalyser) -> Iterator[World]:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "BOT_ADAPTERS": "chalicelib.adapters.aws:AwsAdapters",
        "EVENT_BUS_NAME": BUS,
        "MEDIA_BUCKET": MEDIA_BUCKET,
        "MEDIA_HOSTS": "pbs.twimg.com",
        "IMAGE_FEATURES": "labels,celebrities,text",
        "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_PROFILE", "OVERSIZE_BUCKET", "AWS_REGION"):
        monkeypatch.delenv(variable, raising=False)

    handlers = _handlers()
    arns = {logical_id: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}" for logical_id in handlers}
    for logical_id, handler in handlers.items():
        # The template's function runs the same code the test calls.
        assert synth.template["Resources"][logical_id]["Properties"]["Handler"] == handler.handler_string
    by_arn = {arn: handlers[logical_id] for logical_id, arn in arns.items()}
    invocations: list[str] = []

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        # What Lambda does: run the handler; an exception becomes a function error whose errorType
        # is the exception's class name (what Retry and Catch match on).
        handler = by_arn[function_name]
        invocations.append(handler.name)
        try:
            result = handler(json.loads(body or "{}"), _Context(handler.name))
        except Exception as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []}
            ).encode()
        return json.dumps(result).encode()

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        wiring.reset()
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=MEDIA_BUCKET)
        # The idempotency table as the infrastructure makes it: the analysis claims each post in it.
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=IDEMPOTENCY_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="published", EventBusName=BUS, EventPattern=json.dumps({"source": [names.SOURCE_ANALYSIS]})
        )
        events.put_targets(Rule="published", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])

        # The real media store (S3 adapter) and bus (EventBridge adapter) come from the AWS
        # adapters; the network and the AI services are fakes. MISSING_PHOTO gets the host's 404.
        fetcher = FakeFetcher({PHOTO_ONE: png((220, 20, 20)), PHOTO_TWO: png((20, 20, 220))})
        monkeypatch.setattr(AwsAdapters, "media_fetcher", lambda self: fetcher)
        monkeypatch.setattr(
            AwsAdapters, "image_analyser", lambda self, media: FakeImageAnalyser(store=media, default=colour_label)
        )
        monkeypatch.setattr(AwsAdapters, "text_analyser", lambda self: text_analyser)

        definition, state_machine_type = _definition(synth.template, arns)
        assert state_machine_type == "EXPRESS"
        sfn = boto3.client("stepfunctions", region_name=REGION)
        state_machine_arn = sfn.create_state_machine(
            name="analysis",
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/analysis",
            type=state_machine_type,
        )["stateMachineArn"]
        yield World(sfn, sqs, s3, queue_url, state_machine_arn, invocations)
    wiring.reset()


def test_text_and_two_photos_become_message_analysed(world: World):
    execution = world.run(_message(PHOTO_ONE, PHOTO_TWO))

    assert execution["status"] == "SUCCEEDED", execution
    (event,) = world.published()
    assert event["detail-type"] == names.MESSAGE_ANALYSED
    assert event["source"] == names.SOURCE_ANALYSIS
    detail = event["detail"]
    assert detail["HasImages"] is True
    assert detail["Twitter"]["TweetId"] == "1850000000000000001"
    analysis = detail["Analysis"]
    assert analysis["TextSentiment"] == "POSITIVE"
    assert analysis["SentimentScore"]["Positive"] == 0.97
    images = analysis["Images"]
    assert [image["Url"] for image in images] == [PHOTO_ONE, PHOTO_TWO]
    assert [image["Error"] for image in images] == [None, None]
    assert [image["Analysis"]["Labels"][0]["Name"] for image in images] == ["Red", "Blue"]
    # Stored in the media bucket (the real S3 adapter) under users/<author>/posts/<post>/<uuid>.png.
    stored = {o["Key"] for o in world.s3.list_objects_v2(Bucket=MEDIA_BUCKET)["Contents"]}
    assert stored == {image["Key"] for image in images}
    post_folder = "users/1850000000000000002/posts/1850000000000000001/"
    assert all(key.startswith(post_folder) and key.endswith(".png") and key.count("/") == 4 for key in stored)
    assert sorted(world.invocations) == sorted(
        [
            "analysis_download_media",
            "analysis_analyse_image",
            "analysis_analyse_image",
            "analysis_analyse_text",
            "analysis_publish_analysis",
        ]
    )


def test_a_photo_that_fails_to_download_is_reported_and_the_others_analysed(world: World):
    execution = world.run(_message(MISSING_PHOTO, PHOTO_ONE))

    assert execution["status"] == "SUCCEEDED", execution
    (event,) = world.published()
    assert event["detail-type"] == names.MESSAGE_ANALYSED
    (missing, analysed) = event["detail"]["Analysis"]["Images"]
    assert missing["Url"] == MISSING_PHOTO
    assert "404" in missing["Error"]
    assert missing["Key"] is None and missing["Analysis"] is None
    assert analysed["Url"] == PHOTO_ONE
    assert analysed["Error"] is None
    assert analysed["Analysis"]["Labels"][0]["Name"] == "Red"
    assert event["detail"]["Analysis"]["TextSentiment"] == "POSITIVE"


@pytest.mark.parametrize("text_analyser", [FakeTextAnalyser(error=ValueError("analyser exploded"))])
def test_a_failure_is_published_as_message_analysis_failed_and_fails_the_execution(world: World):
    execution = world.run(_message(PHOTO_ONE))

    (event,) = world.published()
    assert event["detail-type"] == names.MESSAGE_ANALYSIS_FAILED
    assert event["source"] == names.SOURCE_ANALYSIS
    detail = event["detail"]
    assert detail["Twitter"]["TweetId"] == "1850000000000000001"
    assert detail["Reason"].startswith("ValueError")
    assert "analyser exploded" in detail["Reason"]
    # Published first, then the execution still ends failed, with the original error.
    assert execution["status"] == "FAILED", execution
    assert execution.get("error") == "ValueError", execution
    assert "analyser exploded" in execution.get("cause", ""), execution
    assert "analysis_publish_failure" in world.invocations
    assert "analysis_publish_analysis" not in world.invocations


@pytest.mark.parametrize("text_analyser", [FakeTextAnalyser(errors=[THROTTLED])])
def test_a_throttled_step_is_retried(world: World, text_analyser: FakeTextAnalyser):
    execution = world.run(_message())

    assert execution["status"] == "SUCCEEDED", execution
    (event,) = world.published()
    assert event["detail-type"] == names.MESSAGE_ANALYSED
    assert event["detail"]["HasImages"] is False
    assert event["detail"]["Analysis"]["Images"] == []
    assert len(text_analyser.analysed) == 2
    assert world.invocations.count("analysis_analyse_text") == 2


def test_the_same_post_twice_is_analysed_once(world: World):
    # A redelivery, or the same post by a second route: the second execution ends at AlreadyAnalysed.
    first = world.run(_message(PHOTO_ONE))
    second = world.run(_message(PHOTO_ONE))

    assert first["status"] == "SUCCEEDED", first
    assert second["status"] == "SUCCEEDED", second
    assert [event["detail-type"] for event in world.published()] == [names.MESSAGE_ANALYSED]
    assert sorted(world.invocations) == sorted(
        [
            "analysis_download_media",
            "analysis_analyse_image",
            "analysis_analyse_text",
            "analysis_publish_analysis",
            "analysis_download_media",
        ]
    )


def test_a_failed_analysis_gives_the_post_back(world: World, text_analyser: FakeTextAnalyser):
    text_analyser.error = ValueError("unexpected answer from the text analyser")
    failed = world.run(_message())
    assert failed["status"] == "FAILED", failed

    text_analyser.error = None
    again = world.run(_message())
    assert again["status"] == "SUCCEEDED", again
    assert sorted(event["detail-type"] for event in world.published()) == sorted(
        [names.MESSAGE_ANALYSIS_FAILED, names.MESSAGE_ANALYSED]
    )
