"""The Chalice app as deployed: its rules on the custom bus, its role, logging and the webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from stacks.chalice_app import EVENTBRIDGE_EVENT_TYPES, WEBHOOK_PATH

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


def test_every_chalice_event_rule_is_on_the_custom_bus(synth):
    bus = _bus(synth.template)
    rules = [
        event
        for function in _functions(synth.template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] in EVENTBRIDGE_EVENT_TYPES
    ]
    assert rules, "expected at least one @app.on_cw_event handler (plumbing.access_revoked)"
    for event in rules:
        assert event["Properties"]["EventBusName"] == {"Ref": bus}


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

    # SNS subscriptions of functions (none yet; alerting will add some) need the same.
    for subscription_id, subscription in _of_type(synth.expanded, "AWS::SNS::Subscription").items():
        properties = subscription["Properties"]
        if properties["Protocol"] != "lambda":
            continue
        endpoint = properties["Endpoint"]
        function = endpoint.get("Fn::GetAtt", [None])[0] if isinstance(endpoint, dict) else None
        assert any(
            p["Principal"] == "sns.amazonaws.com"
            and p["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
            and p["SourceArn"] == properties["TopicArn"]
            for p in permissions
        ), f"{subscription_id} -> {function} has no Lambda::Permission for sns.amazonaws.com"


def test_environment_of_every_function(synth):
    buckets = synth.template["Outputs"]["DataLakeBucketName"]["Value"]
    for logical_id, function in _functions(synth.template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["EVENT_BUS_NAME"] == {"Ref": _bus(synth.template)}, logical_id
        assert variables["TWITTER_SECRET_NAME"] == "TwitterSecret", logical_id
        assert variables["BOT_USER_ID"] == "1234567890123456789", logical_id
        assert variables["OVERSIZE_BUCKET"] == buckets, logical_id
        assert variables["BOT_RUNTIME"] == "aws", logical_id


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
        for action in actions:
            by_action.setdefault(action, []).append(statement["Resource"])
    assert set(by_action) == {
        "events:PutEvents",
        "secretsmanager:GetSecretValue",
        "s3:PutObject",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert by_action["events:PutEvents"] == [{"Fn::GetAtt": [_bus(synth.template), "Arn"]}]
    (secret,) = by_action["secretsmanager:GetSecretValue"]
    assert ":secret:TwitterSecret-??????" in json.dumps(secret)
    (oversized,) = by_action["s3:PutObject"]
    bucket = synth.template["Outputs"]["DataLakeBucketName"]["Value"]["Ref"]
    assert oversized == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/oversized/*"]]}
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
