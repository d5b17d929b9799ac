"""S3 as the MediaStore: photos between download, analysis (Rekognition reads them there) and reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from chalicelib.kernel.media_keys import check_folder_prefix, deletion_mark_key
from chalicelib.ports import MediaError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Error codes that mean "this key holds no photo" rather than a fault worth retrying.
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})
#: DeleteObjects takes at most this many keys per call (S3's limit).
DELETE_BATCH: Final = 1000


class S3MediaStore:
    """chalicelib.ports.MediaStore on one bucket.

    Encryption is left to the bucket's default (SSE-S3 or SSE-KMS set in CDK), so a change of key
    needs no code change and no kms:Encrypt grant beyond the bucket's.
    """

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                # The lifecycle rule may have expired it, or the download never stored it.
                raise MediaError(f"no stored photo under {key}") from None
            raise
        with response["Body"] as body:
            return body.read()

    def delete_prefix(self, prefix: str) -> int:
        """Lists the keys under the prefix (s3:ListBucket) and deletes them (s3:DeleteObject) in
        batches of DELETE_BATCH. The bucket is not versioned, so the photos are gone, not hidden
        behind a delete marker. A key S3 could not delete fails the call (retried by the caller's
        retry policy): a deletion must not be reported done when it is not."""
        check_folder_prefix(prefix)
        deleted = 0
        batch: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                batch.append(item["Key"])
                if len(batch) == DELETE_BATCH:
                    deleted += self._delete(batch)
                    batch = []
        if batch:
            deleted += self._delete(batch)
        return deleted

    def mark_deleted(self, prefix: str) -> None:
        """An empty object at deletion_mark_key(prefix) (s3:PutObject under deleted/); the media
        bucket's lifecycle rule expires it with the photos, long after any analysis has ended."""
        self._client.put_object(
            Bucket=self._bucket, Key=deletion_mark_key(prefix), Body=b"", ContentType="application/octet-stream"
        )

    def is_deleted(self, prefix: str) -> bool:
        """Whether the mark is there (HeadObject: s3:GetObject, and s3:ListBucket for S3 to answer
        404 rather than 403 for a missing one). Any other error is raised: the caller retries."""
        try:
            self._client.head_object(Bucket=self._bucket, Key=deletion_mark_key(prefix))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def _delete(self, keys: list[str]) -> int:
        response = self._client.delete_objects(
            Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise MediaDeletionError(
                f"{len(errors)} of {len(keys)} photos not deleted, e.g. {first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message')}"
            )
        return len(keys)


class MediaDeletionError(Exception):
    """S3 refused to delete some of the keys (DeleteObjects reports them one by one)."""
