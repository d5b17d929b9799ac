"""Responding: analysed messages become replies (SEND_TWEET); Lex's fulfilment code hook."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent

from chalicelib import wiring
from chalicelib.contracts.names import ANALYSED_TEXT_ONLY_PATTERN, ANALYSED_WITH_IMAGES_PATTERN
from chalicelib.observability import with_lambda_log_context, with_log_context

responding = Blueprint(__name__)


@responding.on_cw_event(ANALYSED_WITH_IMAGES_PATTERN, name="reply_to_photos")
@with_log_context
def reply_to_photos(event: CloudWatchEvent) -> None:
    # Imported here, not at the top: app.py imports every blueprint, and the webhook never needs it.
    from chalicelib.contracts.analysis import MessageAnalysed

    # A claim-checked event (over the bus's size limit) is matched by HasImages, then read whole.
    wiring.photo_responder().respond(MessageAnalysed.from_detail(wiring.payload_resolver().resolve(event.detail)))


@responding.on_cw_event(ANALYSED_TEXT_ONLY_PATTERN, name="reply_to_text")
@with_log_context
def reply_to_text(event: CloudWatchEvent) -> None:
    from chalicelib.contracts.analysis import MessageAnalysed

    wiring.text_responder().respond(MessageAnalysed.from_detail(wiring.payload_resolver().resolve(event.detail)))


@responding.lambda_function(name="lex_fulfilment")
@with_lambda_log_context
def lex_fulfilment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lex V2 bot's code hook: answers the Joke and Fact intents in Lex's response format."""
    from chalicelib.responding.fulfilment import fulfil

    return fulfil(event)
