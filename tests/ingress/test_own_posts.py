"""A post by the bot never becomes a message, whichever field carries its author: it is recorded
as MESSAGE_SKIPPED ("own post"). Messages carry what the Responding guards need: who and which
post they reply to, and when the delivery was accepted. Real delivery shapes from the fixtures."""

from __future__ import annotations

import json

from chalicelib.contracts import names
from chalicelib.contracts.messages import MessageReceived
from chalicelib.contracts.outcomes import OWN_POST, MessageSkipped
from chalicelib.ingress.service import IngressService
from chalicelib.ingress.signature import sign
from chalicelib.ingress.translate import translate_delivery
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.conftest import load_delivery
from tests.fakes import RecordingBus, StaticSecret


def _skipped(delivery: dict[str, object], bot_user_id: str | None = None) -> list[MessageSkipped]:
    events = translate_delivery(delivery, bot_user_id)
    assert names.MESSAGE_RECEIVED not in [event.detail_type for event in events]
    return [MessageSkipped.from_detail(e.detail) for e in events if e.detail_type == names.MESSAGE_SKIPPED]


def test_the_bots_own_v1_reply_is_skipped_with_its_ids() -> None:
    # user.id_str == for_user_id == in_reply_to_user_id_str: the event that causes reply loops.
    (skipped,) = _skipped(load_delivery("tweet_create_events_own_reply.json"))
    assert skipped.reason == OWN_POST
    assert skipped.author == "HowsMyDrivingNY"
    twitter = skipped.twitter
    assert (twitter.tweet_id, twitter.user_id) == ("1664595433614704641", "976593574732222465")
    assert (twitter.in_reply_to_user_id, twitter.in_reply_to_tweet_id) == ("976593574732222465", "1664595432570335232")


def test_the_bots_own_post_is_skipped_with_the_configured_bot_id_too() -> None:
    delivery = load_delivery("tweet_create_events_own_reply.json")
    assert len(_skipped(delivery, bot_user_id="976593574732222465")) == 1


def test_the_bots_own_x_activity_reply_is_skipped_by_author_id() -> None:
    delivery = load_delivery("xaa_post_reply_create.json")
    data = delivery["data"]
    data["payload"]["author_id"] = data["filter"]["user_id"]
    (skipped,) = _skipped(delivery)
    assert (skipped.twitter.user_id, skipped.twitter.in_reply_to_tweet_id) == (
        data["filter"]["user_id"],
        "2080761390344937796",
    )


def test_the_bots_own_x_activity_mention_is_skipped() -> None:
    delivery = load_delivery("xaa_post_mention_create.json")
    data = delivery["data"]
    data["payload"]["author_id"] = data["filter"]["user_id"]
    assert [skip.reason for skip in _skipped(delivery)] == [OWN_POST]


def test_a_reply_to_the_bot_says_so() -> None:
    delivery = load_delivery("xaa_post_reply_create.json")
    (message,) = [e for e in translate_delivery(delivery) if e.detail_type == names.MESSAGE_RECEIVED]
    twitter = MessageReceived.from_detail(message.detail).twitter
    assert twitter.in_reply_to_user_id == delivery["data"]["filter"]["user_id"]
    assert twitter.in_reply_to_tweet_id == "2080761390344937796"
    assert twitter.thread_id == "2080761390344937796"


def test_a_v1_reply_to_the_bot_is_threaded_by_the_post_it_answers() -> None:
    delivery = load_delivery("tweet_create_events_mention_reply.json")
    (message,) = [e for e in translate_delivery(delivery) if e.detail_type == names.MESSAGE_RECEIVED]
    post = delivery["tweet_create_events"][0]
    twitter = MessageReceived.from_detail(message.detail).twitter
    assert twitter.in_reply_to_tweet_id == post.get("in_reply_to_status_id_str")
    assert twitter.thread_id == (post.get("in_reply_to_status_id_str") or post["id_str"])


def test_ingress_stamps_message_received_with_the_time_it_accepted_the_delivery() -> None:
    bus = RecordingBus()
    service = IngressService(
        secrets=StaticSecret("s"),
        publisher=EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
        bot_user_id=None,
        max_body_bytes=1024 * 1024,
        now=lambda: 1_767_225_000.5,
    )
    body = json.dumps(load_delivery("tweet_create_events_mention_reply.json")).encode()
    service.receive(body, sign("s", body))
    stamped = {entry["DetailType"]: json.loads(entry["Detail"]).get("ReceivedAtMs") for entry in bus.entries}
    assert stamped == {"TWITTER_TWEETED": None, "MESSAGE_RECEIVED": 1_767_225_000_500}
