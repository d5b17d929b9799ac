"""The kill switch's values, one reading for both runtimes (an SSM parameter on AWS, BOT_POSTING locally)."""

from __future__ import annotations

from typing import Final

POSTING_ON: Final = "on"
POSTING_OFF: Final = "off"
#: What an operator may write for each state (any case, spaces around ignored): "on" and "off" are
#: the documented values; the usual spellings of yes and no mean the same, so a "true" or a
#: "false" does what it says instead of stopping the bot as an unreadable switch would.
ON_VALUES: Final = frozenset({POSTING_ON, "true", "yes", "1", "enabled"})
OFF_VALUES: Final = frozenset({POSTING_OFF, "false", "no", "0", "disabled"})


def posting_enabled(value: str) -> bool:
    """True for "on" (or true, yes, 1, enabled), False for "off" (or false, no, 0, disabled), in
    any case with spaces around ignored; ValueError for anything else: a switch that says something
    unexpected is not read as "on" (the callers then post nothing, and retry)."""
    cleaned = value.strip().casefold()
    if cleaned in ON_VALUES:
        return True
    if cleaned in OFF_VALUES:
        return False
    raise ValueError(f"the posting switch must be {POSTING_ON!r} or {POSTING_OFF!r}, not {value[:20]!r}")
