"""The values some ports answer with: a photo's moderation verdict, the conversational bot's answer,
and the mentions poller's page, rate limit and checkpoint.

They belong to chalicelib.ports, which exports them under the same names, but are defined here:
every Lambda function imports the ports (the webhook's cold start included, through the bus
publisher), none of these is used by the webhook, and each frozen dataclass costs about as much to
define as a small module to import. chalicelib.ports loads this module the first time one of them
is named (tests/composition/test_cold_start_imports.py keeps it off the webhook's import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ConversationAnswer", "MentionsPage", "ModerationVerdict", "PollState", "RateLimit"]


@dataclass(frozen=True)
class ModerationVerdict:
    """What a moderation check found in one photo: `unsafe` when a top-level category the bot
    refuses to repost was found above the confidence threshold; `categories` names those found
    (empty when safe); `checker` names what checked it (for the events and the README)."""

    unsafe: bool
    categories: tuple[str, ...] = ()
    checker: str = ""


@dataclass(frozen=True)
class ConversationAnswer:
    """What the conversational bot made of a message: the intent it recognised (a name of
    chalicelib.contracts.conversation, FALLBACK_INTENT when none) and its answer's text."""

    intent: str
    text: str


@dataclass(frozen=True)
class RateLimit:
    """What X said about the endpoint's window in an answer's x-rate-limit-* headers (None: not said)."""

    remaining: int | None = None
    #: Epoch second the window resets.
    reset_at: float | None = None


@dataclass(frozen=True)
class MentionsPage:
    """One page of GET /2/users/:id/mentions, newest post first: the posts (`data`), the `includes`
    they refer to, the next page's token (meta.next_token) and the rate-limit headers. The poller
    takes the page's newest id from its posts, never from meta.newest_id."""

    posts: list[dict[str, Any]]
    includes: dict[str, Any]
    next_token: str | None
    rate_limit: RateLimit


@dataclass(frozen=True)
class PollState:
    """Where the poller is in the mentions timeline (chalicelib.ingress.poller explains the fields)."""

    #: Every mention up to this id has been published (exclusive lower bound of the next range).
    since_id: str | None
    #: With no since_id yet (no mention since polling started): the range starts at this epoch second.
    start_time: float | None = None
    #: A range being read page by page: its newest id (the next since_id once it is all read) and
    #: the token of its next page.
    range_newest_id: str | None = None
    pagination_token: str | None = None
    #: No call to X before this epoch second (the rate-limit window is spent).
    not_before: float = 0.0
    #: Incremented at every save; a save is conditional on the version read.
    version: int = 0
