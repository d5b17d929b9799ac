"""What happened to each message: REPLY_POSTED, MESSAGE_SKIPPED and REPLY_SKIPPED details.

Nothing consumes them but the data lake (and `botctl query`): they answer "why did this post get
no answer?" and, later, the dashboard's questions about guards and latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Self

from chalicelib.contracts.messages import TwitterRef

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
SKIP_REASONS: Final = (OWN_POST, AUTHOR_LIMIT, CONVERSATION_LIMIT, CHAIN_DEPTH, TOO_OLD)


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
class Skipped:
    """A post the bot will not answer and why: Twitter is where it lives, Reason one of
    SKIP_REASONS (or another short text), Author its author's screen name when known."""

    twitter: TwitterRef
    author: str | None
    reason: str

    def to_detail(self) -> dict[str, Any]:
        return {"Twitter": self.twitter.to_detail(), "Author": self.author, "Reason": self.reason}

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> Self:
        author = detail.get("Author")
        return cls(
            twitter=TwitterRef.from_detail(detail["Twitter"]),
            author=str(author) if author else None,
            reason=str(detail["Reason"]),
        )


class MessageSkipped(Skipped):
    """MESSAGE_SKIPPED (Ingress): a post that did not become a MESSAGE_RECEIVED (the bot's own)."""


class ReplySkipped(Skipped):
    """REPLY_SKIPPED (Responding, Egress): an analysed message the guards kept from being answered,
    or (Egress) a reply not posted because it is too old."""
