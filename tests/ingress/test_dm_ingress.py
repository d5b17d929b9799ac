"""Direct messages through Ingress (issue 10), on real deliveries (tests/fixtures/x-webhooks/SOURCES.md):
someone's DM becomes one MESSAGE_RECEIVED on the DM channel, the bot's own DM a MESSAGE_SKIPPED, and
a DM's photo is left out."""

from __future__ import annotations

import copy
import json

from chalicelib.contracts import names
from chalicelib.contracts.messages import DM, DirectMessageRef, MessageReceived
from chalicelib.contracts.outcomes import OWN_POST, MessageSkipped
from chalicelib.ingress.service import IngressService
from chalicelib.ingress.signature import sign
from chalicelib.ingress.translate import translate_delivery
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.conftest import load_delivery
from tests.fakes import RecordingBus, StaticSecret

RECEIVED = "direct_message_events_received.json"  # tweetinvitest -> 42 (the subscribed account)
SENT = "direct_message_events_sent.json"  # 42 -> tweetinvitest: the bot's own DM
SENT_ESCAPED = "direct_message_events_sent_wire_escaped.json"
WITH_PHOTO = "direct_message_events_received_photo.json"
X_ACTIVITY = "xaa_dm_received.json"


def messages(name: str, bot_user_id: str | None = None) -> list[MessageReceived]:
    return [
        MessageReceived.from_detail(event.detail)
        for event in translate_delivery(load_delivery(name), bot_user_id)
        if event.detail_type == names.MESSAGE_RECEIVED
    ]


def test_someones_dm_is_one_message_on_the_dm_channel() -> None:
    events = translate_delivery(load_delivery(RECEIVED))
    received = [event for event in events if event.detail_type == names.MESSAGE_RECEIVED]
    assert len(received) == 1
    detail = received[0].detail
    assert detail["Channel"] == DM
    assert detail["DirectMessage"] == {
        "EventId": "1247299084244979717",
        "SenderId": "1693649419",
        "RecipientId": "42",
        "ConversationId": "42-1693649419",
    }
    # Its own id field: no Twitter (a DM must never be taken for the post with the same number).
    assert "Twitter" not in detail
    assert detail["Text"] == "Hello World!"
    assert detail["Author"] == "tweetinvitest"  # from the delivery's users
    assert detail["ImageUrls"] == []
    message = MessageReceived.from_detail(detail)
    assert message.channel == DM
    assert message.direct_message == DirectMessageRef("1247299084244979717", "1693649419", "42", "42-1693649419")
    # The responders' view: the sender is the author; the ids can never be a post's.
    assert message.twitter.user_id == "1693649419"
    assert message.twitter.tweet_id == "dm:1247299084244979717"


def test_the_bots_own_dm_is_skipped_never_a_message() -> None:
    for name in (SENT, SENT_ESCAPED):
        events = translate_delivery(load_delivery(name))
        assert [event.detail_type for event in events] == [names.TWITTER_DM_RECEIVED, names.MESSAGE_SKIPPED]
        skipped = MessageSkipped.from_detail(events[1].detail)
        assert skipped.reason == OWN_POST
        assert skipped.direct_message is not None
        assert events[1].detail["Channel"] == DM and "Twitter" not in events[1].detail
        # The skip names who and which DM, never what it said.
        assert "Text" not in events[1].detail


def test_the_bots_own_dm_is_skipped_with_the_bot_id_configured() -> None:
    assert messages(SENT, bot_user_id="42") == []
    assert len(messages(RECEIVED, bot_user_id="42")) == 1


def test_a_delivery_for_another_account_gives_no_message() -> None:
    assert messages(RECEIVED, bot_user_id="999") == []


def test_a_dm_with_a_photo_is_text_only() -> None:
    (message,) = messages(WITH_PHOTO)
    assert message.image_urls == []
    # The photo's t.co link is taken off: the text is what the person wrote.
    assert message.text == "Ok now it works, but there's something a bit messy"
    assert message.author is None  # the delivery has no users directory
    events = translate_delivery(load_delivery(WITH_PHOTO))
    assert "ton.twitter.com" not in json.dumps(
        [event.detail for event in events if event.detail_type == names.MESSAGE_RECEIVED]
    )


def test_a_dm_not_to_the_bot_gives_nothing() -> None:
    delivery = load_delivery(RECEIVED)
    delivery["direct_message_events"][0]["message_create"]["target"]["recipient_id"] = "7"
    assert [event.detail_type for event in translate_delivery(delivery)] == [names.TWITTER_DM_RECEIVED]


def test_events_other_than_message_create_are_not_messages() -> None:
    delivery = load_delivery(RECEIVED)
    delivery["direct_message_events"][0]["type"] = "welcome_message_rule"
    assert [event.detail_type for event in translate_delivery(delivery)] == [names.TWITTER_DM_RECEIVED]


def test_an_unreadable_dm_is_rejected_without_its_text() -> None:
    delivery = copy.deepcopy(load_delivery(RECEIVED))
    delivery["direct_message_events"][0]["message_create"]["sender_id"] = 1693649419  # a number, not an id string
    delivery["direct_message_events"][0]["message_create"]["message_data"]["text"] = "my secret plan"
    events = translate_delivery(delivery)
    (rejected,) = [event for event in events if event.detail_type == names.DELIVERY_REJECTED]
    assert "sender_id" in rejected.detail["Reason"]
    assert "my secret plan" not in json.dumps(rejected.detail)
    assert names.MESSAGE_RECEIVED not in [event.detail_type for event in events]


def test_x_activity_dm_received_is_a_message_too() -> None:
    (message,) = messages(X_ACTIVITY)
    assert message.channel == DM
    assert message.text == "hello!"
    assert message.author == "OtherUser"
    assert message.direct_message is not None and message.direct_message.sender_id == "2222222222222222222"


def test_a_dm_and_a_post_with_the_same_id_do_not_collide() -> None:
    dm = messages(RECEIVED)[0]
    post_delivery = load_delivery("tweet_create_events_mention_reply.json")
    (post,) = [
        MessageReceived.from_detail(event.detail)
        for event in translate_delivery(post_delivery)
        if event.detail_type == names.MESSAGE_RECEIVED
    ]
    assert dm.direct_message is not None
    same_number = MessageReceived(
        post.text, post.author, post.lang, type(post.twitter)(dm.direct_message.event_id, "1")
    )
    assert same_number.twitter.tweet_id == dm.direct_message.event_id
    assert dm.twitter.tweet_id != same_number.twitter.tweet_id
    assert dm.to_detail() != same_number.to_detail()


def test_a_signed_dm_delivery_through_the_service_is_stamped() -> None:
    bus = RecordingBus()
    service = IngressService(
        secrets=StaticSecret("s3cret"),
        publisher=EventPublisher(bus=bus, bus_name="xbot", payload_store=None, retry=RetryPolicy(attempts=1)),
        bot_user_id="42",
        max_body_bytes=1_000_000,
        now=lambda: 1_764_700_000.0,
    )
    body = json.dumps(load_delivery(RECEIVED)).encode()
    receipt = service.receive(body, sign("s3cret", body))
    assert receipt.detail_types == [names.TWITTER_DM_RECEIVED, names.MESSAGE_RECEIVED]
    (entry,) = [entry for entry in bus.entries if entry["DetailType"] == names.MESSAGE_RECEIVED]
    message = MessageReceived.from_detail(json.loads(entry["Detail"]))
    assert message.received_at_ms == 1_764_700_000_000
    assert message.channel == DM


def test_a_rejected_dm_element_is_recorded_without_its_text() -> None:
    """A DM whose fields do not fit the lake is DELIVERY_REJECTED with the reason, never an excerpt:
    the text of a DM is private (a post's rejection quotes an excerpt)."""
    delivery = load_delivery(RECEIVED)
    element = delivery["direct_message_events"][0]
    text = element["message_create"]["message_data"]["text"]
    element["HasImages"] = "yes"  # a lake column that holds a boolean
    events = translate_delivery(delivery)
    rejected = [event for event in events if event.detail_type == names.DELIVERY_REJECTED]
    assert rejected, [event.detail_type for event in events]
    assert text not in json.dumps([event.detail for event in rejected])
    assert all("excerpt" not in event.detail for event in rejected)
