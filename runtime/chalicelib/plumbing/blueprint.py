"""Plumbing handlers that react to the bus itself (the bus, archive and log live in CDK)."""

from __future__ import annotations

from chalice.app import Blueprint, CloudWatchEvent

from chalicelib.contracts.names import ACCESS_REVOKED_PATTERN
from chalicelib.observability import logger, with_log_context

plumbing = Blueprint(__name__)


@plumbing.on_cw_event(ACCESS_REVOKED_PATTERN, name="access_revoked")
@with_log_context
def access_revoked(event: CloudWatchEvent) -> None:
    """Someone revoked the app's access: say so loudly, the bot hears nothing from them until re-authorised."""
    logger.error(
        "X access revoked",
        extra={"detail_type": event.detail_type, "event_id": event.event_id, "detail": event.detail},
    )
