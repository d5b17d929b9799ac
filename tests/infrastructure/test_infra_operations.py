"""The operations topic (stacks/operations.py): every alarm of the stack notifies it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.templates import of_type

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _operations_topic(template: dict[str, Any]) -> str:
    topic: str = template["Outputs"]["OperationsTopicArn"]["Value"]["Ref"]
    assert topic in of_type(template, "AWS::SNS::Topic")
    assert topic != template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]
    return topic


@pytest.mark.parametrize("expanded", [False, True], ids=["synthesized", "after-sam-transform"])
def test_every_alarm_notifies_the_operations_topic(synth, expanded):
    """An alarm added later without the topic fails here: nobody would hear it."""
    template = synth.expanded if expanded else synth.template
    topic = {"Ref": _operations_topic(synth.template)}
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 4  # the two dead-letter queues, the analysis workflow's failures and time-outs
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"].get("ActionsEnabled", True) is True, logical_id
        assert topic in alarm["Properties"].get("AlarmActions", []), logical_id
        # ... and again when it recovers.
        assert topic in alarm["Properties"].get("OKActions", []), logical_id
    assert of_type(template, "AWS::CloudWatch::CompositeAlarm") == {}


def test_topic_is_encrypted_with_a_rotated_key_that_cloudwatch_may_use(synth):
    topic = of_type(synth.template, "AWS::SNS::Topic")[_operations_topic(synth.template)]
    # No fixed name: CloudFormation's generated one differs per stack, so two stages never clash.
    assert "TopicName" not in topic["Properties"]
    (key_id, _arn) = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"]
    alert_topic = synth.template["Resources"][synth.template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]]
    assert alert_topic["Properties"]["KmsMasterKeyId"] != topic["Properties"]["KmsMasterKeyId"]
    key = of_type(synth.template, "AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    (cloudwatch,) = [
        s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch["Effect"] == "Allow"
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_topic_refuses_plain_http_and_admits_only_this_accounts_alarms(synth):
    topic = _operations_topic(synth.template)
    (policy,) = [
        p["Properties"]
        for p in of_type(synth.template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic} in p["Properties"]["Topics"]
    ]
    assert policy["Topics"] == [{"Ref": topic}]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert source[0].startswith("arn:aws:cloudwatch:") and source[-1] == ":alarm:*"


def test_outputs_name_the_operations_topic(synth):
    output = synth.template["Outputs"]["OperationsTopicArn"]
    assert output["Value"] == {"Ref": _operations_topic(synth.template)}
    assert "ubscribe" in output["Description"]
    # Nothing subscribes to it in the template: a person does (README, "Operating it").
    subscriptions = of_type(synth.expanded, "AWS::SNS::Subscription").values()
    assert [s for s in subscriptions if s["Properties"]["TopicArn"] == output["Value"]] == []
