"""Anti-corruption layer: an X webhook delivery becomes the bot's events.

Raw events keep X's payload (one per element of each Account Activity key, or one per X Activity
API envelope) so nothing is lost; MESSAGE_RECEIVED is the bot's own view of a post addressed to it.
Every field used from a delivery is type-checked here, by hand (a schema library would grow the
webhook's cold start). Whatever cannot be processed becomes a DELIVERY_REJECTED event with its
reason and a short excerpt, so a signed delivery is always acknowledged and nothing goes unrecorded.
Pure functions: no I/O, easy to test against real payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final, TypeGuard

from chalicelib.contracts import datalake, names
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import DirectMessageRef, MessageReceived, TwitterRef, one_to_one_id
from chalicelib.kernel.delivery_json import RejectedError
from chalicelib.kernel.x_ids import is_x_id

Json = dict[str, Any]

# --- caps (each one's reason is recorded when it applies) ---------------------------------------

#: Elements of one Account Activity delivery turned into events; the rest are recorded as rejected.
MAX_ELEMENTS_PER_DELIVERY: Final = 100
#: X allows 4 photos per post; each costs several paid analysis calls.
MAX_PHOTOS_PER_POST: Final = 4
#: X's longest posts (note tweets) hold 25,000 characters.
MAX_TEXT_CHARS: Final = 25_000
#: X's photo URLs are ~50 characters; analysis keys storage objects by the file name.
MAX_MEDIA_URL_CHARS: Final = 1024
MAX_MEDIA_FILE_NAME_CHARS: Final = 128
#: Ids, screen names and language tags are short; anything longer is not X's.
MAX_ID_CHARS: Final = 32
MAX_NAME_CHARS: Final = 64
MAX_LANG_CHARS: Final = 35
#: Users and apps copied into one raw event (only those the event refers to).
MAX_CONTEXT_ENTRIES: Final = 8
#: Bounds of what a rejection records.
MAX_REASON_CHARS: Final = 500
MAX_EXCERPT_CHARS: Final = 300

#: Envelope fields that describe the whole delivery; each raw event carries them along.
_DELIVERY_CONTEXT_KEYS = ("for_user_id", "user_has_blocked", "users", "apps")
_X_ACTIVITY_MESSAGE_TYPES = ("post.mention.create", "post.reply.create")
#: Keys of an element that name the users and apps it refers to (direct messages, typing, reads).
_REFERENCE_KEYS = frozenset({"sender_id", "recipient_id", "source_app_id", "user_id", "id"})


# A pattern string, not a compiled pattern: `re` compiles it on its first use (an X Activity API
# delivery) and keeps it in its own cache; X's CRC checks never need it.
_X_ACTIVITY_EVENT_TYPE: Final = r"[A-Za-z][A-Za-z0-9_.]{0,62}"


def _unescaped(text: str) -> str:
    """X's text with its HTML character references (&amp; &lt; &gt;) turned back into characters."""
    if "&" not in text:
        return text  # what html.unescape answers too; most posts never load html (and html.entities)
    import html

    return html.unescape(text)


# --- the delivery -----------------------------------------------------------------------------


def translate_delivery(delivery: Json, bot_user_id: str | None = None) -> list[BusEvent]:
    """Every event a delivery stands for: the raw events first, then the domain events, then
    what was rejected.

    `bot_user_id`, when configured, is the bot's X account: deliveries for another subscribed
    account still give raw events, but never a MESSAGE_RECEIVED.
    """
    if "data" in delivery and isinstance(delivery["data"], dict):
        return _translate_x_activity(delivery["data"], bot_user_id)
    return _translate_account_activity(delivery, bot_user_id)


def rejection(reason: str, *, key: str = "", excerpt: str = "", for_user_id: Any = None) -> BusEvent:
    """A DELIVERY_REJECTED event: what could not be processed, why, and a short safe excerpt."""
    detail: Json = {"Reason": _safe_text(reason, MAX_REASON_CHARS), "key": _safe_text(key, MAX_NAME_CHARS)}
    if excerpt:
        detail["excerpt"] = _safe_text(excerpt, MAX_EXCERPT_CHARS)
    if _is_id(for_user_id):
        detail["for_user_id"] = for_user_id
    return _raw(names.DELIVERY_REJECTED, detail)


def excerpt_of(value: Any) -> str:
    try:
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except (ValueError, RecursionError):
        dumped = repr(value)
    return dumped[: MAX_EXCERPT_CHARS + 1]


def _safe_text(text: str, limit: int) -> str:
    """At most `limit` characters, lone surrogates escaped so the event stays valid UTF-8 JSON."""
    clipped = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return clipped.encode("utf-8", errors="backslashreplace").decode("utf-8")


def _raw(detail_type: str, detail: Json) -> BusEvent:
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=detail_type, detail=detail)


def _unknown(key: str, element: Any, context: Json) -> BusEvent:
    return _raw(names.TWITTER_UNKNOWN, {"key": key, "element": element, **context})


# --- Account Activity API ---------------------------------------------------------------------


def _translate_account_activity(delivery: Json, bot_user_id: str | None) -> list[BusEvent]:
    for_user_id = delivery.get("for_user_id")
    rejected: list[BusEvent] = []
    context: Json = {}
    if _is_id(for_user_id):
        context["for_user_id"] = for_user_id
    elif for_user_id is not None:
        rejected.append(
            rejection("for_user_id is not an id string", key="for_user_id", excerpt=excerpt_of(for_user_id))
        )
    if isinstance(delivery.get("user_has_blocked"), bool):
        context["user_has_blocked"] = delivery["user_has_blocked"]
    directories = {key: delivery[key] for key in ("users", "apps") if isinstance(delivery.get(key), dict)}

    events: list[BusEvent] = []
    budget = MAX_ELEMENTS_PER_DELIVERY
    over: dict[str, int] = {}
    kept: dict[str, list[Any]] = {}
    for key, value in delivery.items():
        if key in _DELIVERY_CONTEXT_KEYS:
            continue
        # user_event and replay_job_status are single objects, not arrays.
        elements = value if isinstance(value, list) and key not in ("user_event", "replay_job_status") else [value]
        taken, budget = elements[:budget], max(0, budget - len(elements))
        kept[key] = taken
        if len(elements) > len(taken):
            over[key] = len(elements) - len(taken)
        for element in taken:
            events.append(_account_activity_event(key, element, context, directories))
    if over:
        dropped = ", ".join(f"{count} of {_safe_text(key, MAX_NAME_CHARS)}" for key, count in over.items())
        rejected.append(
            rejection(
                f"over {MAX_ELEMENTS_PER_DELIVERY} elements in one delivery; not processed: {dropped}",
                key=next(iter(over)),
                for_user_id=for_user_id,
            )
        )
    if "for_user_id" in context or for_user_id is None:
        events.extend(_messages_from_account_activity(kept.get("tweet_create_events", []), for_user_id, bot_user_id))
        events.extend(
            _messages_from_direct_messages(
                kept.get("direct_message_events", []), for_user_id, bot_user_id, _dict(directories.get("users"))
            )
        )
    return events + rejected


def _account_activity_event(key: str, element: Any, context: Json, directories: Json) -> BusEvent:
    # user_event and replay_job_status are single objects, not arrays.
    single = {"user_event": names.TWITTER_PERMISSION_REVOKED, "replay_job_status": names.TWITTER_REPLAY_JOB_STATUS}
    if key in single:
        as_object = element if isinstance(element, dict) else {"value": element}
        return _checked_raw(single[key], {**as_object, **context}, key)
    detail_type = _detail_type_of(key, element)
    if detail_type is None or not isinstance(element, dict):
        return _checked_raw(names.TWITTER_UNKNOWN, {"key": key, "element": element, **context}, key)
    return _checked_raw(detail_type, {**element, **context, **_referenced(element, directories)}, key)


def _checked_raw(detail_type: str, detail: Json, key: str) -> BusEvent:
    """A raw event, unless a field the data lake has a column for holds another type."""
    misfit = _lake_misfit(detail)
    if misfit is not None:
        # A direct message's text is private: its rejection says what and why, never an excerpt.
        private = detail_type.startswith(("TWITTER_DM_", names.x_activity_detail_type("dm"))) or "direct_message" in key
        return rejection(
            f"{detail_type}: {misfit}",
            key=key,
            excerpt="" if private else excerpt_of(detail),
            for_user_id=detail.get("for_user_id"),
        )
    return _raw(detail_type, detail)


def _referenced(element: Json, directories: Json) -> Json:
    """The entries of `users` and `apps` this element names, not the whole directories."""
    if not directories:
        return {}
    ids = set(_reference_ids(element, depth=4))
    picked: Json = {}
    for name, directory in directories.items():
        entries = {i: directory[i] for i in sorted(ids) if i in directory}
        if entries:
            picked[name] = dict(list(entries.items())[:MAX_CONTEXT_ENTRIES])
    return picked


def _reference_ids(value: Any, depth: int) -> Iterator[str]:
    if depth == 0 or not isinstance(value, dict):
        return
    for key, inner in value.items():
        if key in _REFERENCE_KEYS and _is_id(inner):
            yield inner
        elif isinstance(inner, dict):
            yield from _reference_ids(inner, depth - 1)


def _detail_type_of(key: str, element: Any) -> str | None:
    if key in names.ACCOUNT_ACTIVITY_DETAIL_TYPES:
        return names.ACCOUNT_ACTIVITY_DETAIL_TYPES[key]
    typed = names.ACCOUNT_ACTIVITY_TYPED_KEYS.get(key)
    if typed is None or not isinstance(element, dict):
        return None
    # unfollow/unblock/unmute arrive inside follow/block/mute events with a "type".
    kind = element.get("type")
    return typed.get(kind) if isinstance(kind, str) else None


def _messages_from_account_activity(posts: list[Any], subscribed: Any, bot_user_id: str | None) -> Iterator[BusEvent]:
    bot_id = _bot_id(subscribed, bot_user_id)
    if bot_id is None:
        return
    for index, post in enumerate(posts):
        if not isinstance(post, dict):
            continue
        where = f"tweet_create_events[{index}]"
        try:
            if not _is_addressed_to(post, bot_id):
                continue
            if _v1_author(post) == bot_id:
                yield _own_post_skipped(
                    _v1_twitter_ref(post),
                    _optional_name(_object_field(post, "user"), "screen_name", "user.screen_name"),
                )
                continue
            message, notes = _message_from_v1_post(post)
        except RejectedError as error:
            yield rejection(f"not a message: {error}", key=where, excerpt=excerpt_of(post), for_user_id=subscribed)
            continue
        yield _message_received(message)
        for note in notes:
            yield rejection(note, key=where, for_user_id=subscribed)


def _bot_id(subscribed_id: Any, configured_id: str | None) -> str | None:
    """The account the delivery is for, if it is the bot (or the bot is not pinned down)."""
    subscribed = subscribed_id if _is_id(subscribed_id) else None
    if configured_id is None:
        return subscribed
    return configured_id if subscribed in (None, configured_id) else None


def _is_addressed_to(post: Json, bot_id: str) -> bool:
    """A post someone else wrote that mentions the bot, replies to it or quotes it; no retweets."""
    if "retweeted_status" in post:
        return False
    mentioned = {m["id_str"] for m in _user_mentions(post) if isinstance(m.get("id_str"), str)}
    quoted = _optional_object(post, "quoted_status")
    quoted_author = _optional_object(quoted, "user").get("id_str")
    replied_to = _optional_id(post, "in_reply_to_user_id_str")
    return bot_id in mentioned or replied_to == bot_id or quoted_author == bot_id


def _v1_author(post: Json) -> str:
    """The author decides whether it is the bot's own post: a post without a readable one is refused."""
    return _id_field(_object_field(post, "user"), "id_str", "user.id_str")


def _v1_twitter_ref(post: Json) -> TwitterRef:
    replied_to = _optional_id(post, "in_reply_to_status_id_str")
    tweet_id = _id_field(post, "id_str", "id_str")
    return TwitterRef(
        tweet_id=tweet_id,
        user_id=_v1_author(post),
        # v1.1 has no conversation id; a post that replies to nothing starts its own.
        conversation_id=None if replied_to else tweet_id,
        in_reply_to_user_id=_optional_id(post, "in_reply_to_user_id_str"),
        in_reply_to_tweet_id=replied_to,
    )


def _own_post_skipped(
    twitter: TwitterRef, author: str | None, direct_message: DirectMessageRef | None = None
) -> BusEvent:
    """The bot's own post (or DM) addressed to the bot (its reply in a thread with itself, say):
    recorded as MESSAGE_SKIPPED, never a MESSAGE_RECEIVED, so it can never be answered."""
    # The outcomes contract is imported where a post is skipped: off the webhook's cold start.
    from chalicelib.contracts.outcomes import OWN_POST, MessageSkipped

    skipped = MessageSkipped(twitter=twitter, author=author, reason=OWN_POST, direct_message=direct_message)
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=names.MESSAGE_SKIPPED, detail=skipped.to_detail())


def _user_mentions(post: Json) -> list[Json]:
    extended = _optional_object(_optional_object(post, "extended_tweet"), "entities")
    plain = _optional_object(post, "entities")
    return [
        mention
        for holder, where in ((extended, "extended_tweet.entities"), (plain, "entities"))
        for mention in _optional_list(holder, "user_mentions", f"{where}.user_mentions")
        if isinstance(mention, dict)
    ]


def _message_from_v1_post(post: Json) -> tuple[MessageReceived, list[str]]:
    extended = _optional_object(post, "extended_tweet")
    text = _first_text(((extended, "full_text"), (post, "full_text"), (post, "text")), "extended_tweet.")
    user = _object_field(post, "user")
    image_urls, notes = _checked_photos(_v1_photo_urls(post, extended))
    return (
        MessageReceived(
            text=_unescaped(text),  # X escapes &, < and > in v1.1 text
            author=_optional_name(user, "screen_name", "user.screen_name"),
            lang=_optional_lang(post),
            image_urls=image_urls,
            twitter=_v1_twitter_ref(post),
        ),
        notes,
    )


def _v1_photo_urls(post: Json, extended: Json) -> list[Any]:
    """Every photo: extended_entities lists all of them, entities only the first."""
    for holder, where in (
        (extended.get("extended_entities"), "extended_tweet.extended_entities"),
        (post.get("extended_entities"), "extended_entities"),
        (extended.get("entities"), "extended_tweet.entities"),
        (post.get("entities"), "entities"),
    ):
        if holder is None:
            continue
        if not isinstance(holder, dict):
            raise RejectedError(f"{where} is {_kind(holder)}, not an object")
        media = holder.get("media")
        if media is None or media == []:
            continue
        if not isinstance(media, list):
            raise RejectedError(f"{where}.media is {_kind(media)}, not a list")
        return [m.get("media_url_https") for m in media if isinstance(m, dict) and m.get("type") == "photo"]
    return []


# --- direct messages --------------------------------------------------------------------------


def _messages_from_direct_messages(
    elements: list[Any], subscribed: Any, bot_user_id: str | None, users: Json
) -> Iterator[BusEvent]:
    """A MESSAGE_RECEIVED (channel DM) for each direct message someone sent the bot; a
    MESSAGE_SKIPPED for each the bot sent (Account Activity delivers both directions), so its own
    DMs are never answered. A DM to someone else (never delivered for the bot) gives nothing.

    What cannot be read is a DELIVERY_REJECTED without an excerpt: a DM's text is private, and an
    excerpt would copy it into the rejection (the raw TWITTER_DM_RECEIVED event keeps the element).
    """
    bot_id = _bot_id(subscribed, bot_user_id)
    if bot_id is None:
        return
    for index, element in enumerate(elements):
        # Only message_create events are messages (welcome messages and others are not).
        if not isinstance(element, dict) or element.get("type") != "message_create":
            continue
        try:
            reference, text = _direct_message(element)
            author = _dm_author(users, reference.sender_id)
        except RejectedError as error:
            yield rejection(f"not a message: {error}", key=f"direct_message_events[{index}]", for_user_id=subscribed)
            continue
        if reference.sender_id == bot_id:
            yield _own_post_skipped(reference.as_twitter(), author, reference)
        elif reference.recipient_id == bot_id:
            yield _message_received(
                MessageReceived.direct(text=text, author=author, lang=None, direct_message=reference)
            )


def _direct_message(element: Json) -> tuple[DirectMessageRef, str]:
    """The DM's ids and text. A photo (message_data.attachment) is left out: DMs are answered as
    text, and their photos are not analysed; its t.co link is taken off the end of the text."""
    create = _object_field(element, "message_create")
    sender = _id_field(create, "sender_id", "message_create.sender_id")
    recipient = _id_field(_object_field(create, "target"), "recipient_id", "message_create.target.recipient_id")
    data = _object_field(create, "message_data")
    text = _first_text(((data, "text"),), "message_data.")
    link = _dict(_dict(data.get("attachment")).get("media")).get("url")
    if isinstance(link, str) and link and text.rstrip().endswith(link):
        text = text.rstrip()[: -len(link)].rstrip()
    reference = DirectMessageRef(
        event_id=_id_field(element, "id", "id"),
        sender_id=sender,
        recipient_id=recipient,
        conversation_id=one_to_one_id(sender, recipient),
    )
    return reference, _unescaped(text)  # v1.1 escapes &, < and > in DM text as in posts


def _dm_author(users: Json, user_id: str) -> str | None:
    """The sender's screen name from the delivery's users (Account Activity: screen_name; X Activity:
    data.username); None when the delivery does not say."""
    user = _dict(users.get(user_id))
    name = user.get("screen_name") or _dict(user.get("data")).get("username")
    return _optional_name({"name": name}, "name", "users.screen_name")


# --- X Activity API ---------------------------------------------------------------------------


def _translate_x_activity(data: Json, bot_user_id: str | None) -> list[BusEvent]:
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not re.fullmatch(_X_ACTIVITY_EVENT_TYPE, event_type):
        return [_checked_raw(names.TWITTER_UNKNOWN, {"key": "data", "element": data}, "data")]
    raw = _checked_raw(names.x_activity_detail_type(event_type), data, "data")
    events = [raw]
    subscribed = _dict(data.get("filter")).get("user_id")
    bot_id = _bot_id(subscribed, bot_user_id)
    if event_type == "dm.received" and bot_id is not None:
        # X Activity's dm.received still carries Account Activity's direct_message_events.
        payload = _dict(data.get("payload"))
        elements = payload.get("direct_message_events")
        elements = elements[:MAX_ELEMENTS_PER_DELIVERY] if isinstance(elements, list) else []
        events.extend(_messages_from_direct_messages(elements, subscribed, bot_user_id, _dict(payload.get("users"))))
        return events
    if event_type not in _X_ACTIVITY_MESSAGE_TYPES or bot_id is None:
        return events
    try:
        payload = _object_field(data, "payload")
        if _is_v2_own_post(payload, bot_id):
            events.append(_own_post_skipped(_v2_twitter_ref(payload), None))
        elif _is_v2_message_for(payload, bot_id):
            message, notes = _message_from_v2_post(payload, _optional_object(data, "includes"))
            events.append(_message_received(message))
            events.extend(rejection(note, key="data.payload", for_user_id=subscribed) for note in notes)
    except RejectedError as error:
        events.append(
            rejection(f"not a message: {error}", key="data.payload", excerpt=excerpt_of(data), for_user_id=subscribed)
        )
    return events


def _is_v2_own_post(post: Json, bot_id: str) -> bool:
    """A post (not a repost) the bot wrote, in a mention or reply event of the bot's own account."""
    if not post.get("id") or _is_v2_repost(post):
        return False
    return _id_field(post, "author_id", "payload.author_id") == bot_id


def _is_v2_repost(post: Json) -> bool:
    references = post.get("referenced_tweets") or []
    if not isinstance(references, list):
        raise RejectedError(f"payload.referenced_tweets is {_kind(references)}, not a list")
    return any(_dict(ref).get("type") == "retweeted" for ref in references)


def _v2_twitter_ref(post: Json) -> TwitterRef:
    references = post.get("referenced_tweets") or []
    replied_to = next(
        (
            ref["id"]
            for ref in (references if isinstance(references, list) else [])
            if isinstance(ref, dict) and ref.get("type") == "replied_to" and _is_id(ref.get("id"))
        ),
        None,
    ) or _optional_id(post, "in_reply_to_tweet_id")
    return TwitterRef(
        tweet_id=_id_field(post, "id", "payload.id"),
        user_id=_id_field(post, "author_id", "payload.author_id"),
        conversation_id=_optional_id(post, "conversation_id") or None,
        in_reply_to_user_id=_optional_id(post, "in_reply_to_user_id") or None,
        in_reply_to_tweet_id=replied_to,
    )


def _is_v2_message_for(post: Json, bot_id: str) -> bool:
    if not post.get("id"):
        return False
    references = post.get("referenced_tweets") or []
    if not isinstance(references, list):
        raise RejectedError(f"payload.referenced_tweets is {_kind(references)}, not a list")
    if any(_dict(ref).get("type") == "retweeted" for ref in references):
        return False
    return _id_field(post, "author_id", "payload.author_id") != bot_id


def _message_from_v2_post(post: Json, includes: Json) -> tuple[MessageReceived, list[str]]:
    author_id = _id_field(post, "author_id", "payload.author_id")
    users = {
        u["id"]: u
        for u in _optional_list(includes, "users", "includes.users")
        if isinstance(u, dict) and _is_id(u.get("id"))
    }
    media_keys = {
        key
        for key in _optional_list(_optional_object(post, "attachments"), "media_keys", "attachments.media_keys")
        if isinstance(key, str)
    }
    photos = [
        m.get("url")
        for m in _optional_list(includes, "media", "includes.media")
        if isinstance(m, dict)
        and m.get("type") == "photo"
        and isinstance(m.get("media_key"), str)
        and m["media_key"] in media_keys
    ]
    image_urls, notes = _checked_photos(photos)
    # Long posts keep their whole text in note_tweet.
    text = _first_text(((_optional_object(post, "note_tweet"), "text"), (post, "text")), "payload.")
    author = users.get(author_id)
    return (
        MessageReceived(
            text=_unescaped(text),
            author=_optional_name(author, "username", "includes.users.username") if author else None,
            lang=_optional_lang(post),
            image_urls=image_urls,
            twitter=_v2_twitter_ref(post),
        ),
        notes,
    )


# --- the mentions timeline (the poller) -------------------------------------------------------


def translate_polled_mention(post: Any, includes: Json, bot_user_id: str) -> list[BusEvent]:
    """The events of one post of the bot's mentions timeline (GET /2/users/:id/mentions): its raw
    TWITTER_MENTION_POLLED event, then, by the Account Activity webhook's rules (addressed to the bot:
    mentions it, replies to it or quotes it, see _is_v2_addressed_to), MESSAGE_RECEIVED, or
    MESSAGE_SKIPPED for the bot's own post; never anything for a repost. What cannot be read is a
    DELIVERY_REJECTED event, as for the webhook, and so is a photo the page's includes left out."""
    if not isinstance(post, dict):
        return [rejection("a mention is not an object", key="data", excerpt=excerpt_of(post), for_user_id=bot_user_id)]
    events = [
        _checked_raw(
            names.TWITTER_MENTION_POLLED,
            {**post, "includes": _includes_of(post, includes), "for_user_id": bot_user_id},
            "data",
        )
    ]
    try:
        # X's numeric ids, as the poller's checkpoint and the media store's prefixes need them: a
        # post without one (or with another kind of "id") is recorded as rejected, never dropped.
        _x_id_field(post, "id")
        _x_id_field(post, "author_id")
        if not _is_v2_addressed_to(post, includes, bot_user_id):
            return events  # kept as its raw event only, as the webhook keeps a post that is not for the bot
        if _is_v2_own_post(post, bot_user_id):
            # The bot's handle, as the webhook's MESSAGE_SKIPPED has it (from the page's users).
            events.append(_own_post_skipped(_v2_twitter_ref(post), _v2_author(post, includes)))
        elif _is_v2_message_for(post, bot_user_id):
            message, notes = _message_from_v2_post(post, includes)
            notes = [*_unlisted_photos(post, includes), *notes]
            events.append(_message_received(message))
            events.extend(
                rejection(note, key=f"data[id={message.twitter.tweet_id}]", for_user_id=bot_user_id) for note in notes
            )
    except RejectedError as error:
        post_id = post.get("id")
        events.append(
            rejection(
                f"not a message: {error}",
                key=f"data[id={post_id}]" if is_x_id(post_id) else "data",
                excerpt=excerpt_of(post),
                for_user_id=bot_user_id,
            )
        )
    return events


def _x_id_field(post: Json, key: str) -> str:
    value = post.get(key)
    if not is_x_id(value):
        raise RejectedError(f"{key} is {_kind(value)}, not an X numeric id (1 to 19 digits)")
    return value


def _is_v2_addressed_to(post: Json, includes: Json, bot_id: str) -> bool:
    """The webhook's rule for a v1.1 post (_is_addressed_to: mentions the bot, replies to it or
    quotes it) on a v2 post of the mentions timeline. X lists there only posts that mention the
    account, so this refuses a post only where its own fields show it is not for the bot: entities
    (or a long post's note_tweet entities) that mention others but not the bot, no reply to it and
    no quote of its post. A post whose entities X did not send is taken as the timeline says."""
    if _optional_id(post, "in_reply_to_user_id") == bot_id:
        return True
    holders = [
        entities
        for entities in (
            _optional_object(post, "entities"),
            _optional_object(_optional_object(post, "note_tweet"), "entities"),
        )
        if "mentions" in entities
    ]
    if not holders:
        return True
    bot_names = {
        user["username"].lower()
        for user in _optional_list(includes, "users", "includes.users")
        if isinstance(user, dict) and user.get("id") == bot_id and isinstance(user.get("username"), str)
    }
    for entities in holders:
        for mention in _optional_list(entities, "mentions", "entities.mentions"):
            if not isinstance(mention, dict):
                continue
            username = mention.get("username")
            if mention.get("id") == bot_id or (isinstance(username, str) and username.lower() in bot_names):
                return True
    references = _optional_list(post, "referenced_tweets", "referenced_tweets")
    quoted = {
        _dict(ref).get("id")
        for ref in references
        if _dict(ref).get("type") == "quoted" and _is_id(_dict(ref).get("id"))
    }
    return any(
        isinstance(tweet, dict) and tweet.get("id") in quoted and tweet.get("author_id") == bot_id
        for tweet in _optional_list(includes, "tweets", "includes.tweets")
    )


def _v2_author(post: Json, includes: Json) -> str | None:
    """The username of the post's author among the page's users; None when the page does not say."""
    author_id = post.get("author_id")
    for user in _optional_list(includes, "users", "includes.users"):
        if isinstance(user, dict) and user.get("id") == author_id:
            return _optional_name(user, "username", "includes.users.username")
    return None


def _unlisted_photos(post: Json, includes: Json) -> list[str]:
    """Notes for the photos a post has (attachments.media_keys) that the page's includes.media does
    not list (X left them out, with an error of its own): they cannot be analysed, and say so."""
    keys = _dict(post.get("attachments")).get("media_keys")
    media = includes.get("media")
    listed = {
        entry.get("media_key")
        for entry in (media if isinstance(media, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("media_key"), str)
    }
    missing = [key for key in (keys if isinstance(keys, list) else []) if isinstance(key, str) and key not in listed]
    if not missing:
        return []
    shown = ", ".join(_safe_text(key, MAX_ID_CHARS) for key in missing[:MAX_PHOTOS_PER_POST])
    return [f"{len(missing)} attached media not in the page's includes ({shown}): not analysed"]


def _includes_of(post: Json, includes: Json) -> Json:
    """The entries of a page's `includes` this post refers to (its author, photos, referenced posts),
    not the whole page's."""
    media_keys = _dict(post.get("attachments")).get("media_keys")
    references = post.get("referenced_tweets")
    # Only string keys: a list or an object where X has an id must not make a set fail (a post the
    # poller could never get past).
    wanted: dict[str, set[str]] = {
        "users": {
            value for value in (post.get("author_id"), post.get("in_reply_to_user_id")) if isinstance(value, str)
        },
        "media": {key for key in (media_keys if isinstance(media_keys, list) else []) if isinstance(key, str)},
        "tweets": {
            ref_id
            for ref_id in (_dict(ref).get("id") for ref in (references if isinstance(references, list) else []))
            if isinstance(ref_id, str)
        },
    }
    picked: Json = {}
    for name, keys in wanted.items():
        entries = includes.get(name) if isinstance(includes, dict) else None
        if not isinstance(entries, list):
            continue
        key_field = "media_key" if name == "media" else "id"
        chosen = [
            entry
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get(key_field), str) and entry[key_field] in keys
        ]
        if chosen:
            picked[name] = chosen[:MAX_CONTEXT_ENTRIES]
    return picked


# --- shared -----------------------------------------------------------------------------------


def _message_received(message: MessageReceived) -> BusEvent:
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=names.MESSAGE_RECEIVED, detail=message.to_detail())


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isascii() and value.isprintable()


def _object_field(holder: Json, key: str) -> Json:
    value = holder.get(key)
    if not isinstance(value, dict):
        raise RejectedError(f"{key} is {_kind(value)}, not an object")
    return value


def _optional_object(holder: Json, key: str) -> Json:
    value = holder.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RejectedError(f"{key} is {_kind(value)}, not an object")
    return value


def _optional_list(holder: Json, key: str, where: str) -> list[Any]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RejectedError(f"{where} is {_kind(value)}, not a list")
    return value


def _id_field(holder: Json, key: str, where: str) -> str:
    value = holder.get(key)
    if not _is_id(value):
        raise RejectedError(f"{where} is {_kind(value)}, not an id string of 1 to {MAX_ID_CHARS} characters")
    return value


def _optional_id(holder: Json, key: str) -> str | None:
    value = holder.get(key)
    if value is None or value == "":
        return None
    return _id_field(holder, key, key)


def _optional_name(holder: Json, key: str, where: str) -> str | None:
    value = holder.get(key)
    if not value:
        return None
    if not isinstance(value, str) or len(value) > MAX_NAME_CHARS:
        raise RejectedError(f"{where} is {_kind(value)}, not a name of at most {MAX_NAME_CHARS} characters")
    return value


def _optional_lang(post: Json) -> str | None:
    value = post.get("lang")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_LANG_CHARS:
        raise RejectedError(f"lang is {_kind(value)}, not a language tag of at most {MAX_LANG_CHARS} characters")
    return value


def _first_text(candidates: tuple[tuple[Json, str], ...], extended_prefix: str) -> str:
    """The first non-empty text among the candidates (each a string when present)."""
    for holder, key in candidates:
        value = holder.get(key)
        if value is None or value == "":
            continue
        where = key if holder is candidates[-1][0] else f"{extended_prefix}{key}"
        if not isinstance(value, str):
            raise RejectedError(f"{where} is {_kind(value)}, not text")
        if len(value) > MAX_TEXT_CHARS:
            raise RejectedError(f"{where} is over {MAX_TEXT_CHARS} characters")
        return value
    return ""


def _checked_photos(urls: list[Any]) -> tuple[list[str], list[str]]:
    """The photo URLs the analysis may fetch, at most MAX_PHOTOS_PER_POST; notes say what was left out."""
    kept: list[str] = []
    notes: list[str] = []
    for url in urls:
        if not url:
            continue
        if not isinstance(url, str):
            notes.append(f"a photo URL is {_kind(url)}, not text: left out")
        elif len(url) > MAX_MEDIA_URL_CHARS:
            notes.append(f"a photo URL is over {MAX_MEDIA_URL_CHARS} characters: left out")
        elif len(url.rsplit("/", 1)[-1]) > MAX_MEDIA_FILE_NAME_CHARS:
            notes.append(f"a photo file name is over {MAX_MEDIA_FILE_NAME_CHARS} characters: left out")
        elif len(kept) == MAX_PHOTOS_PER_POST:
            notes.append(f"over {MAX_PHOTOS_PER_POST} photos (X's limit): the rest are not analysed")
            break
        else:
            kept.append(url)
    return kept, notes


# --- the data lake's columns ------------------------------------------------------------------

_DETAIL_COLUMNS: Final = (
    {name.lower(): hive for name, hive in datalake.DETAIL.items()} if isinstance(datalake.DETAIL, dict) else {}
)


def _lake_misfit(detail: Json) -> str | None:
    """A field of a raw event whose name is a column of the lake (matched without case) but whose
    value has another type: Athena would fail on the row, DuckDB would drop it."""
    for key, value in detail.items():
        hive = _DETAIL_COLUMNS.get(key.lower())
        if hive is not None:
            problem = _misfit(value, hive, key)
            if problem is not None:
                return problem
    return None


def _misfit(value: Any, hive: datalake.HiveType, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(hive, dict):
        if not isinstance(value, dict):
            return f"{path} is {_kind(value)} where the data lake has a struct"
        fields = {name.lower(): inner for name, inner in hive.items()}
        for key, inner_value in value.items():
            inner = fields.get(key.lower())
            problem = None if inner is None else _misfit(inner_value, inner, f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    if isinstance(hive, list):
        if not isinstance(value, list):
            return f"{path} is {_kind(value)} where the data lake has an array"
        for item in value:
            problem = _misfit(item, hive[0], f"{path}[]")
            if problem is not None:
                return problem
        return None
    integer = isinstance(value, int) and not isinstance(value, bool)
    fits = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "double": (integer and abs(value) < 2**1000) or isinstance(value, float),
        "int": integer and -(2**31) <= value < 2**31,
        "bigint": integer and -(2**63) <= value < 2**63,
    }.get(hive, False)
    return None if fits else f"{path} is {_kind(value)} where the data lake has a {hive}"
