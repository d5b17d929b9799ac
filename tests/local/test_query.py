"""Athena SQL on the local data lake: the Glue table's columns, and the sample queries unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botlocal.datalake import LocalDataLake
from botlocal.layout import LocalLayout
from botlocal.query import QueryError, duckdb_type, run_query, to_jsonable
from chalicelib.contracts.datalake import COLUMNS, PARTITION_COLUMN, TABLE_NAME
from chalicelib.contracts.queries import SAMPLE_QUERIES

TABLE = f'"{TABLE_NAME}"'
QUERIES = {query.name: query.sql for query in SAMPLE_QUERIES}


def received(text: str, author: str, tweet_id: str, hour: int, images: list[str] | None = None) -> dict[str, Any]:
    from tests.local.conftest import make_envelope

    detail = {
        "Text": text,
        "Author": author,
        "Lang": "en",
        "ImageUrls": images or [],
        "Twitter": {"TweetId": tweet_id, "UserId": "42", "ConversationId": tweet_id},
    }
    return make_envelope("MESSAGE_RECEIVED", detail, time=datetime(2024, 5, 1, hour, 30, tzinfo=UTC))


@pytest.fixture
def lake(local_dir: Path) -> Callable[[dict[str, Any]], None]:
    writer = LocalDataLake(LocalLayout(local_dir).datalake)

    def append(envelope: dict[str, Any]) -> None:
        writer.append(envelope)

    return append


@pytest.fixture
def populated(local_dir: Path, lake: Callable[[dict[str, Any]], None], envelope: Callable[..., Any]) -> Path:
    lake(received("first", "alice", "1001", hour=9, images=["https://a/1.jpg", "https://a/2.jpg"]))
    lake(received("second", "bob", "1002", hour=11))
    lake(envelope("TWITTER_FOLLOWED", {"type": "follow", "for_user_id": "42"}))
    lake(envelope("TWITTER_FOLLOWED", {"type": "follow", "for_user_id": "42"}))
    lake(envelope("TWITTER_FOLLOWED", {"type": "follow", "for_user_id": "42"}))
    analysed = {
        "Text": "first",
        "HasImages": True,
        "Analysis": {
            "TextSentiment": "NEGATIVE",
            "SentimentScore": {"Positive": 0.1, "Negative": 0.8, "Neutral": 0.1, "Mixed": 0.0},
            "Images": [{"Key": "k1", "Analysis": {"Labels": [{"Name": "Cat", "Confidence": 99.5, "Parents": []}]}}],
        },
    }
    lake(envelope("MESSAGE_ANALYSED", analysed, source="xbot.analysis"))
    return local_dir


def test_the_table_has_the_glue_columns_and_types_plus_dt(populated: Path) -> None:
    _, rows = run_query(f"DESCRIBE {TABLE}", populated)
    described = [(row[0], row[1]) for row in rows]
    # DuckDB's own spelling of each rendered type (it quotes struct fields only where needed).
    canonical = ", ".join(f"typeof(CAST(NULL AS {duckdb_type(hive)}))" for _, hive in COLUMNS)
    (types,) = run_query(f"SELECT {canonical}", populated)[1]
    expected = [(name, type_) for (name, _), type_ in zip(COLUMNS, types, strict=True)]
    assert described == [*expected, (PARTITION_COLUMN, "VARCHAR")]
    assert "STRUCT(" in dict(described)["detail"]
    # The empty lake's table is typed the same.
    _, empty_rows = run_query(f"DESCRIBE {TABLE}", populated / "nowhere")
    assert [(row[0], row[1]) for row in empty_rows] == described


def test_an_empty_lake_is_an_empty_table(local_dir: Path) -> None:
    columns, rows = run_query(f"SELECT * FROM {TABLE}", local_dir)
    assert columns == [name for name, _ in COLUMNS] + [PARTITION_COLUMN]
    assert rows == []
    for query in SAMPLE_QUERIES:
        assert run_query(query.sql, local_dir)[1] == []


def test_events_by_type(populated: Path) -> None:
    columns, rows = run_query(QUERIES["events-by-type"], populated)
    assert columns == ["detail_type", "events"]
    assert rows[0] == ("TWITTER_FOLLOWED", 3)
    assert sorted(rows[1:]) == [("MESSAGE_ANALYSED", 1), ("MESSAGE_RECEIVED", 2)]


def test_messages_received_reads_case_insensitive_struct_fields(populated: Path) -> None:
    columns, rows = run_query(QUERIES["messages-received"], populated)
    assert columns == ["time", "author", "tweet_id", "text"]
    assert rows == [
        ("2024-05-01T11:30:00Z", "bob", "1002", "second"),
        ("2024-05-01T09:30:00Z", "alice", "1001", "first"),
    ]


def test_every_sample_query_runs(populated: Path) -> None:
    for query in SAMPLE_QUERIES:
        run_query(query.sql, populated)


def test_athena_style_unnest_and_the_dt_partition(populated: Path) -> None:
    sql = (
        f"SELECT detail.twitter.tweetid, url, dt FROM {TABLE} CROSS JOIN UNNEST(detail.imageurls) AS t(url) "
        "ORDER BY url"
    )
    assert run_query(sql, populated)[1] == [
        ("1001", "https://a/1.jpg", "2024/05/01/09"),
        ("1001", "https://a/2.jpg", "2024/05/01/09"),
    ]
    labels = (
        f"SELECT img.key, label.name, label.confidence FROM {TABLE} "
        "CROSS JOIN UNNEST(detail.analysis.images) AS t(img) CROSS JOIN UNNEST(img.analysis.labels) AS u(label) "
        "WHERE detail.hasimages AND detail.analysis.textsentiment = 'NEGATIVE'"
    )
    assert run_query(labels, populated)[1] == [("k1", "Cat", 99.5)]
    assert run_query(f"SELECT count(*) FROM {TABLE} WHERE dt = '2024/05/01/11'", populated)[1] == [(1,)]


def test_a_value_of_the_wrong_type_reads_as_null(
    local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]
) -> None:
    lake(envelope("TWITTER_TWEETED", {"Text": "ok", "HasImages": {"not": "a boolean"}, "ImageUrls": "not a list"}))
    assert run_query(f"SELECT detail.text, detail.hasimages, detail.imageurls FROM {TABLE}", local_dir)[1] == [
        ("ok", None, None)
    ]


def test_raw_x_payloads_in_the_lake_do_not_break_queries(
    local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]
) -> None:
    fixtures = Path(__file__).parents[1] / "fixtures" / "x-webhooks"
    delivery = json.loads((fixtures / "tweet_create_events_media_photo.json").read_text(encoding="utf-8"))
    lake(envelope("TWITTER_TWEETED", {**delivery["tweet_create_events"][0], "for_user_id": delivery["for_user_id"]}))
    assert run_query(QUERIES["events-by-type"], local_dir)[1] == [("TWITTER_TWEETED", 1)]


def test_json_keys_match_fields_without_regard_to_case_as_on_athena(
    local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]
) -> None:
    """Glue's SerDe is case-insensitive: a raw post's "text" and "lang" fill detail.text and detail.lang."""
    fixtures = Path(__file__).parents[1] / "fixtures" / "x-webhooks"
    post = json.loads((fixtures / "tweet_create_events_mention_reply.json").read_text(encoding="utf-8"))
    lake(envelope("TWITTER_TWEETED", post["tweet_create_events"][0]))
    lake(envelope("MESSAGE_RECEIVED", {"Text": "upper", "Lang": "en", "Twitter": {"TweetId": "7"}}))
    rows = run_query(f"SELECT detail.text, detail.lang, detail.twitter.tweetid FROM {TABLE} ORDER BY 1", local_dir)[1]
    assert rows == [("@Learn_Awesome Save this", "en", None), ("upper", "en", "7")]


def test_a_torn_line_is_skipped(local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]) -> None:
    lake(envelope())
    (path,) = LocalLayout(local_dir).datalake.glob("*/*/*/*/*.jsonl")
    with path.open("a") as file:
        file.write('{"version": "0", "id": "tor')
    assert run_query(f"SELECT count(*) FROM {TABLE}", local_dir)[1] == [(1,)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", "syntax error"),
        (f"SELECT nope FROM {TABLE}", "nope"),
        ('SELECT * FROM "no-such-table"', "no-such-table"),
    ],
)
def test_bad_sql_raises_a_query_error(local_dir: Path, sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        run_query(sql, local_dir)


def test_duckdb_types_from_hive_types() -> None:
    assert duckdb_type("string") == "VARCHAR"
    assert duckdb_type("int") == "INTEGER"
    assert duckdb_type(["double"]) == "DOUBLE[]"
    assert duckdb_type({"A": "boolean", "b": [{"C": "string"}]}) == 'STRUCT("a" BOOLEAN, "b" STRUCT("c" VARCHAR)[])'
    with pytest.raises(ValueError, match="no DuckDB type"):
        duckdb_type("map<string,string>")


def test_to_jsonable() -> None:
    from decimal import Decimal

    value = {"a": [Decimal("1.5"), datetime(2024, 1, 2, tzinfo=UTC), b"x", (1, None)]}
    assert to_jsonable(value) == {"a": ["1.5", "2024-01-02T00:00:00+00:00", "x", [1, None]]}
    json.dumps(to_jsonable(value))


def test_analysis_queries_on_a_real_message_analysed(
    local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]
) -> None:
    """The README's analysis queries, on the exact detail the workflow publishes."""
    from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
    from chalicelib.contracts.messages import MessageReceived, TwitterRef

    face = {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.0}
    analysed = MessageAnalysed(
        message=MessageReceived(
            "look who it is", "alice", "en", TwitterRef("7", "42"), ["https://pbs.twimg.com/a.jpg"]
        ),
        text=TextAnalysis("POSITIVE", {"Positive": 0.9, "Negative": 0.0, "Neutral": 0.1, "Mixed": 0.0}, language="en"),
        images=[
            ImageResult(
                url="https://pbs.twimg.com/a.jpg",
                key="2026/11/29/a.jpg",
                analysis=ImageAnalysis(
                    labels=[{"Name": "Person", "Confidence": 98.0, "Parents": []}],
                    celebrity_faces=[
                        {"Name": "Barack Obama", "Id": "b", "Urls": [], "MatchConfidence": 97.5, "Face": face}
                    ],
                    unrecognized_faces=[face],
                ),
            ),
            ImageResult(url="https://pbs.twimg.com/b.jpg", error="404 not found"),
        ],
    )
    lake(envelope("MESSAGE_ANALYSED", analysed.to_detail(), source="xbot.analysis"))
    lake(envelope("MESSAGE_RECEIVED", {"Text": "not analysed"}))
    assert run_query(QUERIES["celebrities-found"], local_dir)[1] == [
        ("2024-05-01T13:04:05Z", "alice", "Barack Obama", 97.5)
    ]
    assert run_query(QUERIES["image-labels"], local_dir)[1] == [("look who it is", "Person", 98.0)]
    assert run_query(QUERIES["positive-posts"], local_dir)[1] == [
        ("2024-05-01T13:04:05Z", "alice", "look who it is", 0.9)
    ]


def test_skipped_messages_say_why_a_post_got_no_answer(
    local_dir: Path, lake: Callable[..., None], envelope: Callable[..., Any]
) -> None:
    """`botctl query skipped-messages`: the outcome events, written by their contracts."""
    from chalicelib.contracts.messages import TwitterRef
    from chalicelib.contracts.outcomes import AUTHOR_LIMIT, OWN_POST, MessageSkipped, ReplyPosted, ReplySkipped

    at = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    own = MessageSkipped(TwitterRef("2001", "1111", None, "1111", "2000"), "xbot", OWN_POST)
    limited = ReplySkipped(TwitterRef("2002", "42", "2000"), "mallory", AUTHOR_LIMIT)
    lake(envelope("MESSAGE_SKIPPED", own.to_detail(), time=at))
    lake(envelope("REPLY_SKIPPED", limited.to_detail(), source="xbot.responding", time=at.replace(hour=10)))
    posted = ReplyPosted("2003", "42", "2004", latency_ms=1_250)
    lake(envelope("REPLY_POSTED", posted.to_detail(), source="xbot.egress", time=at.replace(hour=11)))

    columns, rows = run_query(QUERIES["skipped-messages"], local_dir)
    assert columns == ["time", "detail_type", "tweet_id", "user_id", "author", "conversation_id", "reason"]
    assert [row[1:] for row in rows] == [
        ("REPLY_SKIPPED", "2002", "42", "mallory", "2000", "author limit"),
        ("MESSAGE_SKIPPED", "2001", "1111", "xbot", None, "own post"),
    ]
    assert [row[1:] for row in run_query(QUERIES["replies-posted"], local_dir)[1]] == [("2003", "2004", 1250)]
