"""What `cdk destroy` keeps on purpose, and how to delete it by hand.

Everything else in the stack is deleted with it: log groups, queues, tables, the event bus and its
archive (an archive replays only into its own bus, which goes too; the data lake keeps every
event), the Athena workgroup with its query history (RecursiveDeleteOption), the Glue database and
table (metadata only: the events are in the data lake bucket), the Lex bot, the keys (scheduled for
deletion). tests/infrastructure/test_infra_stages.py checks that the template retains exactly
these resources and that nothing else would stop the deletion. The README's "Tear-down" section
gives the same list with the commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk


@dataclass(frozen=True)
class Kept:
    #: Why CloudFormation leaves it in place.
    why: str
    #: How to delete it by hand, once nothing needs it (the README has the exact commands).
    purge: str


#: By construct path in the stack; a bucket keeps its bucket policy (stacks/buckets.py).
KEPT: Mapping[str, Kept] = {
    "Analytics/DataLake": Kept(
        why="Every event the bot saw (the data lake): the one durable copy, never expired.",
        purge="aws s3 rb s3://<bucket> --force",
    ),
    "Analytics/AccessLogs": Kept(
        why=(
            "The S3 access logs of the other buckets, which keep logging into it while they are kept; "
            "deleting it would free its name for anyone to claim. Expires after logRetentionDays."
        ),
        purge="aws s3 rb s3://<bucket> --force (after the buckets that log into it)",
    ),
    "Analytics/AthenaResults": Kept(
        why="Athena's query results: not empty once queried, so CloudFormation could not delete it; expires in 30 days",
        purge="aws s3 rb s3://<bucket> --force",
    ),
    "Media": Kept(
        why="Photos being analysed and answered: not empty while the bot runs. Expires after mediaRetentionDays.",
        purge="aws s3 rb s3://<bucket> --force",
    ),
    "App/ApiGatewayCloudWatchRole": Kept(
        why="The role the region's API Gateway account setting names; other stages' APIs log through it.",
        purge="aws iam detach-role-policy + aws iam delete-role, once no API in the region logs through it",
    ),
    "App/ApiGatewayAccount": Kept(
        why="The region's API Gateway account setting (one per region): never reset by CloudFormation.",
        purge="nothing to delete; `aws apigateway update-account` points it at another role",
    ),
}


def kept_resources(stack: cdk.Stack) -> dict[str, str]:
    """The logical id of every CloudFormation resource a KEPT construct is made of -> its KEPT path."""
    found: dict[str, str] = {}
    for construct in stack.node.find_all():
        if not isinstance(construct, cdk.CfnResource) or cdk.Stack.of(construct) is not stack:
            continue
        path = construct.node.path.removeprefix(f"{stack.node.path}/")
        for kept in KEPT:
            if path == kept or path.startswith(f"{kept}/"):
                found[stack.resolve(construct.logical_id)] = kept
    return found
