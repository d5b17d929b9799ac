"""Turn the shared event patterns (plain dicts in chalicelib.contracts.names) into CDK's EventPattern.

The runtime, the local bus and CDK read the same dicts, so a pattern is never written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_events as events

#: EventBridge pattern keys -> keyword of aws_events.EventPattern.
_FIELDS = {
    "version": "version",
    "id": "id",
    "detail-type": "detail_type",
    "source": "source",
    "account": "account",
    "time": "time",
    "region": "region",
    "resources": "resources",
    "detail": "detail",
}


def to_event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """Same pattern as the dict, in the form the L2 Rule takes."""
    unknown = set(pattern) - set(_FIELDS)
    if unknown:
        raise ValueError(f"event pattern keys not supported: {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in pattern.items():
        if key == "detail":
            kwargs["detail"] = dict(value)
        else:
            kwargs[_FIELDS[key]] = _values(value)
    return events.EventPattern(**kwargs)


def _values(values: list[Any]) -> list[str]:
    # The L2 types these fields as lists of strings; content filters such as {"prefix": ...} go
    # through Match.any_of, which renders each element verbatim.
    if all(isinstance(v, str) for v in values):
        return list(values)
    return events.Match.any_of(*values)
