"""Acknowledging cdk-nag findings (cdk-nag 3.x reads CDK's own `Validations.of(...).acknowledge`).

Every acknowledgment sits next to the resource it is about and says why the finding does not
apply; `tests/infrastructure` fails on any finding that is not acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from constructs import IConstruct

#: cdk-nag's rule id -> the reason it does not apply to a resource.
Acknowledgments = Mapping[str, str]


def acknowledge(scope: IConstruct, acknowledgments: Acknowledgments) -> None:
    """Acknowledge findings on `scope` and everything below it in the construct tree."""
    rules = [cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id, reason in acknowledgments.items()]
    if rules:
        cdk.Validations.of(scope).acknowledge(*rules)


def logical_id(construct: IConstruct) -> str:
    """The logical id cdk-nag prints for a construct's resource in a finding (as in <LogicalId.Arn>)."""
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return cdk.Stack.of(resource).resolve(cdk.Stack.of(resource).get_logical_id(resource))  # type: ignore[no-any-return]
