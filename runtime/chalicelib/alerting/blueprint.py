"""Alerting: negative messages to the alert topic; the topic's subscriber forwards to chat."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent, SNSEvent

from chalicelib import wiring
from chalicelib.contracts.names import NEGATIVE_MESSAGE_PATTERN
from chalicelib.observability import logger, with_log_context

#: The topic's name as Chalice declares it; CDK points the subscription at the real topic.
ALERT_TOPIC_NAME = "xbot-alerts"

alerting = Blueprint(__name__)


@alerting.on_cw_event(NEGATIVE_MESSAGE_PATTERN, name="alert_negative")
@with_log_context
def alert_negative(event: CloudWatchEvent) -> None:
    # Imported here, not at the top: app.py imports every blueprint, and the webhook never needs it.
    from chalicelib.contracts.analysis import MessageAnalysed

    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    # A claim-checked event (over the bus's size limit) is matched by its routing fields, then read whole.
    analysed = MessageAnalysed.from_detail(wiring.payload_resolver().resolve(event.detail))
    if not wiring.alert_service().alert(analysed, remaining_ms=remaining):
        logger.info("alert already sent for this post", extra={"tweet_id": analysed.message.twitter.tweet_id})


@alerting.on_sns_message(topic=ALERT_TOPIC_NAME, name="forward_alert")
@with_log_context
def forward_alert(event: SNSEvent) -> None:
    forwarder = wiring.alert_forwarder()
    if forwarder is None:
        logger.info("no chat webhook configured; the alert stays on the topic")
        return
    forwarder.forward(event.subject or "Alert", event.message)
