"""Every event contract survives the bus, and every key it writes is a column of the data lake.

The contracts are registered once, in CONTRACTS, by detail-type. The tests are parametrized over
names.DOMAIN_DETAIL_TYPES, not over CONTRACTS, so a detail-type added to the names module without a
contract here fails them; adding one is one entry (its source, its parser, examples, a strategy).

A round trip goes the way an event travels: to_detail -> EventPublisher's PutEvents entry -> the
envelope a rule target receives (as JSON) -> BusEvent.from_envelope -> from_detail, and must give
back an equal value. The lake test walks what to_detail writes against the table's schema in
contracts/datalake.py as Glue and DuckDB read it: names without regard to case, structs field by
field, arrays element by element, scalars of a compatible type. A key the table lacks is silently
dropped by Athena's JSON SerDe, so nobody could ever query it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest
from chalicelib.contracts import datalake, names
from chalicelib.contracts.analysis import (
    SENTIMENTS,
    AnalysisFailed,
    ImageAnalysis,
    ImageResult,
    MessageAnalysed,
    TextAnalysis,
)
from chalicelib.contracts.datalake import HiveType
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.envelope import ENVELOPE_KEYS, BusEvent
from chalicelib.contracts.messages import DirectMessageRef, MessageReceived, TwitterRef, one_to_one_id
from chalicelib.contracts.outcomes import (
    ACCESS_REVOKED,
    AUTHOR_LIMIT,
    CHAIN_DEPTH,
    DELETION_REASONS,
    OWN_POST,
    POST_DELETED,
    SKIP_REASONS,
    DirectMessagePosted,
    MediaDeleted,
    MessageSkipped,
    ReplyPosted,
    ReplySkipped,
    reply_posted_from_detail,
)
from chalicelib.contracts.replies import MAX_REPLY_IMAGES, PhotoModeration, SendTweet
from chalicelib.publishing import MAX_BYTES, EventPublisher, RetryPolicy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import MemoryPayloadStore, RecordingBus

ACCOUNT = "123456789012"
REGION = "eu-west-1"
#: Few examples per test: the strategies are small and the contracts plain; CI time matters.
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Event(Protocol):
    def to_detail(self) -> dict[str, Any]: ...


# --- The table's schema, as values -----------------------------------------------------------------


def at(hive: HiveType, *path: str) -> HiveType:
    """The type at `path` in a schema: a field name descends into a struct, "[]" into an array."""
    for step in path:
        if step == "[]":
            assert isinstance(hive, list), f"{step} on {hive!r}"
            (hive,) = hive
        else:
            assert isinstance(hive, dict), f"{step} on {hive!r}"
            hive = hive[step]
    return hive


#: The table as JSON keys (the envelope's, "detail-type" included) to column types.
TABLE: HiveType = {datalake.JSON_KEY_OF_COLUMN.get(name, name): hive for name, hive in datalake.COLUMNS}
DETAIL = at(TABLE, "detail")

_SCALARS: dict[str, tuple[Callable[[Any], bool], st.SearchStrategy[Any]]] = {
    "string": (lambda v: isinstance(v, str), st.text(max_size=12)),
    "double": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), st.integers(-(2**31), 2**31 - 1)),
    "bigint": (lambda v: isinstance(v, int) and not isinstance(v, bool), st.integers(-(2**63), 2**63 - 1)),
    "boolean": (lambda v: isinstance(v, bool), st.booleans()),
}


def unqueryable(value: Any, hive: HiveType, path: str = "") -> list[str]:
    """Where `value` does not fit the schema `hive`: keys without a column, values of another shape."""
    if value is None:
        return []
    if isinstance(hive, dict):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where the table has a struct"]
        fields = {name.lower(): inner for name, inner in hive.items()}
        problems: list[str] = []
        for key, inner_value in value.items():
            inner = fields.get(key.lower())
            if inner is None:
                problems.append(f"{path}.{key}: no such column")
            else:
                problems += unqueryable(inner_value, inner, f"{path}.{key}")
        return problems
    if isinstance(hive, list):
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where the table has an array"]
        return [problem for i, item in enumerate(value) for problem in unqueryable(item, hive[0], f"{path}[{i}]")]
    fits, _ = _SCALARS[hive]
    return [] if fits(value) else [f"{path}: {value!r} is not a {hive}"]


def conforming(hive: HiveType) -> st.SearchStrategy[Any]:
    """Values the table can hold: what the adapters write into records (Rekognition's, Comprehend's)."""
    if isinstance(hive, str):
        return _SCALARS[hive][1]
    if isinstance(hive, list):
        return st.lists(conforming(hive[0]), max_size=3)
    return st.fixed_dictionaries({}, optional={name: st.none() | conforming(inner) for name, inner in hive.items()})


def records(*path: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(conforming(at(DETAIL, *path, "[]")), max_size=3)


# --- Strategies for each contract ------------------------------------------------------------------

#: Ids are strings: X's are larger than 2^53.
ids = st.integers(0, 2**64).map(str)
urls = st.builds("https://pbs.twimg.com/media/{}.jpg".format, st.text(min_size=1, max_size=12))
media_keys = st.builds("users/{}/posts/{}/{}{}.jpg".format, ids, ids, st.sampled_from(["", "annotated/"]), st.uuids())
twitter_refs = st.builds(
    TwitterRef,
    tweet_id=ids,
    user_id=ids,
    conversation_id=st.none() | ids,
    in_reply_to_user_id=st.none() | ids,
    in_reply_to_tweet_id=st.none() | ids,
)
received_at = st.none() | st.integers(0, 2**53)
received = st.builds(
    MessageReceived,
    text=st.text(),
    # An empty screen name reads back as None (no author): there is no one to address.
    author=st.none() | st.text(min_size=1, max_size=15),
    lang=st.none() | st.sampled_from(["en", "fr", "und", "ja"]),
    twitter=twitter_refs,
    image_urls=st.lists(urls, max_size=4),
    received_at_ms=received_at,
)
dm_refs = st.builds(
    lambda event, sender, recipient: DirectMessageRef(event, sender, recipient, one_to_one_id(sender, recipient)),
    ids,
    ids,
    ids,
)
#: Direct messages (issue 10): Channel DM and DirectMessage instead of Twitter, never photos.
dm_received = st.builds(
    MessageReceived.direct,
    text=st.text(),
    author=st.none() | st.text(min_size=1, max_size=15),
    lang=st.none() | st.sampled_from(["en", "fr"]),
    direct_message=dm_refs,
    received_at_ms=received_at,
)
dm_answers = st.builds(
    SendDirectMessage, text=st.text(min_size=1, max_size=280), answering=dm_refs, received_at_ms=received_at
)
image_analyses = st.builds(
    ImageAnalysis,
    labels=records("Analysis", "Images", "[]", "Analysis", "Labels"),
    text_detections=records("Analysis", "Images", "[]", "Analysis", "TextDetections"),
    celebrity_faces=records("Analysis", "Images", "[]", "Analysis", "CelebrityFaces"),
    unrecognized_faces=records("Analysis", "Images", "[]", "Analysis", "UnrecognizedFaces"),
)
image_results = st.builds(
    ImageResult,
    url=urls,
    key=st.none() | media_keys,
    error=st.none() | st.text(min_size=1),
    analysis=st.none() | image_analyses,
)
score = st.floats(0.0, 1.0)
text_analyses = st.builds(
    TextAnalysis,
    sentiment=st.none() | st.sampled_from(SENTIMENTS),
    sentiment_score=st.none() | st.fixed_dictionaries({k: score for k in ("Positive", "Negative", "Neutral", "Mixed")}),
    entities=records("Analysis", "TextEntities"),
    key_phrases=records("Analysis", "KeyPhrases"),
    language=st.none() | st.sampled_from(["en", "fr", "de"]),
)
analysed = st.builds(MessageAnalysed, message=received, text=text_analyses, images=st.lists(image_results, max_size=4))
failed = st.builds(
    AnalysisFailed,
    text=st.text(),
    author=st.none() | st.text(max_size=15),
    twitter=st.none() | twitter_refs,
    reason=st.text(min_size=1),
)
replies = st.builds(
    SendTweet,
    text=st.text(min_size=1, max_size=280),
    reply_to_tweet_id=ids,
    reply_to_user_id=ids,
    image_keys=st.lists(media_keys, max_size=MAX_REPLY_IMAGES),
    received_at_ms=received_at,
    moderation=st.none()
    | st.builds(
        PhotoModeration,
        checked=st.integers(0, MAX_REPLY_IMAGES),
        unsafe=st.integers(0, MAX_REPLY_IMAGES),
        failed=st.integers(0, MAX_REPLY_IMAGES),
        withheld=st.integers(0, MAX_REPLY_IMAGES),
        categories=st.lists(st.text(min_size=1, max_size=40), max_size=3).map(tuple),
        checker=st.text(max_size=30),
    ),
)
posted = st.builds(
    ReplyPosted,
    reply_to_tweet_id=ids,
    reply_to_user_id=ids,
    posted_tweet_id=ids,
    latency_ms=st.none() | st.integers(0, 2**40),
)
reasons = st.sampled_from(SKIP_REASONS) | st.text(min_size=1, max_size=40)
message_skips = st.builds(
    MessageSkipped, twitter=twitter_refs, author=st.none() | st.text(min_size=1, max_size=15), reason=reasons
)
reply_skips = st.builds(
    ReplySkipped, twitter=twitter_refs, author=st.none() | st.text(min_size=1, max_size=15), reason=reasons
)
media_deletions = st.builds(
    MediaDeleted,
    user_id=ids,
    tweet_id=st.none() | ids,
    reason=st.sampled_from(DELETION_REASONS),
    deleted_count=st.integers(0, 2**40),
)


# --- Realistic examples: every optional part present, and absent -----------------------------------

TWITTER = TwitterRef(tweet_id="1900000000000000001", user_id="1850000000000000002", conversation_id="1899999999999")
REPLY_TO_BOT = TwitterRef("1900000000000000003", "1850000000000000002", None, "1111", "1900000000000000002")
PHOTO = "https://pbs.twimg.com/media/GdXyZ1.jpg"
BOX = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}
FACE = {"BoundingBox": BOX, "Confidence": 99.9}
FULL_MESSAGE = MessageReceived(
    "@xbot who is this?", "alice", "en", TWITTER, [PHOTO, PHOTO + "?name=large"], received_at_ms=1_764_700_000_000
)
BARE_MESSAGE = MessageReceived("@xbot hi", None, None, TwitterRef("7", "42"))
DM_REF = DirectMessageRef("1247299084244979717", "1693649419", "42", "42-1693649419")
DM_MESSAGE = MessageReceived.direct(
    text="Hello World!", author="tweetinvitest", lang=None, direct_message=DM_REF, received_at_ms=1_764_700_000_000
)
PHOTO_ANALYSIS = ImageAnalysis(
    labels=[{"Name": "Person", "Confidence": 98.1, "Parents": [{"Name": "Human"}]}],
    text_detections=[
        {"DetectedText": "OPEN", "Type": "LINE", "Id": 0, "Confidence": 97.0, "Geometry": {"BoundingBox": BOX}},
        {"DetectedText": "OPEN", "Type": "WORD", "Id": 1, "ParentId": 0, "Confidence": 97.0},
    ],
    celebrity_faces=[
        {"Name": "Ada Lovelace", "Id": "1a2b", "Urls": ["www.wikidata.org/wiki/Q7259"], "MatchConfidence": 97.5}
        | {"Face": FACE}
    ],
    unrecognized_faces=[FACE],
)
TEXT_ANALYSIS = TextAnalysis(
    sentiment="NEGATIVE",
    sentiment_score={"Positive": 0.01, "Negative": 0.93, "Neutral": 0.05, "Mixed": 0.01},
    entities=[{"Text": "xbot", "Type": "ORGANIZATION", "Score": 0.9, "BeginOffset": 1, "EndOffset": 5}],
    key_phrases=[{"Text": "this", "Score": 0.8, "BeginOffset": 10, "EndOffset": 14}],
    language="en",
)


@dataclass(frozen=True)
class Contract:
    """One event contract: who publishes it, how it is read back, and values to try it with."""

    source: str
    parse: Callable[[dict[str, Any]], Event]
    examples: tuple[Event, ...]
    values: st.SearchStrategy[Any]


#: Every domain event, by detail-type. A new detail-type in names.DOMAIN_DETAIL_TYPES needs an entry.
CONTRACTS: dict[str, Contract] = {
    names.MESSAGE_RECEIVED: Contract(
        names.SOURCE_INGRESS,
        MessageReceived.from_detail,
        (FULL_MESSAGE, BARE_MESSAGE, DM_MESSAGE),
        received | dm_received,
    ),
    names.MESSAGE_ANALYSED: Contract(
        names.SOURCE_ANALYSIS,
        MessageAnalysed.from_detail,
        (
            MessageAnalysed(
                FULL_MESSAGE,
                TEXT_ANALYSIS,
                [ImageResult(PHOTO, "2026/11/29/a.jpg", analysis=PHOTO_ANALYSIS), ImageResult(PHOTO, error="404")],
            ),
            MessageAnalysed(BARE_MESSAGE, TextAnalysis()),
            MessageAnalysed(DM_MESSAGE, TEXT_ANALYSIS),
        ),
        analysed | st.builds(MessageAnalysed, message=dm_received, text=text_analyses),
    ),
    names.MESSAGE_ANALYSIS_FAILED: Contract(
        names.SOURCE_ANALYSIS,
        AnalysisFailed.from_detail,
        (
            AnalysisFailed("@xbot hi", "alice", TWITTER, "ValueError: model exploded"),
            AnalysisFailed("", None, None, "States.Timeout"),
        ),
        failed,
    ),
    names.SEND_TWEET: Contract(
        names.SOURCE_RESPONDING,
        SendTweet.from_detail,
        (
            SendTweet("@alice I recognised: Ada Lovelace", "1900", "42", ["annotated/a.jpg", "annotated/b.jpg"]),
            SendTweet("@alice here is a joke", "1900", "42"),
            SendTweet("@alice another joke", "1901", "42", received_at_ms=1_764_700_000_000),
            SendTweet(
                "@alice I recognised: Ada Lovelace",
                "1902",
                "42",
                moderation=PhotoModeration(
                    checked=1, unsafe=1, withheld=1, categories=("Violence",), checker="rekognition"
                ),
            ),
        ),
        replies,
    ),
    names.SEND_DM: Contract(
        names.SOURCE_RESPONDING,
        SendDirectMessage.from_detail,
        (SendDirectMessage("hi there", DM_REF), SendDirectMessage("a joke", DM_REF, received_at_ms=1_764_700_000_000)),
        dm_answers,
    ),
    names.REPLY_POSTED: Contract(
        names.SOURCE_EGRESS,
        reply_posted_from_detail,
        (
            ReplyPosted("1900", "42", "1901", latency_ms=2_350),
            ReplyPosted("1900", "42", "1901"),
            DirectMessagePosted(DM_REF, "1247299084244979800", latency_ms=1_200),
        ),
        posted | st.builds(DirectMessagePosted, answering=dm_refs, posted_dm_event_id=ids, latency_ms=received_at),
    ),
    names.MESSAGE_SKIPPED: Contract(
        names.SOURCE_INGRESS,
        MessageSkipped.from_detail,
        (
            MessageSkipped(REPLY_TO_BOT, "xbot", OWN_POST),
            MessageSkipped(TwitterRef("7", "42"), None, OWN_POST),
            MessageSkipped(DM_REF.as_twitter(), "xbot", OWN_POST, direct_message=DM_REF),
        ),
        message_skips,
    ),
    names.REPLY_SKIPPED: Contract(
        names.SOURCE_RESPONDING,
        ReplySkipped.from_detail,
        (
            ReplySkipped(REPLY_TO_BOT, "mallory", CHAIN_DEPTH),
            ReplySkipped(TWITTER, None, AUTHOR_LIMIT),
            ReplySkipped(DM_REF.as_twitter(), None, AUTHOR_LIMIT, direct_message=DM_REF),
        ),
        reply_skips,
    ),
    names.MEDIA_DELETED: Contract(
        names.SOURCE_ANALYSIS,
        MediaDeleted.from_detail,
        (
            MediaDeleted("1850000000000000002", "1900000000000000001", POST_DELETED, 3),
            MediaDeleted("1850000000000000002", None, ACCESS_REVOKED, 0),
        ),
        media_deletions,
    ),
}


def contract_of(detail_type: str) -> Contract:
    if detail_type not in CONTRACTS:
        pytest.fail(f"{detail_type} is a domain detail-type without a contract: register it in CONTRACTS")
    return CONTRACTS[detail_type]


def through_the_bus(event: BusEvent, payload_store: MemoryPayloadStore | None = None) -> dict[str, Any]:
    """The envelope a rule target gets for `event`, published as the services publish it."""
    bus = RecordingBus()
    publisher = EventPublisher(bus=bus, bus_name="xbot", payload_store=payload_store, retry=RetryPolicy(attempts=1))
    publisher.publish([event])
    (entry,) = bus.entries
    sent = BusEvent(entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))
    envelope: dict[str, Any] = json.loads(json.dumps(sent.to_envelope(account=ACCOUNT, region=REGION)))
    return envelope


def round_trip(detail_type: str, event: Event) -> Event:
    contract = contract_of(detail_type)
    received_event = BusEvent.from_envelope(through_the_bus(BusEvent(contract.source, detail_type, event.to_detail())))
    assert (received_event.source, received_event.detail_type) == (contract.source, detail_type)
    return contract.parse(received_event.detail)


def assert_queryable(detail_type: str, event: Event) -> None:
    envelope = BusEvent(contract_of(detail_type).source, detail_type, event.to_detail()).to_envelope(
        account=ACCOUNT, region=REGION
    )
    problems = unqueryable(envelope, TABLE)
    assert not problems, f"{detail_type} writes what the data lake's table cannot hold: {problems}"


# --- The tests -------------------------------------------------------------------------------------


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@SOME
@given(
    source=st.sampled_from([names.SOURCE_INGRESS, names.SOURCE_ANALYSIS, names.SOURCE_RESPONDING, names.SOURCE_EGRESS]),
    detail_type=st.sampled_from(names.ALL_DETAIL_TYPES),
    detail=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    event_id=st.uuids().map(str),
    when=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_any_envelope_round_trips_and_is_the_tables_columns(
    source: str, detail_type: str, detail: dict[str, Any], event_id: str, when: datetime
) -> None:
    event = BusEvent(source, detail_type, detail)
    envelope = json.loads(json.dumps(event.to_envelope(account=ACCOUNT, region=REGION, event_id=event_id, time=when)))
    assert tuple(envelope) == ENVELOPE_KEYS
    assert BusEvent.from_envelope(envelope) == event
    assert envelope["id"] == event_id
    assert datetime.strptime(envelope["time"], "%Y-%m-%dT%H:%M:%S%z") == when.replace(microsecond=0)
    assert isinstance(TABLE, dict)
    assert {key.lower() for key in envelope} == {key.lower() for key in TABLE}


def test_every_domain_detail_type_has_a_contract_and_no_other() -> None:
    assert set(CONTRACTS) == set(names.DOMAIN_DETAIL_TYPES)


@pytest.mark.parametrize("detail_type", names.DOMAIN_DETAIL_TYPES)
def test_examples_round_trip(detail_type: str) -> None:
    for example in contract_of(detail_type).examples:
        assert round_trip(detail_type, example) == example


@pytest.mark.parametrize("detail_type", names.DOMAIN_DETAIL_TYPES)
@SOME
@given(data=st.data())
def test_any_value_round_trips(detail_type: str, data: st.DataObject) -> None:
    event = data.draw(contract_of(detail_type).values)
    assert round_trip(detail_type, event) == event


@pytest.mark.parametrize("detail_type", names.DOMAIN_DETAIL_TYPES)
def test_examples_write_only_columns_of_the_data_lake(detail_type: str) -> None:
    for example in contract_of(detail_type).examples:
        assert_queryable(detail_type, example)


@pytest.mark.parametrize("detail_type", names.DOMAIN_DETAIL_TYPES)
@SOME
@given(data=st.data())
def test_any_value_writes_only_columns_of_the_data_lake(detail_type: str, data: st.DataObject) -> None:
    assert_queryable(detail_type, data.draw(contract_of(detail_type).values))


def test_every_detail_column_is_written_by_some_event() -> None:
    """A column nobody writes is a stale schema (or a contract that lost a key)."""
    written = {key.lower() for contract in CONTRACTS.values() for e in contract.examples for key in e.to_detail()}
    # Raw events keep the subscribed account's id; the publisher writes the oversized pointer.
    written |= {"for_user_id", "oversized"}
    assert isinstance(DETAIL, dict)
    assert {name.lower() for name in DETAIL} == written


def test_an_oversized_event_is_a_pointer_the_data_lake_can_hold() -> None:
    store = MemoryPayloadStore()
    big = MessageReceived("x" * MAX_BYTES, "alice", "en", TWITTER)
    envelope = through_the_bus(BusEvent(names.SOURCE_INGRESS, names.MESSAGE_RECEIVED, big.to_detail()), store)
    # The pointer keeps the post's ids beside it (and any field a rule matches on): the lake holds them too.
    assert set(envelope["detail"]) == {"Oversized", "Twitter"}
    assert envelope["detail"]["Twitter"] == big.twitter.to_detail()
    assert unqueryable(envelope, TABLE) == []
    ((key, body),) = store.objects.items()
    assert envelope["detail"]["Oversized"]["Uri"] == f"memory://{key}"
    assert MessageReceived.from_detail(json.loads(body)) == big


def test_the_original_projects_send_tweet_with_one_image_key_still_reads() -> None:
    legacy = {"Text": "@alice hi", "ReplyToTweetId": "1900", "ReplyToUserId": "42", "ImageKey": "annotated/a.jpg"}
    assert SendTweet.from_detail(legacy).image_keys == ["annotated/a.jpg"]
    assert SendTweet.from_detail({**legacy, "ImageKey": None}).image_keys == []


def test_the_schema_check_finds_what_the_table_cannot_hold() -> None:
    detail = {"Text": 1, "Twitter": {"TweetId": "1", "Retweets": 3}, "ImageUrls": "one", "Analysis": {"Images": [[]]}}
    assert unqueryable({"detail": detail, "Detail-Type": "X"}, TABLE) == [
        ".detail.Text: 1 is not a string",
        ".detail.Twitter.Retweets: no such column",
        ".detail.ImageUrls: str where the table has an array",
        ".detail.Analysis.Images[0]: list where the table has a struct",
    ]


def _struct_names(hive: HiveType, path: str = "detail") -> list[tuple[str, list[str]]]:
    if isinstance(hive, str):
        return []
    if isinstance(hive, list):
        return _struct_names(hive[0], f"{path}[]")
    found = [(path, [name.lower() for name in hive])]
    for name, inner in hive.items():
        found += _struct_names(inner, f"{path}.{name}")
    return found


def test_no_two_fields_of_a_struct_differ_only_by_case() -> None:
    """Glue lowercases field names: two that differ only by case would be one column."""
    for path, fields in [("table", [name.lower() for name, _ in datalake.COLUMNS]), *_struct_names(DETAIL)]:
        assert len(fields) == len(set(fields)), f"{path} has fields that differ only by case: {sorted(fields)}"
