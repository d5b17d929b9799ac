"""Domain event details, in the shape of the original project so its Athena queries keep working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TwitterRef:
    """Where a message lives on X. Ids are strings: they are larger than 2^53."""

    tweet_id: str
    user_id: str
    conversation_id: str | None = None
    #: The author of the post this one replies to (the Responding guards count replies to the bot's
    #: own replies with it). Written only when known, so older details read and compare unchanged.
    in_reply_to_user_id: str | None = None
    #: The post this one replies to (the thread's key when X gives no conversation id, as in v1.1).
    in_reply_to_tweet_id: str | None = None

    def to_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "TweetId": self.tweet_id,
            "UserId": self.user_id,
            "ConversationId": self.conversation_id,
        }
        if self.in_reply_to_user_id is not None:
            detail["InReplyToUserId"] = self.in_reply_to_user_id
        if self.in_reply_to_tweet_id is not None:
            detail["InReplyToTweetId"] = self.in_reply_to_tweet_id
        return detail

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> TwitterRef:
        in_reply_to_user = detail.get("InReplyToUserId")
        in_reply_to_tweet = detail.get("InReplyToTweetId")
        return cls(
            tweet_id=str(detail["TweetId"]),
            user_id=str(detail["UserId"]),
            conversation_id=detail.get("ConversationId"),
            in_reply_to_user_id=str(in_reply_to_user) if in_reply_to_user is not None else None,
            in_reply_to_tweet_id=str(in_reply_to_tweet) if in_reply_to_tweet is not None else None,
        )

    @property
    def thread_id(self) -> str:
        """The conversation the post belongs to: X's conversation id, else (v1.1) the post it
        replies to, else the post itself (it starts a conversation)."""
        return self.conversation_id or self.in_reply_to_tweet_id or self.tweet_id


@dataclass(frozen=True)
class MessageReceived:
    """A post someone else wrote that mentions, replies to or quotes the bot (MESSAGE_RECEIVED)."""

    text: str
    #: The author's screen name; None when the delivery does not say (X Activity API posts without
    #: `includes.users`): responders must then not address "@" to nobody.
    author: str | None
    lang: str | None
    twitter: TwitterRef
    image_urls: list[str] = field(default_factory=list)
    #: When Ingress accepted the delivery (epoch milliseconds): carried through MESSAGE_ANALYSED and
    #: SEND_TWEET so Egress can report the delivery-to-reply latency. Written only when known.
    received_at_ms: int | None = None

    def to_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Text": self.text,
            "Author": self.author,
            "Lang": self.lang,
            "ImageUrls": list(self.image_urls),
            "Twitter": self.twitter.to_detail(),
        }
        if self.received_at_ms is not None:
            detail["ReceivedAtMs"] = self.received_at_ms
        return detail

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> MessageReceived:
        return cls(
            text=str(detail["Text"]),
            author=str(detail["Author"]) if detail.get("Author") else None,
            lang=detail.get("Lang"),
            image_urls=[str(url) for url in detail.get("ImageUrls") or []],
            twitter=TwitterRef.from_detail(detail["Twitter"]),
            received_at_ms=received_at_ms(detail),
        )


def received_at_ms(detail: dict[str, Any]) -> int | None:
    """The ReceivedAtMs of a detail, when it holds a whole number (older events have none)."""
    value = detail.get("ReceivedAtMs")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
