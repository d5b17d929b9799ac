"""The kill switch's values, one reading for both runtimes (an SSM parameter on AWS, BOT_POSTING locally)."""

from __future__ import annotations

from typing import Final

POSTING_ON: Final = "on"
POSTING_OFF: Final = "off"


def posting_enabled(value: str) -> bool:
    """True for "on", False for "off" (any case, spaces ignored); ValueError for anything else:
    a switch that says something unexpected is not read as "on"."""
    cleaned = value.strip().lower()
    if cleaned == POSTING_ON:
        return True
    if cleaned == POSTING_OFF:
        return False
    raise ValueError(f"the posting switch must be {POSTING_ON!r} or {POSTING_OFF!r}, not {value[:20]!r}")
