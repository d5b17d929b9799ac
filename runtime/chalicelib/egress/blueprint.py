"""Egress: SEND_TWEET becomes a post on X (or, locally, a line in the dry-run outbox)."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent

from chalicelib import wiring
from chalicelib.contracts.names import SEND_TWEET_PATTERN
from chalicelib.contracts.replies import SendTweet
from chalicelib.observability import logger, with_log_context

egress = Blueprint(__name__)


@egress.on_cw_event(SEND_TWEET_PATTERN, name="post_reply")
@with_log_context
def post_reply(event: CloudWatchEvent) -> None:
    """One reply per post answered: the post replied to keys the idempotency record, so a
    redelivered SEND_TWEET (or a second one for the same post) posts nothing more."""
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    detail = wiring.payload_resolver().resolve(event.detail)  # a claim-checked SEND_TWEET, read whole
    posted = wiring.egress_service().send(SendTweet.from_detail(detail), remaining_ms=remaining)
    logger.info("reply posted", extra={"tweet_id": posted, "in_reply_to": detail.get("ReplyToTweetId")})
