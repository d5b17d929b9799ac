"""Grants that more than one service needs: publishing events, reading a secret, the media bucket,
the idempotency table.

Each grant is written out with only the actions the runtime calls, and acknowledges its cdk-nag
findings on the policy that holds it (`acknowledge_grants`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from chalicelib.contracts.oversized import OVERSIZED_PREFIX
from chalicelib.kernel.media_keys import USERS_PREFIX
from constructs import Construct

from stacks.nag import acknowledge_grants, logical_id


@dataclass(frozen=True)
class EventPublishing:
    """Where chalicelib.publishing.EventPublisher publishes: the bus, and the bucket it offloads
    events over EventBridge's size limit to (under OVERSIZED_PREFIX)."""

    bus: events.IEventBus
    oversize_bucket: s3.IBucket

    @property
    def environment(self) -> dict[str, str]:
        """The variables the runtime's settings read them from."""
        return {"EVENT_BUS_NAME": self.bus.event_bus_name, "OVERSIZE_BUCKET": self.oversize_bucket.bucket_name}

    def grant(self, role: iam.Role) -> None:
        """PutEvents on the bus, and PutObject under the oversized-payload prefix only."""
        self.bus.grant_put_events_to(role)
        self._grant_oversized(role, "s3:PutObject")

    def grant_read_oversized(self, role: iam.Role) -> None:
        """GetObject under the oversized-payload prefix only: for the role of every function whose
        rule matches an event that may be claim-checked (chalicelib.publishing.PayloadResolver)."""
        self._grant_oversized(role, "s3:GetObject")

    def _grant_oversized(self, role: iam.Role, action: str) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[action], resources=[self.oversize_bucket.arn_for_objects(f"{OVERSIZED_PREFIX}*")]
            )
        )
        acknowledge_grants(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(self.oversize_bucket)}.Arn>/{OVERSIZED_PREFIX}*]": (
                    "The shared publisher offloads an event over EventBridge's 256 KB to a key generated per "
                    "event under this prefix, and the event's consumers read it back; the grants are limited to "
                    "PutObject (publishers) and GetObject (consumers) under that prefix."
                ),
            },
        )


def secret_arn(scope: Construct, construct_id: str, name: str) -> str:
    """The ARN of a secret by name, for a grant.

    An imported name gives a partial ARN; the real one ends in "-" and six random characters.
    """
    secret = secretsmanager.Secret.from_secret_name_v2(scope, construct_id, name)
    return f"{secret.secret_arn}-??????"


def grant_secret_value(role: iam.Role, secret: str) -> None:
    """Only GetSecretValue on the secret with this ARN (`secret_arn`).

    grant_read would add DescribeSecret, which the runtime never calls. The secrets use the
    account's aws/secretsmanager key, which needs no kms grant.
    """
    role.add_to_principal_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret]))


def grant_media(role: iam.Role, media: s3.IBucket, *, actions: Sequence[str]) -> None:
    """Object `actions` (s3:GetObject, s3:PutObject) on the media bucket's photos; a reader may also list it."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=[media.arn_for_objects("*")]))
    if "s3:GetObject" in actions:
        # Without s3:ListBucket, S3 answers a GET of a missing key with AccessDenied (403) rather than
        # NoSuchKey (404), so an expired photo would look like a broken grant, not a missing photo
        # (chalicelib/adapters/s3_media.py turns NoSuchKey into MediaError). Listing is a bucket action:
        # the grant names the bucket's ARN, not its objects.
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[media.bucket_arn]))
    acknowledge_grants(
        role,
        {
            f"AwsSolutions-IAM5[Resource::<{logical_id(media)}.Arn>/*]": (
                "Photos are stored under a key generated per photo (users/<user id>/posts/<post id>/<uuid>.<ext>, "
                "annotated copies in the post's annotated/ folder); the grant is only "
                "object reads/writes on the media bucket, which holds nothing else but the empty marks of "
                "deleted posts (deleted/users/<user id>/posts/<post id>.mark), read to honour them."
            ),
        },
    )


def grant_post_folder_deletion(role: iam.Role, media: s3.IBucket, *, who: str, reason: str | None = None) -> None:
    """s3:DeleteObject under users/ only: what `who` deletes by prefix (a post's folder,
    users/<user id>/posts/<post id>/) when that post's deletion mark is there (deleted/, read with
    the s3:GetObject and s3:ListBucket of grant_media; chalicelib.adapters.s3_media)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:DeleteObject"], resources=[media.arn_for_objects(f"{USERS_PREFIX}*")])
    )
    acknowledge_grants(
        role,
        {
            f"AwsSolutions-IAM5[Resource::<{logical_id(media)}.Arn>/{USERS_PREFIX}*]": reason
            or (
                f"{who}: the photos of a post deleted on X are deleted by prefix, "
                "users/<user id>/posts/<post id>/, whose keys are generated per photo: s3:DeleteObject only, "
                "under users/ only."
            ),
        },
    )


#: What Powertools' idempotency utility calls on its DynamoDB table (Egress's replies, Alerting's alerts).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def grant_idempotency(role: iam.IRole, table: dynamodb.ITable) -> None:
    """Read and write the idempotency records (on the table itself: Powertools uses no index)."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(IDEMPOTENCY_ACTIONS), resources=[table.table_arn]))


#: What the Responding guards' counters call (chalicelib/adapters/dynamodb_counters.py): one
#: conditional UpdateItem per count, nothing else.
COUNTER_ACTIONS = ("dynamodb:UpdateItem",)


def grant_keyed_items(role: iam.IRole, table: dynamodb.ITable, actions: Sequence[str], keys: str) -> None:
    """`actions` on the items of `table` whose partition key matches `keys` ("count#*"), and only those."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [keys]}},
        )
    )


def grant_counters(role: iam.IRole, table: dynamodb.ITable) -> None:
    """Count replies in the idempotency table's "count#..." items, and only those."""
    grant_keyed_items(role, table, COUNTER_ACTIONS, "count#*")
