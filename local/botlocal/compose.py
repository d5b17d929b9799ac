"""Compose Account Activity deliveries the way X sends them, for trying the bot locally."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

#: The local bot's X identity when BOT_USER_ID is not set.
LOCAL_BOT_USER_ID: Final = "1000000000000000001"
LOCAL_BOT_SCREEN_NAME: Final = "xbot"
#: X's snowflake epoch (2010-11-04T01:42:54.657Z), in milliseconds.
_TWITTER_EPOCH_MS: Final = 1288834974657


@dataclass(frozen=True)
class ComposedPost:
    delivery: dict[str, Any]
    tweet_id: str


def snowflake(now: datetime) -> str:
    """An id shaped like X's: milliseconds since X's epoch, then 22 random bits (never reused)."""
    millis = int(now.timestamp() * 1000) - _TWITTER_EPOCH_MS
    return str((millis << 22) | secrets.randbits(22))


def user_id_of(screen_name: str) -> str:
    """A stable made-up id for a screen name, so one author is one user across posts."""
    return str(int(hashlib.sha256(screen_name.lower().encode()).hexdigest()[:15], 16))


def compose_mention(
    text: str,
    *,
    author: str,
    photo_urls: list[str],
    bot_user_id: str = LOCAL_BOT_USER_ID,
    bot_screen_name: str = LOCAL_BOT_SCREEN_NAME,
    lang: str | None = "en",
    now: datetime | None = None,
) -> ComposedPost:
    """A tweet_create_events delivery of a post by `author` that mentions the bot, with photos."""
    when = now or datetime.now(UTC)
    tweet_id = snowflake(when)
    mention = f"@{bot_screen_name}"
    full_text = text if mention.lower() in text.lower() else f"{mention} {text}"
    start = full_text.lower().index(mention.lower())
    media = [
        {
            "id_str": snowflake(when),
            "type": "photo",
            "media_url_https": url,
            "url": "https://t.co/local",
            "display_url": "pic.x.com/local",
        }
        for url in photo_urls
    ]
    entities: dict[str, Any] = {
        "hashtags": [],
        "urls": [],
        "symbols": [],
        "user_mentions": [
            {
                "id_str": bot_user_id,
                "screen_name": bot_screen_name,
                "name": bot_screen_name,
                "indices": [start, start + len(mention)],
            }
        ],
    }
    post: dict[str, Any] = {
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id_str": tweet_id,
        "text": full_text,
        "user": {"id_str": user_id_of(author), "screen_name": author, "name": author},
        "entities": {**entities, **({"media": media[:1]} if media else {})},
        "timestamp_ms": str(int(when.timestamp() * 1000)),
        "is_quote_status": False,
        # X always says which language it thinks a post is in ("und" when it cannot tell).
        "lang": lang or "und",
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
    }
    if media:
        post["extended_entities"] = {"media": media}
    return ComposedPost(delivery={"for_user_id": bot_user_id, "tweet_create_events": [post]}, tweet_id=tweet_id)


@dataclass(frozen=True)
class ComposedDirectMessage:
    delivery: dict[str, Any]
    event_id: str


def compose_dm(
    text: str,
    *,
    author: str,
    bot_user_id: str = LOCAL_BOT_USER_ID,
    bot_screen_name: str = LOCAL_BOT_SCREEN_NAME,
    from_bot: bool = False,
    now: datetime | None = None,
) -> ComposedDirectMessage:
    """A direct_message_events delivery of a DM from `author` to the bot, as Account Activity sends
    it (a message_create event and the users it names); with `from_bot`, the DM the bot sent to
    `author` (Account Activity delivers those too, and the bot must not answer them)."""
    when = now or datetime.now(UTC)
    event_id = snowflake(when)
    person = user_id_of(author)
    sender, recipient = (bot_user_id, person) if from_bot else (person, bot_user_id)
    event = {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": str(int(when.timestamp() * 1000)),
        "message_create": {
            "target": {"recipient_id": recipient},
            "sender_id": sender,
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }
    users = {
        person: {"id": person, "name": author, "screen_name": author},
        bot_user_id: {"id": bot_user_id, "name": bot_screen_name, "screen_name": bot_screen_name},
    }
    return ComposedDirectMessage(
        delivery={"for_user_id": bot_user_id, "direct_message_events": [event], "users": users}, event_id=event_id
    )
