"""S3 as the claim-check store for payloads too large for EventBridge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.contracts.oversized import OVERSIZED_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3PayloadStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> str:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/json")
        return f"s3://{self._bucket}/{key}"

    def get(self, uri: str) -> bytes:
        """The object at s3://<this bucket>/oversized/...: the consumers' roles may read nothing else."""
        prefix = f"s3://{self._bucket}/"
        key = uri[len(prefix) :] if uri.startswith(prefix) else ""
        if not key.startswith(OVERSIZED_PREFIX) or any(part in {"", ".", ".."} for part in key.split("/")):
            raise ValueError(f"not a claim-check object of this store: {uri!r}")
        response = self._client.get_object(Bucket=self._bucket, Key=key)
        return response["Body"].read()
