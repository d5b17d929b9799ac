"""The order of "stop" and "start": a change from an older post never undoes a newer one.

X's post ids (and its direct-message event ids) are snowflakes: they grow with the time the post
was made (docs.x.com, "X IDs"). A "stop" retried or delivered late (at-least-once delivery, an
analysis slower than the next message's) may reach the opt-out store after the same person's later
"start"; the store refuses it when its post is older than the one that made the last change
(OptOuts, in each adapter). The same post again (a retry) is not older, and is still recognised.
"""

from __future__ import annotations

from typing import Final

from chalicelib.kernel.x_ids import is_x_id

#: How a direct message's id is written where a post id goes ("dm:<event id>").
_DM_PREFIX: Final = "dm:"


def post_order(post_id: str) -> int | None:
    """The snowflake of a post id or "dm:<event id>", to compare; None for anything else (not
    expected: such a change is then ordered by nothing, as before)."""
    number = post_id.removeprefix(_DM_PREFIX)
    return int(number) if is_x_id(number) else None


def is_older(post_id: str, than: str | None) -> bool:
    """True when `post_id` was made before the post `than` (the one that made the last change)."""
    order, recorded = post_order(post_id), post_order(than) if than else None
    return order is not None and recorded is not None and order < recorded
