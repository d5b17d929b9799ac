"""Reading claim-checked events back: S3PayloadStore (moto) and the local store, under the prefix only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botlocal.payloads import LocalPayloadStore
from chalicelib.adapters.s3_store import S3PayloadStore
from moto import mock_aws

BUCKET = "xbot-lake"


@pytest.fixture
def s3_store() -> Iterator[S3PayloadStore]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="raw/2026/01/01/events.json", Body=b"{}")
        yield S3PayloadStore(client, BUCKET)


def test_s3_reads_back_what_it_stored_under_the_oversized_prefix(s3_store: S3PayloadStore) -> None:
    uri = s3_store.put("oversized/2026/01/01/e.json", b'{"big":true}')
    assert uri == f"s3://{BUCKET}/oversized/2026/01/01/e.json"
    assert s3_store.get(uri) == b'{"big":true}'


@pytest.mark.parametrize(
    "uri",
    [
        f"s3://{BUCKET}/raw/2026/01/01/events.json",  # the lake's other objects: never read
        "s3://another-bucket/oversized/2026/01/01/e.json",
        f"s3://{BUCKET}/oversized/../raw/2026/01/01/events.json",
        "https://example.com/oversized/e.json",
    ],
)
def test_s3_refuses_anything_but_its_own_oversized_objects(s3_store: S3PayloadStore, uri: str) -> None:
    with pytest.raises(ValueError, match="not a claim-check object"):
        s3_store.get(uri)


def test_local_reads_back_what_it_stored_under_the_oversized_folder(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path)
    uri = store.put("oversized/2026/01/01/e.json", b'{"big":true}')
    assert store.get(uri) == b'{"big":true}'


def test_local_refuses_files_outside_the_oversized_folder(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path / "state")
    (tmp_path / "secret.json").write_text("{}")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "journal.json").write_text("{}")
    for path in (tmp_path / "secret.json", tmp_path / "state" / "journal.json"):
        with pytest.raises(ValueError, match="not a claim-check object"):
            store.get(path.as_uri())
    with pytest.raises(ValueError, match="not a claim-check object"):
        store.get("s3://bucket/oversized/e.json")
