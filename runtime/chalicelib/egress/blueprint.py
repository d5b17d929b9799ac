"""Egress: SEND_TWEET becomes a post on X (or, locally, a line in the dry-run outbox).

On AWS, a rule on the bus puts each SEND_TWEET in Egress's queue (names.EGRESS_QUEUE), and this
handler reads it one message at a time. A reply over the posting budget fails the invocation
(PostBudgetExhaustedError): the message stays in the queue and comes back after its visibility
timeout, until it is posted or, past MAX_REPLY_AGE_SECONDS, skipped as too old. The queue's
receive count is sized so that the budget alone never dead-letters a reply before it is too old.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib import wiring
from chalicelib.contracts.names import EGRESS_QUEUE
from chalicelib.contracts.replies import SendTweet
from chalicelib.observability import logger, with_log_context

egress = Blueprint(__name__)


@egress.on_sqs_message(queue=EGRESS_QUEUE, batch_size=1, name="post_reply")
@with_log_context
def post_reply(event: SQSEvent) -> None:
    """One reply per post answered: the post replied to keys the idempotency record, so a
    redelivered SEND_TWEET (or a second one for the same post) posts nothing more."""
    for record in event:  # batch_size=1: one message, so a failure returns only it to the queue
        envelope: dict[str, Any] = json.loads(record.body)  # the EventBridge event the rule sent
        remaining = getattr(record.context, "get_remaining_time_in_millis", None)
        detail = wiring.payload_resolver().resolve(envelope["detail"])  # a claim-checked SEND_TWEET, read whole
        posted = wiring.egress_service().send(SendTweet.from_detail(detail), remaining_ms=remaining)
        logger.info("reply handled", extra={"tweet_id": posted, "in_reply_to": detail.get("ReplyToTweetId")})
