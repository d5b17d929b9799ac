"""What happened to each message: REPLY_POSTED, MESSAGE_SKIPPED and REPLY_SKIPPED details.

Nothing consumes them but the data lake (and `botctl query`): they answer "why did this post get
no answer?" and, later, the dashboard's questions about guards and latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Self

from chalicelib.contracts.messages import DM, DirectMessageRef, TwitterRef, direct_message_of, where_detail

#: Reasons a message or a reply is skipped (the Reason of MESSAGE_SKIPPED and REPLY_SKIPPED).
#: The bot wrote the post itself: answering it would make the bot talk to itself.
OWN_POST: Final = "own post"
#: The author already got the most replies allowed in the current window.
AUTHOR_LIMIT: Final = "author limit"
#: The conversation already got the most replies allowed in the current window.
CONVERSATION_LIMIT: Final = "conversation limit"
#: A chain of replies to the bot's own replies went deeper than allowed (another bot, most likely).
CHAIN_DEPTH: Final = "chain depth"
#: Egress: the post answered was received longer ago than MAX_REPLY_AGE_SECONDS (a reply kept
#: waiting by the posting budget, or redelivered late); a reply hours late is skipped, not posted.
TOO_OLD: Final = "too old"
#: Responding: the author said "stop" (responding/optout.py) and has not said "start" since.
OPTED_OUT: Final = "opted out"
#: A DM conversation had its day's answers (responding/guards.py, DM_DAILY_LIMIT).
DM_DAILY: Final = "DM daily limit"
#: Egress: the operator's kill switch is off (POSTING_SWITCH_PARAMETER on AWS, BOT_POSTING locally).
#: The reply is dropped, not held: switching posting back on does not flood X with stale replies.
POSTING_PAUSED: Final = "posting paused"
#: Egress: X refused to deliver the DM answer (403: the person does not accept DMs from the bot, or
#: no longer follows it). Retrying will not change that; the DM is recorded as answered.
DM_NOT_PERMITTED: Final = "DM not permitted"
#: Responding: the message was negative and NEGATIVE_REPLIES is "silent": no answer at all.
NEGATIVE_MESSAGE: Final = "negative message"
SKIP_REASONS: Final = (
    OWN_POST,
    AUTHOR_LIMIT,
    CONVERSATION_LIMIT,
    CHAIN_DEPTH,
    TOO_OLD,
    OPTED_OUT,
    POSTING_PAUSED,
    DM_NOT_PERMITTED,
    NEGATIVE_MESSAGE,
)

#: Why photos were deleted (the Reason of MEDIA_DELETED).
#: The post was deleted on X (TWITTER_DELETED): its photos and their annotated copies go.
POST_DELETED: Final = "post deleted"
#: The user revoked the app (TWITTER_PERMISSION_REVOKED, X_OAUTH_REVOKE): every photo of theirs goes.
ACCESS_REVOKED: Final = "access revoked"
DELETION_REASONS: Final = (POST_DELETED, ACCESS_REVOKED)


@dataclass(frozen=True)
class ReplyPosted:
    """REPLY_POSTED (Egress): the reply is on X as `posted_tweet_id`; `latency_ms` is the time from
    Ingress accepting the delivery to X accepting the reply (None when the SEND_TWEET did not say
    when the post was received, as the original project's events do not)."""

    reply_to_tweet_id: str
    reply_to_user_id: str
    posted_tweet_id: str
    latency_ms: int | None = None

    def to_detail(self) -> dict[str, Any]:
        return {
            "ReplyToTweetId": self.reply_to_tweet_id,
            "ReplyToUserId": self.reply_to_user_id,
            "PostedTweetId": self.posted_tweet_id,
            "LatencyMs": self.latency_ms,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> ReplyPosted:
        latency = detail.get("LatencyMs")
        return cls(
            reply_to_tweet_id=str(detail["ReplyToTweetId"]),
            reply_to_user_id=str(detail["ReplyToUserId"]),
            posted_tweet_id=str(detail["PostedTweetId"]),
            latency_ms=latency if isinstance(latency, int) and not isinstance(latency, bool) else None,
        )


@dataclass(frozen=True)
class DirectMessagePosted:
    """REPLY_POSTED (Egress) for the answer to a direct message: Channel "DM", the DM answered
    (`answering`: its EventId and, as SenderId, whom the answer went to), the DM event X created
    (`posted_dm_event_id`) and the delivery-to-answer latency. Never the text: a DM is private."""

    answering: DirectMessageRef
    posted_dm_event_id: str
    latency_ms: int | None = None

    def to_detail(self) -> dict[str, Any]:
        return {
            "Channel": DM,
            "DirectMessage": self.answering.to_detail(),
            "PostedDmEventId": self.posted_dm_event_id,
            "LatencyMs": self.latency_ms,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> DirectMessagePosted:
        latency = detail.get("LatencyMs")
        return cls(
            answering=DirectMessageRef.from_detail(detail["DirectMessage"]),
            posted_dm_event_id=str(detail["PostedDmEventId"]),
            latency_ms=latency if isinstance(latency, int) and not isinstance(latency, bool) else None,
        )


def reply_posted_from_detail(detail: dict[str, Any]) -> ReplyPosted | DirectMessagePosted:
    """A REPLY_POSTED detail of either channel: Channel "DM" is a DM answer, no Channel a post."""
    if detail.get("Channel") == DM:
        return DirectMessagePosted.from_detail(detail)
    return ReplyPosted.from_detail(detail)


@dataclass(frozen=True)
class Skipped:
    """A post the bot will not answer and why: Twitter is where it lives, Reason one of
    SKIP_REASONS (or another short text), Author its author's screen name when known.

    For a direct message `direct_message` is set (and `twitter` is its view): the detail then says
    Channel "DM" with DirectMessage instead of Twitter."""

    twitter: TwitterRef
    author: str | None
    reason: str
    direct_message: DirectMessageRef | None = None

    def to_detail(self) -> dict[str, Any]:
        return {**where_detail(self.twitter, self.direct_message), "Author": self.author, "Reason": self.reason}

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> Self:
        author = detail.get("Author")
        direct_message = direct_message_of(detail)
        return cls(
            twitter=direct_message.as_twitter() if direct_message else TwitterRef.from_detail(detail["Twitter"]),
            author=str(author) if author else None,
            reason=str(detail["Reason"]),
            direct_message=direct_message,
        )


class MessageSkipped(Skipped):
    """MESSAGE_SKIPPED (Ingress): a post that did not become a MESSAGE_RECEIVED (the bot's own)."""


class ReplySkipped(Skipped):
    """REPLY_SKIPPED (Responding, Egress): an analysed message the guards (or an opt-out) kept from
    being answered, or (Egress) a reply not posted: too old, posting paused, post deleted, opted
    out, DM not permitted."""


@dataclass(frozen=True)
class MediaDeleted:
    """MEDIA_DELETED (Analysis; Egress for what was stored for a deleted post after its deletion):
    what the media store held for a deleted post (`tweet_id` set) or a user who revoked the app
    (`tweet_id` None), now deleted: `deleted_count` objects (photos and annotated copies; 0 when
    nothing was stored). Written as Twitter {TweetId, UserId}, so the lake finds it with the post's
    other events."""

    user_id: str
    tweet_id: str | None
    reason: str
    deleted_count: int

    def to_detail(self) -> dict[str, Any]:
        return {
            "Twitter": {"TweetId": self.tweet_id, "UserId": self.user_id},
            "Reason": self.reason,
            "DeletedCount": self.deleted_count,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> MediaDeleted:
        twitter = detail["Twitter"]
        tweet_id = twitter.get("TweetId")
        count = detail.get("DeletedCount")
        return cls(
            user_id=str(twitter["UserId"]),
            tweet_id=str(tweet_id) if tweet_id is not None else None,
            reason=str(detail["Reason"]),
            deleted_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        )
