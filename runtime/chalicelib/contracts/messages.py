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

    def to_detail(self) -> dict[str, Any]:
        return {"TweetId": self.tweet_id, "UserId": self.user_id, "ConversationId": self.conversation_id}

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> TwitterRef:
        return cls(
            tweet_id=str(detail["TweetId"]),
            user_id=str(detail["UserId"]),
            conversation_id=detail.get("ConversationId"),
        )


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

    def to_detail(self) -> dict[str, Any]:
        return {
            "Text": self.text,
            "Author": self.author,
            "Lang": self.lang,
            "ImageUrls": list(self.image_urls),
            "Twitter": self.twitter.to_detail(),
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> MessageReceived:
        return cls(
            text=str(detail["Text"]),
            author=str(detail["Author"]) if detail.get("Author") else None,
            lang=detail.get("Lang"),
            image_urls=[str(url) for url in detail.get("ImageUrls") or []],
            twitter=TwitterRef.from_detail(detail["Twitter"]),
        )
