"""Plumbing (chalicelib/plumbing): the bus and what every event gets, and what every failed delivery gets.

The bus, its archive, the catch-all log with a metric per detail-type (stacks/dashboard.py graphs
them); the dead-letter queue for every rule target that delivers events somewhere (`Plumbing`); and,
for the Chalice app's functions (`attach_to`): their rules on the bus, and the failure queue of the
functions and of their rules. Plumbing's own functions only log.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk.interfaces import aws_events as events_refs
from chalicelib.contracts import names
from constructs import Construct

from stacks.chalice_app import ChaliceApp, FunctionRole
from stacks.dead_letters import DeadLetterQueue, dead_letter_queue
from stacks.patterns import to_event_pattern
from stacks.rule_targets import DeadLettered

PLUMBING = "Plumbing"
ROLES = {
    PLUMBING: FunctionRole(
        functions=("plumbing_access_revoked",),
        description="The X bot's plumbing handlers: logs only.",
    ),
}

#: The default stage's metric namespace. A stage's is its stack name (XBot-dev): metric filters of
#: two stages in one account and region must not add up their counts in the same metrics.
METRIC_NAMESPACE = "XBot"


#: The period of the event counts (`metrics`): the dashboard graphs them as they are.
COUNT_PERIOD = cdk.Duration.minutes(5)


class Plumbing(Construct):
    """The custom event bus, its archive, and the catch-all log with one metric per detail-type."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        archive_retention: cdk.Duration,
        log_retention: logs.RetentionDays,
        metric_namespace: str = METRIC_NAMESPACE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metric_namespace = metric_namespace

        self.bus = events.EventBus(self, "Bus")
        # Events a rule target still failed to take after EventBridge's retries (shared by the rules).
        target_dead_letters = dead_letter_queue(
            self,
            "TargetDeadLetters",
            dead_letters_of="the event rules' targets",
            alarm_description="EventBridge could not deliver events to a rule target; see the dead-letter queue.",
        )
        self.dead_letter_queue = target_dead_letters.queue
        self.dead_letter_alarm = target_dead_letters.alarm

        # Every event the bot publishes, for replay after a bug fix (the data lake is for queries).
        events.CfnArchive(
            self,
            "Archive",
            source_arn=self.bus.event_bus_arn,
            event_pattern=names.CATCH_ALL_PATTERN,
            retention_days=int(archive_retention.to_days()),
            description="Every event the bot published, for replay.",
        )

        # EventBridge's console lists only /aws/events/ log groups as rule targets. DESTROY because
        # the name is fixed (a retained group would block the next deployment of the stack) and the
        # durable copies of the events are the archive and the data lake.
        self.log_group = logs.LogGroup(
            self,
            "CatchAllLog",
            log_group_name=f"/aws/events/{cdk.Stack.of(self).stack_name}/catch-all",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.catch_all_rule = events.Rule(
            self,
            "CatchAllRule",
            event_bus=self.bus,
            event_pattern=to_event_pattern(names.CATCH_ALL_PATTERN),
            description="Every event the bot publishes -> the catch-all log.",
            targets=[DeadLettered(_LogGroupTarget(self.log_group), dead_letter_queue=self.dead_letter_queue)],
        )
        # A native resource policy rather than CDK's CloudWatchLogGroup target, which writes the
        # same policy through a custom-resource Lambda (one more function, role and runtime to keep up).
        # The rule's ARN conditions PutLogEvents only. With the condition on CreateLogStream too,
        # EventBridge may be unable to create the log stream: the log stays empty and every event ends
        # in the dead-letter queue. AWS fixed its own eventbridge-cloudwatch pattern this way
        # (aws-samples/serverless-patterns PR #618), and CDK's log-group target conditions neither
        # action. Without the condition, EventBridge can only create empty streams in this one group.
        logs.ResourcePolicy(
            self,
            "CatchAllLogPolicy",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["logs:CreateLogStream"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": self.catch_all_rule.rule_arn}},
                ),
            ],
        )

        #: The count of each known detail-type per 5 minutes (the dashboard graphs them).
        self.metrics = self._metric_per_detail_type(names.ALL_DETAIL_TYPES)

    def _metric_per_detail_type(self, detail_types: Sequence[str]) -> dict[str, cloudwatch.Metric]:
        metrics: dict[str, cloudwatch.Metric] = {}
        for detail_type in detail_types:
            metric_filter = self.log_group.add_metric_filter(
                f"Count{detail_type}",
                filter_pattern=logs.FilterPattern.string_value("$.detail-type", "=", detail_type),
                metric_namespace=self.metric_namespace,
                metric_name=detail_type,
                metric_value="1",
            )
            metrics[detail_type] = metric_filter.metric(statistic=cloudwatch.Stats.SUM, period=COUNT_PERIOD)
        return metrics


def attach_to(app: ChaliceApp, *, plumbing: Plumbing) -> DeadLetterQueue:
    """Every `on_cw_event` rule of the app on the bus, and one failure queue for the app's functions.

    The queue takes the events the asynchronously invoked functions (rules, SNS subscriptions)
    still failed after Lambda's retries, and the events EventBridge could not hand to them. It is
    made in the app's construct, where its logical id has always been.
    """
    handler_failures = dead_letter_queue(
        app,
        "HandlerFailures",
        dead_letters_of="the Chalice functions (their on-failure destination) and of their EventBridge rules",
        alarm_description=(
            "A Chalice function failed an event after Lambda's retries, or EventBridge could not deliver "
            "one to it; see the HandlerFailures queue."
        ),
    )
    app.route_rules_to_bus(bus=plumbing.bus, dead_letter_queue=handler_failures.queue)
    app.send_async_failures_to(handler_failures.queue)
    return handler_failures


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A log group as a rule target, without the custom resource CDK's own target adds (see above)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        # The target wants the log group's ARN without the ":*" that its Arn attribute ends with.
        arn = cdk.Stack.of(rule).format_arn(
            service="logs",
            resource="log-group",
            resource_name=self._log_group.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return events.RuleTargetConfig(arn=arn)
