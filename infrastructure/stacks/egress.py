"""Egress (chalicelib/egress): posts the replies on X, idempotently.

Its idempotency store (`idempotency_table`): a post is answered at most once, however many
SEND_TWEET events ask for it. The Chalice function `egress_post_reply` keys a record on the post
replied to with Powertools' idempotency utility (DynamoDBPersistenceLayer). The table's key and
TTL attribute are that layer's defaults (aws_lambda_powertools/utilities/idempotency/persistence/
dynamodb.py: key_attr="id", expiry_attr="expiration"); a different name on either side would
silently disable the guarantee.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.chalice_app import ChaliceApp, FunctionRole
from stacks.grants import EventPublishing, grant_idempotency, grant_media, grant_secret_value

EGRESS = "Egress"
ROLES = {
    EGRESS: FunctionRole(
        functions=("egress_post_reply",),
        description="The X bot's egress: post replies on X, idempotently.",
    ),
}
#: Replies go to X (chalicelib.settings reads BOT_EGRESS; the AWS adapters refuse "outbox", the local
#: runtime's dry run), said explicitly so the deployed configuration reads as what it does.
BOT_EGRESS = "x"

#: Powertools' DynamoDBPersistenceLayer defaults.
PARTITION_KEY = "id"
TTL_ATTRIBUTE = "expiration"
#: What the functions do with the records (get, conditional put, update on completion, delete on failure).


def idempotency_table(scope: Construct, construct_id: str) -> dynamodb.Table:
    """On-demand (a few replies an hour, in bursts), encrypted, with point-in-time recovery; records expire by TTL.

    DESTROY: the records only guard against a redelivered event within their expiry (hours); a
    retained table would outlive the stack and block a new one with nothing worth keeping.
    """
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=TTL_ATTRIBUTE,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def attach_to(
    app: ChaliceApp,
    *,
    publishing: EventPublishing,
    twitter_secret: str,
    media: s3.IBucket,
    idempotency_table: dynamodb.ITable,
) -> None:
    """The egress role reads the X secret (an ARN), uploads the annotated photo from the media bucket
    and keys an idempotency record on each post it answers (Powertools); it reads a claim-checked
    SEND_TWEET back, and publishes REPLY_POSTED for each reply it posts."""
    role = app.role(EGRESS)
    publishing.grant(role)
    publishing.grant_read_oversized(role)
    grant_secret_value(role, twitter_secret)
    grant_media(role, media, actions=["s3:GetObject"])
    grant_idempotency(role, idempotency_table)
