"""X's rules and the operator's in the template (issue 9, section 3): the media deletion's rule and
least-privilege grants, the media bucket's lifecycle rule over the new key layout, the opt-outs'
grants, and the kill switch (an SSM parameter with a generated name, read by Egress only)."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.contracts import names
from chalicelib.contracts.workflow import DOWNLOAD_MEDIA
from chalicelib.kernel.media_keys import DELETION_MARKS_PREFIX, USERS_PREFIX
from stacks.chalice_app import function_logical_id
from stacks.egress import POST_REPLY_FUNCTION, POSTING_SWITCH_VARIABLE
from stacks.responding import OPT_OUT_KEYS, REPLY_TO_PHOTOS, REPLY_TO_TEXT

from tests.infrastructure.templates import functions, of_type, only, role_of, statements

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

DELETE_MEDIA = "analysis_delete_media"


def _with_action(template: dict[str, Any], action: str) -> list[tuple[str, dict[str, Any]]]:
    """(role, statement) for every statement of every policy that allows `action`."""
    found: list[tuple[str, dict[str, Any]]] = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if action in actions:
                found.extend((role["Ref"], statement) for role in policy["Properties"]["Roles"])
    return found


def test_the_media_deletion_reacts_to_deletions_and_revocations_on_the_custom_bus(synth):
    function = functions(synth.template)[function_logical_id(DELETE_MEDIA)]
    (event,) = function["Properties"]["Events"].values()
    properties = event["Properties"]
    assert properties["Pattern"] == names.MEDIA_DELETION_PATTERN
    assert properties["EventBusName"] == {"Ref": only(synth.template, "AWS::Events::EventBus")}
    assert set(names.MEDIA_DELETION_PATTERN["detail-type"]) == {
        names.TWITTER_DELETED,
        names.TWITTER_PERMISSION_REVOKED,
        "X_OAUTH_REVOKE",
    }


def test_only_the_media_deletion_the_download_and_egress_may_delete_photos_and_only_under_users(synth):
    media = {"Fn::GetAtt": [synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"], "Arn"]}
    role = role_of(synth.template, DELETE_MEDIA)
    deleters = _with_action(synth.template, "s3:DeleteObject")
    # The download step deletes a photo stored while its post was deleted on X (store then check);
    # Egress deletes what was stored for a post deleted on X while it was analysed.
    assert sorted(deleter for deleter, _ in deleters) == sorted(
        [role, role_of(synth.template, DOWNLOAD_MEDIA.function), role_of(synth.template, POST_REPLY_FUNCTION)]
    )
    for _, statement in deleters:
        assert statement["Resource"] == {"Fn::Join": ["", [media, f"/{USERS_PREFIX}*"]]}
    (listing,) = [s for s in statements(synth.template, role) if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == media
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{USERS_PREFIX}*"]}}
    # It reads no photo and writes only the deleted post's mark, under deleted/.
    for statement in statements(synth.template, role):
        if statement["Action"] == "s3:PutObject":
            assert statement["Resource"] == {"Fn::Join": ["", [media, f"/{DELETION_MARKS_PREFIX}*"]]}
        else:
            assert statement["Action"] != "s3:GetObject" or "oversized" in str(statement["Resource"])


def test_the_media_lifecycle_rule_still_covers_every_photo(synth):
    bucket = synth.template["Resources"][synth.template["Outputs"]["MediaBucketName"]["Value"]["Ref"]]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    (expire,) = [rule for rule in rules if rule.get("Id") == "expire-media"]
    # No prefix or filter: the users/<id>/posts/<id>/ layout expires like the old YYYY/MM/DD one.
    assert "Prefix" not in expire and "TagFilters" not in expire and "ObjectSizeGreaterThan" not in expire
    assert expire["Status"] == "Enabled" and expire["ExpirationInDays"] >= 1


def test_the_responders_may_change_opt_outs_only(synth):
    table = {"Fn::GetAtt": [synth.template["Outputs"]["IdempotencyTableName"]["Value"]["Ref"], "Arn"]}
    for function in (REPLY_TO_PHOTOS, REPLY_TO_TEXT):
        role = role_of(synth.template, function)
        (grant,) = [
            s
            for s in statements(synth.template, role)
            if s.get("Condition") == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [OPT_OUT_KEYS]}}
        ]
        assert sorted(grant["Action"]) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        assert grant["Resource"] == table


def test_the_kill_switch_is_an_on_parameter_with_a_generated_name_read_by_egress_only(synth):
    switch = only(synth.template, "AWS::SSM::Parameter")
    properties = synth.template["Resources"][switch]["Properties"]
    assert "Name" not in properties  # generated per stack: two stages never share a switch
    assert (properties["Type"], properties["Value"]) == ("String", "on")
    assert properties["AllowedPattern"] == "^(on|off)$"
    assert synth.template["Outputs"]["PostingSwitchParameterName"]["Value"] == {"Ref": switch}

    egress = role_of(synth.template, POST_REPLY_FUNCTION)
    readers = _with_action(synth.template, "ssm:GetParameter")
    assert [role for role, _ in readers] == [egress]
    assert f'"{switch}"' in str(readers[0][1]["Resource"]).replace("'", '"')
    for logical_id, function in functions(synth.template).items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if logical_id == function_logical_id(POST_REPLY_FUNCTION):
            assert variables[POSTING_SWITCH_VARIABLE] == {"Ref": switch}
        else:
            assert POSTING_SWITCH_VARIABLE not in variables, logical_id
