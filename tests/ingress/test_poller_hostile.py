"""The mentions poller against the answers X (or a fault between) may give that the happy path does
not: partial or malformed pages, odd values in posts, rate-limit headers that cannot be believed,
pages larger than X's; and the same anti-corruption rules as the webhook for the same post.

The real X adapter against `responses`, the real publisher on a recording bus, the in-memory
checkpoint (the rig of tests/ingress/test_poller.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import responses
from chalicelib.contracts import names
from chalicelib.ingress import poller as poller_module
from chalicelib.ingress.poller import CAUGHT_UP, RATE_LIMITED, PollError
from chalicelib.ingress.translate import translate_delivery, translate_polled_mention
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import PollState

from tests.ingress.test_poller import BOT, MENTIONS, NEXT_TOKEN, NOW, Rig, fixture, headers, query

START = "2080765813578191300"


OTHER = "2222222222222222222"


def mid_range(rig: Rig) -> PollState:
    """The checkpoint of a run that read the range's first page (…400) and has its next page to read."""
    state = PollState(since_id=START, range_newest_id="2080765813578191400", pagination_token=NEXT_TOKEN, version=1)
    assert rig.checkpoint.save(BOT, state)
    return state


def rejections(rig: Rig) -> list[dict[str, Any]]:
    return rig.bus.details(names.DELIVERY_REJECTED)


def post(post_id: str, text: str = "@ExampleUser hello", **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": text,
        "author_id": OTHER,
        "created_at": "2026-07-24T21:30:02.000Z",
        "lang": "en",
        "entities": {"mentions": [{"start": 0, "end": 12, "username": "ExampleUser", "id": BOT}]},
        **fields,
    }


def page_of(*posts: dict[str, Any], **meta: Any) -> dict[str, Any]:
    ids = [p["id"] for p in posts if isinstance(p, dict) and "id" in p]
    return {
        "data": list(posts),
        "includes": {"users": [{"id": OTHER, "name": "Other User", "username": "OtherUser"}]},
        "meta": {"newest_id": max(ids), "oldest_id": min(ids), "result_count": len(posts), **meta},
    }


# --- partial and malformed answers: the checkpoint never closes a range it has not read -----------


def test_an_answer_with_only_errors_mid_range_is_a_refusal_not_an_empty_last_page(x: responses.RequestsMock) -> None:
    rig = Rig()
    before = mid_range(rig)
    problem = {
        "errors": [{"title": "Not Found Error", "detail": "Could not find user with id: [1111111111111111111]."}]
    }
    x.get(MENTIONS, json=problem, headers=headers())

    with pytest.raises(PollError, match="Could not find user"):
        rig.poller.poll()
    # Read as an empty page, it closed the range: since_id jumped to …400 over the unread older page.
    assert rig.state == before and rig.bus.entries == []


@pytest.mark.parametrize("body", [{}, {"data": {"id": "2080765813578191399"}, "meta": {}}, {"includes": {}}])
def test_an_answer_that_is_not_a_page_is_retried_and_moves_nothing(
    x: responses.RequestsMock, body: dict[str, Any]
) -> None:
    rig = Rig()
    before = mid_range(rig)
    x.get(MENTIONS, json=body, headers=headers())

    with pytest.raises(TransientError):
        rig.poller.poll()
    assert rig.state == before and rig.bus.entries == []


@pytest.mark.parametrize(
    ("body", "said"),
    [("<html>bad gateway</html>", "the answer is not JSON"), ("[1, 2]", "the answer is not a JSON object")],
)
def test_an_answer_that_is_not_a_json_object_says_which(x: responses.RequestsMock, body: str, said: str) -> None:
    rig = Rig()
    rig.start_at(START)
    x.get(MENTIONS, body=body, headers=headers())

    with pytest.raises(TransientError) as caught:
        rig.poller.poll()
    assert str(caught.value) == f"GET /2/users/{BOT}/mentions -> 200: {said}"


def test_a_next_token_that_is_not_a_token_is_retried_and_moves_nothing(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = fixture("page_newest.json")
    answer["meta"]["next_token"] = "x" * 100_000  # would not even fit the checkpoint's item
    x.get(MENTIONS, json=answer, headers=headers())

    with pytest.raises(TransientError, match="next_token"):
        rig.poller.poll()
    assert rig.state.since_id == START and rig.state.pagination_token is None


def test_a_page_whose_meta_lacks_newest_id_still_moves_past_what_it_published(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = fixture("page_older.json")
    del answer["meta"]["newest_id"]
    x.get(MENTIONS, json=answer, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    # Else since_id stayed and every run read and published the same posts again.
    assert rig.state.since_id == "2080765813578191320"


def test_the_checkpoint_never_moves_back_whatever_a_page_says(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191500")
    # X (or a fault between) answers posts older than since_id, with their newest id.
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())

    rig.poller.poll()
    assert rig.state.since_id == "2080765813578191500"


def test_a_first_run_without_meta_newest_id_starts_at_the_newest_post(x: responses.RequestsMock) -> None:
    rig = Rig()
    answer = fixture("first_run.json")
    newest = answer["meta"].pop("newest_id")
    x.get(MENTIONS, json=answer, headers=headers())

    rig.poller.poll()
    # Else it started from "now" by time, and republished the posts it had just seen as history.
    assert rig.state.since_id == newest and rig.bus.entries == []


# --- odd posts are recorded, never a poller stuck at their page -----------------------------------


@pytest.mark.parametrize(
    ("odd", "refused"),
    [
        ({"author_id": ["2222222222222222222"]}, True),
        ({"in_reply_to_user_id": {"id": BOT}}, True),
        # A quote whose id is not an id is not a quote of the bot's post: the mention is read without it.
        ({"referenced_tweets": [{"type": "quoted", "id": {"id": "1"}}]}, False),
    ],
)
def test_a_post_with_an_odd_value_is_recorded_and_the_others_go_through(
    x: responses.RequestsMock, odd: dict[str, Any], refused: bool
) -> None:
    rig = Rig()
    rig.start_at(START)
    x.get(
        MENTIONS,
        json=page_of(post("2080765813578191302", **odd), post("2080765813578191301")),
        headers=headers(),
    )

    assert rig.poller.poll().outcome == CAUGHT_UP
    messages = [m["Twitter"]["TweetId"] for m in rig.messages()]
    # The odd post is recorded either way: refused (DELIVERY_REJECTED, keyed by its id), or read
    # without the odd value.
    if refused:
        assert messages == ["2080765813578191301"]
        assert [r["key"] for r in rejections(rig)] == ["data[id=2080765813578191302]"]
    else:
        assert sorted(messages) == ["2080765813578191301", "2080765813578191302"] and rejections(rig) == []
    assert rig.detail_types().count(names.TWITTER_MENTION_POLLED) == 2
    assert rig.state.since_id == "2080765813578191302"


def test_items_that_are_not_posts_are_recorded_as_rejected_not_dropped(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = page_of(post("2080765813578191301"))
    answer["data"].append("not a post")
    x.get(MENTIONS, json=answer, headers=headers())

    rig.poller.poll()
    assert [r["Reason"] for r in rejections(rig)] == ["a mention is not an object"]
    assert len(rig.messages()) == 1


def test_a_post_the_translation_trips_on_is_recorded_and_the_run_goes_on(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tripping(post: Any, includes: dict[str, Any], bot_user_id: str) -> Any:
        if post.get("id") == "2080765813578191302":
            raise KeyError("a bug")
        return translate_polled_mention(post, includes, bot_user_id)

    monkeypatch.setattr(poller_module, "translate_polled_mention", tripping)
    rig = Rig()
    rig.start_at(START)
    x.get(MENTIONS, json=page_of(post("2080765813578191302"), post("2080765813578191301")), headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    (recorded,) = rejections(rig)
    assert "internal error KeyError" in recorded["Reason"] and "2080765813578191302" in recorded["key"]
    assert len(rig.messages()) == 1 and rig.state.since_id == "2080765813578191302"


def test_a_page_over_xs_size_is_capped_like_a_webhook_delivery_and_the_rest_recorded(
    x: responses.RequestsMock,
) -> None:
    rig = Rig()
    rig.start_at(START)
    posts = [post(str(2080765813578191400 + n)) for n in range(103)]
    x.get(MENTIONS, json=page_of(*reversed(posts)), headers=headers())

    rig.poller.poll()
    assert len(rig.messages()) == 100
    (recorded,) = rejections(rig)
    assert "over 100 posts in one page; not processed: 3" in recorded["Reason"]
    assert recorded["for_user_id"] == BOT


# --- rate-limit headers that cannot be believed ---------------------------------------------------


@pytest.mark.parametrize("reset", ["1800000420000", "inf", "nan", "1e400"])
def test_a_reset_not_within_a_day_waits_one_window_not_forever(x: responses.RequestsMock, reset: str) -> None:
    rig = Rig()
    rig.start_at(START)
    x.get(
        MENTIONS,
        json=fixture("error_429.json"),
        status=429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
    )

    report = rig.poller.poll()
    assert report.outcome == RATE_LIMITED
    assert rig.state.not_before == NOW + 15 * 60


def test_a_stored_wait_beyond_a_day_is_not_believed(x: responses.RequestsMock) -> None:
    rig = Rig()
    assert rig.checkpoint.save(BOT, PollState(since_id=START, not_before=float("inf"), version=1))
    x.get(MENTIONS, json=fixture("page_empty.json"), headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert len(x.calls) == 1


# --- the same anti-corruption rules as the webhook, for the same post -----------------------------


def _as_account_activity(v2: dict[str, Any], includes: dict[str, Any]) -> list[dict[str, Any]]:
    """The MESSAGE_RECEIVED (or nothing) the Account Activity webhook makes of the same post, written
    in v1.1 as X delivers it (tests/fixtures/x-webhooks/tweet_create_events_*.json)."""
    users = {u["id"]: u for u in includes.get("users", [])}
    author = users.get(v2["author_id"], {"username": "someone", "name": "Someone"})
    mentions = v2.get("entities", {}).get("mentions", [])
    media = {m["media_key"]: m for m in includes.get("media", [])}
    photos = [media[k] for k in v2.get("attachments", {}).get("media_keys", []) if k in media]
    replied = next((r["id"] for r in v2.get("referenced_tweets", []) if r["type"] == "replied_to"), None)
    quoted = next((r["id"] for r in v2.get("referenced_tweets", []) if r["type"] == "quoted"), None)
    quoted_post = next((t for t in includes.get("tweets", []) if t["id"] == quoted), None)
    v1: dict[str, Any] = {
        "id_str": v2["id"],
        "text": v2["text"],
        "lang": v2.get("lang"),
        "user": {"id_str": v2["author_id"], "screen_name": author["username"], "name": author["name"]},
        "in_reply_to_status_id_str": replied,
        "in_reply_to_user_id_str": v2.get("in_reply_to_user_id"),
        "entities": {
            "user_mentions": [
                {"id_str": m["id"], "screen_name": m["username"], "indices": [m["start"], m["end"]]} for m in mentions
            ],
            "media": [{"type": p["type"], "media_url_https": p["url"]} for p in photos],
        },
    }
    reposted = next((r["id"] for r in v2.get("referenced_tweets", []) if r["type"] == "retweeted"), None)
    if reposted is not None:
        v1["retweeted_status"] = {"id_str": reposted}
    if quoted_post is not None:
        v1["quoted_status"] = {"id_str": quoted, "user": {"id_str": quoted_post["author_id"]}}
    events = translate_delivery({"for_user_id": BOT, "tweet_create_events": [v1]}, BOT)
    return [e.detail for e in events if e.detail_type in (names.MESSAGE_RECEIVED, names.MESSAGE_SKIPPED)]


def _as_polled(v2: dict[str, Any], includes: dict[str, Any]) -> list[dict[str, Any]]:
    events = translate_polled_mention(v2, includes, BOT)
    return [e.detail for e in events if e.detail_type in (names.MESSAGE_RECEIVED, names.MESSAGE_SKIPPED)]


INCLUDES: dict[str, Any] = {
    "users": [
        {"id": OTHER, "name": "Other User", "username": "OtherUser"},
        {"id": BOT, "name": "Example User", "username": "ExampleUser"},
    ],
    "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/GxAmPlEWcAAbCdE.jpg"}],
    "tweets": [{"id": "2080765813578190000", "author_id": BOT, "text": "an earlier post of the bot"}],
}
CASES = {
    "mention with photo and escaped text": post(
        "2080765813578191401", "@ExampleUser cats &amp; dogs? https://t.co/x", attachments={"media_keys": ["3_1"]}
    ),
    "mention buried in the text": {
        **post("2080765813578191402", "honestly I think @ExampleUser is wrong"),
        "entities": {"mentions": [{"start": 17, "end": 29, "username": "ExampleUser", "id": BOT}]},
    },
    "reply in a thread that only inherits @bot": {
        **post("2080765813578191403", "@OtherUser @ExampleUser agreed", lang="und"),
        "in_reply_to_user_id": OTHER,
        "referenced_tweets": [{"type": "replied_to", "id": "2080765813578191399"}],
        "entities": {
            "mentions": [
                {"start": 0, "end": 10, "username": "OtherUser", "id": OTHER},
                {"start": 11, "end": 23, "username": "ExampleUser", "id": BOT},
            ]
        },
    },
    "a reply to the bot": {
        **post("2080765813578191404", "@ExampleUser thanks"),
        "in_reply_to_user_id": BOT,
        "referenced_tweets": [{"type": "replied_to", "id": "2080765813578191398"}],
    },
    "a quote of the bot's post without a mention": {
        **post("2080765813578191405", "look at this"),
        "entities": {"mentions": []},
        "referenced_tweets": [{"type": "quoted", "id": "2080765813578190000"}],
    },
    "mentions others only, not a reply to the bot": {
        **post("2080765813578191406", "@OtherUser hi"),
        "entities": {"mentions": [{"start": 0, "end": 10, "username": "OtherUser", "id": OTHER}]},
    },
    "a repost of a mention": {
        **post("2080765813578191407", "RT @OtherUser: @ExampleUser hi"),
        "referenced_tweets": [{"type": "retweeted", "id": "2080765813578191300"}],
    },
    "the bot's own post in a thread with itself": {
        **post("2080765813578191408", "@ExampleUser more"),
        "author_id": BOT,
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_polled_post_gives_what_the_webhook_gives_for_the_same_post(case: str) -> None:
    v2 = copy.deepcopy(CASES[case])
    polled, webhook = _as_polled(v2, INCLUDES), _as_account_activity(v2, INCLUDES)
    # v1.1 has no conversation id: the webhook leaves it out of replies; the rest must be the same.
    for detail in (*polled, *webhook):
        detail["Twitter"].pop("ConversationId", None)
    assert polled == webhook
    expected_messages = {
        "mentions others only, not a reply to the bot": 0,
        "a repost of a mention": 0,
        "the bot's own post in a thread with itself": 0,
    }.get(case, 1)
    assert sum("Reason" not in detail for detail in polled) == expected_messages


def test_the_poller_and_the_webhook_keep_the_same_fields_of_a_photo_post() -> None:
    v2 = copy.deepcopy(CASES["mention with photo and escaped text"])
    (polled,) = _as_polled(v2, INCLUDES)
    assert polled["Text"] == "@ExampleUser cats & dogs? https://t.co/x"
    assert polled["Author"] == "OtherUser" and polled["Lang"] == "en"
    assert polled["ImageUrls"] == ["https://pbs.twimg.com/media/GxAmPlEWcAAbCdE.jpg"]


def test_a_photo_the_page_does_not_include_is_recorded_as_not_analysed() -> None:
    v2 = post("2080765813578191401", attachments={"media_keys": ["3_1", "3_404"]})
    events = translate_polled_mention(v2, INCLUDES, BOT)
    (message,) = [e.detail for e in events if e.detail_type == names.MESSAGE_RECEIVED]
    assert message["ImageUrls"] == ["https://pbs.twimg.com/media/GxAmPlEWcAAbCdE.jpg"]
    (note,) = [e.detail for e in events if e.detail_type == names.DELIVERY_REJECTED]
    assert "3_404" in note["Reason"] and "not analysed" in note["Reason"]


def test_no_credential_in_any_error_of_a_malformed_answer(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    x.get(MENTIONS, body="<html>bad gateway</html>", status=200, headers=headers())
    with pytest.raises(TransientError) as caught:
        rig.poller.poll()
    message = str(caught.value)
    assert "SECRET" not in message and "access-token" not in message and "consumer-key" not in message
    assert query(x.calls[0])["since_id"] == START


def test_a_lone_surrogate_in_a_post_is_replaced_as_the_webhook_does_not_a_poller_stuck(
    x: responses.RequestsMock,
) -> None:
    rig = Rig()
    rig.start_at(START)
    # A post cut inside an emoji's surrogate pair, as JSON escapes it.
    body = json.dumps(page_of(post("2080765813578191301", "@ExampleUser hi PLACEHOLDER"))).replace(
        "PLACEHOLDER", "\\ud83d"
    )
    x.get(MENTIONS, body=body, content_type="application/json", headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    (message,) = rig.messages()
    assert message["Text"] == "@ExampleUser hi \ufffd"
    assert rig.state.since_id == "2080765813578191301"


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_a_number_json_cannot_carry_is_retried_not_published(x: responses.RequestsMock, literal: str) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = page_of(post("2080765813578191301", public_metrics={"like_count": 0}))
    body = json.dumps(answer).replace('"like_count": 0', f'"like_count": {literal}')
    x.get(MENTIONS, body=body, content_type="application/json", headers=headers())

    with pytest.raises(TransientError, match="cannot be read"):
        rig.poller.poll()
    assert rig.bus.entries == [] and rig.state.since_id == START


def test_a_page_token_that_repeats_ends_the_range_instead_of_reading_one_page_forever(
    x: responses.RequestsMock,
) -> None:
    rig = Rig()
    mid_range(rig)
    answer = fixture("page_older.json")
    answer["meta"]["next_token"] = NEXT_TOKEN  # the token this page was read with
    x.get(MENTIONS, json=answer, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert len(x.calls) == 1
    assert rig.state.since_id == "2080765813578191400" and rig.state.pagination_token is None


def test_an_id_larger_than_a_snowflake_never_becomes_the_checkpoint(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = page_of(post("2080765813578191301"), post("99999999999999999999999"))
    answer["meta"]["newest_id"] = "2080765813578191301"
    x.get(MENTIONS, json=answer, headers=headers())

    rig.poller.poll()
    # Else every real post to come would be older than since_id, and never read.
    assert rig.state.since_id == "2080765813578191301"


def test_an_answer_broken_in_transit_is_a_transient_failure_that_names_no_url(x: responses.RequestsMock) -> None:
    import requests

    rig = Rig()
    rig.start_at(START)
    x.get(MENTIONS, body=requests.exceptions.ChunkedEncodingError(f"broken reading {MENTIONS}?since_id={START}"))

    with pytest.raises(TransientError) as caught:
        rig.poller.poll()
    assert "ChunkedEncodingError" in str(caught.value) and "since_id" not in str(caught.value)
    assert rig.state.since_id == START and rig.bus.entries == []


# --- ids that are not X's, meta that says more than the page, page tokens that come back ----------


@pytest.mark.parametrize("odd_id", [1234, None, [], "", "12a", "9" * 25, str(2**63), "0", True, "١٢٣"])
def test_a_post_whose_id_is_not_an_x_id_is_rejected_never_a_message_nor_dropped(odd_id: Any) -> None:
    mention = post("2080765813578191406")
    mention["id"] = odd_id
    events = translate_polled_mention(mention, {}, BOT)
    kinds = [event.detail_type for event in events]
    assert kinds == [names.TWITTER_MENTION_POLLED, names.DELIVERY_REJECTED]
    assert "id is" in events[-1].detail["Reason"] and "not an X numeric id" in events[-1].detail["Reason"]


def test_a_post_without_an_id_is_rejected_not_silently_dropped() -> None:
    mention = post("2080765813578191406")
    del mention["id"]
    kinds = [event.detail_type for event in translate_polled_mention(mention, {}, BOT)]
    assert kinds == [names.TWITTER_MENTION_POLLED, names.DELIVERY_REJECTED]


@pytest.mark.parametrize("odd_author", [1234, None, [], "", "abc", "9" * 25])
def test_a_post_whose_author_id_is_not_an_x_id_is_rejected_with_its_post_id(odd_author: Any) -> None:
    mention = post("2080765813578191407", author_id=odd_author)
    events = translate_polled_mention(mention, {}, BOT)
    assert [event.detail_type for event in events] == [names.TWITTER_MENTION_POLLED, names.DELIVERY_REJECTED]
    assert events[-1].detail["key"] == "data[id=2080765813578191407]"
    assert "author_id is" in events[-1].detail["Reason"]


def test_a_page_with_a_post_without_an_id_records_it_and_reads_the_others(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = page_of(post("2080765813578191301"))
    nameless = post("2080765813578191302")
    del nameless["id"]
    answer["data"].insert(0, nameless)
    x.get(MENTIONS, json=answer, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert [m["Twitter"]["TweetId"] for m in rig.messages()] == ["2080765813578191301"]
    (rejected,) = rejections(rig)
    assert rejected["key"] == "data" and "id is null" in rejected["Reason"]
    assert rig.state.since_id == "2080765813578191301"


def test_a_meta_newest_id_beyond_every_post_of_the_page_is_not_the_checkpoint(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at(START)
    answer = page_of(post("2080765813578191430"))
    answer["meta"]["newest_id"] = str(2**63 - 1)
    x.get(MENTIONS, json=answer, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    # Else every mention to come (a smaller id) would be older than since_id, and never read.
    assert rig.state.since_id == "2080765813578191430"


def test_a_first_run_does_not_start_beyond_the_newest_post_meta_names(x: responses.RequestsMock) -> None:
    rig = Rig()
    answer = page_of(post("2080765813578191430"))
    answer["meta"]["newest_id"] = str(2**63 - 1)
    x.get(MENTIONS, json=answer, headers=headers())

    rig.poller.poll()
    assert rig.state.since_id == "2080765813578191430"


def test_page_tokens_that_come_back_a_b_a_end_the_range_with_every_post_read(x: responses.RequestsMock) -> None:
    rig = Rig(max_pages=6)
    rig.start_at(START)
    for i, token in enumerate(["tokA", "tokB", "tokA"]):
        answer = page_of(post(str(2080765813578191440 - i)))
        answer["meta"]["next_token"] = token
        x.get(MENTIONS, json=answer, headers=headers())

    report = rig.poller.poll()
    # Top -> A -> B -> A again: the range ends there instead of reading A and B at every run.
    assert report.outcome == CAUGHT_UP and report.pages == 3
    assert [query(call).get("pagination_token") for call in x.calls] == [None, "tokA", "tokB"]
    assert sorted(m["Twitter"]["TweetId"] for m in rig.messages()) == [
        "2080765813578191438",
        "2080765813578191439",
        "2080765813578191440",
    ]
    assert rig.state.since_id == "2080765813578191440" and rig.state.pagination_token is None


def test_a_token_cycle_is_also_seen_by_a_run_that_starts_inside_it(x: responses.RequestsMock) -> None:
    rig = Rig(max_pages=6)
    mid_range(rig)  # the next page to read is NEXT_TOKEN's
    for i, token in enumerate(["tokB", NEXT_TOKEN]):
        answer = page_of(post(str(2080765813578191390 - i)))
        answer["meta"]["next_token"] = token
        x.get(MENTIONS, json=answer, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert len(x.calls) == 2
    assert rig.state.since_id == "2080765813578191400" and rig.state.pagination_token is None


def test_after_a_refused_token_the_range_is_read_again_from_its_top_and_its_tokens_are_not_a_cycle(
    x: responses.RequestsMock,
) -> None:
    rig = Rig(max_pages=6)
    rig.start_at(START)
    first = page_of(post("2080765813578191440"))
    first["meta"]["next_token"] = "tokA"
    x.get(MENTIONS, json=first, headers=headers())
    x.get(MENTIONS, status=400, json={"title": "Invalid Request", "detail": "token"}, headers=headers())
    again = page_of(post("2080765813578191440"))
    again["meta"]["next_token"] = "tokA"  # X hands the same token out again: not a cycle
    x.get(MENTIONS, json=again, headers=headers())
    last = page_of(post("2080765813578191439"))
    x.get(MENTIONS, json=last, headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert [query(call).get("pagination_token") for call in x.calls] == [None, "tokA", None, "tokA"]
    assert "2080765813578191439" in [m["Twitter"]["TweetId"] for m in rig.messages()]
