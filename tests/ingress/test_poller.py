"""The mentions poller on recorded X answers: the real X adapter (requests, OAuth 1.0a) against
`responses`, the real publisher on a recording bus, the in-memory checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from chalicelib.adapters.x_mentions import XApiMentionsReader
from chalicelib.contracts import names
from chalicelib.ingress.poller import (
    CAUGHT_UP,
    MORE_TO_READ,
    RATE_LIMITED,
    STARTED,
    SUPERSEDED,
    WAITING,
    MentionsPoller,
    PollError,
)
from chalicelib.ports import PollState
from chalicelib.publishing import EventPublisher, PublishError

from tests.fakes import MemoryPollCheckpoint, RecordingBus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x-mentions"
BOT = "1111111111111111111"
API = "https://api.x.test"
MENTIONS = f"{API}/2/users/{BOT}/mentions"
CREDENTIALS = {
    "ApiKey": "consumer-key-123",
    "ApiSecret": "consumer-secret-SECRET",
    "AccessToken": "1234-access-token",
    "AccessTokenSecret": "access-token-secret-SECRET",
}
NOW = 1_800_000_000.0
NEXT_TOKEN = "7140dibdnow9c7btw4b0ij1zmi4pa5nrd1qj0lhgagw8j"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def headers(remaining: int = 9, reset: float = NOW + 600) -> dict[str, str]:
    return {
        "x-rate-limit-limit": "10",
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset)),
    }


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, *, max_pages: int = 5, reserve: int = 1) -> None:
        self.bus = RecordingBus()
        self.checkpoint = MemoryPollCheckpoint()
        self.clock = Clock()
        self.poller = MentionsPoller(
            reader=XApiMentionsReader(CREDENTIALS, api_base=API),
            checkpoint=self.checkpoint,
            publisher=EventPublisher(bus=self.bus, bus_name="bus", payload_store=None),
            bot_user_id=BOT,
            max_pages=max_pages,
            rate_reserve=reserve,
            now=self.clock,
        )

    def start_at(self, since_id: str) -> None:
        assert self.checkpoint.save(BOT, PollState(since_id=since_id, version=1))

    @property
    def state(self) -> PollState:
        return self.checkpoint.states[BOT]

    def detail_types(self) -> list[str]:
        return [entry["DetailType"] for entry in self.bus.entries]

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(e["Detail"]) for e in self.bus.entries if e["DetailType"] == names.MESSAGE_RECEIVED]


def query(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(call.request.url).query).items()}


def test_new_mentions_become_message_received_once_and_the_checkpoint_advances(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_newest.json"), headers=headers())
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers(remaining=8))

    report = rig.poller.poll()

    assert report.outcome == CAUGHT_UP and report.pages == 2
    first, second = (query(call) for call in x.calls)
    assert first["since_id"] == "2080765813578191300" and "pagination_token" not in first
    assert second["since_id"] == "2080765813578191300" and second["pagination_token"] == NEXT_TOKEN
    # The expansions and fields the translation reads.
    assert "author_id" in first["expansions"] and "attachments.media_keys" in first["expansions"]
    assert "referenced_tweets.id" in first["expansions"]
    for field in ("note_tweet", "lang", "conversation_id", "in_reply_to_user_id", "entities", "referenced_tweets"):
        assert field in first["tweet.fields"]
    assert "url" in first["media.fields"] and "username" in first["user.fields"]
    authorization = x.calls[0].request.headers["Authorization"]
    assert (authorization.decode() if isinstance(authorization, bytes) else authorization).startswith("OAuth ")
    # The whole range is read: since_id moves to its newest post, from the first page.
    assert rig.state.since_id == "2080765813578191400"
    assert rig.state.pagination_token is None and rig.state.range_newest_id is None

    messages = {m["Twitter"]["TweetId"]: m for m in rig.messages()}
    assert set(messages) == {"2080765813578191400", "2080765813578191350", "2080765813578191303"}
    photo = messages["2080765813578191400"]
    assert photo["Author"] == "OtherUser" and photo["Lang"] == "en"
    assert photo["ImageUrls"] == ["https://pbs.twimg.com/media/GxAmPlEWcAAbCdE.jpg"]
    assert photo["Twitter"]["ConversationId"] == "2080765813578191400"
    # Stamped with when the post was written (2026-07-24T21:30:02Z, before NOW), not when it was
    # read: a catch-up after an outage must not make old mentions look new to Egress's age limit.
    assert photo["ReceivedAtMs"] == 1_784_928_602_000
    long_post = messages["2080765813578191350"]
    assert long_post["Text"].endswith("arguing about who gets the sofa.")  # note_tweet, not the truncated text
    assert long_post["Author"] == "third_person"
    # Each post has its raw event, of its own type.
    assert rig.detail_types().count(names.TWITTER_MENTION_POLLED) == 5
    raw = [json.loads(e["Detail"]) for e in rig.bus.entries if e["DetailType"] == names.TWITTER_MENTION_POLLED]
    assert all(r["for_user_id"] == BOT for r in raw)
    photo_raw = next(r for r in raw if r["id"] == "2080765813578191400")
    assert [m["media_key"] for m in photo_raw["includes"]["media"]] == ["3_2080765810000000001"]

    # The next run asks only for what is newer, and publishes nothing new.
    x.get(MENTIONS, json=fixture("page_empty.json"), headers=headers(remaining=7))
    published = len(rig.bus.entries)
    assert rig.poller.poll().outcome == CAUGHT_UP
    assert query(x.calls[2])["since_id"] == "2080765813578191400"
    assert len(rig.bus.entries) == published


def test_the_bots_own_posts_and_reposts_are_not_messages(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())

    rig.poller.poll()

    assert [m["Twitter"]["TweetId"] for m in rig.messages()] == ["2080765813578191303"]
    skipped = [json.loads(e["Detail"]) for e in rig.bus.entries if e["DetailType"] == names.MESSAGE_SKIPPED]
    assert [s["Twitter"]["TweetId"] for s in skipped] == ["2080765813578191320"]  # the bot's own reply
    # The repost (…310) has its raw event and nothing else.
    assert rig.detail_types().count(names.TWITTER_MENTION_POLLED) == 3


def test_the_first_run_starts_from_now_and_publishes_nothing(x: responses.RequestsMock) -> None:
    rig = Rig()
    x.get(MENTIONS, json=fixture("first_run.json"), headers=headers())

    report = rig.poller.poll()

    assert report.outcome == STARTED
    assert rig.bus.entries == []
    assert query(x.calls[0]).get("since_id") is None
    assert query(x.calls[0])["max_results"] == "5"  # the newest id is all it needs
    assert rig.state.since_id == "2080765813578191290" and rig.state.pagination_token is None


def test_a_first_run_on_an_empty_timeline_starts_at_its_own_time(x: responses.RequestsMock) -> None:
    rig = Rig()
    x.get(MENTIONS, json=fixture("page_empty.json"), headers=headers())
    rig.poller.poll()
    assert rig.state.since_id is None and rig.state.start_time == NOW

    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())
    rig.clock.now += 180
    rig.poller.poll()
    second = query(x.calls[1])
    assert second["start_time"] == "2027-01-15T08:00:00Z"  # NOW, in X's format
    assert "since_id" not in second
    assert rig.state.since_id == "2080765813578191320" and rig.state.start_time is None


def test_an_interrupted_catch_up_resumes_where_it_stopped(x: responses.RequestsMock) -> None:
    rig = Rig(max_pages=1)  # one page per run: the run stops mid-range
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_newest.json"), headers=headers())

    assert rig.poller.poll().outcome == MORE_TO_READ
    # Older unread posts are not skipped: since_id stays, the range's newest id and its next page are kept.
    assert rig.state.since_id == "2080765813578191300"
    assert rig.state.range_newest_id == "2080765813578191400"
    assert rig.state.pagination_token == NEXT_TOKEN

    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers(remaining=8))
    assert rig.poller.poll().outcome == CAUGHT_UP
    resumed = query(x.calls[1])
    assert resumed["pagination_token"] == NEXT_TOKEN and resumed["since_id"] == "2080765813578191300"
    assert rig.state.since_id == "2080765813578191400"
    assert len(rig.messages()) == 3  # every post once


def test_a_429_mid_catch_up_waits_until_the_reset_and_then_resumes(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    reset = NOW + 420
    x.get(MENTIONS, json=fixture("page_newest.json"), headers=headers())
    x.get(MENTIONS, json=fixture("error_429.json"), status=429, headers=headers(remaining=0, reset=reset))

    report = rig.poller.poll()

    assert report.outcome == RATE_LIMITED and report.not_before == reset
    assert rig.state.not_before == reset and rig.state.pagination_token == NEXT_TOKEN
    assert len(rig.messages()) == 2

    # Before the reset: no call at all (the mock would fail on an unexpected request).
    rig.clock.now = reset - 1
    assert rig.poller.poll().outcome == WAITING
    assert len(x.calls) == 2

    rig.clock.now = reset + 1
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers(remaining=9, reset=reset + 900))
    assert rig.poller.poll().outcome == CAUGHT_UP
    assert query(x.calls[2])["pagination_token"] == NEXT_TOKEN
    assert len(rig.messages()) == 3 and rig.state.since_id == "2080765813578191400"


def test_remaining_at_the_reserve_stops_before_a_429(x: responses.RequestsMock) -> None:
    rig = Rig(reserve=1)
    rig.start_at("2080765813578191300")
    reset = NOW + 300
    x.get(MENTIONS, json=fixture("page_newest.json"), headers=headers(remaining=1, reset=reset))

    report = rig.poller.poll()

    # A next page exists, but the window is down to the reserve: no second call.
    assert report.outcome == RATE_LIMITED and len(x.calls) == 1
    assert rig.state.not_before == reset and rig.state.pagination_token == NEXT_TOKEN
    rig.clock.now = reset - 10
    assert rig.poller.poll().outcome == WAITING and len(x.calls) == 1


def test_a_spent_24_hour_cap_stops_the_poller_until_its_reset_not_the_windows(x: responses.RequestsMock) -> None:
    rig = Rig(reserve=1)
    rig.start_at("2080765813578191300")
    day_reset = NOW + 20_000
    # The 15-minute window has requests left, the app's 24-hour cap is down to its reserve.
    capped = {**headers(remaining=9), "x-app-limit-24hour-remaining": "1", "x-app-limit-24hour-reset": str(day_reset)}
    x.get(MENTIONS, json=fixture("page_newest.json"), headers=capped)

    report = rig.poller.poll()

    assert report.outcome == RATE_LIMITED and len(x.calls) == 1
    assert rig.state.not_before == day_reset
    rig.clock.now = NOW + 900  # the 15-minute window has reset, the cap has not
    assert rig.poller.poll().outcome == WAITING and len(x.calls) == 1


def test_a_429_from_a_24_hour_cap_waits_for_the_cap(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    day_reset = NOW + 30_000
    refused = {
        **headers(remaining=5, reset=NOW + 600),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(day_reset),
    }
    x.get(MENTIONS, json=fixture("error_429.json"), status=429, headers=refused)
    report = rig.poller.poll()
    assert report.outcome == RATE_LIMITED and rig.state.not_before == day_reset


def test_remaining_zero_waits_even_after_a_complete_range(x: responses.RequestsMock) -> None:
    rig = Rig(reserve=0)
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers(remaining=0, reset=NOW + 60))
    report = rig.poller.poll()
    assert report.outcome == RATE_LIMITED and rig.state.since_id == "2080765813578191320"
    assert rig.poller.poll().outcome == WAITING


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, "error_401.json", "401: Unauthorized"),
        (403, "error_403_client_not_enrolled.json", "403: Client Forbidden"),
    ],
)
def test_x_refusing_the_read_is_one_clear_error_and_no_checkpoint_move(
    x: responses.RequestsMock, status: int, body: str, words: str
) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    before = rig.state
    x.get(MENTIONS, json=fixture(body), status=status, headers=headers())

    with pytest.raises(PollError) as caught:
        rig.poller.poll()

    message = str(caught.value)
    assert words in message and "\n" not in message
    assert "SECRET" not in message and "access-token" not in message
    assert rig.state == before and rig.bus.entries == []


def test_a_stale_page_token_restarts_the_range_from_its_top(x: responses.RequestsMock) -> None:
    rig = Rig()
    assert rig.checkpoint.save(
        BOT,
        PollState(
            since_id="2080765813578191300",
            range_newest_id="2080765813578191400",
            pagination_token="expired-token",
            version=1,
        ),
    )
    problem = {"title": "Invalid Request", "detail": "One or more parameters to your request was invalid."}
    x.get(MENTIONS, json=problem, status=400, headers=headers())
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())

    assert rig.poller.poll().outcome == CAUGHT_UP
    assert "pagination_token" not in query(x.calls[1])
    assert rig.state.since_id == "2080765813578191320"


def test_a_failed_publish_leaves_the_checkpoint_before_the_page(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.bus = RecordingBus(failures=[RuntimeError("bus down")] * 4)
    rig.poller._publisher = EventPublisher(bus=rig.bus, bus_name="bus", payload_store=None, sleep=lambda _s: None)
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())

    with pytest.raises(PublishError):
        rig.poller.poll()
    assert rig.state.since_id == "2080765813578191300" and rig.state.version == 1


def test_an_overlapping_run_that_saved_first_wins(x: responses.RequestsMock) -> None:
    rig = Rig()
    rig.start_at("2080765813578191300")
    x.get(MENTIONS, json=fixture("page_older.json"), headers=headers())
    real_save = rig.checkpoint.save

    def save_after_another_run(key: str, state: PollState) -> bool:
        # Another run moved the checkpoint further while this one was reading.
        real_save(key, PollState(since_id="2080765813578191999", version=2))
        return real_save(key, state)

    rig.checkpoint.save = save_after_another_run  # type: ignore[method-assign]
    assert rig.poller.poll().outcome == SUPERSEDED
    assert rig.state.since_id == "2080765813578191999"  # not moved backwards


def test_a_post_that_cannot_be_read_is_recorded_as_rejected_not_lost() -> None:
    from chalicelib.ingress.translate import translate_polled_mention

    not_an_object = translate_polled_mention(["not", "a", "post"], {}, BOT)
    assert [event.detail_type for event in not_an_object] == [names.DELIVERY_REJECTED]
    no_author = translate_polled_mention({"id": "2080765813578191399", "text": "@ExampleUser hi"}, {}, BOT)
    assert [event.detail_type for event in no_author] == [names.TWITTER_MENTION_POLLED, names.DELIVERY_REJECTED]
    assert "author_id" in no_author[1].detail["Reason"]
    # A field the lake types differently (a number where it has a string) is refused before the bus.
    misfit = translate_polled_mention(
        {"id": "2080765813578191398", "author_id": "2222222222222222222", "text": "@ExampleUser", "lang": 7}, {}, BOT
    )
    assert misfit[0].detail_type == names.DELIVERY_REJECTED
