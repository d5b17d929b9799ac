"""Rule targets with a dead-letter queue and an explicit retry policy.

CDK's FirehoseDeliveryStream target takes no `dead_letter_queue` / `retry_attempts` / `max_event_age`
(unlike its SqsQueue or CloudWatchLogGroup targets), and the catch-all log uses a target of its own;
`DeadLettered` adds both settings to any target, with the queue policy CDK's own targets write.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs

#: EventBridge retries a failed delivery for up to this long (its maximum)...
MAX_EVENT_AGE = cdk.Duration.hours(24)
#: ...or this many times (its maximum), then sends the event to the dead-letter queue.
RETRY_ATTEMPTS = 185


@jsii.implements(events.IRuleTarget)
class DeadLettered:
    """`target`, with failed deliveries retried and then sent to `dead_letter_queue`."""

    def __init__(
        self,
        target: events.IRuleTarget,
        *,
        dead_letter_queue: sqs.IQueue,
        retry_attempts: int = RETRY_ATTEMPTS,
        max_event_age: cdk.Duration = MAX_EVENT_AGE,
    ) -> None:
        self._target = target
        self._queue = dead_letter_queue
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        config = self._target.bind(rule, id)
        if config.dead_letter_config is not None or config.retry_policy is not None:
            raise ValueError("the wrapped target already sets a dead-letter queue or retry policy")
        # As CDK's own targets do (aws-events-targets addToDeadLetterQueueResourcePolicy): only this
        # rule may send to the queue.
        self._queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowEventRule{cdk.Names.node_unique_id(rule.node)}",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self._queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.rule_ref.rule_arn}},
            )
        )
        return events.RuleTargetConfig(
            arn=config.arn,
            app_sync_parameters=config.app_sync_parameters,
            batch_parameters=config.batch_parameters,
            ecs_parameters=config.ecs_parameters,
            http_parameters=config.http_parameters,
            input=config.input,
            kinesis_parameters=config.kinesis_parameters,
            redshift_data_parameters=config.redshift_data_parameters,
            role=config.role,
            run_command_parameters=config.run_command_parameters,
            sqs_parameters=config.sqs_parameters,
            target_resource=config.target_resource,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=int(self._max_event_age.to_seconds()),
            ),
        )
