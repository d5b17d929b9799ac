"""A dead-letter queue with an alarm on its depth: every queue of failed deliveries is made here."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge

#: SQS's maximum: time to notice the alarm, fix the cause and redrive.
RETENTION = cdk.Duration.days(14)
#: The alarm looks at the queue's depth over this period.
ALARM_PERIOD = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: sqs.Queue
    #: In alarm as soon as one message waits in the queue.
    alarm: cloudwatch.Alarm


def dead_letter_queue(
    scope: Construct,
    construct_id: str,
    *,
    dead_letters_of: str,
    alarm_description: str,
) -> DeadLetterQueue:
    """The queue `construct_id` and its alarm `<construct_id>Alarm`, both in `scope`.

    `dead_letters_of` says whose failed deliveries it takes (it completes "the dead-letter queue of
    ..."); `alarm_description` says what a message in it means and where to look.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        # SSE-SQS: EventBridge cannot write to a queue encrypted with the AWS-managed KMS key.
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
    )
    acknowledge(
        queue,
        {
            "AwsSolutions-SQS3": (
                f"This queue is itself the dead-letter queue of {dead_letters_of}; "
                "a dead-letter queue needs no dead-letter queue of its own."
            )
        },
    )
    alarm = cloudwatch.Alarm(
        scope,
        f"{construct_id}Alarm",
        alarm_description=alarm_description,
        metric=queue.metric_approximate_number_of_messages_visible(
            statistic=cloudwatch.Stats.MAXIMUM, period=ALARM_PERIOD
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return DeadLetterQueue(queue=queue, alarm=alarm)
