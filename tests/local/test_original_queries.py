"""The original project's three Athena queries, pasted unchanged into `botctl query` (issue 9, section 6).

They filter on "detail-type" (the envelope's key, which the original table used as its column name);
the table keeps detail_type and also answers "detail-type". The lake is filled as the runtime fills
it: envelopes of the details the services publish (chalicelib.contracts), appended by the local
Firehose stand-in, across two hours.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botlocal.cli import main
from botlocal.datalake import LocalDataLake
from botlocal.layout import LocalLayout
from botlocal.query import run_query
from chalicelib.contracts import names
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.datalake import ORIGINAL_DETAIL_TYPE_COLUMN, TABLE_NAME
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from click.testing import CliRunner

REPOSITORY = Path(__file__).parents[2]
#: The committed copy (see its SOURCES.md), and the original it was copied from where it is checked out.
COMMITTED = REPOSITORY / "tests" / "fixtures" / "original-project" / "athena-queries.sql"
ORIGINAL = REPOSITORY.parent / "shared" / "original-project" / "athena-queries.sql"


def _queries() -> dict[str, str]:
    """Each query of the file as written, from SELECT to its semicolon, by the title of the comment
    above it ("Select all ...")."""
    text = (ORIGINAL if ORIGINAL.is_file() else COMMITTED).read_text(encoding="utf-8")
    # A title comment, then the statement's lines up to the one ending with a semicolon (the header's
    # prose has a semicolon mid-line, and no SELECT).
    found = re.findall(r"^-- (Select all .+)\n(SELECT\b(?:.*\n)*?.*;)[ \t]*$", text, flags=re.MULTILINE)
    return dict(found)


QUERIES = _queries()
CELEBRITIES, LABELS, POSITIVE = "Select all Celebrities", "Select all Image Labels", "Select all Positive Text"

AT_NINE = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
AT_ELEVEN = datetime(2026, 11, 30, 11, 40, tzinfo=UTC)
AT_NOON = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
FACE = {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.0}


def _celebrity(name: str) -> dict[str, Any]:
    return {"Name": name, "Id": name.lower().replace(" ", "-"), "Urls": [], "MatchConfidence": 98.0, "Face": FACE}


def _label(name: str) -> dict[str, Any]:
    return {"Name": name, "Confidence": 95.0, "Parents": []}


def _scores(positive: float, negative: float) -> dict[str, float]:
    return {"Positive": positive, "Negative": negative, "Neutral": 1 - positive - negative, "Mixed": 0.0}


def _message(text: str, author: str, tweet_id: str, photos: int) -> MessageReceived:
    urls = [f"https://pbs.twimg.com/media/{tweet_id}-{index}.jpg" for index in range(photos)]
    return MessageReceived(text, author, "en", TwitterRef(tweet_id, f"u-{author}", tweet_id), urls)


def _scenario(local_dir: Path) -> None:
    """Alice posts two photos (a celebrity and a cat) and is pleased; Bob posts a celebrity and is
    not; Carol is pleased without a photo. Each post is received, then analysed (one photo could
    not be fetched); the bot's reply to Alice is recorded too."""
    alice = _message("Look who I met, and my cat! Best day ever", "alice", "1001", photos=2)
    bob = _message("This rocket launch was a terrible disappointment", "bob", "1002", photos=1)
    carol = _message("What a lovely bot, thank you", "carol", "1003", photos=0)
    analysed = [
        MessageAnalysed(
            alice,
            TextAnalysis("POSITIVE", _scores(0.97, 0.01), language="en"),
            [
                ImageResult(
                    alice.image_urls[0],
                    key="media/1001-0.jpg",
                    analysis=ImageAnalysis(
                        labels=[_label("Person"), _label("Face")], celebrity_faces=[_celebrity("Barack Obama")]
                    ),
                ),
                ImageResult(
                    alice.image_urls[1],
                    key="media/1001-1.jpg",
                    analysis=ImageAnalysis(labels=[_label("Cat")], unrecognized_faces=[]),
                ),
            ],
        ),
        MessageAnalysed(
            bob,
            TextAnalysis("NEGATIVE", _scores(0.02, 0.95), language="en"),
            [
                ImageResult(
                    bob.image_urls[0],
                    key="media/1002-0.jpg",
                    analysis=ImageAnalysis(labels=[_label("Rocket")], celebrity_faces=[_celebrity("Eileen Collins")]),
                )
            ],
        ),
        MessageAnalysed(carol, TextAnalysis("POSITIVE", _scores(0.9, 0.0), language="en"), []),
    ]
    received_at = {"1001": AT_NINE, "1002": AT_ELEVEN, "1003": AT_NOON}
    lake = LocalDataLake(LocalLayout(local_dir).datalake)

    def publish(source: str, detail_type: str, detail: dict[str, Any], at: datetime) -> None:
        lake.append(BusEvent(source, detail_type, detail).to_envelope(account="000000000000", region="local", time=at))

    for result in analysed:
        at = received_at[result.message.twitter.tweet_id]
        publish("xbot.ingress", names.MESSAGE_RECEIVED, result.message.to_detail(), at)
        publish("xbot.analysis", names.MESSAGE_ANALYSED, result.to_detail(), at.replace(minute=at.minute + 1))
    reply = {"ReplyToTweetId": "1001", "ReplyToUserId": "u-alice", "Text": "@alice I recognised: Barack Obama"}
    publish("xbot.responding", names.SEND_TWEET, reply, AT_NINE.replace(minute=20))


@pytest.fixture
def scenario(local_dir: Path) -> Path:
    _scenario(local_dir)
    return local_dir


def _botctl_query(sql: str, local_dir: Path) -> list[dict[str, Any]]:
    """`botctl query` as a person runs it with a query pasted from the original README."""
    result = CliRunner().invoke(
        main, ["query", sql, "--format", "json", "--local-dir", str(local_dir)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def test_the_committed_copy_is_the_original_projects_file() -> None:
    if not ORIGINAL.is_file():
        pytest.skip(f"{ORIGINAL} is not checked out here; the committed copy is used")
    assert COMMITTED.read_bytes() == ORIGINAL.read_bytes()


def test_the_file_holds_three_queries_that_filter_on_the_hyphenated_column() -> None:
    assert list(QUERIES) == [CELEBRITIES, LABELS, POSITIVE]
    # Nothing of the file is left out but comments and blank lines.
    rest = (ORIGINAL if ORIGINAL.is_file() else COMMITTED).read_text(encoding="utf-8")
    for sql in QUERIES.values():
        rest = rest.replace(sql, "")
    assert all(line.startswith("--") or not line.strip() for line in rest.splitlines())
    for sql in QUERIES.values():
        assert f"WHERE \"{ORIGINAL_DETAIL_TYPE_COLUMN}\" = 'MESSAGE_ANALYSED'" in sql
        assert f'FROM "{TABLE_NAME}"' in sql


def test_select_all_celebrities(scenario: Path) -> None:
    assert _botctl_query(QUERIES[CELEBRITIES], scenario) == [
        {"time": "2026-11-30T11:41:00Z", "author": "bob", "name": "Eileen Collins"},
        {"time": "2026-11-30T09:16:00Z", "author": "alice", "name": "Barack Obama"},
    ]


def test_a_query_pasted_with_its_comment_line_runs(scenario: Path) -> None:
    # The original README shows each query under its "-- Select all ..." line; pasted together, the
    # argument starts with "--", which the command must take as SQL, not as an unknown option.
    pasted = f"-- {CELEBRITIES}\n{QUERIES[CELEBRITIES]}"
    assert _botctl_query(pasted, scenario) == _botctl_query(QUERIES[CELEBRITIES], scenario)


def test_two_queries_pasted_at_once_are_one_clear_error_not_the_last_ones_rows(scenario: Path) -> None:
    # DuckDB ran both and printed only the second's rows (exit 0); Athena refuses more than one.
    pasted = f"-- {CELEBRITIES}\n{QUERIES[CELEBRITIES]}\n\n-- {LABELS}\n{QUERIES[LABELS]}"
    result = CliRunner().invoke(main, ["query", pasted, "--local-dir", str(scenario)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        "Error: 2 SQL statements given: Athena runs one per query; run them one at a time"
    ]


def test_the_whole_file_pasted_names_how_many_statements(scenario: Path) -> None:
    text = (ORIGINAL if ORIGINAL.is_file() else COMMITTED).read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["query", text, "--local-dir", str(scenario)])
    assert result.exit_code == 1 and f"Error: {len(QUERIES)} SQL statements given" in result.output


def test_select_all_image_labels(scenario: Path) -> None:
    rows = _botctl_query(QUERIES[LABELS], scenario)
    alice = "Look who I met, and my cat! Best day ever"
    bob = "This rocket launch was a terrible disappointment"
    # Newest first; the labels of one post share its time, so their order among themselves is free.
    assert [row["time"] for row in rows] == ["2026-11-30T11:41:00Z"] + ["2026-11-30T09:16:00Z"] * 3
    assert rows[0] == {"time": "2026-11-30T11:41:00Z", "author": "bob", "text": bob, "name": "Rocket"}
    assert sorted(row["name"] for row in rows[1:]) == ["Cat", "Face", "Person"]
    assert {(row["author"], row["text"]) for row in rows[1:]} == {("alice", alice)}


def test_select_all_positive_text(scenario: Path) -> None:
    # One row per photo of each positive post (the query unnests the photos): Alice's two, and none
    # for Carol, who sent no photo; Bob's post is negative.
    text = "Look who I met, and my cat! Best day ever"
    assert (
        _botctl_query(QUERIES[POSITIVE], scenario)
        == [{"time": "2026-11-30T09:16:00Z", "author": "alice", "textsentiment": "POSITIVE", "text": text}] * 2
    )


def test_both_columns_hold_the_envelopes_detail_type(scenario: Path) -> None:
    table = f'"{TABLE_NAME}"'
    _, rows = run_query(
        f'SELECT detail_type, "{ORIGINAL_DETAIL_TYPE_COLUMN}", count(*) FROM {table} GROUP BY 1, 2 ORDER BY 1',
        scenario,
    )
    assert rows == [
        (names.MESSAGE_ANALYSED, names.MESSAGE_ANALYSED, 3),
        (names.MESSAGE_RECEIVED, names.MESSAGE_RECEIVED, 3),
        (names.SEND_TWEET, names.SEND_TWEET, 1),
    ]


def test_the_queries_run_on_an_empty_lake(local_dir: Path) -> None:
    for sql in QUERIES.values():
        assert run_query(sql, local_dir)[1] == []
