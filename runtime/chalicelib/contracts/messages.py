"""Domain event details, in the shape of the original project so its Athena queries keep working."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: The channel of a message (its Channel field). A post has no Channel field: events written before
#: direct messages were answered read as posts, and posts' details stay as they were.
POST: Final = "POST"
#: A direct message to the bot (Account Activity's direct_message_events).
DM: Final = "DM"
#: What the Python view of a DM's ids starts with (DirectMessageRef.as_twitter): never a post id.
DM_KEY_PREFIX: Final = "dm:"


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
class DirectMessageRef:
    """Where a direct message lives on X (its DirectMessage field). Ids are strings.

    `conversation_id` is the one-to-one DM conversation, as X v2 names it: the two user ids, the
    smaller first, joined by "-" (Account Activity's events do not carry it; see one_to_one_id).
    """

    event_id: str
    sender_id: str
    recipient_id: str
    conversation_id: str

    def to_detail(self) -> dict[str, Any]:
        return {
            "EventId": self.event_id,
            "SenderId": self.sender_id,
            "RecipientId": self.recipient_id,
            "ConversationId": self.conversation_id,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> DirectMessageRef:
        sender, recipient = str(detail["SenderId"]), str(detail["RecipientId"])
        conversation = detail.get("ConversationId")
        return cls(
            event_id=str(detail["EventId"]),
            sender_id=sender,
            recipient_id=recipient,
            conversation_id=str(conversation) if conversation else one_to_one_id(sender, recipient),
        )

    def as_twitter(self) -> TwitterRef:
        """The DM in the shape the responders read (author and conversation), for code that does
        not care about the channel. Its ids start with DM_KEY_PREFIX, so every key made from them
        (the analysis claim, the alert, a guard's counter) is apart from a post's with the same
        number, and X refuses one used as a post id by mistake. Never written to an event."""
        return TwitterRef(
            tweet_id=f"{DM_KEY_PREFIX}{self.event_id}",
            user_id=self.sender_id,
            conversation_id=f"{DM_KEY_PREFIX}{self.conversation_id}",
        )


def one_to_one_id(first_user_id: str, second_user_id: str) -> str:
    """X's id of the one-to-one DM conversation of two users: the smaller id first, then "-"."""
    low, high = sorted((first_user_id, second_user_id), key=lambda user: (len(user), user))
    return f"{low}-{high}"


@dataclass(frozen=True)
class MessageReceived:
    """A post someone else wrote that mentions, replies to or quotes the bot, or a direct message
    someone sent it (MESSAGE_RECEIVED).

    A DM has `direct_message` set; its detail says "Channel": "DM" and carries DirectMessage
    instead of Twitter, and `twitter` is then the DM's view (DirectMessageRef.as_twitter), so the
    author and conversation readers work for both channels. Build one with `direct`.
    """

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
    #: Set for a direct message (then `twitter` is its view and `image_urls` is empty).
    direct_message: DirectMessageRef | None = None

    @classmethod
    def direct(
        cls,
        *,
        text: str,
        author: str | None,
        lang: str | None,
        direct_message: DirectMessageRef,
        received_at_ms: int | None = None,
    ) -> MessageReceived:
        """A direct message. Never with photos: the bot answers DMs as text (photos in DMs are
        out of scope), and keeps no DM photo."""
        return cls(
            text=text,
            author=author,
            lang=lang,
            twitter=direct_message.as_twitter(),
            received_at_ms=received_at_ms,
            direct_message=direct_message,
        )

    @property
    def channel(self) -> str:
        return DM if self.direct_message is not None else POST

    def to_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Text": self.text,
            "Author": self.author,
            "Lang": self.lang,
            "ImageUrls": list(self.image_urls),
        }
        detail.update(where_detail(self.twitter, self.direct_message))
        if self.received_at_ms is not None:
            detail["ReceivedAtMs"] = self.received_at_ms
        return detail

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> MessageReceived:
        direct_message = direct_message_of(detail)
        if direct_message is not None:
            return cls.direct(
                text=str(detail["Text"]),
                author=str(detail["Author"]) if detail.get("Author") else None,
                lang=detail.get("Lang"),
                direct_message=direct_message,
                received_at_ms=received_at_ms(detail),
            )
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


def is_direct_message(detail: Mapping[str, Any]) -> bool:
    """Whether an event's detail (or an outbox record) is about a DM: its Channel says so."""
    return detail.get("Channel") == DM


def direct_message_of(detail: dict[str, Any]) -> DirectMessageRef | None:
    """The DirectMessage of a detail whose Channel is DM; None for a post (no Channel field)."""
    if not is_direct_message(detail) or not isinstance(detail.get("DirectMessage"), dict):
        return None
    return DirectMessageRef.from_detail(detail["DirectMessage"])


def where_detail(twitter: TwitterRef, direct_message: DirectMessageRef | None) -> dict[str, Any]:
    """Where a message lives, as detail fields: Twitter for a post; Channel and DirectMessage (and
    no Twitter, so no DM is ever taken for a post with the same id) for a DM."""
    if direct_message is not None:
        return {"Channel": DM, "DirectMessage": direct_message.to_detail()}
    return {"Twitter": twitter.to_detail()}
