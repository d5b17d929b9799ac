"""OutboxPoster and `botctl outbox`: the local dry run of Egress."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from botlocal.cli import main
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.outbox import OutboxPoster, read_outbox
from click.testing import CliRunner

JPEG = b"\xff\xd8\xff\xe0annotated"
PNG = b"\x89PNG\r\n\x1a\nsecond"


def outbox_in(folder: Path) -> OutboxPoster:
    """The outbox as the local runtime builds it in a state folder."""
    layout = LocalLayout(folder)
    return OutboxPoster(layout.outbox, layout.outbox_images)


def test_reply_is_one_json_line_with_its_photos(tmp_path: Path) -> None:
    poster = OutboxPoster(tmp_path / "replies.jsonl", tmp_path / "photos")
    post_id = poster.post_reply(
        "I recognised: Barack Obama", "1879000000000000001", [(JPEG, "image/jpeg"), (PNG, "image/png")]
    )

    assert post_id.isdigit()
    lines = (tmp_path / "replies.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == {"time", "PostId", "ReplyToTweetId", "Text", "Images", "Image"}
    assert record["PostId"] == post_id
    assert record["ReplyToTweetId"] == "1879000000000000001"
    assert record["Text"] == "I recognised: Barack Obama"
    assert datetime.fromisoformat(record["time"]).tzinfo is not None
    first, second = (Path(path) for path in record["Images"])
    assert record["Image"] == str(first)
    assert first == (tmp_path / "photos" / f"{post_id}-1.jpg").resolve()
    assert second.name == f"{post_id}-2.png"
    assert first.read_bytes() == JPEG
    assert second.read_bytes() == PNG
    assert not list((tmp_path / "photos").glob(".*"))  # no temporary file left behind


def test_text_only_reply_has_null_image(tmp_path: Path) -> None:
    poster = outbox_in(tmp_path)
    first = poster.post_reply("Why did the robot cross the road? 🤖", "1", [])
    second = poster.post_reply("Another", "2", [])
    assert first != second
    records = read_outbox(poster.path)
    assert [record["Image"] for record in records] == [None, None]
    assert records[0]["Text"] == "Why did the robot cross the road? 🤖"  # kept as UTF-8, not escaped
    assert "🤖" in poster.path.read_text(encoding="utf-8")


def test_a_torn_line_is_skipped_and_the_next_reply_starts_afresh(tmp_path: Path) -> None:
    path = LocalLayout(tmp_path).outbox
    path.write_text('{"PostId": "1", "Text": "whole"}\n{"PostId": "2", "Te', encoding="utf-8")
    outbox_in(tmp_path).post_reply("after the crash", "3", [])
    assert [record["Text"] for record in read_outbox(path)] == ["whole", "after the crash"]


def test_read_outbox_without_a_file(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "outbox.jsonl") == []


def test_botctl_outbox_table_and_json(tmp_path: Path) -> None:
    poster = outbox_in(tmp_path)
    poster.post_reply("a joke", "111", [])
    poster.post_reply("I recognised: A", "222", [(JPEG, "image/jpeg")])
    runner = CliRunner()

    table = runner.invoke(main, ["outbox", "--local-dir", str(tmp_path)])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["ReplyToTweetId", "Text", "Image", "time"]
    assert "111" in lines[2] and "a joke" in lines[2] and "NULL" in lines[2]
    assert "222" in lines[3] and str(poster.images_dir) in lines[3]
    assert lines[-1] == "(2 rows)"

    as_json = runner.invoke(main, ["outbox", "--format", "json"], env={"BOT_LOCAL_DIR": str(tmp_path)})
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.output)
    assert [record["ReplyToTweetId"] for record in records] == ["111", "222"]
    assert records[0]["Image"] is None
    assert Path(records[1]["Image"]).is_file()


def test_botctl_outbox_empty(tmp_path: Path) -> None:
    Journal(LocalLayout(tmp_path).journal).close()  # a state folder `botctl serve` started in
    result = CliRunner().invoke(main, ["outbox", "--local-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "(0 rows)"
    assert (
        json.loads(CliRunner().invoke(main, ["outbox", "--format", "json", "--local-dir", str(tmp_path)]).output) == []
    )


def test_the_same_reply_to_the_same_post_is_refused_as_x_refuses_duplicates(tmp_path: Path) -> None:
    import pytest
    from chalicelib.ports import DuplicateContentError

    poster = outbox_in(tmp_path)
    poster.post_reply("Here is a joke", "1879000000000000001", [])
    with pytest.raises(DuplicateContentError):
        poster.post_reply("Here is a joke", "1879000000000000001", [])
    # ...also from a new process (after a crash), which reads the outbox afresh.
    with pytest.raises(DuplicateContentError):
        outbox_in(tmp_path).post_reply("Here is a joke", "1879000000000000001", [])
    # Another text, or another post, is a new reply.
    outbox_in(tmp_path).post_reply("Another joke", "1879000000000000001", [])
    outbox_in(tmp_path).post_reply("Here is a joke", "1879000000000000002", [])
    assert len(read_outbox(LocalLayout(tmp_path).outbox)) == 3


def test_a_crash_between_the_reply_and_its_record_never_posts_twice(tmp_path: Path) -> None:
    """The window issue 8 found: the reply is written, the process dies before Egress records it;
    the event is retried, dead-lettered and redriven once the in-progress record lapsed."""
    from botlocal.idempotency import local_idempotency
    from chalicelib.contracts.replies import SendTweet
    from chalicelib.egress.service import DUPLICATE, EgressService

    from tests.fakes import MemoryMediaStore

    layout = LocalLayout(tmp_path)
    reply = SendTweet("@alice Here is a joke", "1879000000000000001", "42", [])
    # The crash: the reply is in the outbox, no idempotency record says so.
    outbox_in(tmp_path).post_reply(reply.text, reply.reply_to_tweet_id, [])
    # The redrive, in a new process: a new poster and a fresh idempotency store.
    egress = EgressService(
        poster=outbox_in(tmp_path), media=MemoryMediaStore(), idempotency=local_idempotency(layout.idempotency)
    )
    assert egress.send(reply) == DUPLICATE
    assert len(read_outbox(layout.outbox)) == 1
