"""tests/infrastructure/physical_names.py on small templates: what counts as a physical name."""

from __future__ import annotations

from typing import Any

from tests.infrastructure.physical_names import physical_names


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def test_literal_names_and_joins_of_pseudo_parameters_are_physical_names():
    template = _template(
        Parameter={"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/xbot/kill-switch", "Type": "String"}},
        Queue={
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Join": ["-", ["xbot", {"Ref": "AWS::AccountId"}]]}},
        },
        Group={"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/xbot/${AWS::Region}"}}},
    )
    assert set(physical_names(template)) == {
        "AWS::SSM::Parameter /xbot/kill-switch",
        "AWS::SQS::Queue xbot-${AWS::AccountId}",
        "AWS::Logs::LogGroup /xbot/${AWS::Region}",
    }


def test_names_made_from_another_resource_or_the_stack_name_are_not_compared():
    template = _template(
        Bus={"Type": "AWS::Events::EventBus", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-bus"}}},
        Rule={"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Ref": "Bus"}}},
        Group={
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", {"Ref": "Function"}]]}},
        },
    )
    assert physical_names(template) == {}


def test_scoped_names_are_compared_with_their_scope():
    template = _template(
        Table={
            "Type": "AWS::Glue::Table",
            "Properties": {
                "DatabaseName": "xbot_datalake_a",
                "TableInput": {"Name": "analysed-messages-table", "StorageDescriptor": {"Columns": [{"Name": "id"}]}},
            },
        },
        Count={
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": "Group"},
                "MetricTransformations": [{"MetricNamespace": "XBot-a", "MetricName": "MESSAGE_RECEIVED"}],
            },
        },
    )
    assert set(physical_names(template)) == {
        "AWS::Glue::Table xbot_datalake_a.analysed-messages-table",
        "metric XBot-a/MESSAGE_RECEIVED",
    }
