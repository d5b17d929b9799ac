"""The kill switch's values, one reading for both runtimes (an SSM parameter on AWS, BOT_POSTING locally)."""

from __future__ import annotations

from typing import Final

POSTING_ON: Final = "on"
POSTING_OFF: Final = "off"
#: What each state may be written as (any case, spaces around ignored). "on" and "off" are the
#: documented values, and the only ones the SSM parameter accepts (its allowed pattern, see
#: infrastructure/stacks/egress.py: a "false" or a typo is refused when it is written, so AWS never
#: holds one). The usual spellings of yes and no are for BOT_POSTING, the local runtime's variable,
#: which nothing checks when it is set: a "false" there does what it says instead of stopping the
#: bot as an unreadable switch would.
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
