"""S3 buckets with the settings every bucket of this app shares."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge


def access_logs_bucket(scope: Construct, construct_id: str, *, retention: cdk.Duration) -> s3.Bucket:
    """The bucket that receives S3 server access logs of the other buckets."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        # S3 log delivery writes only to SSE-S3 buckets (not SSE-KMS).
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(id="expire-access-logs", expiration=retention),
            s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)),
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    _keep_policy_with(bucket, cdk.RemovalPolicy.RETAIN)
    acknowledge(
        bucket,
        {
            "AwsSolutions-S1": (
                "This bucket is the destination of the other buckets' server access logs; logging its own "
                "access into itself would loop, and into another bucket would only move the question."
            ),
        },
    )
    return bucket


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket,
    lifecycle_rules: Sequence[s3.LifecycleRule],
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
) -> s3.Bucket:
    """An encrypted, TLS-only, non-public bucket whose access is logged.

    RETAIN (the default) keeps it on stack deletion: CloudFormation cannot delete a bucket with
    objects in it, and `cdk destroy` must not fail (stacks/teardown.py lists what is kept)."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{construct_id}/",
        lifecycle_rules=[
            *lifecycle_rules,
            s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)),
        ],
        removal_policy=removal_policy,
    )
    _keep_policy_with(bucket, removal_policy)
    return bucket


def _keep_policy_with(bucket: s3.Bucket, removal_policy: cdk.RemovalPolicy) -> None:
    """A kept bucket keeps its policy: still TLS only, and the access-logs bucket still admits S3's
    log delivery for the kept buckets that log into it."""
    if bucket.policy is not None:
        bucket.policy.apply_removal_policy(removal_policy)


def media_bucket(scope: Construct, construct_id: str, *, access_logs: s3.IBucket, retention: cdk.Duration) -> s3.Bucket:
    """Photos between download, analysis (Rekognition reads them there), the reply and the post.

    Everything expires after `retention`: long enough for the reply to annotate the photo.
    """
    return private_bucket(
        scope,
        construct_id,
        access_logs=access_logs,
        lifecycle_rules=[s3.LifecycleRule(id="expire-media", expiration=retention)],
        # Kept on stack deletion like the other buckets (CloudFormation cannot delete a non-empty
        # bucket); its lifecycle rule empties it within `retention`.
    )
