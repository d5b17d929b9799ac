"""The analysis workflow's tasks as Lambda functions: the Step Functions state machine calls them.

Each takes and returns plain JSON (the state's input and output). Failures worth retrying are
raised as TransientError, which the state machine retries with backoff; anything else fails the
task, and the state machine publishes MESSAGE_ANALYSIS_FAILED.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent

from chalicelib import wiring
from chalicelib.contracts.names import MEDIA_DELETION_PATTERN
from chalicelib.kernel.errors import TransientError, is_transient
from chalicelib.observability import logger, with_lambda_log_context, with_log_context

analysis = Blueprint(__name__)


def _classified[T](step: Callable[[], T]) -> T:
    try:
        return step()
    except Exception as error:
        if is_transient(error):
            raise TransientError(f"{type(error).__name__}: {error}") from error
        raise


def failure_reason(error: Any, cause: Any) -> str:
    """ "Type: message" from a Step Functions Catch. For a Lambda task the Cause is Lambda's JSON
    (errorType, errorMessage, stackTrace): only the first two make a reason worth publishing."""
    text = str(cause or "")
    try:
        lambda_error = json.loads(text)
    except ValueError:
        lambda_error = None
    if isinstance(lambda_error, dict) and "errorMessage" in lambda_error:
        return f"{lambda_error.get('errorType') or error}: {lambda_error['errorMessage']}"
    return f"{error or 'Error'}: {text}" if text else str(error or "Error")


@analysis.lambda_function(name="download_media")
@with_lambda_log_context
def download_media(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"Message": MESSAGE_RECEIVED detail, "EventId": its event's id} -> {"Claimed": true, "Images":
    [ImageResult, ...]}, or {"Claimed": false, "Images": []} when another arrival of the post has it."""
    arrival = event.get("EventId")
    images = _classified(
        lambda: wiring.analysis_steps().download(event["Message"], arrival if isinstance(arrival, str) else None)
    )
    if images is None:
        logger.info("post already analysed or being analysed: skipped")
        return {"Claimed": False, "Images": []}
    failed = [image["Url"] for image in images if image["Error"]]
    if failed:
        logger.warning("photos not downloaded", extra={"urls": failed})
    return {"Claimed": True, "Images": images}


@analysis.lambda_function(name="analyse_image")
@with_lambda_log_context
def analyse_image(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An ImageResult -> the same with its Analysis (or the reason it has none).

    A lasting failure on one photo is reported on that photo (like a photo that did not download)
    so the others and the text still make MESSAGE_ANALYSED; passing ones are retried.
    """
    try:
        return _classified(lambda: wiring.analysis_steps().analyse_image(event))
    except TransientError:
        raise
    except Exception as error:
        logger.exception("photo analysis failed", extra={"key": event.get("Key")})
        return {**event, "Analysis": None, "Error": f"analysis failed: {type(error).__name__}"}


@analysis.lambda_function(name="analyse_text")
@with_lambda_log_context
def analyse_text(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"Message": ...} -> the text's analysis (TextSentiment, SentimentScore, ...)."""
    return _classified(lambda: wiring.analysis_steps().analyse_text(event["Message"]))


@analysis.lambda_function(name="publish_analysis")
@with_lambda_log_context
def publish_analysis(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"Message", "Text", "Images"} -> MESSAGE_ANALYSED on the bus."""
    steps = wiring.analysis_steps()
    event_id = _classified(lambda: steps.publish(event["Message"], event["Text"], event["Images"]))
    return {"EventId": event_id}


@analysis.lambda_function(name="publish_failure")
@with_lambda_log_context
def publish_failure(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """{"Message", "Error", "Cause"} -> MESSAGE_ANALYSIS_FAILED on the bus: a failure is never swallowed."""
    reason = failure_reason(event.get("Error"), event.get("Cause"))
    logger.error("analysis failed", extra={"reason": reason})
    event_id = _classified(lambda: wiring.analysis_steps().publish_failure(event["Message"], reason))
    return {"EventId": event_id}


@analysis.on_cw_event(MEDIA_DELETION_PATTERN, name="delete_media")
@with_log_context
def delete_media(event: CloudWatchEvent) -> None:
    """A post deleted on X, or a user who revoked the app: the photos Analysis stored for it (and
    their annotated copies) are deleted, and MEDIA_DELETED says how many. A failure is raised: the
    event is retried, then parked in the handlers' failure queue, never silently dropped."""
    detail = wiring.payload_resolver().resolve(event.detail)
    wiring.media_deletion().honour(event.detail_type, detail)
