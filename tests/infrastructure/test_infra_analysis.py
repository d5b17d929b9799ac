"""The analysis workflow: media bucket, Express state machine, its grants, logging and trigger rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.contracts import names, workflow
from stacks.analysis import COMPREHEND_ACTIONS, KEY_PHRASES_ACTION, analysis_actions
from stacks.config import DEFAULT_LOG_RETENTION_DAYS, DEFAULT_MEDIA_RETENTION_DAYS
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

from tests.infrastructure.templates import role_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

MAP_MAX_CONCURRENCY = workflow.MAX_CONCURRENT_IMAGES
RETRIED_ERRORS = workflow.RETRY.errors

#: The Chalice functions the workflow runs, by state (SAM logical ids of analysis_*).
TASK_FUNCTIONS = {
    "DownloadMedia": "AnalysisDownloadMedia",
    "AnalyseImage": "AnalysisAnalyseImage",
    "AnalyseText": "AnalysisAnalyseText",
    "PublishAnalysis": "AnalysisPublishAnalysis",
    "PublishFailure": "AnalysisPublishFailure",
}


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _state_machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((logical_id, state_machine),) = _of_type(template, "AWS::StepFunctions::StateMachine").items()
    return logical_id, state_machine["Properties"]


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    """The ASL with every intrinsic replaced by a readable marker (<Partition>, <LogicalId.Arn>)."""
    (delimiter, parts) = _state_machine(template)[1]["DefinitionString"]["Fn::Join"]
    text = delimiter.join(_marker(part) for part in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def _marker(part: Any) -> str:
    if isinstance(part, str):
        return part
    if part == {"Ref": "AWS::Partition"}:
        return "aws"
    (target, attribute) = part["Fn::GetAtt"]
    return f"<{target}.{attribute}>"


def _tasks(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, nested ones (Parallel branches, Map item processors) included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(_tasks(branch["States"]))
        if "ItemProcessor" in state:
            found.update(_tasks(state["ItemProcessor"]["States"]))
    return found


def test_media_bucket_expires_photos_and_is_private_encrypted_and_logged(synth):
    media = synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"]
    buckets = _of_type(synth.template, "AWS::S3::Bucket")
    bucket = buckets[media]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-media"] == {
        "Id": "expire-media",
        "ExpirationInDays": DEFAULT_MEDIA_RETENTION_DAYS,
        "Status": "Enabled",
    }
    # enforceSSL: tests/infrastructure/test_infra_analytics.py checks every bucket's policy.


def test_every_role_that_reads_photos_may_list_the_media_bucket(synth):
    """Without s3:ListBucket, a GET of an expired photo is AccessDenied, not the NoSuchKey that
    chalicelib/adapters/s3_media.py reads as a missing photo."""
    media = synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"]
    photos = {"Fn::Join": ["", [{"Fn::GetAtt": [media, "Arn"]}, "/*"]]}
    readers, listers = set(), set()
    for policy in _of_type(synth.template, "AWS::IAM::Policy").values():
        roles = {role["Ref"] for role in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "s3:GetObject" in actions and photos in resources:
                readers |= roles
            if "s3:ListBucket" in actions and {"Fn::GetAtt": [media, "Arn"]} in resources:
                # The bucket only: listing is not a grant on the objects.
                assert resources == [{"Fn::GetAtt": [media, "Arn"]}], statement
                listers |= roles
    assert len(readers) == 3  # analysis, the photo responder, egress
    # ...and the media deletion, which lists only to delete (tests/infrastructure/test_infra_rules.py).
    assert listers == readers | {role_of(synth.template, "analysis_delete_media")}


def test_state_machine_is_express_logged_and_traced(synth):
    _, properties = _state_machine(synth.template)
    assert properties["StateMachineType"] == "EXPRESS"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    # Every state transition, but never the states' input and output: users' messages and their analysis.
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    ((destination,),) = [[d["CloudWatchLogsLogGroup"]["LogGroupArn"] for d in logging["Destinations"]]]
    (group, _arn) = destination["Fn::GetAtt"]
    log_group = _of_type(synth.template, "AWS::Logs::LogGroup")[group]["Properties"]
    assert log_group["RetentionInDays"] == DEFAULT_LOG_RETENTION_DAYS
    assert log_group["LogGroupName"].startswith("/aws/vendedlogs/states/")


def test_definition_downloads_then_analyses_photos_and_text_in_parallel_then_publishes(synth):
    definition = _definition(synth.template)
    states = definition["States"]
    assert definition["StartAt"] == "DownloadMedia"
    download = states["DownloadMedia"]
    # The event's id owns the post's claim (a retry of the same event gets it back).
    assert download["Parameters"]["Payload"] == {"Message.$": "$.detail", "EventId.$": "$.id"}
    assert download["ResultSelector"] == {"Claimed.$": "$.Payload.Claimed", "Images.$": "$.Payload.Images"}
    # A post another arrival has claimed ends at AlreadyAnalysed; the first arrival goes on.
    assert download["Next"] == "FirstArrival"
    assert states["FirstArrival"]["Default"] == "Analyse"

    analyse = states["Analyse"]
    assert analyse["Type"] == "Parallel"
    (images, text) = analyse["Branches"]
    image_map = images["States"][images["StartAt"]]
    assert image_map["Type"] == "Map"
    assert image_map["ItemsPath"] == "$" + download["ResultPath"][1:] + ".Images"
    assert image_map["MaxConcurrency"] == MAP_MAX_CONCURRENCY
    # Express workflows run Map inline; each item (an ImageResult) is the function's payload.
    processor = image_map["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "INLINE"}
    assert processor["States"][processor["StartAt"]]["Parameters"]["Payload.$"] == "$"
    assert text["States"][text["StartAt"]]["Parameters"]["Payload"] == {"Message.$": "$.detail"}
    assert analyse["ResultSelector"] == {"Images.$": "$[0]", "Text.$": "$[1]"}
    assert analyse["Next"] == "PublishAnalysis"

    publish = states["PublishAnalysis"]
    assert publish["Parameters"]["Payload"] == {
        "Message.$": "$.detail",
        "Text.$": analyse["ResultPath"] + ".Text",
        "Images.$": analyse["ResultPath"] + ".Images",
    }
    assert publish["End"] is True


def test_every_task_invokes_its_chalice_function_and_retries_transient_errors(synth):
    tasks = _tasks(_definition(synth.template)["States"])
    assert set(tasks) == set(TASK_FUNCTIONS)
    functions = _of_type(synth.template, "AWS::Serverless::Function")
    for name, task in tasks.items():
        assert task["Resource"] == "arn:aws:states:::lambda:invoke", name
        assert task["Parameters"]["FunctionName"] == f"<{TASK_FUNCTIONS[name]}.Arn>", name
        assert TASK_FUNCTIONS[name] in functions
        (retry,) = task["Retry"]
        assert retry["ErrorEquals"] == list(RETRIED_ERRORS), name
        assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL", name
        assert 1 <= retry["MaxAttempts"] <= 5 and retry["MaxDelaySeconds"] > 0, name


def test_failures_are_published_and_then_fail_the_execution(synth):
    states = _definition(synth.template)["States"]
    for name in ("DownloadMedia", "Analyse", "PublishAnalysis"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "PublishFailure"}
        ]
    publish_failure = states["PublishFailure"]
    assert publish_failure["Parameters"]["Payload"] == {
        "Message.$": "$.detail",
        "Error.$": "$.error.Error",
        "Cause.$": "$.error.Cause",
    }
    assert "Catch" not in publish_failure
    failed = states[publish_failure["Next"]]
    assert failed == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_state_machine_role_may_invoke_exactly_the_task_functions(synth):
    logical_id, properties = _state_machine(synth.template)
    (role, _arn) = properties["RoleArn"]["Fn::GetAtt"]
    assume = _of_type(synth.template, "AWS::IAM::Role")[role]["Properties"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in assume["Statement"]] == [{"Service": "states.amazonaws.com"}]
    statements = [
        statement
        for policy in _of_type(synth.template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    arns = {f"<{f}.Arn>" for f in TASK_FUNCTIONS.values()}
    resources = {
        _marker(r) if "Fn::GetAtt" in r else "".join(map(_marker, r["Fn::Join"][1])) for r in invoke["Resource"]
    }
    assert resources == arns | {f"{arn}:*" for arn in arns}
    # The first execution needs the policy in place (and no redundant DependsOn on the role).
    policy_ids = [
        k for k, p in _of_type(synth.template, "AWS::IAM::Policy").items() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert synth.template["Resources"][logical_id]["DependsOn"] == policy_ids


def test_message_received_starts_the_workflow_with_dead_letter_queue_and_retries(synth):
    logical_id, _ = _state_machine(synth.template)
    (bus,) = _of_type(synth.template, "AWS::Events::EventBus")
    (queue,) = [k for k in _of_type(synth.template, "AWS::SQS::Queue") if k.startswith("PlumbingTargetDeadLetters")]
    (rule,) = [
        r["Properties"]
        for r in _of_type(synth.template, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"] == names.MESSAGE_RECEIVED_PATTERN
    ]
    assert rule["EventBusName"] == {"Ref": bus}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": logical_id}
    # The whole event is the input: the definition reads the message at $.detail.
    assert "Input" not in target and "InputPath" not in target and "InputTransformer" not in target
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
    }
    (events_role, _arn) = target["RoleArn"]["Fn::GetAtt"]
    (statement,) = [
        s
        for p in _of_type(synth.template, "AWS::IAM::Policy").values()
        if {"Ref": events_role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statement == {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": logical_id}}


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut"])
def test_alarm_on_failed_and_timed_out_executions(synth, metric):
    """Express executions keep no history, and States.Timeout / States.Runtime escape the Catch."""
    logical_id, _ = _state_machine(synth.template)
    (alarm,) = [
        a["Properties"]
        for a in _of_type(synth.template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric
    ]
    assert alarm["Namespace"] == "AWS/States"
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": logical_id}}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 300)
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
        1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(
    ("features", "key_phrases", "expected"),
    [
        (("labels",), False, {"rekognition:DetectLabels"}),
        (
            ("celebrities", "text"),
            True,
            {"rekognition:RecognizeCelebrities", "rekognition:DetectText", KEY_PHRASES_ACTION},
        ),
        ((), False, set()),
    ],
)
def test_analysis_actions_follow_the_configuration(features, key_phrases, expected):
    assert set(analysis_actions(features, key_phrases)) == expected | set(COMPREHEND_ACTIONS)
