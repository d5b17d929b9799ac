"""X's JSON as the bus can carry it: one parser for the webhook's deliveries and the poller's pages.

EventBridge takes only valid UTF-8 JSON, so what X sends is parsed here with the same rules
whichever way it came: NaN and Infinity refused, nesting capped, lone surrogates (half an emoji)
replaced. It lives in the kernel, not in Ingress's translation, because an adapter (the mentions
reader) parses with it too, and adapters never import a service.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

#: Real deliveries nest about 10 levels deep; deeper bodies are refused before they reach the bus.
MAX_NESTING_DEPTH: Final = 32

# Pattern strings, not compiled patterns: `re` compiles each on its first use and keeps it in its
# own cache, and X's CRC checks use none of them (the webhook's cold start).
_STRING_LITERAL: Final = r'(?s)"[^"\\]*(?:\\.[^"\\]*)*"'
_NOT_A_BRACKET: Final = r"[^\[\]{}]+"
_LONE_SURROGATE: Final = "[\ud800-\udfff]"
#: A cheap test for the only ways a lone surrogate gets into parsed text (an escape or raw bytes).
_MAYBE_SURROGATE: Final = r"\\u[dD][89abcdefABCDEF]|[\ud800-\udfff]"


class RejectedError(Exception):
    """Part of a delivery that cannot be processed; str(error) is the recorded reason."""


class NotAnObjectError(ValueError):
    """The body is not JSON, or JSON but not an object: a call to refuse (400)."""


class _NonFiniteError(ValueError):
    pass


def parse_delivery(body: bytes) -> dict[str, Any]:
    """The body as a JSON object fit for the bus, or RejectedError (signed, answered 200, recorded).

    Raises NotAnObjectError for a body that is not a JSON object. Lone surrogates and bytes that
    are not UTF-8 are replaced with U+FFFD: EventBridge takes only valid JSON in UTF-8.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        delivery = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise RejectedError(f"nested deeper than {MAX_NESTING_DEPTH} levels") from None
    except _NonFiniteError as error:
        raise RejectedError(str(error)) from None
    except json.JSONDecodeError as error:
        raise NotAnObjectError("body is not JSON") from error
    except ValueError as error:  # an integer with more digits than Python converts
        raise RejectedError(f"a number cannot be read: {error}") from None
    if not isinstance(delivery, dict):
        raise NotAnObjectError("body is not a JSON object")
    if _nesting_depth_over(text, MAX_NESTING_DEPTH):
        raise RejectedError(f"nested deeper than {MAX_NESTING_DEPTH} levels")
    if re.search(_MAYBE_SURROGATE, text):
        cleaned = _without_lone_surrogates(delivery)
        return cleaned if isinstance(cleaned, dict) else delivery
    return delivery


def _refuse_constant(name: str) -> Any:
    raise _NonFiniteError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _NonFiniteError(f"{literal[:40]} is out of range of a double")
    return value


def _nesting_depth_over(text: str, limit: int) -> bool:
    """Whether valid JSON `text` nests deeper than `limit`, without walking the parsed value."""
    brackets = re.sub(_NOT_A_BRACKET, "", re.sub(_STRING_LITERAL, "", text)).replace("{", "[").replace("}", "]")
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace("[]", "")
    return bool(brackets)


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(_LONE_SURROGATE, "\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {re.sub(_LONE_SURROGATE, "\ufffd", k): _without_lone_surrogates(v) for k, v in value.items()}
    return value
