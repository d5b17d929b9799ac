"""Egress (chalicelib/egress): posts the replies on X, idempotently.

Its idempotency store (`idempotency_table`): a post is answered at most once, however many
SEND_TWEET events ask for it. The Chalice function `egress_post_reply` keys a record on the post
replied to with Powertools' idempotency utility (DynamoDBPersistenceLayer). The table's key and
TTL attribute are that layer's defaults (aws_lambda_powertools/utilities/idempotency/persistence/
dynamodb.py: key_attr="id", expiry_attr="expiration"); a different name on either side would
silently disable the guarantee.

Its queue (`ReplyQueue`): a rule on the bus puts every SEND_TWEET in an SQS queue, which
`egress_post_reply` reads one message at a time. A reply over the posting budget fails its
invocation and comes back after the visibility timeout; the queue's receive count is sized from
MAX_REPLY_AGE_SECONDS, so waiting for the budget never dead-letters a reply before the runtime
skips it as too old. What still fails that often lands in the alarmed dead-letter queue.

Its kill switch (`posting_switch`): an SSM String parameter, "on" (made so) or "off", which
`egress_post_reply` reads at each post (POSTING_SWITCH_PARAMETER names it; the role may read that
parameter only). Its name is generated per stack, so two stages never share a switch; the stack's
output PostingSwitchParameterName gives it to the operator (README, "Stopping all posting").
"""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from chalicelib.contracts import names
from chalicelib.kernel.posting import POSTING_OFF, POSTING_ON
from constructs import Construct

from stacks.chalice_app import ChaliceApp, FunctionRole
from stacks.dead_letters import dead_letter_queue
from stacks.grants import (
    EventPublishing,
    grant_idempotency,
    grant_media,
    grant_post_folder_deletion,
    grant_secret_value,
)
from stacks.patterns import to_event_pattern
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

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

#: How long a message the function failed (or left for the budget) stays hidden before it comes back.
#: At least the function's timeout (60 s, runtime/.chalice/config.json), as Lambda requires; five
#: minutes so a budget window of 15 minutes costs a waiting reply three tries, not fifteen.
VISIBILITY_TIMEOUT = cdk.Duration.minutes(5)
#: Receives beyond those the reply's age allows: for failures other than the budget.
EXTRA_RECEIVES = 5
#: SQS's largest maxReceiveCount.
MAX_RECEIVE_COUNT = 1000
#: Messages are kept this long (SQS's default is 4 days); a reply is too old long before.
QUEUE_RETENTION = cdk.Duration.days(4)


def max_receive_count(max_reply_age_seconds: int) -> int:
    """Enough receives, one per visibility timeout, to outlast the reply's allowed age."""
    count = math.ceil(max_reply_age_seconds / VISIBILITY_TIMEOUT.to_seconds()) + EXTRA_RECEIVES
    if count > MAX_RECEIVE_COUNT or max_reply_age_seconds >= QUEUE_RETENTION.to_seconds():
        raise ValueError(
            f"maxReplyAgeSeconds {max_reply_age_seconds} outlasts the egress queue "
            f"({MAX_RECEIVE_COUNT} receives of {VISIBILITY_TIMEOUT.to_seconds():.0f}s, "
            f"kept {QUEUE_RETENTION.to_days():.0f} days)"
        )
    return count


class ReplyQueue(Construct):
    """Egress's queue (no fixed name: CloudFormation generates one per stack), fed by a rule on the
    bus for SEND_TWEET, with the alarmed dead-letter queue `DeadLetters`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        rule_dead_letter_queue: sqs.IQueue,
        max_reply_age_seconds: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(
            self,
            "DeadLetters",
            dead_letters_of="Egress's queue (replies that failed every receive)",
            alarm_description=(
                "A reply failed in Egress on every receive its age allowed (not for the posting budget, "
                "which only delays); see Egress's dead-letter queue and the egress_post_reply log."
            ),
        )
        # SSE-SQS: EventBridge cannot write to a queue encrypted with the AWS-managed KMS key.
        self.queue = sqs.Queue(
            self,
            "Replies",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=QUEUE_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=max_receive_count(max_reply_age_seconds), queue=self.dead_letters.queue
            ),
        )
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            # SEND_TWEET and SEND_DM: one queue, so DM answers share the replies' budget and order.
            event_pattern=to_event_pattern(names.EGRESS_QUEUE_PATTERN),
            description="SEND_TWEET and SEND_DM -> Egress's queue.",
            targets=[
                targets.SqsQueue(
                    self.queue,
                    dead_letter_queue=rule_dead_letter_queue,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            ],
        )


#: The function Egress's variables and switch are for, as Chalice registers it.
POST_REPLY_FUNCTION = "egress_post_reply"
#: The variable that names the kill switch's parameter (chalicelib.settings reads it).
POSTING_SWITCH_VARIABLE = "POSTING_SWITCH_PARAMETER"


def posting_switch(scope: Construct, construct_id: str) -> ssm.StringParameter:
    """The kill switch: "on" when first deployed. No parameter_name: CloudFormation generates one
    per stack (a fixed name would collide between stages). A later deploy leaves an "off" alone:
    CloudFormation rewrites the parameter only when its definition here changes (then back to "on",
    which the README warns about)."""
    return ssm.StringParameter(
        scope,
        construct_id,
        string_value=POSTING_ON,
        # on|off only: a typo (or a "false") is refused when it is written, not read later as an
        # unreadable switch. BOT_POSTING's synonyms (chalicelib.kernel.posting) are for the local runtime.
        allowed_pattern=f"^({POSTING_ON}|{POSTING_OFF})$",
        description=f"The X bot's kill switch: '{POSTING_OFF}' stops every post (read at each post), '{POSTING_ON}' "
        "posts again.",
        tier=ssm.ParameterTier.STANDARD,
    )


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
    queue: ReplyQueue,
) -> None:
    """The egress role reads the X secret (an ARN), uploads the annotated photo from the media bucket
    and keys an idempotency record on each post it answers (Powertools), which also holds the
    posting budget's counters; it reads a claim-checked SEND_TWEET back, and publishes REPLY_POSTED
    (or REPLY_SKIPPED) for each reply. Its function reads the replies from `queue`."""
    app.consume_queues({names.EGRESS_QUEUE: queue.queue})
    role = app.role(EGRESS)
    publishing.grant(role)
    publishing.grant_read_oversized(role)
    grant_secret_value(role, twitter_secret)
    grant_media(role, media, actions=["s3:GetObject"])
    # A post deleted on X while it was analysed: Egress finds its mark and deletes what was stored
    # for it since (an annotated copy), before it skips the reply (chalicelib/egress/service.py).
    grant_post_folder_deletion(role, media, who="Egress (a post deleted while it was analysed)")
    # The posting budget's counters ("count#..." items) are updated with UpdateItem, which the
    # idempotency grant already allows on the whole table.
    grant_idempotency(role, idempotency_table)
    # The kill switch: made here, beside the one function that reads it, and given to it alone.
    switch = posting_switch(cdk.Stack.of(app), "EgressPostingSwitch")
    # GetParameter only (grant_read would add GetParameters, GetParameterHistory, DescribeParameters).
    role.add_to_principal_policy(iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[switch.parameter_arn]))
    app.add_environment(POST_REPLY_FUNCTION, {POSTING_SWITCH_VARIABLE: switch.parameter_name})
    cdk.CfnOutput(
        cdk.Stack.of(app),
        "PostingSwitchParameterName",
        value=switch.parameter_name,
        description=f"Set it to '{POSTING_OFF}' to stop all posting at once, '{POSTING_ON}' to post again.",
    )
