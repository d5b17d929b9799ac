"""The adapters of issue 9, section 3 ("play by X's rules and the operator's"), against moto and
botocore's Stubber (no AWS account, no network) and on the local runtime's files:
- MediaStore.delete_prefix on S3 (listing, DeleteObjects in batches of 1000, its per-key errors) and
  on the local folder;
- OptOuts on DynamoDB and on SQLite (and the tests' fake): recorded once, forgotten once, never
  changed by a post older than the one that made the last change, nothing else touched;
- PostingSwitch on SSM and on BOT_POSTING: "on", "off", and fail safe for anything else."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botlocal.media import LocalMediaStore
from botlocal.optouts import SqliteOptOuts
from botlocal.posting import EnvironmentPostingSwitch
from botocore.stub import Stubber
from chalicelib.adapters.dynamodb_optouts import KEY_PREFIX, OPTED_IN_KEPT_SECONDS, DynamoDbOptOuts
from chalicelib.adapters.s3_media import DELETE_BATCH, MediaDeletionError, S3MediaStore
from chalicelib.adapters.ssm_switch import PostingSwitchUnreadableError, SsmPostingSwitch
from chalicelib.kernel.errors import TransientError, is_transient
from chalicelib.kernel.idempotency import IdempotencyUnavailableError
from chalicelib.ports import MediaStore, OptOuts
from moto import mock_aws

from tests.fakes import MemoryOptOuts

BUCKET = "media"
REGION = "us-east-1"
POST = "users/42/posts/1900/"


# --- MediaStore.delete_prefix ------------------------------------------------------------------------


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MediaStore]:
    if request.param == "local":
        yield LocalMediaStore(tmp_path / "media")
        return
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield S3MediaStore(client, BUCKET)


def test_delete_prefix_deletes_the_folder_and_nothing_beside_it(store: MediaStore) -> None:
    kept = ["users/42/posts/19000/a.jpg", "users/420/posts/1900/a.jpg", "users/4/a.jpg"]
    doomed = [f"{POST}a.jpg", f"{POST}b.png", f"{POST}annotated/a.jpg"]
    for key in kept + doomed:
        store.put(key, b"photo", "image/jpeg")
    assert store.delete_prefix(POST) == 3
    for key in doomed:
        with pytest.raises(Exception, match="no stored photo"):
            store.get(key)
    assert [store.get(key) for key in kept] == [b"photo"] * 3
    # Again: nothing is left, nothing fails.
    assert store.delete_prefix(POST) == 0
    assert store.delete_prefix("users/7/") == 0


@pytest.mark.parametrize("prefix", ["", "users/42", "/"])
def test_delete_prefix_refuses_what_is_not_a_folder(store: MediaStore, prefix: str) -> None:
    store.put(f"{POST}a.jpg", b"photo", "image/jpeg")
    with pytest.raises(ValueError):
        store.delete_prefix(prefix)
    assert store.get(f"{POST}a.jpg") == b"photo"


def test_a_deleted_folder_is_marked_apart_from_the_photos_and_the_mark_outlives_them(store: MediaStore) -> None:
    """What lets Egress recognise a post deleted while (or before) it was analysed."""
    store.put(f"{POST}a.jpg", b"photo", "image/jpeg")
    assert not store.is_deleted(POST)
    store.mark_deleted(POST)
    store.mark_deleted(POST)  # again (a redelivered deletion): no error
    assert store.is_deleted(POST)
    # The mark is not under the folder: emptying it, or revoking the user, keeps it.
    assert store.delete_prefix(POST) == 1
    assert store.delete_prefix("users/42/") == 0
    assert store.is_deleted(POST)
    # Nobody else's post is marked: not a post whose id starts with it, nor another user's.
    assert not store.is_deleted("users/42/posts/19000/")
    assert not store.is_deleted("users/42/posts/190/")
    assert not store.is_deleted("users/420/posts/1900/")
    assert not store.is_deleted("users/42/")
    with pytest.raises(ValueError):
        store.mark_deleted("users/42/posts/1900")  # not a folder


def test_the_s3_mark_is_an_object_under_deleted_and_the_local_one_is_beside_the_media_folder(tmp_path: Path) -> None:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        S3MediaStore(client, BUCKET).mark_deleted(POST)
        assert [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]] == [
            "deleted/users/42/posts/1900.mark"
        ]
    local = LocalMediaStore(tmp_path / "media")
    local.mark_deleted(POST)
    assert (tmp_path / "media-deleted" / "users" / "42" / "posts" / "1900.mark").is_file()
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))


def test_the_local_runtimes_marks_are_in_the_folder_its_layout_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LocalLayout names every local path; the marks' folder is the one used before it did
    (media-deleted beside media), so marks already written still count."""
    from botlocal.adapters import LocalAdapters
    from chalicelib.settings import load_settings

    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BOT_ADAPTERS", "botlocal.adapters:LocalAdapters")
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    adapters = LocalAdapters(load_settings())
    adapters.media_store().mark_deleted(POST)
    layout = adapters.layout
    assert layout.deletion_marks == layout.root / "media-deleted"
    assert (layout.deletion_marks / "users" / "42" / "posts" / "1900.mark").is_file()
    assert LocalMediaStore(layout.media).is_deleted(POST)


def test_an_s3_mark_that_cannot_be_read_is_raised_not_read_as_absent() -> None:
    client = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("head_object", "403", http_status_code=403)
        with pytest.raises(Exception, match="403"):
            S3MediaStore(client, BUCKET).is_deleted(POST)
        stubber.add_client_error("head_object", "404", http_status_code=404)
        assert S3MediaStore(client, BUCKET).is_deleted(POST) is False


def test_s3_deletes_in_batches_of_a_thousand() -> None:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        for n in range(DELETE_BATCH + 5):
            client.put_object(Bucket=BUCKET, Key=f"users/7/posts/{n}/p.jpg", Body=b"x")
        client.put_object(Bucket=BUCKET, Key="users/8/posts/1/p.jpg", Body=b"x")
        batches: list[int] = []

        def count(params: dict[str, Any], **_: Any) -> None:
            batches.append(len(params["Delete"]["Objects"]))

        client.meta.events.register("provide-client-params.s3.DeleteObjects", count)
        assert S3MediaStore(client, BUCKET).delete_prefix("users/7/") == DELETE_BATCH + 5
        assert batches == [DELETE_BATCH, 5]
        left = client.list_objects_v2(Bucket=BUCKET)["Contents"]
        assert [item["Key"] for item in left] == ["users/8/posts/1/p.jpg"]


def test_s3_keys_it_could_not_delete_fail_the_call() -> None:
    client = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": f"{POST}a.jpg"}, {"Key": f"{POST}b.jpg"}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": POST},
        )
        stubber.add_response(
            "delete_objects",
            {
                "Deleted": [{"Key": f"{POST}a.jpg"}],
                "Errors": [{"Key": f"{POST}b.jpg", "Code": "AccessDenied", "Message": "Access Denied"}],
            },
            {
                "Bucket": BUCKET,
                "Delete": {"Objects": [{"Key": f"{POST}a.jpg"}, {"Key": f"{POST}b.jpg"}], "Quiet": True},
            },
        )
        with pytest.raises(MediaDeletionError, match=r"1 of 2 photos not deleted.*b\.jpg: AccessDenied"):
            S3MediaStore(client, BUCKET).delete_prefix(POST)
        stubber.assert_no_pending_responses()


def test_the_local_store_refuses_a_prefix_that_leaves_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.jpg").write_bytes(b"x")
    with pytest.raises(Exception, match="invalid media key"):
        LocalMediaStore(tmp_path / "media").delete_prefix("../outside/")
    assert (outside / "keep.jpg").exists()


# --- OptOuts ---------------------------------------------------------------------------------------------


@pytest.fixture(params=["dynamodb", "sqlite", "fake"])
def opt_outs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OptOuts]:
    if request.param == "fake":  # what the service tests use: the same rules
        yield MemoryOptOuts()
        return
    if request.param == "sqlite":
        yield SqliteOptOuts(tmp_path / "state" / "idempotency.sqlite3")
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDbOptOuts(client, "idempotency", now=lambda: 1_800_000_000.0)


def test_an_opt_out_is_recorded_once_and_forgotten_once(opt_outs: OptOuts) -> None:
    assert not opt_outs.is_opted_out("42")
    assert opt_outs.opt_in("42", post_id="1") is False  # never opted out: nothing to forget
    assert opt_outs.opt_out("42", post_id="2") is True
    # Another "stop" changes nothing: no second confirmation.
    assert opt_outs.opt_out("42", post_id="3") is False
    assert opt_outs.is_opted_out("42") and not opt_outs.is_opted_out("4") and not opt_outs.is_opted_out("420")
    assert opt_outs.opt_in("42", post_id="4") is True
    assert opt_outs.opt_in("42", post_id="5") is False
    assert not opt_outs.is_opted_out("42")
    assert opt_outs.opt_out("42", post_id="6") is True  # stop again after start: told again
    assert opt_outs.is_opted_out("42")


def test_the_post_that_made_the_change_is_recognised_when_it_comes_again(opt_outs: OptOuts) -> None:
    """A retry (the confirmation failed to publish) or a redelivery of the same post still gets its
    confirmation: Egress posts one reply per post, so nobody is told twice."""
    assert opt_outs.opt_out("42", post_id="2") is True
    assert opt_outs.opt_out("42", post_id="2") is True
    assert opt_outs.opt_out("42", post_id="3") is False
    assert opt_outs.opt_in("42", post_id="4") is True
    assert opt_outs.opt_in("42", post_id="4") is True
    assert not opt_outs.is_opted_out("42")


def test_opted_out_by_names_the_post_that_opted_the_person_out(opt_outs: OptOuts) -> None:
    """What Egress reads to drop a reply still waiting when its person says "stop", and to let the
    confirmation of that very "stop" through."""
    assert opt_outs.opted_out_by("42") is None
    opt_outs.opt_out("42", post_id="2")
    opt_outs.opt_out("42", post_id="3")  # no change: still the first "stop"
    assert opt_outs.opted_out_by("42") == "2"
    assert opt_outs.opted_out_by("4") is None and opt_outs.opted_out_by("420") is None
    opt_outs.opt_in("42", post_id="4")
    assert opt_outs.opted_out_by("42") is None
    opt_outs.opt_out("42", post_id="dm:5")
    assert opt_outs.opted_out_by("42") == "dm:5"


OLDER, NEWER = "2128500000000000100", "2128500000000000200"  # snowflakes: NEWER was posted later


def test_a_late_stop_from_an_older_post_does_not_undo_a_newer_start(opt_outs: OptOuts) -> None:
    """At-least-once delivery: the "stop" comes again (a retry, a redelivery) after the same
    person's later "start"; it must not silence them again."""
    assert opt_outs.opt_out("42", post_id=OLDER) is True
    assert opt_outs.opt_in("42", post_id=NEWER) is True
    assert opt_outs.opt_out("42", post_id=OLDER) is False
    assert not opt_outs.is_opted_out("42")
    assert opt_outs.opt_in("42", post_id=NEWER) is True  # the newer post's own retry is still recognised


def test_a_late_start_from_an_older_post_does_not_undo_a_newer_stop(opt_outs: OptOuts) -> None:
    assert opt_outs.opt_out("42", post_id="dm:2128500000000000050") is True
    assert opt_outs.opt_in("42", post_id="2128500000000000070") is True
    assert opt_outs.opt_out("42", post_id=NEWER) is True
    assert opt_outs.opt_in("42", post_id=OLDER) is False  # a DM's id and a post's are both snowflakes
    assert opt_outs.opted_out_by("42") == NEWER


def test_simultaneous_stops_change_the_sqlite_store_once(tmp_path: Path) -> None:
    path = tmp_path / "idempotency.sqlite3"
    with ThreadPoolExecutor(max_workers=8) as pool:
        changed = list(pool.map(lambda n: SqliteOptOuts(path).opt_out("42", post_id=str(n)), range(16)))
    assert changed.count(True) == 1


def test_the_dynamodb_items_are_under_their_prefix_and_only_an_opt_in_expires() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        opt_outs = DynamoDbOptOuts(client, "t", now=lambda: 1_800_000_000.0)
        opt_outs.opt_out("42", post_id="2")
        (stopped,) = client.scan(TableName="t")["Items"]
        opt_outs.opt_in("42", post_id="3")
        (started,) = client.scan(TableName="t")["Items"]
        opt_outs.opt_out("42", post_id="4")
        (stopped_again,) = client.scan(TableName="t")["Items"]
    assert stopped == {
        "id": {"S": f"{KEY_PREFIX}42"},
        "opted_out": {"BOOL": True},
        "post": {"S": "2"},
        "post_order": {"N": "2"},
        "since": {"N": "1800000000"},
    }
    assert started["expiration"] == {"N": str(1_800_000_000 + OPTED_IN_KEPT_SECONDS)}
    assert "expiration" not in stopped_again


def test_a_dynamodb_failure_is_transient() -> None:
    client = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException")
        stubber.add_client_error("update_item", "InternalServerError")
        opt_outs = DynamoDbOptOuts(client, "t")
        with pytest.raises(IdempotencyUnavailableError) as read:
            opt_outs.is_opted_out("42")
        with pytest.raises(IdempotencyUnavailableError):
            opt_outs.opt_out("42", post_id="2")
    assert is_transient(read.value)


# --- PostingSwitch -----------------------------------------------------------------------------------


def test_the_ssm_switch_is_read_at_each_call() -> None:
    with mock_aws():
        client = boto3.client("ssm", region_name=REGION)
        client.put_parameter(Name="/generated/PostingSwitch", Value="on", Type="String")
        switch = SsmPostingSwitch(client, "/generated/PostingSwitch")
        assert switch.posting_enabled() is True
        client.put_parameter(Name="/generated/PostingSwitch", Value="off", Type="String", Overwrite=True)
        assert switch.posting_enabled() is False  # no cache: the very next post sees it
        client.put_parameter(Name="/generated/PostingSwitch", Value=" ON ", Type="String", Overwrite=True)
        assert switch.posting_enabled() is True


@pytest.mark.parametrize("failure", ["ParameterNotFound", "AccessDeniedException", "ThrottlingException"])
def test_an_unreadable_ssm_switch_fails_safe(failure: str) -> None:
    client = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_parameter", failure, expected_params={"Name": "p"})
        with pytest.raises(PostingSwitchUnreadableError) as raised:
            SsmPostingSwitch(client, "p").posting_enabled()
    assert isinstance(raised.value, TransientError)


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        *[("on", True), ("true", True), ("TRUE", True), ("yes", True), ("1", True), ("enabled", True)],
        *[("off", False), (" Off ", False), ("false", False), ("no", False), ("0", False), ("disabled", False)],
    ],
)
def test_bot_posting_takes_the_usual_spellings_of_on_and_off(value: str, enabled: bool) -> None:
    """An operator who sets BOT_POSTING=false to stop the local bot (or true to start it) gets what
    they meant; before, both read as an unreadable switch and nothing was posted. On AWS the
    parameter's allowed pattern refuses anything but on|off when it is written
    (tests/infrastructure/test_infra_rules.py); the SSM adapter shares the one reading all the same."""
    client = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("get_parameter", {"Parameter": {"Name": "p", "Value": value, "Type": "String"}})
        assert SsmPostingSwitch(client, "p").posting_enabled() is enabled
    assert EnvironmentPostingSwitch({"BOT_POSTING": value}).posting_enabled() is enabled


@pytest.mark.parametrize("value", ["maybe", "onn", "of", "on off", "2", "-1", "null", "none", "\u200bon"])
def test_anything_else_in_the_switch_fails_safe(value: str) -> None:
    client = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("get_parameter", {"Parameter": {"Name": "p", "Value": value, "Type": "String"}})
        with pytest.raises(PostingSwitchUnreadableError):
            SsmPostingSwitch(client, "p").posting_enabled()
    with pytest.raises(TransientError):
        EnvironmentPostingSwitch({"BOT_POSTING": value}).posting_enabled()


def test_an_ssm_switch_that_says_something_else_fails_safe() -> None:
    client = boto3.client("ssm", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("get_parameter", {"Parameter": {"Name": "p", "Value": "maybe", "Type": "String"}})
        with pytest.raises(PostingSwitchUnreadableError, match="'on' or 'off'"):
            SsmPostingSwitch(client, "p").posting_enabled()


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [({}, True), ({"BOT_POSTING": ""}, True), ({"BOT_POSTING": "on"}, True), ({"BOT_POSTING": "OFF"}, False)],
)
def test_bot_posting_is_on_unless_off(environ: dict[str, str], enabled: bool) -> None:
    assert EnvironmentPostingSwitch(environ).posting_enabled() is enabled


def test_bot_posting_is_read_at_each_call_and_fails_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    switch = EnvironmentPostingSwitch()
    monkeypatch.setenv("BOT_POSTING", "off")
    assert switch.posting_enabled() is False
    monkeypatch.setenv("BOT_POSTING", "on")
    assert switch.posting_enabled() is True
    monkeypatch.setenv("BOT_POSTING", "paused")
    with pytest.raises(TransientError, match="BOT_POSTING"):
        switch.posting_enabled()


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, None), ("on", None), ("off", "Posting: off (BOT_POSTING)"), ("maybe", "Posting: BOT_POSTING: ")],
)
def test_serve_says_at_start_up_when_bot_posting_is_off_or_unreadable(
    value: str | None, shown: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else a SEND_TWEET line on serve's terminal reads as "posted" (found in a review)."""
    from io import StringIO

    from botlocal.layout import LocalLayout
    from botlocal.server import ServeOptions, _announce

    if value is None:
        monkeypatch.delenv("BOT_POSTING", raising=False)
    else:
        monkeypatch.setenv("BOT_POSTING", value)
    out = StringIO()
    _announce(out, ServeOptions(), LocalLayout(tmp_path), ["a_target"])
    posting = [line for line in out.getvalue().splitlines() if line.startswith("Posting:")]
    if shown is None:
        assert posting == []
    else:
        (line,) = posting
        assert line.startswith(shown)
        assert "nothing is posted" in line or "none posted" in line
