"""The photo responder may check a photo before reposting it (Rekognition DetectModerationLabels) and
alert when it withholds one (sns:Publish on the alert topic, with its key): that, and nothing else
new. The rest of its role is checked in test_infra_chalice_app.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stacks.chalice_app import XRAY_ACTIONS, function_logical_id
from stacks.responding import MODERATION_ACTIONS, REPLY_TO_PHOTOS, REPLY_TO_TEXT

from tests.infrastructure.templates import functions, permissions, role_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

#: The photo responder's actions before it checked photos: publish (and offload), read and write
#: photos, the guards' counters and opt-outs, its failure queue, logs and traces.
ACTIONS_BEFORE = {
    "sqs:SendMessage",
    "events:PutEvents",
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListBucket",
    "dynamodb:UpdateItem",
    "dynamodb:GetItem",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    *XRAY_ACTIONS,
}


def _alert_topic_and_key(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    topic = template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]
    (key, _arn) = template["Resources"][topic]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"]
    return {"Ref": topic}, {"Fn::GetAtt": [key, "Arn"]}


def test_the_photo_responder_may_check_photos_and_alert_and_nothing_else_new(synth):
    granted = permissions(synth.template, role_of(synth.template, REPLY_TO_PHOTOS))
    topic, key = _alert_topic_and_key(synth.template)
    new = {action: resources for action, resources in granted.items() if action not in ACTIONS_BEFORE}
    table = [{"Fn::GetAtt": [synth.template["Outputs"]["IdempotencyTableName"]["Value"]["Ref"], "Arn"]}]
    assert new == {
        # No resource-level permission exists for it: '*' is the only resource.
        "rekognition:DetectModerationLabels": ["*"],
        "sns:Publish": [topic],
        "kms:GenerateDataKey": [key],
        "kms:Decrypt": [key],
        # One alert per post (Powertools idempotency records in the idempotency table).
        "dynamodb:PutItem": table,
        "dynamodb:DeleteItem": table,
    }
    assert set(MODERATION_ACTIONS) == {"rekognition:DetectModerationLabels"}
    # Rekognition reads the photo with the caller's rights: the role reads the media bucket's objects.
    media = synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"]
    assert {"Fn::Join": ["", [{"Fn::GetAtt": [media, "Arn"]}, "/*"]]} in granted["s3:GetObject"]
    # SSE-S3: reading a photo needs no key.
    encryption = synth.template["Resources"][media]["Properties"]["BucketEncryption"]
    assert "aws:kms" not in json.dumps(encryption)


def test_the_photo_responder_finds_the_alert_topic_in_its_environment(synth):
    topic, _key = _alert_topic_and_key(synth.template)
    function = functions(synth.template)[function_logical_id(REPLY_TO_PHOTOS)]
    assert function["Properties"]["Environment"]["Variables"]["ALERT_TOPIC_ARN"] == topic


def test_only_the_photo_responder_checks_photos(synth):
    text = permissions(synth.template, role_of(synth.template, REPLY_TO_TEXT))
    assert "rekognition:DetectModerationLabels" not in text
    assert "sns:Publish" not in text
