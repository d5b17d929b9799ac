"""S3 as the MediaStore: photos between download, analysis (Rekognition reads them there) and reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from chalicelib.ports import MediaError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Error codes that mean "this key holds no photo" rather than a fault worth retrying.
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


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
