"""tests/infrastructure/physical_names.py on small templates: what counts as a physical name."""

from __future__ import annotations

from typing import Any

from tests.infrastructure.physical_names import physical_names, unscanned_identifiers


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


def test_a_singleton_is_a_name_of_its_own():
    # The region's API Gateway account setting has no name: two stages that both set it collide.
    template = _template(
        Account={"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["R", "Arn"]}}},
    )
    assert physical_names(template) == {"singleton AWS::ApiGateway::Account": "Account"}


def test_an_identifying_property_the_scan_does_not_read_is_reported():
    # A Cognito domain is identified by Domain, which does not end in "Name": the scan would miss it.
    template = _template(
        Domain={"Type": "AWS::Cognito::UserPoolDomain", "Properties": {"Domain": "xbot", "UserPoolId": "pool"}},
        Bucket={"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "xbot-lake"}},
        Policy={"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {}}},
    )
    assert unscanned_identifiers(template, region="us-east-1") == {
        "AWS::Cognito::UserPoolDomain": ["UserPoolId", "Domain"]
    }
    assert unscanned_identifiers(_template(Made={"Type": "AWS::Made::Up"}), region="us-east-1") == {
        "AWS::Made::Up": ["(no resource schema: look at its names by hand)"]
    }


def test_a_sub_with_its_own_literal_variables_is_a_physical_name():
    template = _template(
        Fixed={
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": {"Fn::Sub": ["/${App}/kill-switch-${AWS::Region}", {"App": "xbot"}]}},
        },
        Generated={
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": ["${Stack}-queue", {"Stack": {"Ref": "AWS::StackName"}}]}},
        },
    )
    assert set(physical_names(template)) == {"AWS::SSM::Parameter /xbot/kill-switch-${AWS::Region}"}
