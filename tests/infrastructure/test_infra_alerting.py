"""The alert topic: encrypted with a rotated customer-managed key, TLS only, subscribed by the forwarder."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def test_topic_is_encrypted_with_a_rotated_customer_managed_key(synth):
    ((topic_id, topic),) = _of_type(synth.template, "AWS::SNS::Topic").items()
    ((key_id, key),) = _of_type(synth.template, "AWS::KMS::Key").items()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert synth.template["Outputs"]["AlertTopicArn"]["Value"] == {"Ref": topic_id}


def test_topic_refuses_plain_http(synth):
    (topic,) = _of_type(synth.template, "AWS::SNS::Topic")
    (policy,) = _of_type(synth.template, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_after_the_transform_the_forwarder_is_subscribed_to_the_cdk_topic(synth):
    (topic,) = _of_type(synth.template, "AWS::SNS::Topic")
    subscriptions = [s["Properties"] for s in _of_type(synth.expanded, "AWS::SNS::Subscription").values()]
    assert [(s["Protocol"], s["Endpoint"], s["TopicArn"]) for s in subscriptions] == [
        ("lambda", {"Fn::GetAtt": ["AlertingForwardAlert", "Arn"]}, {"Ref": topic})
    ]
