"""The local bus's pattern matcher against EventBridge's documented semantics."""

from __future__ import annotations

from typing import Any

import pytest
from botlocal.patterns import compile_pattern, matches
from chalicelib.contracts.names import ACCESS_REVOKED_PATTERN, CATCH_ALL_PATTERN, MESSAGE_RECEIVED_PATTERN
from hypothesis import given
from hypothesis import strategies as st

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e1",
    "detail-type": "MESSAGE_RECEIVED",
    "source": "xbot.ingress",
    "account": "000000000000",
    "time": "2024-05-01T13:04:05Z",
    "region": "local",
    "resources": [],
    "detail": {
        "Text": "Hello @bot",
        "Author": "Alice",
        "Lang": "en",
        "ImageUrls": ["https://pbs.twimg.com/a.jpg", "https://pbs.twimg.com/b.png"],
        "Twitter": {"TweetId": "1790000000000000001", "UserId": "42"},
        "HasImages": True,
        "Score": 0.75,
        "Count": 5,
        "Nothing": None,
        "Empty": [],
        "Ip": "10.0.0.17",
        "Items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}],
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values of every JSON type
        ({"source": ["xbot.ingress"]}, True),
        ({"source": ["xbot.analysis"]}, False),
        ({"source": ["XBOT.INGRESS"]}, False),
        ({"source": ["other", "xbot.ingress"]}, True),
        ({"detail": {"Count": [5]}}, True),
        ({"detail": {"Count": [5.0]}}, True),
        ({"detail": {"Count": ["5"]}}, False),
        ({"detail": {"HasImages": [True]}}, True),
        ({"detail": {"HasImages": [1]}}, False),
        ({"detail": {"HasImages": ["true"]}}, False),
        ({"detail": {"Nothing": [None]}}, True),
        ({"detail": {"Missing": [None]}}, False),
        # nested fields, and all fields must match
        ({"detail": {"Twitter": {"UserId": ["42"]}}}, True),
        ({"detail": {"Twitter": {"UserId": ["42"]}}, "source": ["nope"]}, False),
        ({"detail": {"Twitter": ["42"]}}, False),
        ({"detail": {"Text": {"Inner": ["x"]}}}, False),
        # arrays in the event: any element
        ({"detail": {"ImageUrls": ["https://pbs.twimg.com/b.png"]}}, True),
        ({"detail": {"Items": {"name": ["b"]}}}, True),
        ({"detail": {"Items": {"name": ["b"], "size": [2]}}}, True),
        # fields matched together come from the same array element
        ({"detail": {"Items": {"name": ["b"], "size": [1]}}}, False),
        # prefix / suffix / equals-ignore-case
        ({"source": [{"prefix": "xbot."}]}, True),
        ({"source": [{"prefix": "XBOT."}]}, False),
        ({"source": [{"prefix": {"equals-ignore-case": "XBOT."}}]}, True),
        ({"detail": {"ImageUrls": [{"suffix": ".png"}]}}, True),
        ({"detail": {"ImageUrls": [{"suffix": ".gif"}]}}, False),
        ({"detail": {"ImageUrls": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}, True),
        ({"detail": {"Author": [{"equals-ignore-case": "ALICE"}]}}, True),
        ({"detail": {"Count": [{"prefix": "5"}]}}, False),
        # anything-but
        ({"detail": {"Lang": [{"anything-but": "fr"}]}}, True),
        ({"detail": {"Lang": [{"anything-but": "en"}]}}, False),
        ({"detail": {"Lang": [{"anything-but": ["de", "en"]}]}}, False),
        ({"detail": {"Count": [{"anything-but": 5}]}}, False),
        ({"detail": {"Count": [{"anything-but": [1, 2]}]}}, True),
        ({"detail": {"Lang": [{"anything-but": {"prefix": "e"}}]}}, False),
        ({"detail": {"Lang": [{"anything-but": {"suffix": "x"}}]}}, True),
        ({"detail": {"Lang": [{"anything-but": {"equals-ignore-case": ["EN", "FR"]}}]}}, False),
        ({"detail": {"Lang": [{"anything-but": {"wildcard": "e*"}}]}}, False),
        ({"detail": {"Missing": [{"anything-but": "x"}]}}, False),
        # exists
        ({"detail": {"Text": [{"exists": True}]}}, True),
        ({"detail": {"Nothing": [{"exists": True}]}}, True),
        ({"detail": {"Missing": [{"exists": True}]}}, False),
        ({"detail": {"Missing": [{"exists": False}]}}, True),
        ({"detail": {"Text": [{"exists": False}]}}, False),
        ({"detail": {"Empty": [{"exists": False}]}}, True),
        # exists matches leaves only: an object is not a value
        ({"detail": {"Twitter": [{"exists": True}]}}, False),
        ({"nothere": {"deeper": [{"exists": False}]}}, True),
        # numeric
        ({"detail": {"Score": [{"numeric": [">", 0.5]}]}}, True),
        ({"detail": {"Score": [{"numeric": [">", 0, "<=", 0.75]}]}}, True),
        ({"detail": {"Score": [{"numeric": [">=", 0.8]}]}}, False),
        ({"detail": {"Count": [{"numeric": ["=", 5]}]}}, True),
        ({"detail": {"Author": [{"numeric": [">", 0]}]}}, False),
        ({"detail": {"HasImages": [{"numeric": [">", 0]}]}}, False),
        # wildcard
        ({"detail": {"Text": [{"wildcard": "Hello*"}]}}, True),
        ({"detail": {"Text": [{"wildcard": "*@bot"}]}}, True),
        ({"detail": {"Text": [{"wildcard": "H*o @b*"}]}}, True),
        ({"detail": {"Text": [{"wildcard": "hello*"}]}}, False),
        ({"detail": {"Text": [{"wildcard": "Hello\\*"}]}}, False),
        # cidr
        ({"detail": {"Ip": [{"cidr": "10.0.0.0/24"}]}}, True),
        ({"detail": {"Ip": [{"cidr": "10.0.1.0/24"}]}}, False),
        # $or
        ({"$or": [{"source": ["nope"]}, {"detail-type": ["MESSAGE_RECEIVED"]}]}, True),
        ({"$or": [{"source": ["nope"]}, {"detail-type": ["nope"]}]}, False),
        ({"detail": {"$or": [{"Lang": ["fr"]}, {"Count": [{"numeric": ["<", 10]}]}]}}, True),
        ({"source": ["xbot.ingress"], "$or": [{"detail": {"Lang": ["fr"]}}, {"detail": {"Author": ["Bob"]}}]}, False),
    ],
)
def test_matches_like_eventbridge(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_the_contract_patterns_route_as_intended() -> None:
    assert matches(CATCH_ALL_PATTERN, EVENT)
    assert matches(MESSAGE_RECEIVED_PATTERN, EVENT)
    assert not matches(ACCESS_REVOKED_PATTERN, EVENT)
    revoked = {**EVENT, "detail-type": "TWITTER_PERMISSION_REVOKED"}
    assert matches(ACCESS_REVOKED_PATTERN, revoked)
    assert not matches(CATCH_ALL_PATTERN, {**EVENT, "source": "aws.events"})


def test_wildcard_escapes_star_and_rejects_consecutive_stars() -> None:
    assert matches({"a": [{"wildcard": "x\\*y"}]}, {"a": "x*y"})
    assert not matches({"a": [{"wildcard": "x\\*y"}]}, {"a": "xzy"})
    with pytest.raises(ValueError, match="consecutive"):
        compile_pattern({"a": [{"wildcard": "x**"}]})


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({}, "must not be empty"),
        ({"source": "xbot.ingress"}, "expected an array"),
        ({"source": []}, "empty array"),
        ({"detail": {}}, "empty object"),
        ({"source": [{"prefix": 1}]}, "prefix takes a string"),
        ({"source": [{"prefix": "a", "suffix": "b"}]}, "exactly one key"),
        ({"source": [{"nonsense": "a"}]}, "unknown filter 'nonsense'"),
        ({"source": [{"exists": "yes"}]}, "exists takes true or false"),
        ({"n": [{"numeric": [">", "1"]}]}, "must be a number"),
        ({"n": [{"numeric": ["!=", 1]}]}, "unknown numeric operator"),
        ({"n": [{"numeric": [">", 1, ">", 2]}]}, "one lower and one upper"),
        ({"n": [{"numeric": ["=", 1, "<", 2]}]}, "cannot be combined"),
        ({"n": [{"numeric": [">"]}]}, "operator/number pairs"),
        ({"n": [{"anything-but": {"exists": True}}]}, "anything-but takes"),
        ({"n": [{"anything-but": [True]}]}, "strings or numbers"),
        ({"n": [{"cidr": "10.0.0.0/99"}]}, "invalid cidr"),
        ({"$or": [{"a": ["b"]}]}, "at least two"),
        ({"n": [["nested"]]}, "expected a string, number"),
    ],
)
def test_invalid_patterns_raise_a_clear_error(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)


def test_an_invalid_pattern_error_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"'detail\.Lang\[0\]'"):
        compile_pattern({"detail": {"Lang": [{"prefix": 3}]}})


def test_a_pattern_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        compile_pattern(["source"])  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------

keys = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
)
events = st.dictionaries(keys, json_values, min_size=1, max_size=5)


def _pattern_from(value: Any) -> Any:
    """A pattern that names exactly the event's own values (None where it can't express them)."""
    if isinstance(value, dict):
        fields = {key: _pattern_from(inner) for key, inner in value.items()}
        fields = {key: inner for key, inner in fields.items() if inner is not None}
        return fields or None
    if isinstance(value, list):
        leaves = [item for item in value if not isinstance(item, dict | list)]
        return leaves or None
    return [value]


@given(events)
def test_an_event_matches_a_pattern_built_from_its_own_values(event: dict[str, Any]) -> None:
    pattern = _pattern_from(event)
    if pattern:
        assert matches(pattern, event)


@given(keys, st.one_of(st.text(max_size=8), st.integers()))
def test_anything_but_a_value_never_matches_that_value(key: str, value: Any) -> None:
    assert not matches({key: [{"anything-but": value}]}, {key: value})
    assert not matches({key: [{"anything-but": [value]}]}, {key: value})


@given(st.text(max_size=10), st.integers(min_value=0, max_value=10))
def test_every_prefix_and_suffix_of_a_string_matches_it(text: str, cut: int) -> None:
    assert matches({"k": [{"prefix": text[:cut]}]}, {"k": text})
    assert matches({"k": [{"suffix": text[cut:]}]}, {"k": text})
    assert matches({"k": [{"prefix": {"equals-ignore-case": text[:cut].upper()}}]}, {"k": text}) == (
        text.lower().startswith(text[:cut].upper().lower())
    )


@given(events, keys)
def test_a_missing_field_only_matches_exists_false(event: dict[str, Any], key: str) -> None:
    event.pop(key, None)
    assert matches({key: [{"exists": False}]}, event)
    assert not matches({key: [{"exists": True}]}, event)
    assert not matches({key: [None, "", 0, {"prefix": ""}, {"anything-but": "x"}]}, event)


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_numeric_ranges_agree_with_python(low: float, value: float) -> None:
    high = low + 10
    pattern = {"n": [{"numeric": [">=", low, "<", high]}]}
    assert matches(pattern, {"n": value}) == (low <= value < high)


@given(events, events, events)
def test_or_is_the_union_of_its_alternatives(
    event: dict[str, Any], first: dict[str, Any], second: dict[str, Any]
) -> None:
    left, right = _pattern_from(first), _pattern_from(second)
    if left and right:
        either = matches({"$or": [left, right]}, event)
        assert either == (matches(left, event) or matches(right, event))
