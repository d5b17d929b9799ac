"""Structured logging (Powertools), shared by every handler through one Chalice middleware."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="xbot")


def logging_middleware(event: Any, get_response: Any) -> Any:
    """Tag every log line of this invocation with the function and request; clear state between calls.

    Chalice gives HTTP handlers a Request (`lambda_context`) and event handlers an event (`context`).
    On AWS, a blueprint's event handler is imported from its own module, so app-level middleware
    reaches it only once app.py is imported: handlers must not depend on it to work.
    """
    logger.clear_state()
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    for key, attribute in (("function_name", "function_name"), ("request_id", "aws_request_id")):
        value = getattr(context, attribute, None)
        if isinstance(value, str) and value:
            logger.append_keys(**{key: value})
    return get_response(event)
