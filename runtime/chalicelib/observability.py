"""Structured logging (Powertools), shared by every handler through one Chalice middleware."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="xbot")


def logging_middleware(event: Any, get_response: Any) -> Any:
    """Tag every log line of this invocation with the handler's name; clear state between calls."""
    logger.clear_state()
    context = getattr(event, "context", None)
    name = getattr(context, "function_name", None)
    if name:
        logger.append_keys(function_name=name)
    return get_response(event)
