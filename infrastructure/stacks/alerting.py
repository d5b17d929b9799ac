"""Alerting (chalicelib/alerting): negative messages go to an SNS topic; a subscriber forwards them to chat.

The topic and its key (`Alerting`), and what the alerting functions may do (`attach_to`): publish
to the topic, read the chat webhook's secret; the forwarder is subscribed to the topic.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from chalicelib.alerting.blueprint import ALERT_TOPIC_NAME
from constructs import Construct

from stacks.chalice_app import ChaliceApp, FunctionRole
from stacks.grants import EventPublishing, grant_idempotency, grant_secret_value

ALERTING = "Alerting"
ROLES = {
    ALERTING: FunctionRole(
        functions=("alerting_alert_negative", "alerting_forward_alert"),
        description="The X bot's alerting: publish to the alert topic, forward to the chat webhook.",
    ),
}


class Alerting(Construct):
    """An SNS topic encrypted with a customer-managed key (rotated yearly) that refuses plain HTTP."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        # Alerts quote users' messages: encrypt them with a key this stack controls (and can audit).
        # DESTROY: SNS keeps no message once delivered, so nothing stays encrypted under the key.
        self.key = kms.Key(
            self,
            "AlertKey",
            description="Encrypts the X bot's alert topic (negative messages).",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "AlertTopic",
            display_name="X bot alerts",
            master_key=self.key,
            enforce_ssl=True,
        )

    def grant_publish(self, role: iam.Role) -> None:
        """sns:Publish, and what SNS needs from the publisher on a topic encrypted with a customer key
        (written out: topic.grant_publish would add the wildcard kms:GenerateDataKey*)."""
        role.add_to_principal_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )


def attach_to(
    app: ChaliceApp,
    *,
    alerting: Alerting,
    publishing: EventPublishing,
    chat_webhook_secret: str | None,
    idempotency_table: dynamodb.ITable,
) -> None:
    """The alerting role publishes to the topic, records each alert once per post in the idempotency
    table, and reads the chat webhook's secret (an ARN, if there is one); the forwarder's
    `on_sns_message` subscription is on the topic. It reads a claim-checked MESSAGE_ANALYSED back."""
    role = app.role(ALERTING)
    publishing.grant_read_oversized(role)
    alerting.grant_publish(role)
    grant_idempotency(role, idempotency_table)
    if chat_webhook_secret:
        grant_secret_value(role, chat_webhook_secret)
    app.subscribe_to_topics({ALERT_TOPIC_NAME: alerting.topic})
