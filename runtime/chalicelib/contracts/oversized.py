"""Events too large for their consumers: the claim-check pointer and the fields it keeps.

An event whose detail exceeds the publisher's limit (chalicelib.publishing) is stored whole in the
payload store under OVERSIZED_PREFIX, and the bus carries a pointer instead:

    {"Oversized": {"Uri": ..., "Bytes": ..., "Sha256": ...}, <the routing fields>}

The routing fields are the detail fields that some rule's pattern (every `*_PATTERN` of
chalicelib.contracts.names) matches on, such as HasImages and Analysis.TextSentiment, plus the
post's Twitter ids: kept beside the pointer, so the very rules that match the full event match the
pointer too, and logs and failure events can still name the post. Every consumer resolves the
pointer before use (chalicelib.publishing.PayloadResolver).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from chalicelib.contracts import names

#: Prefix of the claim-check objects in the payload store (the oversize bucket, or the local
#: state folder's oversized/): writers put only there, readers read only there.
OVERSIZED_PREFIX: Final = "oversized/"
#: The key of the pointer in a claim-checked event's detail.
OVERSIZED_KEY: Final = "Oversized"
#: Detail fields kept beside the pointer whatever the patterns say: where the post (or the direct
#: message, and which of the two it is) lives on X, so a failure can still name it and free its claim.
ALWAYS_KEPT: Final = (("Twitter",), ("Channel",), ("DirectMessage",))


def _detail_paths(pattern: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, sub in pattern.items():
        if key == "$or" and isinstance(sub, list):
            for alternative in sub:
                yield from _detail_paths(alternative, prefix)
        elif isinstance(sub, Mapping):
            yield from _detail_paths(sub, (*prefix, key))
        else:
            yield (*prefix, key)


def routing_paths() -> tuple[tuple[str, ...], ...]:
    """The detail paths some pattern of chalicelib.contracts.names matches on, and ALWAYS_KEPT."""
    paths: list[tuple[str, ...]] = list(ALWAYS_KEPT)
    for name, value in vars(names).items():
        if name.endswith("_PATTERN") and isinstance(value, Mapping) and isinstance(value.get("detail"), Mapping):
            paths.extend(path for path in _detail_paths(value["detail"]) if path not in paths)
    return tuple(paths)


def routing_fields(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail reduced to its routing paths (only those it has), in the same nesting."""
    kept: dict[str, Any] = {}
    for path in routing_paths():
        value: Any = detail
        for key in path:
            value = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
        if value is _MISSING:
            continue
        target = kept
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return kept


_MISSING: Final = object()


@dataclass(frozen=True)
class OversizedRef:
    """Where a claim-checked detail is, its size in bytes and its SHA-256 (hex)."""

    uri: str
    size: int
    sha256: str

    def to_detail(self) -> dict[str, Any]:
        return {"Uri": self.uri, "Bytes": self.size, "Sha256": self.sha256}

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> OversizedRef | None:
        """The pointer of a claim-checked event's detail; None for an ordinary detail."""
        pointer = detail.get(OVERSIZED_KEY)
        if not isinstance(pointer, Mapping):
            return None
        size = pointer.get("Bytes")
        # A malformed size reads as -1: no object has it, so the resolver refuses the pointer.
        return cls(
            uri=str(pointer.get("Uri", "")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
            sha256=str(pointer.get("Sha256", "")),
        )


def pointer_detail(ref: OversizedRef, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail the bus carries instead of `detail`: the pointer and the routing fields."""
    return {OVERSIZED_KEY: ref.to_detail(), **routing_fields(detail)}
