"""Structured logs for the local runtime: one JSON object per line on stderr.

Same shape of information as the Powertools lines the Lambda handlers write, so a developer can
grep or `jq` both the same way.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

#: Put fields on a log line with `logger.info("message", extra={FIELDS: {...}})`.
FIELDS = "botlocal_fields"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS, {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send botlocal's logs to stderr as JSON lines (idempotent; leaves other loggers alone)."""
    logger = logging.getLogger("botlocal")
    if not any(getattr(handler, "_botlocal", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._botlocal = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def fields(**values: Any) -> dict[str, Any]:
    """`extra=` for a structured log line: logger.info("delivered", extra=fields(target=...))."""
    return {FIELDS: values}
