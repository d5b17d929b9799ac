"""Reading the synthesized template: resources by type, the Chalice functions, a role's permissions."""

from __future__ import annotations

from typing import Any

from chalicelib.contracts import names
from stacks.chalice_app import EVENTBRIDGE_EVENT_TYPES, SNS_EVENT_TYPE, function_logical_id

Template = dict[str, Any]

#: Chalice functions (as registered) that must have an EventBridge rule on the custom bus, with its pattern.
RULE_FUNCTIONS = {
    "plumbing_access_revoked": names.ACCESS_REVOKED_PATTERN,
    "alerting_alert_negative": names.NEGATIVE_MESSAGE_PATTERN,
    "responding_reply_to_photos": names.ANALYSED_WITH_IMAGES_PATTERN,
    "responding_reply_to_text": names.ANALYSED_TEXT_ONLY_PATTERN,
    "analysis_delete_media": names.MEDIA_DELETION_PATTERN,
}


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only(template: Template, resource_type: str) -> str:
    """The logical id of the template's one resource of this type."""
    (logical_id,) = of_type(template, resource_type)
    return logical_id


def functions(template: Template) -> dict[str, dict[str, Any]]:
    """The Chalice app's functions (SAM), by logical id."""
    found = of_type(template, "AWS::Serverless::Function")
    assert found, "the Chalice app has no functions"
    return found


def asynchronously_invoked(template: Template) -> dict[str, dict[str, Any]]:
    """The functions an EventBridge rule or an SNS subscription invokes."""
    return {
        k: f
        for k, f in functions(template).items()
        if any(
            e["Type"] in EVENTBRIDGE_EVENT_TYPES | {SNS_EVENT_TYPE} for e in f["Properties"].get("Events", {}).values()
        )
    }


def role_of(template: Template, name: str) -> str:
    """The logical id of the role of the function Chalice registered as `name`."""
    role: str = functions(template)[function_logical_id(name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


def statements(template: Template, role: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to the role (by logical id)."""
    return [
        statement
        for policy in of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def permissions(template: Template, role: str) -> dict[str, list[Any]]:
    """Every action the role is allowed, with the resources it is allowed on."""
    assert not of_type(template, "AWS::IAM::Role")[role]["Properties"].get("ManagedPolicyArns")
    assert not of_type(template, "AWS::IAM::Role")[role]["Properties"].get("Policies")
    by_action: dict[str, list[Any]] = {}
    for statement in statements(template, role):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(resources)
    return by_action


def egress_queue(template: Template) -> str:
    """Egress's queue (stacks.egress.ReplyQueue, made in the stack as "EgressQueue")."""
    (queue,) = [k for k in of_type(template, "AWS::SQS::Queue") if k.startswith("EgressQueueReplies")]
    return queue


def handler_failures(template: Template) -> str:
    """The Chalice functions' failure queue (plumbing.attach_to makes it in the app's construct)."""
    (queue,) = [k for k in of_type(template, "AWS::SQS::Queue") if k.startswith("AppHandlerFailures")]
    return queue
