"""Acknowledging cdk-nag findings (cdk-nag 3.x reads CDK's own `Validations.of(...).acknowledge`).

Every acknowledgment sits next to the resource it is about and says why the finding does not
apply; `tests/infrastructure` fails on any finding that is not acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: cdk-nag's rule id -> the reason it does not apply to a resource.
Acknowledgments = Mapping[str, str]


def acknowledge(scope: IConstruct, acknowledgments: Acknowledgments) -> None:
    """Acknowledge findings on `scope` and everything below it in the construct tree."""
    rules = [cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id, reason in acknowledgments.items()]
    if rules:
        cdk.Validations.of(scope).acknowledge(*rules)


def acknowledge_grants(role: iam.Role, acknowledgments: Acknowledgments) -> None:
    """Acknowledge findings on the policy that holds `role`'s grants (its default policy).

    Closer to the finding than the role: for the same rule, a reason given here wins over one given
    on the role (the Chalice app's roles acknowledge X-Ray's '*' on the role; a service that grants
    more actions on '*' explains them all here).
    """
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        raise ValueError(f"{role.node.path} has no grants to acknowledge")
    acknowledge(policy, acknowledgments)


def logical_id(construct: IConstruct) -> str:
    """The logical id cdk-nag prints for a construct's resource in a finding (as in <LogicalId.Arn>)."""
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return cdk.Stack.of(resource).resolve(cdk.Stack.of(resource).get_logical_id(resource))  # type: ignore[no-any-return]
