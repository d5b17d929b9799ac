"""The X webhook at /twitter: HTTP in, service call, HTTP out. Decisions live in the service."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate, Response

from chalicelib import wiring
from chalicelib.ingress.service import IngressError
from chalicelib.ingress.signature import SIGNATURE_HEADER
from chalicelib.kernel.errors import ConfigurationError, TransientError
from chalicelib.observability import logger, with_log_context
from chalicelib.publishing import PublishError
from chalicelib.settings import DEFAULT_POLL_INTERVAL_MINUTES

ingress = Blueprint(__name__)


@ingress.route("/twitter", methods=["GET"])
def crc_check() -> Response:
    """X's challenge-response check, at registration and then every hour."""
    query = ingress.current_request.query_params
    token = query.get("crc_token") if query else None
    try:
        return Response(body=wiring.ingress_service().answer_crc(token), status_code=200)
    except IngressError as error:
        return _refusal(error)
    except ConfigurationError as error:
        return _server_error("configuration", error)


@ingress.route("/twitter", methods=["POST"], content_types=["application/json"])
def receive_delivery() -> Response:
    request = ingress.current_request
    try:
        body = request.raw_body if isinstance(request.raw_body, bytes) else request.raw_body.encode("utf-8")
        receipt = wiring.ingress_service().receive(body, request.headers.get(SIGNATURE_HEADER))
    except IngressError as error:
        return _refusal(error)
    except ConfigurationError as error:
        return _server_error("configuration", error)
    except PublishError as error:
        # 5xx makes X deliver again later; nothing was acknowledged.
        return _server_error("publish", error)
    if receipt.rejected:
        logger.warning("delivery accepted with rejected parts", extra={"rejected": receipt.rejected})
    logger.info("delivery accepted", extra={"events": len(receipt.event_ids), "detail_types": receipt.detail_types})
    return Response(body={"events": len(receipt.event_ids)}, status_code=200)


# The rate here is only Chalice's default: CDK sets the deployed one from the context
# (pollIntervalMinutes), or removes the schedule when the deployment does not poll (-c ingress=webhook).
@ingress.schedule(Rate(DEFAULT_POLL_INTERVAL_MINUTES, unit=Rate.MINUTES), name="poll_mentions")
@with_log_context
def poll_mentions(event: CloudWatchEvent) -> dict[str, Any]:
    """Read the bot's new mentions from X and publish them (chalicelib/ingress/poller.py)."""
    # Imported here, not at the top: the webhook (app.py) imports this module and never polls.
    from chalicelib.ingress.poller import PollError

    try:
        poller = wiring.mentions_poller()
    except ConfigurationError as error:
        logger.warning("mentions poller not configured; nothing polled", extra={"reason": str(error)})
        return {"outcome": "not-configured"}
    try:
        report = poller.poll()
    except PollError as error:
        # One line that says what to fix; raised again so the run counts as an error (alarmed).
        logger.error("mentions poll refused by X", extra={"reason": str(error)})
        raise
    except (TransientError, PublishError) as error:
        # X failed or answered what is not a page, or the bus or the checkpoint table failed: one
        # line (never a credential: these messages hold a status and X's words), and the next run
        # continues from the checkpoint.
        logger.error("mentions poll failed; the next run retries", extra={"reason": f"{type(error).__name__}: {error}"})
        raise
    logger.info("mentions polled", extra=vars(report))
    return dict(vars(report))


def _refusal(error: IngressError) -> Response:
    logger.warning("webhook call refused", extra={"status": error.status, "reason": str(error)})
    return Response(body={"message": str(error)}, status_code=error.status)


def _server_error(kind: str, error: Exception) -> Response:
    logger.error("webhook call failed", extra={"kind": kind, "reason": str(error)})
    return Response(body={"message": "temporarily unable to accept the delivery"}, status_code=500)
