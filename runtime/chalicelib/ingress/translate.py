"""Anti-corruption layer: an X webhook delivery becomes the bot's events.

Raw events keep X's payload (one per element of each Account Activity key, or one per X Activity
API envelope) so nothing is lost; MESSAGE_RECEIVED is the bot's own view of a post addressed to it.
Pure functions: no I/O, easy to test against real payloads.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from chalicelib.contracts import names
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import MessageReceived, TwitterRef

Json = dict[str, Any]

#: Envelope fields that describe the whole delivery; each raw event carries them along.
_DELIVERY_CONTEXT_KEYS = ("for_user_id", "user_has_blocked", "users", "apps")
_X_ACTIVITY_MESSAGE_TYPES = ("post.mention.create", "post.reply.create")


def translate_delivery(delivery: Json, bot_user_id: str | None = None) -> list[BusEvent]:
    """Every event a delivery stands for: the raw events first, then the domain events.

    `bot_user_id`, when configured, is the bot's X account: deliveries for another subscribed
    account still give raw events, but never a MESSAGE_RECEIVED.
    """
    if "data" in delivery and isinstance(delivery["data"], dict):
        return _translate_x_activity(delivery["data"], bot_user_id)
    return _translate_account_activity(delivery, bot_user_id)


def _raw(detail_type: str, detail: Json) -> BusEvent:
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=detail_type, detail=detail)


def _unknown(key: str, element: Any, context: Json) -> BusEvent:
    return _raw(names.TWITTER_UNKNOWN, {"key": key, "element": element, **context})


# --- Account Activity API ---------------------------------------------------------------------


def _translate_account_activity(delivery: Json, bot_user_id: str | None) -> list[BusEvent]:
    context = {key: delivery[key] for key in _DELIVERY_CONTEXT_KEYS if key in delivery}
    events: list[BusEvent] = []
    for key, value in delivery.items():
        if key in _DELIVERY_CONTEXT_KEYS:
            continue
        events.extend(_account_activity_events(key, value, context))
    events.extend(_messages_from_account_activity(delivery, bot_user_id))
    return events


def _account_activity_events(key: str, value: Any, context: Json) -> Iterator[BusEvent]:
    # user_event and replay_job_status are single objects, not arrays.
    if key == "user_event":
        yield _raw(names.TWITTER_PERMISSION_REVOKED, {**_as_object(value), **context})
        return
    if key == "replay_job_status":
        yield _raw(names.TWITTER_REPLAY_JOB_STATUS, {**_as_object(value), **context})
        return
    elements = value if isinstance(value, list) else [value]
    for element in elements:
        detail_type = _detail_type_of(key, element)
        if detail_type is None or not isinstance(element, dict):
            yield _unknown(key, element, context)
        else:
            yield _raw(detail_type, {**element, **context})


def _as_object(value: Any) -> Json:
    return value if isinstance(value, dict) else {"value": value}


def _detail_type_of(key: str, element: Any) -> str | None:
    if key in names.ACCOUNT_ACTIVITY_DETAIL_TYPES:
        return names.ACCOUNT_ACTIVITY_DETAIL_TYPES[key]
    typed = names.ACCOUNT_ACTIVITY_TYPED_KEYS.get(key)
    if typed is None or not isinstance(element, dict):
        return None
    # unfollow/unblock/unmute arrive inside follow/block/mute events with a "type".
    return typed.get(str(element.get("type", "")))


def _messages_from_account_activity(delivery: Json, bot_user_id: str | None) -> Iterator[BusEvent]:
    bot_id = _bot_id(delivery.get("for_user_id"), bot_user_id)
    posts = delivery.get("tweet_create_events")
    if bot_id is None or not isinstance(posts, list):
        return
    for post in posts:
        if isinstance(post, dict) and _is_addressed_to(post, bot_id):
            yield _message_received(_message_from_v1_post(post))


def _bot_id(subscribed_id: Any, configured_id: str | None) -> str | None:
    """The account the delivery is for, if it is the bot (or the bot is not pinned down)."""
    subscribed = str(subscribed_id) if subscribed_id is not None else None
    if configured_id is None:
        return subscribed
    return configured_id if subscribed in (None, configured_id) else None


def _is_addressed_to(post: Json, bot_id: str) -> bool:
    """A post someone else wrote that mentions the bot, replies to it or quotes it; no retweets."""
    author = _dict(post.get("user")).get("id_str")
    if author == bot_id or "retweeted_status" in post:
        return False
    mentioned = {m.get("id_str") for m in _user_mentions(post) if isinstance(m, dict)}
    quoted_author = _dict(_dict(post.get("quoted_status")).get("user")).get("id_str")
    return bot_id in mentioned or post.get("in_reply_to_user_id_str") == bot_id or quoted_author == bot_id


def _user_mentions(post: Json) -> list[Any]:
    extended = _dict(_dict(post.get("extended_tweet")).get("entities")).get("user_mentions")
    plain = _dict(post.get("entities")).get("user_mentions")
    return [*(extended or []), *(plain or [])]


def _message_from_v1_post(post: Json) -> MessageReceived:
    extended = _dict(post.get("extended_tweet"))
    text = extended.get("full_text") or post.get("full_text") or post.get("text") or ""
    user = _dict(post.get("user"))
    tweet_id = str(post.get("id_str", ""))
    replied_to = post.get("in_reply_to_status_id_str")
    return MessageReceived(
        text=html.unescape(text),  # X escapes &, < and > in v1.1 text
        author=str(user["screen_name"]) if user.get("screen_name") else None,
        lang=post.get("lang"),
        image_urls=_photo_urls(post),
        twitter=TwitterRef(
            tweet_id=tweet_id,
            user_id=str(user.get("id_str", "")),
            # v1.1 has no conversation id; a post that replies to nothing starts its own.
            conversation_id=None if replied_to else tweet_id,
        ),
    )


def _photo_urls(post: Json) -> list[str]:
    """Every photo: extended_entities lists all of them, entities only the first."""
    extended = _dict(post.get("extended_tweet"))
    for holder in (
        extended.get("extended_entities"),
        post.get("extended_entities"),
        extended.get("entities"),
        post.get("entities"),
    ):
        media = _dict(holder).get("media")
        if media:
            return [
                m["media_url_https"]
                for m in media
                if isinstance(m, dict) and m.get("type") == "photo" and m.get("media_url_https")
            ]
    return []


# --- X Activity API ---------------------------------------------------------------------------


def _translate_x_activity(data: Json, bot_user_id: str | None) -> list[BusEvent]:
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        return [_unknown("data", data, {})]
    events = [_raw(names.x_activity_detail_type(event_type), data)]
    bot_id = _bot_id(_dict(data.get("filter")).get("user_id"), bot_user_id)
    payload = _dict(data.get("payload"))
    if event_type in _X_ACTIVITY_MESSAGE_TYPES and bot_id is not None and _is_v2_message_for(payload, bot_id):
        events.append(_message_received(_message_from_v2_post(payload, _dict(data.get("includes")))))
    return events


def _is_v2_message_for(post: Json, bot_id: str) -> bool:
    retweet = any(_dict(ref).get("type") == "retweeted" for ref in post.get("referenced_tweets") or [])
    return bool(post.get("id")) and str(post.get("author_id")) != bot_id and not retweet


def _message_from_v2_post(post: Json, includes: Json) -> MessageReceived:
    author_id = str(post.get("author_id", ""))
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    media_keys = set(_dict(post.get("attachments")).get("media_keys") or [])
    photos = [
        m["url"]
        for m in includes.get("media") or []
        if isinstance(m, dict) and m.get("type") == "photo" and m.get("url") and m.get("media_key") in media_keys
    ]
    # Long posts keep their whole text in note_tweet.
    text = _dict(post.get("note_tweet")).get("text") or post.get("text") or ""
    return MessageReceived(
        text=html.unescape(text),
        author=str(users[author_id]["username"]) if users.get(author_id, {}).get("username") else None,
        lang=post.get("lang"),
        image_urls=photos,
        twitter=TwitterRef(
            tweet_id=str(post["id"]),
            user_id=author_id,
            conversation_id=str(post["conversation_id"]) if post.get("conversation_id") else None,
        ),
    )


# --- shared -----------------------------------------------------------------------------------


def _message_received(message: MessageReceived) -> BusEvent:
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=names.MESSAGE_RECEIVED, detail=message.to_detail())


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}
