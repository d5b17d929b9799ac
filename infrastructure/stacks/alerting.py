"""The alert topic: negative messages are published here; a Chalice subscriber forwards them to chat."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class Alerting(Construct):
    """An SNS topic encrypted with a customer-managed key (rotated yearly) that refuses plain HTTP.

    The publisher (the Chalice functions' role) gets sns:Publish and the key's data-key grant from
    the stack; the subscriber is the Chalice function the wrapper points at `topic`.
    """

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
