"""Every signed delivery is acknowledged (200) and recorded; nothing unsigned gets in.

A named table of bad inputs, each with its answer and the reason recorded, and a property-based
test that posts real deliveries (v1.1 tweet_create_events and X Activity) with random values of
random types in their fields, signed, forged or unsigned, through the route.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.test import Client
from chalicelib import wiring
from chalicelib.contracts import datalake, names
from chalicelib.contracts.messages import MessageReceived
from chalicelib.ingress import translate
from chalicelib.ingress.signature import sign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_delivery
from tests.contracts.test_event_contracts import unqueryable
from tests.fakes import RecordingBus, StaticSecret

SECRET = "test-consumer-secret"
MENTION = "tweet_create_events_mention_reply.json"
XAA_MENTION = "xaa_post_mention_create.json"
DM = "direct_message_events_sent.json"
PHOTO = "tweet_create_events_media_photo.json"


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> RecordingBus:
    recording = RecordingBus()
    monkeypatch.setattr(wiring, "event_bus", lambda: recording)
    monkeypatch.setattr(wiring, "webhook_secret", lambda: StaticSecret(SECRET))
    return recording


@pytest.fixture
def client() -> Iterator[Client]:
    from app import app

    with Client(app) as test_client:
        yield test_client


def _post(client: Client, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    return client.http.post("/twitter", headers=headers, body=body)


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"{name} published")


def _published(bus: RecordingBus) -> list[tuple[str, dict[str, Any]]]:
    """Every published entry, checked to be what EventBridge takes: strict JSON in UTF-8."""
    result = []
    for call in bus.calls:
        for entry in call:
            entry["Detail"].encode("utf-8")  # a lone surrogate would raise here
            detail = json.loads(entry["Detail"], parse_constant=_refuse_constant)
            assert isinstance(detail, dict)
            assert entry["DetailType"] in names.ALL_DETAIL_TYPES
            result.append((entry["DetailType"], detail))
    return result


def _reasons(published: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [detail["Reason"] for detail_type, detail in published if detail_type == names.DELIVERY_REJECTED]


def _lake_type_problems(detail: dict[str, Any]) -> list[str]:
    """Fields named like a column of the lake but holding another type (other keys are not columns)."""
    return [p for p in unqueryable(detail, dict(datalake.COLUMNS)["detail"], ".detail") if "no such column" not in p]


# --- builders of bad bodies --------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _mention(change: Callable[[dict[str, Any]], None]) -> bytes:
    delivery = load_delivery(MENTION)
    change(delivery["tweet_create_events"][0])
    return _json(delivery)


def _xaa(change: Callable[[dict[str, Any]], None]) -> bytes:
    delivery = load_delivery(XAA_MENTION)
    change(delivery["data"])
    return _json(delivery)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(holder: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            holder = holder[key]
        holder[last] = value

    return change


def _photos(count: int, name: str = "photo.jpg", url_padding: str = "") -> Callable[[dict[str, Any]], None]:
    def change(post: dict[str, Any]) -> None:
        media = load_delivery(PHOTO)["tweet_create_events"][0]["extended_entities"]["media"][0]
        post["extended_entities"] = {
            "media": [
                {**media, "media_url_https": f"https://pbs.twimg.com/media/{url_padding}{i}{name}"}
                for i in range(count)
            ]
        }

    return change


def _nested(depth: int) -> bytes:
    return b'{"for_user_id": "1", "follow_events": ' + b"[" * depth + b"]" * depth + b"}"


def _follows(count: int) -> bytes:
    follow = load_delivery("follow_events_follow.json")
    return _json({**follow, "follow_events": follow["follow_events"] * count})


OK, REFUSED = 200, None
#: (id, body, how it is signed, expected status, expected reason (a part of it) or None for none).
BAD_INPUTS: list[Any] = [
    pytest.param(b"{}", "none", 401, None, id="unsigned"),
    pytest.param(b"{}", "forged", 401, None, id="signed-with-another-secret"),
    pytest.param(b"{}", "garbage", 401, None, id="garbage-signature"),
    pytest.param(_json({"pad": "x" * (1024 * 1024)}), "good", 413, None, id="over-one-mib"),
    pytest.param(b"not json", "good", 400, None, id="not-json"),
    pytest.param(b"[1, 2]", "good", 400, None, id="a-list-not-an-object"),
    pytest.param(_nested(40), "good", OK, "nested deeper than 32 levels", id="nested-40-levels"),
    pytest.param(_nested(100_000), "good", OK, "nested deeper than 32 levels", id="nested-100000-levels"),
    pytest.param(b'{"for_user_id": "1", "x": NaN}', "good", OK, "NaN is not a JSON number", id="nan"),
    pytest.param(b'{"x": [-Infinity]}', "good", OK, "-Infinity is not a JSON number", id="minus-infinity"),
    pytest.param(b'{"x": 1e400}', "good", OK, "out of range of a double", id="float-overflow"),
    pytest.param(b'{"x": ' + b"9" * 5000 + b"}", "good", OK, "a number cannot be read", id="5000-digit-integer"),
    pytest.param(_mention(_set("text", 12)), "good", OK, "text is int, not text", id="v1-text-is-a-number"),
    pytest.param(_mention(_set("text", ["a"])), "good", OK, "lake has a string", id="v1-text-is-a-list"),
    pytest.param(_mention(_set("id_str", 1)), "good", OK, "id_str is int, not an id string", id="v1-id-is-a-number"),
    pytest.param(_mention(_set("user", [1])), "good", OK, "user is list, not an object", id="v1-user-is-a-list"),
    pytest.param(_mention(_set("user.id_str", {})), "good", OK, "user.id_str is dict", id="v1-author-id-is-a-dict"),
    pytest.param(_mention(_set("lang", 3.5)), "good", OK, "lang is float", id="v1-lang-is-a-float"),
    pytest.param(_mention(_set("extended_tweet", 7)), "good", OK, "extended_tweet is int", id="v1-extended-is-int"),
    pytest.param(_mention(_set("entities", "x")), "good", OK, "entities is str, not an object", id="v1-entities-str"),
    pytest.param(
        _mention(_set("text", "x" * 25_001)), "good", OK, "over 25000 characters", id="v1-text-over-25000-characters"
    ),
    pytest.param(_mention(_photos(6)), "good", OK, "over 4 photos", id="six-photos"),
    pytest.param(_mention(_photos(1, "x" * 100_000)), "good", OK, "over 1024 characters", id="100000-char-file-name"),
    pytest.param(_mention(_photos(1, "y" * 200)), "good", OK, "file name is over 128", id="200-char-file-name"),
    pytest.param(
        _json({**load_delivery(MENTION), "for_user_id": 5}),
        "good",
        OK,
        "for_user_id is not an id",
        id="for-user-id-int",
    ),
    pytest.param(
        _follows(150),
        "good",
        OK,
        "over 100 elements in one delivery; not processed: 50 of follow_events",
        id="150-follow-events",
    ),
    pytest.param(_xaa(_set("payload.author_id", 5)), "good", OK, "payload.author_id is int", id="xaa-author-id-int"),
    pytest.param(_xaa(_set("payload.text", [])), "good", OK, "text is list, not text", id="xaa-text-is-a-list"),
    pytest.param(_xaa(_set("payload.text", {"a": 1})), "good", OK, "text is dict, not text", id="xaa-text-is-a-dict"),
    pytest.param(_xaa(_set("includes", [])), "good", OK, "includes is list, not an object", id="xaa-includes-list"),
    pytest.param(_xaa(_set("includes.users", 5)), "good", OK, "includes.users is int", id="xaa-users-is-int"),
    pytest.param(_xaa(_set("event_type", 5)), "good", OK, None, id="xaa-event-type-int-is-unknown"),
    pytest.param(
        _xaa(_set("payload.referenced_tweets", "x")), "good", OK, "referenced_tweets is str", id="xaa-references-str"
    ),
    pytest.param(_mention(_set("text", "\ud800 lone")), "good", OK, None, id="lone-surrogate-replaced"),
]


@pytest.mark.parametrize(("body", "signed", "status", "reason"), BAD_INPUTS)
def test_bad_input(
    client: Client, bus: RecordingBus, body: bytes, signed: str, status: int, reason: str | None
) -> None:
    signature = {
        "good": sign(SECRET, body),
        "forged": sign("another-secret", body),
        "garbage": "sha256=AAAA",
        "none": None,
    }[signed]
    response = _post(client, body, signature)
    assert response.status_code == status
    published = _published(bus)
    if status != OK:
        assert published == []
        return
    reasons = _reasons(published)
    if reason is None:
        assert reasons == []
    else:
        assert any(reason in recorded for recorded in reasons), reasons
    assert all(_lake_type_problems(detail) == [] for _, detail in published)


def test_a_lone_surrogate_becomes_a_replacement_character(client: Client, bus: RecordingBus) -> None:
    body = _mention(_set("text", "@Learn_Awesome \ud800 hi"))
    assert _post(client, body, sign(SECRET, body)).status_code == 200
    (message,) = [detail for detail_type, detail in _published(bus) if detail_type == names.MESSAGE_RECEIVED]
    assert message["Text"] == "@Learn_Awesome \ufffd hi"


def test_only_the_first_four_photos_are_kept(client: Client, bus: RecordingBus) -> None:
    body = _mention(_photos(6))
    assert _post(client, body, sign(SECRET, body)).status_code == 200
    (message,) = [detail for detail_type, detail in _published(bus) if detail_type == names.MESSAGE_RECEIVED]
    assert message["ImageUrls"] == [f"https://pbs.twimg.com/media/{i}photo.jpg" for i in range(4)]


def test_a_rejection_records_where_and_a_bounded_excerpt(client: Client, bus: RecordingBus) -> None:
    body = _mention(_set("id_str", 12))
    _post(client, body, sign(SECRET, body))
    (rejected,) = [detail for detail_type, detail in _published(bus) if detail_type == names.DELIVERY_REJECTED]
    assert rejected["key"] == "tweet_create_events[0]"
    assert rejected["for_user_id"] == load_delivery(MENTION)["for_user_id"]
    assert 0 < len(rejected["excerpt"]) <= translate.MAX_EXCERPT_CHARS
    assert set(rejected) <= {"Reason", "key", "excerpt", "for_user_id"}


def test_the_rest_of_a_delivery_over_the_cap_is_recorded_not_dropped(client: Client, bus: RecordingBus) -> None:
    body = _follows(150)
    assert _post(client, body, sign(SECRET, body)).json_body == {"events": translate.MAX_ELEMENTS_PER_DELIVERY + 1}
    types = [detail_type for detail_type, _ in _published(bus)]
    assert types == [names.TWITTER_FOLLOWED] * translate.MAX_ELEMENTS_PER_DELIVERY + [names.DELIVERY_REJECTED]


def test_a_direct_message_carries_only_the_users_and_apps_it_names(client: Client, bus: RecordingBus) -> None:
    delivery = load_delivery(DM)
    for i in range(1000):
        delivery["users"][str(10**12 + i)] = {"id": str(10**12 + i), "name": "someone else"}
        delivery["apps"][str(10**12 + i)] = {"id": str(10**12 + i), "name": "another app"}
    body = _json(delivery)
    assert _post(client, body, sign(SECRET, body)).status_code == 200
    # The DM is the bot's own (sender 42): its raw event, and (issue 10) the skip that keeps it unanswered.
    (detail_type, detail), (skip_type, _) = _published(bus)
    assert skip_type == names.MESSAGE_SKIPPED
    assert detail_type == names.TWITTER_DM_RECEIVED
    assert sorted(detail["users"]) == ["1693649419", "42"]
    assert list(detail["apps"]) == ["3033300"]
    assert detail["users"]["42"] == load_delivery(DM)["users"]["42"]


def test_bus_refusal_is_still_the_only_5xx(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    failing = RecordingBus(failures=[ConnectionError("down")] * 10)
    monkeypatch.setattr(wiring, "event_bus", lambda: failing)
    monkeypatch.setattr(wiring, "webhook_secret", lambda: StaticSecret(SECRET))
    monkeypatch.setattr("chalicelib.publishing.time.sleep", lambda _: None)
    body = _nested(100)
    assert _post(client, body, sign(SECRET, body)).status_code == 500


# --- property: random values of random types in every field of real deliveries ------------------

FUZZED = [
    "tweet_create_events_mention_reply.json",
    "tweet_create_events_quote.json",
    "tweet_create_events_mention_partial.json",
    "tweet_create_events_media_photo.json",
    "xaa_post_mention_create.json",
    "xaa_post_reply_create.json",
    "xaa_dm_received.json",
    "direct_message_events_sent.json",
]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()  # NaN and infinities too: json.dumps writes them as NaN/Infinity
    | st.text(max_size=20)  # lone surrogates too: written as \\udXXX escapes
    | st.sampled_from(["", "photo", "retweeted", "1017142357932769280", "https://pbs.twimg.com/media/a.jpg"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a delivery that holds a value (the root excepted)."""
    items: list[tuple[Any, Any]] = (
        list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    )
    for key, inner in items:
        yield (*prefix, key)
        yield from _paths(inner, (*prefix, key))


_PATHS = {name: sorted(_paths(load_delivery(name)), key=repr) for name in FUZZED}


@st.composite
def mutated_deliveries(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(FUZZED))
    delivery = copy.deepcopy(load_delivery(name))
    for path in draw(st.lists(st.sampled_from(_PATHS[name]), min_size=1, max_size=4)):
        holder: Any = delivery
        try:
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = draw(_values)
        except (KeyError, IndexError, TypeError):  # an earlier change replaced a parent
            continue
    return json.dumps(delivery).encode()


@settings(
    derandomize=True,
    deadline=None,
    max_examples=600,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=mutated_deliveries(), signed=st.sampled_from(["good", "good", "good", "forged", "none"]))
def test_random_types_in_every_field(client: Client, bus: RecordingBus, body: bytes, signed: str) -> None:
    bus.calls.clear()
    signature = {"good": sign(SECRET, body), "forged": sign("another-secret", body), "none": None}[signed]
    response = _post(client, body, signature)
    assert response.status_code < 500
    published = _published(bus)
    if signed != "good":
        assert response.status_code == 401
        assert published == []
        return
    assert response.status_code == 200
    assert response.json_body == {"events": len(published)}
    assert len(published) <= 2 * translate.MAX_ELEMENTS_PER_DELIVERY + 3
    assert not any("internal error" in reason for reason in _reasons(published))
    for detail_type, detail in published:
        assert _lake_type_problems(detail) == [], detail_type
        if detail_type == names.MESSAGE_RECEIVED:
            message = MessageReceived.from_detail(detail)
            assert message.to_detail() == detail
            assert len(message.image_urls) <= translate.MAX_PHOTOS_PER_POST
            assert message.twitter.tweet_id and message.twitter.user_id
