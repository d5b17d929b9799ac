"""The alert topic: encrypted with a rotated customer-managed key, TLS only, subscribed by the forwarder."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _alert_topic(template: dict[str, Any]) -> str:
    """The alert topic (the operations topic is the other one)."""
    topic: str = template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]
    assert topic in _of_type(template, "AWS::SNS::Topic")
    return topic


def test_topic_is_encrypted_with_a_rotated_customer_managed_key(synth):
    topic = _of_type(synth.template, "AWS::SNS::Topic")[_alert_topic(synth.template)]
    (key_id, _arn) = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"]
    key = _of_type(synth.template, "AWS::KMS::Key")[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True


def test_topic_refuses_plain_http(synth):
    topic = _alert_topic(synth.template)
    (policy,) = [
        p
        for p in _of_type(synth.template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic} in p["Properties"]["Topics"]
    ]
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_after_the_transform_the_forwarder_is_subscribed_to_the_cdk_topic(synth):
    topic = _alert_topic(synth.template)
    subscriptions = [s["Properties"] for s in _of_type(synth.expanded, "AWS::SNS::Subscription").values()]
    assert [(s["Protocol"], s["Endpoint"], s["TopicArn"]) for s in subscriptions] == [
        ("lambda", {"Fn::GetAtt": ["AlertingForwardAlert", "Arn"]}, {"Ref": topic})
    ]
