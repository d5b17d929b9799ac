"""The anti-corruption layer against real payloads from X (see tests/fixtures/x-webhooks/SOURCES.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chalicelib.contracts import names
from chalicelib.contracts.messages import MessageReceived
from chalicelib.ingress.translate import translate_delivery

from tests.conftest import delivery_files, load_delivery

EXPECTED_RAW = {
    "block_events_block.json": ["TWITTER_BLOCKED"],
    "block_events_unblock.json": ["TWITTER_UNBLOCKED"],
    # issue 10: a DM to the bot is a message (channel DM); the bot's own DM is recorded as skipped
    "direct_message_events_docs.json": ["TWITTER_DM_RECEIVED", "MESSAGE_RECEIVED"],
    "direct_message_events_received.json": ["TWITTER_DM_RECEIVED", "MESSAGE_RECEIVED"],
    "direct_message_events_received_photo.json": ["TWITTER_DM_RECEIVED", "MESSAGE_RECEIVED"],
    "direct_message_events_sent.json": ["TWITTER_DM_RECEIVED", "MESSAGE_SKIPPED"],
    "direct_message_events_sent_wire_escaped.json": ["TWITTER_DM_RECEIVED", "MESSAGE_SKIPPED"],
    "direct_message_indicate_typing_events.json": ["TWITTER_DM_TYPING"],
    "direct_message_mark_read_events.json": ["TWITTER_DM_MARKED_READ"],
    "direct_message_mark_read_events_docs.json": ["TWITTER_DM_MARKED_READ"],
    "favorite_events_partial.json": ["TWITTER_FAVOURITED"],
    "follow_events_follow.json": ["TWITTER_FOLLOWED"],
    "follow_events_unfollow.json": ["TWITTER_UNFOLLOWED"],
    "mute_events_mute.json": ["TWITTER_MUTED"],
    "mute_events_unmute.json": ["TWITTER_UNMUTED"],
    "replay_job_status_complete.json": ["TWITTER_REPLAY_JOB_STATUS"],
    "replay_job_status_incomplete.json": ["TWITTER_REPLAY_JOB_STATUS"],
    "tweet_create_events_media_photo.json": ["TWITTER_TWEETED"],
    "tweet_create_events_media_video.json": ["TWITTER_TWEETED"],
    "tweet_create_events_mention_partial.json": ["TWITTER_TWEETED", "MESSAGE_RECEIVED"],
    "tweet_create_events_mention_reply.json": ["TWITTER_TWEETED", "MESSAGE_RECEIVED"],
    "tweet_create_events_own_reply.json": ["TWITTER_TWEETED", "MESSAGE_SKIPPED"],  # recorded, never answered
    "tweet_create_events_plain_extended.json": ["TWITTER_TWEETED"],
    "tweet_create_events_quote.json": ["TWITTER_TWEETED", "MESSAGE_RECEIVED"],
    # the account quotes its own post: the bot's own post, recorded as skipped, never answered
    "tweet_create_events_quote_docs.json": ["TWITTER_TWEETED", "MESSAGE_SKIPPED"],
    "tweet_create_events_retweet.json": ["TWITTER_TWEETED"],
    "tweet_delete_events.json": ["TWITTER_DELETED"],
    "user_event_revoke.json": ["TWITTER_PERMISSION_REVOKED"],
    "xaa_dm_received.json": ["X_DM_RECEIVED", "MESSAGE_RECEIVED"],
    "xaa_follow_follow.json": ["X_FOLLOW_FOLLOW"],
    "xaa_like_create.json": ["X_LIKE_CREATE"],
    "xaa_oauth_revoke.json": ["X_OAUTH_REVOKE"],
    "xaa_post_create.json": ["X_POST_CREATE"],
    "xaa_post_mention_create.json": ["X_POST_MENTION_CREATE", "MESSAGE_RECEIVED"],
    "xaa_post_reply_create.json": ["X_POST_REPLY_CREATE", "MESSAGE_RECEIVED"],
}


def test_every_fixture_is_covered() -> None:
    assert sorted(EXPECTED_RAW) == [path.name for path in delivery_files()]


@pytest.mark.parametrize("name", sorted(EXPECTED_RAW))
def test_detail_types_of_each_real_delivery(name: str) -> None:
    events = translate_delivery(load_delivery(name))
    assert [event.detail_type for event in events] == EXPECTED_RAW[name]
    assert all(event.source == names.SOURCE_INGRESS for event in events)
    assert all(event.detail_type in names.ALL_DETAIL_TYPES for event in events)


def test_raw_event_is_the_element_plus_for_user_id() -> None:
    delivery = load_delivery("follow_events_unfollow.json")
    (event,) = translate_delivery(delivery)
    element = delivery["follow_events"][0]
    assert event.detail == {**element, "for_user_id": delivery["for_user_id"]}


def test_user_event_has_no_for_user_id_and_is_one_object() -> None:
    (event,) = translate_delivery(load_delivery("user_event_revoke.json"))
    assert "revoke" in event.detail
    assert "for_user_id" not in event.detail


def test_every_element_of_a_key_is_one_event() -> None:
    delivery = load_delivery("follow_events_follow.json")
    unfollow = load_delivery("follow_events_unfollow.json")["follow_events"][0]
    delivery["follow_events"].append(unfollow)
    types = [event.detail_type for event in translate_delivery(delivery)]
    assert types == ["TWITTER_FOLLOWED", "TWITTER_UNFOLLOWED"]


def test_unknown_keys_and_types_are_kept_not_dropped() -> None:
    delivery = {"for_user_id": "1", "spaces_events": [{"a": 1}, {"b": 2}], "follow_events": [{"type": "poke"}]}
    events = translate_delivery(delivery)
    assert [event.detail_type for event in events] == ["TWITTER_UNKNOWN"] * 3
    assert events[0].detail == {"key": "spaces_events", "element": {"a": 1}, "for_user_id": "1"}
    assert events[2].detail["element"] == {"type": "poke"}


def test_x_activity_envelope_without_event_type_is_unknown() -> None:
    (event,) = translate_delivery({"data": {"payload": {}}})
    assert event.detail_type == "TWITTER_UNKNOWN"


def test_message_from_a_mention_reply() -> None:
    events = translate_delivery(load_delivery("tweet_create_events_mention_reply.json"))
    message = MessageReceived.from_detail(events[-1].detail)
    assert message.text == "@Learn_Awesome Save this"
    assert message.author == "TanuLearns"
    assert message.lang == "en"
    assert message.twitter.tweet_id == "1332557345071644672"
    assert message.twitter.user_id == "1247048165561270272"


def test_unknown_author_is_none_not_an_empty_name() -> None:
    detail = translate_delivery(load_delivery("xaa_post_reply_create.json"))[-1].detail
    assert detail["Author"] is None
    assert MessageReceived.from_detail(detail).author is None


def test_message_keeps_ids_as_exact_strings() -> None:
    delivery = load_delivery("xaa_post_mention_create.json")
    detail = translate_delivery(delivery)[-1].detail
    assert detail["Twitter"]["TweetId"] == "2080765813578191303"
    assert detail["Author"] == "OtherUser"


def _photo_mention() -> dict[str, Any]:
    """The sources hold no real photo mention: the mention's fields plus a real photo's media."""
    delivery = load_delivery("tweet_create_events_mention_reply.json")
    photo = load_delivery("tweet_create_events_media_photo.json")["tweet_create_events"][0]
    post = delivery["tweet_create_events"][0]
    post["extended_entities"] = copy.deepcopy(photo["extended_entities"])
    second = copy.deepcopy(photo["extended_entities"]["media"][0])
    second["media_url_https"] = "https://pbs.twimg.com/media/second.jpg"
    post["extended_entities"]["media"].append(second)
    post["entities"]["media"] = [photo["extended_entities"]["media"][0]]
    return delivery


def test_every_photo_comes_from_extended_entities() -> None:
    detail = translate_delivery(_photo_mention())[-1].detail
    assert detail["ImageUrls"] == [
        "https://pbs.twimg.com/media/D_VRSrrXkAAYzkx.png",
        "https://pbs.twimg.com/media/second.jpg",
    ]


def test_photos_fall_back_to_entities_and_skip_videos() -> None:
    delivery = _photo_mention()
    post = delivery["tweet_create_events"][0]
    del post["extended_entities"]
    assert translate_delivery(delivery)[-1].detail["ImageUrls"] == ["https://pbs.twimg.com/media/D_VRSrrXkAAYzkx.png"]
    post["entities"]["media"][0]["type"] = "video"
    assert translate_delivery(delivery)[-1].detail["ImageUrls"] == []


def test_long_post_text_comes_from_extended_tweet() -> None:
    delivery = load_delivery("tweet_create_events_mention_partial.json")
    post = delivery["tweet_create_events"][0]
    post["truncated"] = True
    post["extended_tweet"] = {"full_text": "the whole long text &amp; more", "entities": {"user_mentions": []}}
    assert translate_delivery(delivery)[-1].detail["Text"] == "the whole long text & more"


def test_own_posts_and_retweets_are_not_messages() -> None:
    for name in ("tweet_create_events_own_reply.json", "tweet_create_events_retweet.json"):
        assert names.MESSAGE_RECEIVED not in [e.detail_type for e in translate_delivery(load_delivery(name))]
    reply = load_delivery("xaa_post_reply_create.json")
    reply["data"]["payload"]["author_id"] = reply["data"]["filter"]["user_id"]
    assert [e.detail_type for e in translate_delivery(reply)] == ["X_POST_REPLY_CREATE", "MESSAGE_SKIPPED"]


def test_a_retweet_that_mentions_the_bot_is_not_a_message() -> None:
    delivery = load_delivery("tweet_create_events_mention_partial.json")
    delivery["tweet_create_events"][0]["retweeted_status"] = {"id_str": "1"}
    assert names.MESSAGE_RECEIVED not in [e.detail_type for e in translate_delivery(delivery)]


def test_configured_bot_id_ignores_deliveries_for_other_accounts() -> None:
    delivery = load_delivery("tweet_create_events_mention_reply.json")
    bot_id = delivery["for_user_id"]
    assert translate_delivery(delivery, bot_user_id=bot_id)[-1].detail_type == names.MESSAGE_RECEIVED
    assert [e.detail_type for e in translate_delivery(delivery, bot_user_id="999")] == ["TWITTER_TWEETED"]


def test_message_received_round_trips() -> None:
    detail = translate_delivery(_photo_mention())[-1].detail
    assert MessageReceived.from_detail(detail).to_detail() == detail
