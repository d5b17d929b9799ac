"""EventBridge event patterns: validate once, then match events with EventBridge's semantics.

The local bus routes with the very patterns CDK and Chalice give EventBridge, so this matcher
follows EventBridge (and its open-source engine, aws/event-ruler) rather than intuition:

- A pattern is an object. A key maps to a nested object (descend into the event) or to a
  non-empty array of matchers (a leaf): the leaf matches when any matcher matches any value.
- An array in the event matches when any element matches; an array of objects is searched
  element by element, so fields matched together come from the same element (as event-ruler's
  array consistency does).
- Only leaf values (strings, numbers, booleans, null) are values. A missing field, an empty
  array or an object where a leaf was expected match nothing but {"exists": false}.
- Exact strings are case-sensitive; numbers compare as numbers (5 == 5.0); true never equals 1.
- Content filters: prefix, suffix (both optionally {"equals-ignore-case": ...}),
  equals-ignore-case, anything-but (value, list, prefix, suffix, equals-ignore-case, wildcard),
  exists, numeric, wildcard, cidr; and "$or" at any level.

Invalid patterns raise ValueError naming the offending path, so a typo in a rule fails loudly at
start-up instead of silently never matching.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["CompiledPattern", "compile_pattern", "matches"]

#: A leaf matcher: given one leaf value of the event, does it match?
_Predicate = Callable[[Any], bool]

_NUMERIC_OPERATORS: Final = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_LOWER_BOUNDS: Final = frozenset({">", ">="})
_UPPER_BOUNDS: Final = frozenset({"<", "<="})


class _Absent:
    """The value of a field the event does not have (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Final = _Absent()


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python; in JSON true is not 1.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


@dataclass(frozen=True)
class _Leaf:
    """The array of matchers under one key: matches when any matcher accepts any leaf value."""

    predicates: tuple[_Predicate, ...]
    #: Whether the leaf matches a field that has no value at all (only {"exists": false} does).
    matches_absent: bool

    def matches(self, value: Any) -> bool:
        values = list(_leaf_values(value))
        if not values:
            return self.matches_absent
        return any(predicate(item) for item in values for predicate in self.predicates)


@dataclass(frozen=True)
class _Node:
    """An object of the pattern: every field must match, and every "$or" must have a match."""

    fields: tuple[tuple[str, _Leaf | _Node], ...]
    alternatives: tuple[tuple[_Node, ...], ...]

    def matches(self, value: Any) -> bool:
        if isinstance(value, list):
            # An array of objects: some single element must satisfy the whole sub-pattern.
            if value:
                return any(self.matches(element) for element in value)
            value = _ABSENT
        obj: Mapping[str, Any] = value if isinstance(value, Mapping) else {}
        for key, sub in self.fields:
            if not sub.matches(obj.get(key, _ABSENT)):
                return False
        return all(any(alt.matches(value) for alt in group) for group in self.alternatives)


def _leaf_values(value: Any) -> Iterator[Any]:
    """The leaf values of an event field: arrays are flattened, objects are not leaves."""
    if isinstance(value, list):
        for element in value:
            yield from _leaf_values(element)
    elif value is not _ABSENT and _is_scalar(value):
        yield value


class CompiledPattern:
    """A validated event pattern, ready to match events (EventBridge envelopes as dicts)."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        if not isinstance(pattern, Mapping):
            raise ValueError(f"event pattern must be a JSON object, got {type(pattern).__name__}")
        if not pattern:
            raise ValueError("event pattern must not be empty")
        self.pattern: Final = pattern
        self._root = _compile_node(pattern, path="")

    def matches(self, event: Mapping[str, Any]) -> bool:
        return self._root.matches(event)

    def __repr__(self) -> str:
        return f"CompiledPattern({self.pattern!r})"


def compile_pattern(pattern: Mapping[str, Any]) -> CompiledPattern:
    """Validate a pattern (ValueError if invalid) and compile it for repeated matching."""
    return CompiledPattern(pattern)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """One-off match; compile once with compile_pattern when matching many events."""
    return compile_pattern(pattern).matches(event)


# --- compilation -----------------------------------------------------------------------------


def _where(path: str) -> str:
    return f"at {path!r}" if path else "at the top level"


def _compile_node(pattern: Mapping[str, Any], path: str) -> _Node:
    fields: list[tuple[str, _Leaf | _Node]] = []
    alternatives: list[tuple[_Node, ...]] = []
    for key, sub in pattern.items():
        if not isinstance(key, str):
            raise ValueError(f"pattern keys must be strings, got {key!r} {_where(path)}")
        sub_path = f"{path}.{key}" if path else key
        if key == "$or":
            alternatives.append(_compile_or(sub, sub_path))
        elif isinstance(sub, Mapping):
            if not sub:
                raise ValueError(f"empty object {_where(sub_path)}: give at least one field")
            fields.append((key, _compile_node(sub, sub_path)))
        elif isinstance(sub, list):
            fields.append((key, _compile_leaf(sub, sub_path)))
        else:
            raise ValueError(
                f"{_where(sub_path)}: expected an array of values or an object, got {sub!r} "
                f"(write [{_json(sub)}] to match that value)"
            )
    return _Node(fields=tuple(fields), alternatives=tuple(alternatives))


def _compile_or(alternatives: Any, path: str) -> tuple[_Node, ...]:
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        raise ValueError(f"{_where(path)}: $or needs an array of at least two pattern objects")
    compiled = []
    for index, alternative in enumerate(alternatives):
        if not isinstance(alternative, Mapping) or not alternative:
            raise ValueError(f"{_where(f'{path}[{index}]')}: each $or alternative must be a non-empty object")
        compiled.append(_compile_node(alternative, f"{path}[{index}]"))
    return tuple(compiled)


def _compile_leaf(matchers: list[Any], path: str) -> _Leaf:
    if not matchers:
        raise ValueError(f"{_where(path)}: an empty array matches nothing; give at least one value")
    predicates: list[_Predicate] = []
    matches_absent = False
    for index, matcher in enumerate(matchers):
        where = f"{path}[{index}]"
        if isinstance(matcher, Mapping):
            if set(matcher) == {"exists"}:
                exists = matcher["exists"]
                if not isinstance(exists, bool):
                    raise ValueError(f"{_where(where)}: exists takes true or false, got {exists!r}")
                if exists:
                    predicates.append(lambda _value: True)
                else:
                    # A present value never satisfies exists:false; only absence does.
                    matches_absent = True
                continue
            predicates.append(_compile_filter(matcher, where))
        elif _is_scalar(matcher):
            predicates.append(_exact(matcher))
        else:
            raise ValueError(f"{_where(where)}: expected a string, number, boolean, null or filter object")
    return _Leaf(predicates=tuple(predicates), matches_absent=matches_absent)


def _compile_filter(matcher: Mapping[str, Any], path: str) -> _Predicate:
    if len(matcher) != 1:
        raise ValueError(f"{_where(path)}: a filter object has exactly one key, got {sorted(matcher)}")
    ((name, argument),) = matcher.items()
    if name == "prefix":
        return _affix(argument, path, name, str.startswith)
    if name == "suffix":
        return _affix(argument, path, name, str.endswith)
    if name == "equals-ignore-case":
        text = _require_str(argument, path, name).lower()
        return lambda value: isinstance(value, str) and value.lower() == text
    if name == "anything-but":
        return _anything_but(argument, path)
    if name == "numeric":
        return _numeric(argument, path)
    if name == "wildcard":
        regex = _wildcard_regex(_require_str(argument, path, name), path)
        return lambda value: isinstance(value, str) and regex.fullmatch(value) is not None
    if name == "cidr":
        return _cidr(argument, path)
    raise ValueError(f"{_where(path)}: unknown filter {name!r}")


def _require_str(argument: Any, path: str, name: str) -> str:
    if not isinstance(argument, str):
        raise ValueError(f"{_where(path)}: {name} takes a string, got {argument!r}")
    return argument


def _exact(expected: Any) -> _Predicate:
    if expected is None:
        return lambda value: value is None
    if isinstance(expected, bool):
        return lambda value: isinstance(value, bool) and value is expected
    if _is_number(expected):
        return lambda value: _is_number(value) and value == expected
    return lambda value: isinstance(value, str) and value == expected


def _affix(argument: Any, path: str, name: str, test: Callable[[str, str], bool]) -> _Predicate:
    if isinstance(argument, Mapping):
        if set(argument) != {"equals-ignore-case"}:
            raise ValueError(f"{_where(path)}: {name} takes a string or {{'equals-ignore-case': string}}")
        affix = _require_str(argument["equals-ignore-case"], path, f"{name} equals-ignore-case").lower()
        return lambda value: isinstance(value, str) and test(value.lower(), affix)
    text = _require_str(argument, path, name)
    return lambda value: isinstance(value, str) and test(value, text)


def _anything_but(argument: Any, path: str) -> _Predicate:
    excluded = _anything_but_excluded(argument, path)
    return lambda value: not excluded(value)


def _anything_but_excluded(argument: Any, path: str) -> _Predicate:
    """What anything-but excludes, as a predicate."""
    if isinstance(argument, Mapping):
        if len(argument) != 1 or next(iter(argument)) not in {"prefix", "suffix", "equals-ignore-case", "wildcard"}:
            raise ValueError(
                f"{_where(path)}: anything-but takes a value, an array of values, or one of "
                "prefix, suffix, equals-ignore-case, wildcard"
            )
        ((name, inner),) = argument.items()
        if isinstance(inner, list) and name in {"equals-ignore-case", "wildcard"}:
            # These two also take an array: excluded when any element would match.
            if not inner:
                raise ValueError(f"{_where(path)}: anything-but {name} takes a non-empty array")
            alternatives = [_compile_filter({name: item}, path) for item in inner]
            return lambda value: any(predicate(value) for predicate in alternatives)
        return _compile_filter(argument, path)
    if isinstance(argument, list):
        if not argument or not all(isinstance(item, str) or _is_number(item) for item in argument):
            raise ValueError(f"{_where(path)}: anything-but takes a non-empty array of strings or numbers")
        exact = [_exact(item) for item in argument]
        return lambda value: any(predicate(value) for predicate in exact)
    if isinstance(argument, str) or _is_number(argument):
        return _exact(argument)
    raise ValueError(f"{_where(path)}: anything-but takes a string, number, array or filter, got {argument!r}")


def _numeric(argument: Any, path: str) -> _Predicate:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        raise ValueError(f"{_where(path)}: numeric takes operator/number pairs, e.g. ['>', 0, '<=', 5]")
    comparisons: list[tuple[Callable[[float, float], bool], float]] = []
    operators: list[str] = []
    for operator, operand in zip(argument[::2], argument[1::2], strict=True):
        if operator not in _NUMERIC_OPERATORS:
            raise ValueError(f"{_where(path)}: unknown numeric operator {operator!r}")
        if not _is_number(operand):
            raise ValueError(f"{_where(path)}: numeric operand of {operator!r} must be a number, got {operand!r}")
        operators.append(operator)
        comparisons.append((_NUMERIC_OPERATORS[operator], operand))
    # EventBridge accepts "=" alone, or at most one lower and one upper bound (a range).
    if "=" in operators and len(operators) > 1:
        raise ValueError(f"{_where(path)}: numeric '=' cannot be combined with other operators")
    if sum(op in _LOWER_BOUNDS for op in operators) > 1 or sum(op in _UPPER_BOUNDS for op in operators) > 1:
        raise ValueError(f"{_where(path)}: numeric takes at most one lower and one upper bound")
    return lambda value: _is_number(value) and all(compare(value, operand) for compare, operand in comparisons)


def _wildcard_regex(expression: str, path: str) -> re.Pattern[str]:
    # `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash.
    parts: list[str] = []
    index = 0
    while index < len(expression):
        char = expression[index]
        if char == "\\":
            if index + 1 >= len(expression) or expression[index + 1] not in "*\\":
                raise ValueError(f"{_where(path)}: in wildcard, a backslash must escape '*' or '\\'")
            parts.append(re.escape(expression[index + 1]))
            index += 2
            continue
        if char == "*":
            if parts and parts[-1] == ".*":
                raise ValueError(f"{_where(path)}: wildcard must not contain consecutive '*'")
            parts.append(".*")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def _cidr(argument: Any, path: str) -> _Predicate:
    try:
        network = ipaddress.ip_network(_require_str(argument, path, "cidr"), strict=False)
    except ValueError as error:
        raise ValueError(f"{_where(path)}: invalid cidr {argument!r}: {error}") from None

    def in_network(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in network
        except ValueError:
            return False

    return in_network


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)
