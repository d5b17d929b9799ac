"""The bus, its archive, the catch-all log with a metric per detail-type, the dashboard, and the
failure queue of the Chalice functions and of their rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from chalicelib.contracts import names
from stacks.chalice_app import function_logical_id
from stacks.config import DEFAULT_ARCHIVE_RETENTION_DAYS, DEFAULT_LOG_RETENTION_DAYS
from stacks.plumbing import METRIC_NAMESPACE
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

from tests.infrastructure.templates import RULE_FUNCTIONS, asynchronously_invoked, handler_failures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _only_bus(template: dict[str, Any]) -> str:
    (bus,) = _of_type(template, "AWS::Events::EventBus")
    return bus


def test_one_custom_bus(synth):
    synth.assertions.resource_count_is("AWS::Events::EventBus", 1)
    outputs = synth.template["Outputs"]
    assert outputs["EventBusName"]["Value"] == {"Ref": _only_bus(synth.template)}


def test_archive_keeps_every_event_of_the_bus(synth):
    bus = _only_bus(synth.template)
    synth.assertions.has_resource_properties(
        "AWS::Events::Archive",
        {
            "SourceArn": {"Fn::GetAtt": [bus, "Arn"]},
            "EventPattern": names.CATCH_ALL_PATTERN,
            "RetentionDays": DEFAULT_ARCHIVE_RETENTION_DAYS,
        },
    )


def test_catch_all_rule_logs_to_a_log_group_with_retention(synth):
    bus = _only_bus(synth.template)
    log_groups = _of_type(synth.template, "AWS::Logs::LogGroup")
    (catch_all,) = [k for k, v in log_groups.items() if "catch-all" in json.dumps(v["Properties"])]
    assert log_groups[catch_all]["Properties"]["RetentionInDays"] == DEFAULT_LOG_RETENTION_DAYS

    rules = [
        rule
        for rule in _of_type(synth.template, "AWS::Events::Rule").values()
        if catch_all in json.dumps(rule["Properties"]["Targets"])
    ]
    assert len(rules) == 1
    assert rules[0]["Properties"]["EventBusName"] == {"Ref": bus}
    assert rules[0]["Properties"]["EventPattern"] == names.CATCH_ALL_PATTERN

    # EventBridge may write to the group only through a resource policy naming it.
    (policy,) = _of_type(synth.template, "AWS::Logs::ResourcePolicy").values()
    document = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "events.amazonaws.com" in document
    assert catch_all in document


def _joined_json(document: Any) -> Any:
    """JSON that CDK wrote as Fn::Join around references, each reference read as "GetAtt:<id>" or "Ref:<id>"."""
    if not (isinstance(document, dict) and "Fn::Join" in document):
        return document
    delimiter, parts = document["Fn::Join"]

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if "Fn::GetAtt" in part:
            return f"GetAtt:{part['Fn::GetAtt'][0]}"
        return f"Ref:{part['Ref']}"

    return json.loads(delimiter.join(text(part) for part in parts))


def test_catch_all_log_policy_conditions_only_put_log_events_on_the_rule(synth):
    """EventBridge creates the log stream without the rule as its source: a SourceArn condition on
    CreateLogStream would deny it (AWS's serverless-patterns fixed the same policy in its PR #618)."""
    (catch_all,) = [
        k for k, v in _of_type(synth.template, "AWS::Logs::LogGroup").items() if "catch-all" in json.dumps(v)
    ]
    (rule,) = [
        k
        for k, v in _of_type(synth.template, "AWS::Events::Rule").items()
        if catch_all in json.dumps(v["Properties"]["Targets"])
    ]
    (policy,) = _of_type(synth.template, "AWS::Logs::ResourcePolicy").values()
    statements = _joined_json(policy["Properties"]["PolicyDocument"])["Statement"]
    by_action = {
        action: statement
        for statement in statements
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert len(statements) == 2
    for action, statement in by_action.items():
        assert statement["Effect"] == "Allow", action
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}, action
        assert statement["Resource"] == f"GetAtt:{catch_all}", action
    assert "Condition" not in by_action["logs:CreateLogStream"]
    assert by_action["logs:PutLogEvents"]["Condition"] == {"ArnEquals": {"aws:SourceArn": f"GetAtt:{rule}"}}


def test_every_log_group_has_a_retention(synth):
    for logical_id, group in _of_type(synth.template, "AWS::Logs::LogGroup").items():
        assert group["Properties"].get("RetentionInDays") == DEFAULT_LOG_RETENTION_DAYS, logical_id


def test_a_metric_filter_per_detail_type(synth):
    filters = _of_type(synth.template, "AWS::Logs::MetricFilter").values()
    metrics = {
        transformation["MetricName"]: (f["Properties"]["FilterPattern"], transformation)
        for f in filters
        for transformation in f["Properties"]["MetricTransformations"]
    }
    assert set(metrics) == set(names.ALL_DETAIL_TYPES)
    for detail_type, (pattern, transformation) in metrics.items():
        assert transformation["MetricNamespace"] == METRIC_NAMESPACE
        assert transformation["MetricValue"] == "1"
        assert pattern == f'{{ $.detail-type = "{detail_type}" }}'


def test_dashboard_graphs_every_detail_type(synth):
    (dashboard,) = _of_type(synth.template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(synth.stack.resolve(dashboard["Properties"]["DashboardBody"]))
    for detail_type in names.ALL_DETAIL_TYPES:
        assert f'\\"{METRIC_NAMESPACE}\\",\\"{detail_type}\\"' in body, detail_type


def test_outputs_name_the_dashboard(synth):
    synth.assertions.has_output("DashboardName", {"Value": {"Ref": Match.any_value()}})


def _only_dead_letter_queue(template: dict[str, Any]) -> str:
    """The rule targets' dead-letter queue (the Chalice functions' HandlerFailures queue is the other one)."""
    (queue,) = [k for k in _of_type(template, "AWS::SQS::Queue") if k.startswith("PlumbingTargetDeadLetters")]
    return queue


def test_dead_letter_queue_is_encrypted_and_keeps_messages_14_days(synth):
    queue = _of_type(synth.template, "AWS::SQS::Queue")[_only_dead_letter_queue(synth.template)]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dead_letter_queue_policy_refuses_plain_http_and_admits_each_rule(synth):
    queue = _only_dead_letter_queue(synth.template)
    rules = [
        logical_id
        for logical_id, rule in _of_type(synth.template, "AWS::Events::Rule").items()
        if rule["Properties"]["EventPattern"] == names.CATCH_ALL_PATTERN
    ]
    assert len(rules) == 2  # the catch-all log and the data lake
    # ... and the analysis workflow's rule.
    rules += [
        logical_id
        for logical_id, rule in _of_type(synth.template, "AWS::Events::Rule").items()
        if rule["Properties"]["EventPattern"] == names.MESSAGE_RECEIVED_PATTERN
    ]
    # ... and the rule that feeds Egress's queue.
    rules += [
        logical_id
        for logical_id, rule in _of_type(synth.template, "AWS::Events::Rule").items()
        if rule["Properties"]["EventPattern"] == names.EGRESS_QUEUE_PATTERN
    ]
    assert len(rules) == 4
    (policy,) = [
        p
        for p in _of_type(synth.template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    senders = {
        s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0]
        for s in statements
        if s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Action"] == "sqs:SendMessage"
        and s["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
    }
    assert senders == set(rules)


def test_catch_all_log_target_has_dead_letter_queue_and_retry_policy(synth):
    queue = _only_dead_letter_queue(synth.template)
    (catch_all,) = [
        k for k, v in _of_type(synth.template, "AWS::Logs::LogGroup").items() if "catch-all" in json.dumps(v)
    ]
    (target,) = [
        target
        for rule in _of_type(synth.template, "AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
        if catch_all in json.dumps(target["Arn"])
    ]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
    }


def test_alarm_on_any_dead_lettered_event(synth):
    queue = _only_dead_letter_queue(synth.template)
    synth.assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
        },
    )


# The Chalice functions' failure queue (plumbing.attach_to) ---------------------------------------


def test_handler_failures_queue_is_encrypted_tls_only_and_keeps_14_days(synth):
    queue = handler_failures(synth.template)
    properties = synth.template["Resources"][queue]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p["Properties"]
        for p in _of_type(synth.template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    # Only rules on the bot's bus, in this account.
    source = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert json.dumps([":rule/", {"Ref": _only_bus(synth.template)}, "/*"])[1:-1] in source
    assert '{"Ref": "AWS::AccountId"}' in source


def test_every_asynchronously_invoked_function_sends_failures_to_the_queue(synth):
    queue = {"Fn::GetAtt": [handler_failures(synth.template), "Arn"]}
    functions = asynchronously_invoked(synth.template)
    assert {function_logical_id(n) for n in RULE_FUNCTIONS} | {function_logical_id("alerting_forward_alert")} == set(
        functions
    )
    for logical_id, function in functions.items():
        config = function["Properties"]["EventInvokeConfig"]
        assert config["MaximumRetryAttempts"] == 2, logical_id
        assert config["DestinationConfig"] == {"OnFailure": {"Type": "SQS", "Destination": queue}}, logical_id
    # After the transform: one Lambda EventInvokeConfig per function, on $LATEST (what the rules invoke).
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in _of_type(synth.expanded, "AWS::Lambda::EventInvokeConfig").values()
    }
    assert set(configs) == set(functions)
    for logical_id, config in configs.items():
        assert config["Qualifier"] == "$LATEST", logical_id
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue}}, logical_id


def test_every_chalice_rule_dead_letters_undeliverable_events(synth):
    queue = {"Fn::GetAtt": [handler_failures(synth.template), "Arn"]}
    functions = set(_of_type(synth.template, "AWS::Serverless::Function"))
    checked = 0
    for rule_id, rule in _of_type(synth.expanded, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if not (isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in functions):
                continue
            assert target["DeadLetterConfig"] == {"Arn": queue}, rule_id
            assert target["RetryPolicy"] == {
                "MaximumRetryAttempts": RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
            }, rule_id
            checked += 1
    assert checked == len(RULE_FUNCTIONS)


def test_alarm_on_any_handler_failure(synth):
    queue = handler_failures(synth.template)
    synth.assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
        },
    )
