"""The Chalice app as deployed: its rules on the custom bus, its role, logging and the webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from chalicelib.contracts import names
from stacks.chalice_app import ANALYSIS_ACTIONS, EVENTBRIDGE_EVENT_TYPES, SNS_EVENT_TYPE, WEBHOOK_PATH

from tests.infrastructure.synthesis import TEST_CONTEXT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _bus(template: dict[str, Any]) -> str:
    (bus,) = _of_type(template, "AWS::Events::EventBus")
    return bus


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    functions = _of_type(template, "AWS::Serverless::Function")
    assert functions, "the Chalice app has no functions"
    return functions


def _topic(template: dict[str, Any]) -> str:
    (topic,) = _of_type(template, "AWS::SNS::Topic")
    return topic


def test_every_chalice_event_rule_is_on_the_custom_bus(synth):
    bus = _bus(synth.template)
    rules = [
        event
        for function in _functions(synth.template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] in EVENTBRIDGE_EVENT_TYPES
    ]
    patterns = [event["Properties"]["Pattern"] for event in rules]
    # plumbing.access_revoked and alerting.alert_negative, at least.
    assert names.ACCESS_REVOKED_PATTERN in patterns
    assert names.NEGATIVE_MESSAGE_PATTERN in patterns
    for event in rules:
        assert event["Properties"]["EventBusName"] == {"Ref": bus}


def test_every_chalice_sns_subscription_is_on_the_cdk_topic(synth):
    subscriptions = [
        event
        for function in _functions(synth.template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == SNS_EVENT_TYPE
    ]
    assert subscriptions, "expected the @on_sns_message handler alerting.forward_alert"
    for event in subscriptions:
        assert event["Properties"]["Topic"] == {"Ref": _topic(synth.template)}


def test_after_the_transform_every_rule_may_invoke_its_function(synth):
    functions = set(_of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in _of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    checked = 0
    for rule_id, rule in _of_type(synth.expanded, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if not (isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in functions):
                continue
            function = arn["Fn::GetAtt"][0]
            assert rule["Properties"]["EventBusName"] == {"Ref": _bus(synth.template)}, rule_id
            matching = [
                p
                for p in permissions
                if p["Action"] == "lambda:InvokeFunction"
                and p["Principal"] == "events.amazonaws.com"
                and p["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
                and p["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
            ]
            assert matching, f"{rule_id} -> {function} has no Lambda::Permission for events.amazonaws.com"
            checked += 1
    assert checked, "no EventBridge rule targets a Chalice function"


def test_after_the_transform_every_subscription_may_invoke_its_function(synth):
    functions = set(_of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in _of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    topic = {"Ref": _topic(synth.template)}
    checked = 0
    for subscription_id, subscription in _of_type(synth.expanded, "AWS::SNS::Subscription").items():
        properties = subscription["Properties"]
        if properties["Protocol"] != "lambda":
            continue
        endpoint = properties["Endpoint"]
        function = endpoint.get("Fn::GetAtt", [None])[0] if isinstance(endpoint, dict) else None
        assert function in functions, subscription_id
        # The topic CDK made (encrypted, TLS only), not one named like it that nobody created.
        assert properties["TopicArn"] == topic, subscription_id
        assert any(
            p["Action"] == "lambda:InvokeFunction"
            and p["Principal"] == "sns.amazonaws.com"
            and p["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
            and p["SourceArn"] == properties["TopicArn"]
            for p in permissions
        ), f"{subscription_id} -> {function} has no Lambda::Permission for sns.amazonaws.com"
        checked += 1
    assert checked, "no SNS subscription targets a Chalice function (alerting.forward_alert)"


def test_environment_of_every_function(synth):
    buckets = synth.template["Outputs"]["DataLakeBucketName"]["Value"]
    for logical_id, function in _functions(synth.template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["EVENT_BUS_NAME"] == {"Ref": _bus(synth.template)}, logical_id
        assert variables["TWITTER_SECRET_NAME"] == "TwitterSecret", logical_id
        assert variables["BOT_USER_ID"] == "1234567890123456789", logical_id
        assert variables["OVERSIZE_BUCKET"] == buckets, logical_id
        assert variables["BOT_RUNTIME"] == "aws", logical_id
        assert variables["MEDIA_BUCKET"] == synth.template["Outputs"]["MediaBucketName"]["Value"], logical_id
        assert variables["ALERT_TOPIC_ARN"] == {"Ref": _topic(synth.template)}, logical_id
        assert variables["IMAGE_FEATURES"] == "labels,celebrities,text", logical_id
        assert variables["TEXT_KEY_PHRASES"] == "false", logical_id
        assert variables["CHAT_WEBHOOK_SECRET_NAME"] == TEST_CONTEXT["chatWebhookSecretName"], logical_id


def test_analysis_functions_get_more_memory_and_time_than_the_webhook(synth):
    functions = _functions(synth.template)
    for logical_id in ("AnalysisDownloadMedia", "AnalysisAnalyseImage", "AnalysisAnalyseText"):
        assert functions[logical_id]["Properties"]["MemorySize"] == 512, logical_id
        assert functions[logical_id]["Properties"]["Timeout"] == 60, logical_id
    # The webhook must answer X fast and cheaply; it keeps the app's defaults.
    assert functions["APIHandler"]["Properties"]["MemorySize"] == 256
    assert functions["APIHandler"]["Properties"]["Timeout"] == 30


def test_functions_run_python311_on_x86_64_with_the_cdk_role(synth):
    roles = _of_type(synth.template, "AWS::IAM::Role")
    for logical_id, function in _functions(synth.template).items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.11", logical_id
        assert properties["Architectures"] == ["x86_64"], logical_id
        (role, attribute) = properties["Role"]["Fn::GetAtt"]
        assert role in roles and attribute == "Arn", logical_id


def test_each_function_logs_to_its_own_group(synth):
    groups = _of_type(synth.template, "AWS::Logs::LogGroup")
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in _functions(synth.template).values()]
    assert len(set(used)) == len(used)
    assert set(used) <= set(groups)


def _role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (role,) = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in _functions(template).values()}
    policies = [
        p["Properties"]
        for p in _of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert not _of_type(template, "AWS::IAM::Role")[role]["Properties"].get("ManagedPolicyArns")
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def test_role_is_least_privilege(synth):
    statements = _role_statements(synth.template)
    by_action: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(resources)
    assert set(by_action) == {
        "events:PutEvents",
        "secretsmanager:GetSecretValue",
        "s3:PutObject",
        "s3:GetObject",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        *ANALYSIS_ACTIONS,
    }
    assert by_action["events:PutEvents"] == [{"Fn::GetAtt": [_bus(synth.template), "Arn"]}]
    (twitter, chat) = sorted(json.dumps(secret) for secret in by_action["secretsmanager:GetSecretValue"])
    assert ":secret:TwitterSecret-??????" in twitter
    assert f":secret:{TEST_CONTEXT['chatWebhookSecretName']}-??????" in chat
    bucket = synth.template["Outputs"]["DataLakeBucketName"]["Value"]["Ref"]
    media = synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"]
    media_objects = {"Fn::Join": ["", [{"Fn::GetAtt": [media, "Arn"]}, "/*"]]}
    assert sorted(by_action["s3:PutObject"], key=json.dumps) == sorted(
        [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/oversized/*"]]}, media_objects], key=json.dumps
    )
    assert by_action["s3:GetObject"] == [media_objects]
    # Rekognition and Comprehend have no resource-level permissions; nothing else may use "*".
    for action in ANALYSIS_ACTIONS:
        assert by_action[action] == ["*"], action
    assert by_action["sns:Publish"] == [{"Ref": _topic(synth.template)}]
    (key,) = _of_type(synth.template, "AWS::KMS::Key")
    assert by_action["kms:GenerateDataKey"] == by_action["kms:Decrypt"] == [{"Fn::GetAtt": [key, "Arn"]}]
    wildcard_actions = {a for a, resources in by_action.items() if "*" in resources}
    assert wildcard_actions == set(ANALYSIS_ACTIONS)
    log_resources = json.dumps(by_action["logs:PutLogEvents"])
    assert "*" not in log_resources.replace('"Arn"', "")


def test_rest_api_logs_and_throttles(synth):
    (api,) = _of_type(synth.template, "AWS::Serverless::Api").values()
    assert "DestinationArn" in api["Properties"]["AccessLogSetting"]
    (settings,) = api["Properties"]["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    # API Gateway refuses log settings until the account names its CloudWatch role.
    (account,) = _of_type(synth.template, "AWS::ApiGateway::Account")
    assert account in api["DependsOn"]
    (stage,) = _of_type(synth.expanded, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["MethodSettings"] == [settings]


def test_outputs(synth):
    outputs = synth.template["Outputs"]
    webhook = json.dumps(outputs["WebhookUrl"]["Value"])
    assert "execute-api" in webhook
    assert webhook.endswith(f'"{WEBHOOK_PATH}"]]}}')
    synth.assertions.has_output("AthenaWorkGroup", {"Value": {"Ref": Match.any_value()}})
    synth.assertions.has_output("DataLakeBucketName", {"Value": {"Ref": Match.any_value()}})
