"""Egress: SEND_TWEET becomes a post on X, SEND_DM a direct message (or, locally, a line in the
dry-run outbox, a DM marked as one).

On AWS, a rule on the bus puts each SEND_TWEET and SEND_DM in Egress's queue (names.EGRESS_QUEUE), and this
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
from chalicelib.contracts.names import EGRESS_QUEUE, SEND_DM
from chalicelib.observability import logger, with_log_context

egress = Blueprint(__name__)


@egress.on_sqs_message(queue=EGRESS_QUEUE, batch_size=1, name="post_reply")
@with_log_context
def post_reply(event: SQSEvent) -> None:
    """One reply per post answered: the post replied to keys the idempotency record, so a
    redelivered SEND_TWEET (or a second one for the same post) posts nothing more. A SEND_DM (the
    envelope's detail-type says which) is sent once per DM answered, the same way."""
    # Imported here, not at the top: app.py imports every blueprint, and the webhook never needs them.
    from chalicelib.contracts.direct_messages import SendDirectMessage
    from chalicelib.contracts.replies import SendTweet

    for record in event:  # batch_size=1: one message, so a failure returns only it to the queue
        envelope: dict[str, Any] = json.loads(record.body)  # the EventBridge event the rule sent
        remaining = getattr(record.context, "get_remaining_time_in_millis", None)
        detail = wiring.payload_resolver().resolve(envelope["detail"])  # a claim-checked command, read whole
        if envelope.get("detail-type") == SEND_DM:
            answer = SendDirectMessage.from_detail(detail)
            sent = wiring.egress_service().send_direct_message(answer, remaining_ms=remaining)
            # Ids only: the DM's text stays out of the logs.
            logger.info("DM answer handled", extra={"dm_event_id": sent, "in_reply_to_dm": answer.reply_to_dm_event_id})
            continue
        posted = wiring.egress_service().send(SendTweet.from_detail(detail), remaining_ms=remaining)
        logger.info("reply handled", extra={"tweet_id": posted, "in_reply_to": detail.get("ReplyToTweetId")})
