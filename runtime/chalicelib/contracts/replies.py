"""SEND_TWEET: what Egress posts on X. Written by the responders, read by Egress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.contracts.messages import received_at_ms

#: X allows up to four photos in a post.
MAX_REPLY_IMAGES = 4


@dataclass(frozen=True)
class PhotoModeration:
    """The photo check before a repost (chalicelib.responding.photos), as SEND_TWEET's Moderation:
    how many photos were checked, found unsafe, could not be checked (MediaError: withheld, the
    check fails closed) and withheld in all; the unsafe categories found; what checked them."""

    checked: int
    unsafe: int = 0
    failed: int = 0
    withheld: int = 0
    categories: tuple[str, ...] = ()
    checker: str = ""

    def to_detail(self) -> dict[str, Any]:
        return {
            "Checked": self.checked,
            "Unsafe": self.unsafe,
            "Failed": self.failed,
            "Withheld": self.withheld,
            "Categories": list(self.categories),
            "Checker": self.checker,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> PhotoModeration:
        return cls(
            checked=int(detail.get("Checked") or 0),
            unsafe=int(detail.get("Unsafe") or 0),
            failed=int(detail.get("Failed") or 0),
            withheld=int(detail.get("Withheld") or 0),
            categories=tuple(str(category) for category in detail.get("Categories") or []),
            checker=str(detail.get("Checker") or ""),
        )


@dataclass(frozen=True)
class SendTweet:
    """A reply to post. Images are media-store keys (at most four); ImageKey is the first, as in the
    original project's events."""

    text: str
    reply_to_tweet_id: str
    reply_to_user_id: str
    image_keys: list[str] = field(default_factory=list)
    #: When Ingress accepted the post answered (epoch ms, MESSAGE_RECEIVED's ReceivedAtMs), for the
    #: delivery-to-reply latency of REPLY_POSTED. Optional: the original project's events lack it.
    received_at_ms: int | None = None
    #: The photo check's record, when one ran (a photo was about to be reposted); None otherwise.
    moderation: PhotoModeration | None = None

    def __post_init__(self) -> None:
        if len(self.image_keys) > MAX_REPLY_IMAGES:
            raise ValueError(f"a post holds at most {MAX_REPLY_IMAGES} photos, not {len(self.image_keys)}")

    def to_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Text": self.text,
            "ReplyToTweetId": self.reply_to_tweet_id,
            "ReplyToUserId": self.reply_to_user_id,
            "ImageKey": self.image_keys[0] if self.image_keys else None,
            "ImageKeys": list(self.image_keys),
        } | ({"ReceivedAtMs": self.received_at_ms} if self.received_at_ms is not None else {})
        detail |= {"Moderation": self.moderation.to_detail()} if self.moderation is not None else {}
        return detail

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> SendTweet:
        keys = detail.get("ImageKeys")
        if keys is None:
            keys = [detail["ImageKey"]] if detail.get("ImageKey") else []
        return cls(
            text=str(detail["Text"]),
            reply_to_tweet_id=str(detail["ReplyToTweetId"]),
            reply_to_user_id=str(detail["ReplyToUserId"]),
            image_keys=[str(key) for key in keys],
            received_at_ms=received_at_ms(detail),
            moderation=PhotoModeration.from_detail(detail["Moderation"]) if detail.get("Moderation") else None,
        )
