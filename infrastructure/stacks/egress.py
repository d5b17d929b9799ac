"""Egress's idempotency store: one SEND_TWEET never produces two posts.

The Chalice function `egress_post_reply` keys a record per event with Powertools' idempotency
utility (DynamoDBPersistenceLayer). The table's key and TTL attribute are that layer's defaults
(aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py: key_attr="id",
expiry_attr="expiration"); a different name on either side would silently disable the guarantee.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

#: Powertools' DynamoDBPersistenceLayer defaults.
PARTITION_KEY = "id"
TTL_ATTRIBUTE = "expiration"
#: What the functions do with the records (get, conditional put, update on completion, delete on failure).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


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
