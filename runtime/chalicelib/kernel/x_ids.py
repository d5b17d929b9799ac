"""What an X numeric id is: one rule for every place that reads one (a post id, an account id).

X's ids are 64-bit snowflakes written in decimal (docs.x.com, "X IDs"): ASCII digits, at most 19
of them, below 2**63, and never 0. Anything else is not X's: a larger "id" would move the poller's
checkpoint past every post to come, a handle or "../" would reach a URL path or a storage prefix.
"""

from __future__ import annotations

from typing import Final, TypeGuard

#: 2**63 - 1 has 19 decimal digits.
MAX_X_ID_DIGITS: Final = 19
_LIMIT: Final = 2**63


def is_x_id(value: object) -> TypeGuard[str]:
    """True for an X numeric id: a string of 1 to 19 ASCII digits whose value is in 1 .. 2**63 - 1."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_X_ID_DIGITS
        and value.isascii()
        and value.isdigit()
        and 0 < int(value) < _LIMIT
    )
