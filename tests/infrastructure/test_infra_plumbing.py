"""The bus, its archive, the catch-all log with a metric per detail-type, and the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from chalicelib.contracts import names
from stacks.config import DEFAULT_ARCHIVE_RETENTION_DAYS, DEFAULT_LOG_RETENTION_DAYS
from stacks.plumbing import METRIC_NAMESPACE

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
