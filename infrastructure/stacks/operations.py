"""Operations: the topic every CloudWatch alarm of the stack notifies (a person subscribes to it).

`Operations` makes the topic and its key; `notify_every_alarm_in(scope)` adds the topic to the alarm
and OK actions of every alarm in `scope`, including alarms a service adds later, so none can be
forgotten (tests/infrastructure checks every alarm of the template).
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")
BUDGETS = iam.ServicePrincipal("budgets.amazonaws.com")


class Operations(Construct):
    """An SNS topic for the alarms, encrypted with a customer-managed key (rotated yearly), TLS only."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        # Alarm names and descriptions only, but a customer key all the same: CloudWatch cannot
        # publish to a topic encrypted with the AWS-managed aws/sns key, whose policy cannot admit it.
        # DESTROY: SNS keeps no message once delivered, so nothing stays encrypted under the key.
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the X bot's operations topic (alarm notifications).",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # What CloudWatch needs on the key of an encrypted topic (its documented key policy statement).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[CLOUDWATCH], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]
            )
        )
        # No fixed name: CloudFormation names it after the stack and the logical id, so two stages
        # (two stacks) never clash and a replacement never waits for a name to be free.
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="X bot operations",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The topic has a policy (enforce_ssl), so CloudWatch is admitted in it: only this account's
        # alarms in this region may publish (confused-deputy protection).
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[CLOUDWATCH],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )

    def admit_budgets(self) -> None:
        """Let AWS Budgets notify the topic: its documented topic policy and, the topic being
        encrypted, its key policy statement, both for this account's budgets only."""
        stack = cdk.Stack.of(self)
        # Budgets are global: their ARNs have no region (arn:aws:budgets::<account>:budget/<name>).
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:*"},
        }
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[BUDGETS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[BUDGETS], actions=["sns:Publish"], resources=[self.topic.topic_arn], conditions=conditions
            )
        )

    def notify_every_alarm_in(self, scope: IConstruct) -> None:
        """Every alarm in `scope` notifies the topic when it fires and when it recovers."""
        cdk.Aspects.of(scope).add(_NotifyOnEveryAlarm(self.topic))


@jsii.implements(cdk.IAspect)
class _NotifyOnEveryAlarm:
    """Adds the topic to every alarm's actions; an aspect, so alarms added after it are covered too."""

    def __init__(self, topic: sns.ITopic) -> None:
        self._topic = topic
        self._action = cloudwatch_actions.SnsAction(topic)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.AlarmBase):
            node.add_alarm_action(self._action)
            # The OK notification tells whoever was paged that it is over (e.g. the queue was redriven).
            node.add_ok_action(self._action)
        elif isinstance(node, cloudwatch.CfnAlarm) and not isinstance(node.node.scope, cloudwatch.AlarmBase):
            # An alarm made without the L2 construct.
            node.alarm_actions = [*(node.alarm_actions or []), self._topic.topic_arn]
            node.ok_actions = [*(node.ok_actions or []), self._topic.topic_arn]
