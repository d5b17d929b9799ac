from __future__ import annotations

from datetime import UTC, datetime

from botlocal.compose import LOCAL_BOT_USER_ID, compose_mention, snowflake, user_id_of
from chalicelib.contracts import names
from chalicelib.ingress.translate import translate_delivery


def test_a_composed_mention_becomes_a_message_with_its_photos() -> None:
    photos = ["https://pbs.twimg.com/media/a.jpg", "https://pbs.twimg.com/media/b.png"]
    composed = compose_mention("tell me a joke", author="alice", photo_urls=photos)
    events = translate_delivery(composed.delivery)
    assert [event.detail_type for event in events] == [names.TWITTER_TWEETED, names.MESSAGE_RECEIVED]
    detail = events[-1].detail
    assert detail["Text"] == "@xbot tell me a joke"
    assert detail["Author"] == "alice"
    assert detail["ImageUrls"] == photos
    assert detail["Twitter"]["TweetId"] == composed.tweet_id
    assert composed.delivery["for_user_id"] == LOCAL_BOT_USER_ID


def test_an_existing_mention_is_not_repeated_and_its_indices_are_right() -> None:
    composed = compose_mention("hey @XBot how are you", author="bob", photo_urls=[])
    post = composed.delivery["tweet_create_events"][0]
    assert post["text"] == "hey @XBot how are you"
    start, end = post["entities"]["user_mentions"][0]["indices"]
    assert post["text"][start:end] == "@XBot"
    assert "extended_entities" not in post


def test_ids_are_snowflakes_and_authors_stable() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    first, second = int(snowflake(now)), int(snowflake(now))
    assert first >> 22 == second >> 22  # the time part; the low 22 bits are random
    assert first > 2**53  # as X's: only the string form is exact in JSON readers
    assert user_id_of("Alice") == user_id_of("alice") != user_id_of("bob")
