"""The joke and fact collections: enough of them, no repeats, each fits a reply on X."""

from __future__ import annotations

import pytest
from chalicelib.responding.facts import FACTS
from chalicelib.responding.jokes import JOKES

COLLECTIONS = pytest.mark.parametrize("items", [JOKES, FACTS], ids=["jokes", "facts"])

#: "@" + the longest X handle (15) + a space, in front of every reply.
ADDRESS = len("@") + 15 + len(" ")


@COLLECTIONS
def test_at_least_thirty(items: tuple[str, ...]) -> None:
    assert isinstance(items, tuple)
    assert len(items) >= 30
    assert all(isinstance(item, str) for item in items)


@COLLECTIONS
def test_no_duplicates_even_ignoring_case_and_spacing(items: tuple[str, ...]) -> None:
    keys = [" ".join(item.casefold().split()) for item in items]
    assert len(set(keys)) == len(keys)


@COLLECTIONS
def test_each_fits_a_reply_on_x(items: tuple[str, ...]) -> None:
    for item in items:
        assert item == item.strip() and "  " not in item and "\n" not in item
        assert 10 <= len(item) <= 240, item
        # Every character weighs 1 in X's count (no emoji or CJK), and there are no URLs (23 each).
        assert all(ord(char) < 0x1100 for char in item), item
        assert "http" not in item
        assert ADDRESS + len(item) <= 280


def test_jokes_and_facts_do_not_overlap() -> None:
    assert not set(JOKES) & set(FACTS)
