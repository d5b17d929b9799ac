"""Structured logging (Powertools): routes get it from one middleware, event handlers from a decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="xbot")


def logging_middleware(event: Any, get_response: Any) -> Any:
    """HTTP routes: tag every log line of the request with the function and request id."""
    _tag(getattr(event, "lambda_context", None))
    return get_response(event)


def with_log_context[E, R](handler: Callable[[E], R]) -> Callable[[E], R]:
    """Event handlers: the same tags, applied by the handler itself.

    On AWS, Lambda imports a blueprint's event handler from the blueprint's own module, so app.py
    (and its middleware) is never imported there: app-level middleware would silently not run.
    """

    @functools.wraps(handler)
    def tagged(event: E) -> R:
        _tag(getattr(event, "context", None))
        return handler(event)

    return tagged


def with_lambda_log_context[R](handler: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
    """The same tags for a plain Lambda handler (event, context), as `@app.lambda_function` gives."""

    @functools.wraps(handler)
    def tagged(event: Any, context: Any) -> R:
        _tag(context)
        return handler(event, context)

    return tagged


def _tag(context: Any) -> None:
    logger.clear_state()
    for key, attribute in (("function_name", "function_name"), ("request_id", "aws_request_id")):
        value = getattr(context, attribute, None)
        if isinstance(value, str) and value:
            logger.append_keys(**{key: value})
