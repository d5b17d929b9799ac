"""Event sources, detail-types and EventBridge patterns: defined once, imported everywhere.

The runtime publishes with these names, CDK builds rules and metric filters from them and the
local bus matches with the very same patterns, so the three cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Final

#: Every source this bot publishes starts with this prefix; the catch-all rules match on it.
SOURCE_PREFIX: Final = "xbot."
SOURCE_INGRESS: Final = "xbot.ingress"
SOURCE_ANALYSIS: Final = "xbot.analysis"
SOURCE_RESPONDING: Final = "xbot.responding"
SOURCE_EGRESS: Final = "xbot.egress"

# Raw events: one per element of an Account Activity key (names of the original project).
TWITTER_TWEETED: Final = "TWITTER_TWEETED"
TWITTER_FAVOURITED: Final = "TWITTER_FAVOURITED"
TWITTER_FOLLOWED: Final = "TWITTER_FOLLOWED"
TWITTER_UNFOLLOWED: Final = "TWITTER_UNFOLLOWED"
TWITTER_BLOCKED: Final = "TWITTER_BLOCKED"
TWITTER_UNBLOCKED: Final = "TWITTER_UNBLOCKED"
TWITTER_MUTED: Final = "TWITTER_MUTED"
TWITTER_UNMUTED: Final = "TWITTER_UNMUTED"
TWITTER_PERMISSION_REVOKED: Final = "TWITTER_PERMISSION_REVOKED"
TWITTER_DM_RECEIVED: Final = "TWITTER_DM_RECEIVED"
TWITTER_DM_TYPING: Final = "TWITTER_DM_TYPING"
TWITTER_DM_MARKED_READ: Final = "TWITTER_DM_MARKED_READ"
TWITTER_DELETED: Final = "TWITTER_DELETED"
TWITTER_REPLAY_JOB_STATUS: Final = "TWITTER_REPLAY_JOB_STATUS"
TWITTER_UNKNOWN: Final = "TWITTER_UNKNOWN"
#: A signed delivery (or part of one) that could not be processed: its Reason, where ("key") and a
#: short excerpt. The delivery is still acknowledged; this event is its record in the data lake.
DELIVERY_REJECTED: Final = "DELIVERY_REJECTED"

#: A post the poller read from the bot's mentions timeline (GET /2/users/:id/mentions): the v2 post
#: with the `includes` it refers to and `for_user_id` (the bot). Not a TWITTER_TWEETED: a v2 post is
#: not a v1.1 tweet_create_events element.
TWITTER_MENTION_POLLED: Final = "TWITTER_MENTION_POLLED"

#: Prefix of the raw events made from X Activity API envelopes (X_POST_MENTION_CREATE, ...).
X_ACTIVITY_PREFIX: Final = "X_"

# Domain events.
MESSAGE_RECEIVED: Final = "MESSAGE_RECEIVED"
MESSAGE_ANALYSED: Final = "MESSAGE_ANALYSED"
MESSAGE_ANALYSIS_FAILED: Final = "MESSAGE_ANALYSIS_FAILED"
SEND_TWEET: Final = "SEND_TWEET"
#: The answer to a direct message, sent by Egress as a DM (contracts/direct_messages.py).
SEND_DM: Final = "SEND_DM"
# Outcomes: what happened to each message (contracts/outcomes.py), for the lake and `botctl query`.
#: Egress posted a reply: the post id X returned and the delivery-to-reply latency.
REPLY_POSTED: Final = "REPLY_POSTED"
#: Ingress kept a post from becoming a MESSAGE_RECEIVED (the bot's own post), with the reason.
MESSAGE_SKIPPED: Final = "MESSAGE_SKIPPED"
#: Responding decided not to answer an analysed message (a guard), with the reason.
REPLY_SKIPPED: Final = "REPLY_SKIPPED"
#: Analysis deleted the photos stored for a deleted post or for a user who revoked the app.
MEDIA_DELETED: Final = "MEDIA_DELETED"

#: Account Activity keys whose every element becomes one event of a single detail-type.
ACCOUNT_ACTIVITY_DETAIL_TYPES: Final[dict[str, str]] = {
    "tweet_create_events": TWITTER_TWEETED,
    "favorite_events": TWITTER_FAVOURITED,
    "direct_message_events": TWITTER_DM_RECEIVED,
    "direct_message_indicate_typing_events": TWITTER_DM_TYPING,
    "direct_message_mark_read_events": TWITTER_DM_MARKED_READ,
    "tweet_delete_events": TWITTER_DELETED,
}

#: Keys whose elements carry a "type" that flips them (unfollow arrives inside follow_events).
ACCOUNT_ACTIVITY_TYPED_KEYS: Final[dict[str, dict[str, str]]] = {
    "follow_events": {"follow": TWITTER_FOLLOWED, "unfollow": TWITTER_UNFOLLOWED},
    "block_events": {"block": TWITTER_BLOCKED, "unblock": TWITTER_UNBLOCKED},
    "mute_events": {"mute": TWITTER_MUTED, "unmute": TWITTER_UNMUTED},
}

#: The X Activity API event types this project knows by name (others still get an X_* event).
KNOWN_X_ACTIVITY_EVENT_TYPES: Final = (
    "post.create",
    "post.mention.create",
    "post.reply.create",
    "like.create",
    "follow.follow",
    "dm.received",
    "oauth.revoke",
)


def x_activity_detail_type(event_type: str) -> str:
    """`post.mention.create` -> `X_POST_MENTION_CREATE`."""
    return X_ACTIVITY_PREFIX + event_type.upper().replace(".", "_")


RAW_DETAIL_TYPES: Final = (
    TWITTER_TWEETED,
    TWITTER_FAVOURITED,
    TWITTER_FOLLOWED,
    TWITTER_UNFOLLOWED,
    TWITTER_BLOCKED,
    TWITTER_UNBLOCKED,
    TWITTER_MUTED,
    TWITTER_UNMUTED,
    TWITTER_PERMISSION_REVOKED,
    TWITTER_DM_RECEIVED,
    TWITTER_DM_TYPING,
    TWITTER_DM_MARKED_READ,
    TWITTER_DELETED,
    TWITTER_REPLAY_JOB_STATUS,
    TWITTER_UNKNOWN,
    DELIVERY_REJECTED,
    TWITTER_MENTION_POLLED,
    *(x_activity_detail_type(t) for t in KNOWN_X_ACTIVITY_EVENT_TYPES),
)
DOMAIN_DETAIL_TYPES: Final = (
    MESSAGE_RECEIVED,
    MESSAGE_ANALYSED,
    MESSAGE_ANALYSIS_FAILED,
    SEND_TWEET,
    SEND_DM,
    REPLY_POSTED,
    MESSAGE_SKIPPED,
    REPLY_SKIPPED,
    MEDIA_DELETED,
)
#: Every detail-type the bot knows; CDK makes one metric filter for each.
ALL_DETAIL_TYPES: Final = RAW_DETAIL_TYPES + DOMAIN_DETAIL_TYPES

EventPattern = dict[str, Any]

#: Every event this bot publishes: the catch-all log, the archive and the data lake use it.
CATCH_ALL_PATTERN: Final[EventPattern] = {"source": [{"prefix": SOURCE_PREFIX}]}

MESSAGE_RECEIVED_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_INGRESS],
    "detail-type": [MESSAGE_RECEIVED],
}

#: The account owner revoked the app's access: the bot is deaf until it is authorised again.
ACCESS_REVOKED_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_INGRESS],
    "detail-type": [TWITTER_PERMISSION_REVOKED, x_activity_detail_type("oauth.revoke")],
}

#: A post deleted on X, or a user who revoked the app: the photos stored for it must go (Analysis,
#: which stores them). X's developer policy asks apps to honour deletions. Not the X Activity API's
#: post.delete: X sends it for the subscribed user's own posts (the bot's), which have no photos.
MEDIA_DELETION_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_INGRESS],
    "detail-type": [
        TWITTER_DELETED,
        TWITTER_PERMISSION_REVOKED,
        x_activity_detail_type("oauth.revoke"),
    ],
}

#: A message the analysis found negative: a human should hear about it (Alerting).
NEGATIVE_MESSAGE_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_ANALYSIS],
    "detail-type": [MESSAGE_ANALYSED],
    "detail": {"Analysis": {"TextSentiment": ["NEGATIVE"]}},
}

#: An analysed message with photos: answered with the photos annotated (Responding/images).
ANALYSED_WITH_IMAGES_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_ANALYSIS],
    "detail-type": [MESSAGE_ANALYSED],
    "detail": {"HasImages": [True]},
}
#: An analysed message without photos: answered by the conversational bot (Responding/text).
ANALYSED_TEXT_ONLY_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_ANALYSIS],
    "detail-type": [MESSAGE_ANALYSED],
    "detail": {"HasImages": [False]},
}
#: A reply to post on X (Egress).
SEND_TWEET_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_RESPONDING],
    "detail-type": [SEND_TWEET],
}
#: The answer to a direct message, to send (Egress, through the same queue as SEND_TWEET).
SEND_DM_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_RESPONDING],
    "detail-type": [SEND_DM],
}
#: Everything Egress's queue holds: replies and DM answers, one budget and one order for both. The
#: one rule that feeds the queue on AWS matches it, and so does the local runtime (QUEUE_FEEDS).
EGRESS_QUEUE_PATTERN: Final[EventPattern] = {
    "source": [SOURCE_RESPONDING],
    "detail-type": [SEND_TWEET, SEND_DM],
}
#: Egress's queue: SEND_TWEET (and SEND_DM) waits in it for the posting budget. Egress's handler names it
#: (`on_sqs_message`); on AWS, CDK makes the queue (its name generated per stack: the handler's
#: name is only a key) and feeds it with a rule on the pattern below; the local runtime delivers
#: the events that match the pattern to the handler, wrapped as SQS would.
EGRESS_QUEUE: Final = "egress-replies"
#: Each queue a handler reads, and the pattern of the events a rule on the bus puts in it.
QUEUE_FEEDS: Final[dict[str, EventPattern]] = {EGRESS_QUEUE: EGRESS_QUEUE_PATTERN}
