"""fit_reply and weighted_length: X's weighted count (an upper bound of it) and clean shortening."""

from __future__ import annotations

import unicodedata

import pytest
from chalicelib.kernel.x_text import ELLIPSIS, MAX_WEIGHTED_LENGTH, fit_reply, fits, weighted_length
from hypothesis import example, given, settings
from hypothesis import strategies as st

LONG_URL = "https://example.com/" + "p" * 120


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("", 0),
        ("日本語", 6),  # CJK weighs 2
        ("café", 4),
        ("a\u2014b", 3),  # em dash is in a weight-1 range (8208-8223)
        ("…", 2),  # the ellipsis is not
        ("see " + LONG_URL, 4 + 23),  # a URL weighs 23 whatever its length
        ("https://t.co/abc", 23),
        ("example.com", 23),  # no scheme: at least 23 (X wraps it if it knows the TLD)
        ("https://foo.zzzz/" + "x" * 40, len("https://foo.zzzz/") + 40),  # unknown TLD: its characters
        ("done. https://example.com/a.", 5 + 1 + 23 + 1),  # the trailing dot is not part of the URL
        ("👍", 2),
    ],
)
def test_weighted_length(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_emoji_sequences_are_never_counted_below_x() -> None:
    # X counts a ZWJ family as 2; we count each part (4 emoji x 2 + 3 joiners x 1): more, never less.
    assert weighted_length("👨\u200d👩\u200d👧\u200d👦") >= 2


def test_text_that_fits_is_unchanged() -> None:
    text = "@jane Here is a fact: " + "x" * 200
    assert fit_reply(text) == text
    assert fit_reply("a" * 280) == "a" * 280


def test_long_text_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "@jane " + " ".join(f"word{index}" for index in range(100))
    fitted = fit_reply(text)
    assert fitted.startswith("@jane word0 word1")
    assert fitted.endswith(ELLIPSIS)
    assert fits(fitted)
    body = fitted[: -len(ELLIPSIS)]
    assert body.split(" ")[-1] in text.split(" ")  # the last word kept is whole
    assert not body.endswith(" ")
    # Nearly all the room is used (a word is at most 7 characters).
    assert weighted_length(fitted) > MAX_WEIGHTED_LENGTH - 10


def test_a_url_is_never_cut() -> None:
    text = "read this " + "w" * 250 + " " + LONG_URL + " and more " * 10
    fitted = fit_reply(text)
    assert fits(fitted)
    assert LONG_URL in fitted or "https://" not in fitted


def test_a_url_at_the_cut_is_dropped_whole() -> None:
    text = "a" * 270 + " " + LONG_URL
    fitted = fit_reply(text, limit=275)
    assert "https" not in fitted
    assert fitted.endswith(ELLIPSIS)
    assert fits(fitted, 275)


def test_leading_handles_are_kept_even_before_one_long_word() -> None:
    text = "@jane @bob_2 " + "z" * 400
    fitted = fit_reply(text)
    assert fitted.startswith("@jane @bob_2 zzz")
    assert fits(fitted)


def test_one_long_word_is_cut_between_characters() -> None:
    fitted = fit_reply("x" * 1000)
    assert fitted == "x" * 278 + ELLIPSIS


def test_wide_characters_count_double() -> None:
    fitted = fit_reply("日" * 200)
    assert fitted == "日" * 139 + ELLIPSIS
    assert weighted_length(fitted) == 280


def test_combining_marks_stay_with_their_letter() -> None:
    # NFC makes each cluster U+1EB9 (e with dot below) + U+0301 (combining acute): two code points.
    text = "e\u0323\u0301" * 200
    fitted = fit_reply(text, limit=51)
    body = fitted[: -len(ELLIPSIS)]
    assert body == "\u1eb9\u0301" * (len(body) // 2)
    assert fits(fitted, 51)


def test_flags_are_not_split() -> None:
    flag = "\U0001f1eb\U0001f1f7"  # 🇫🇷: two regional indicators
    fitted = fit_reply(flag * 50, limit=21)
    body = fitted[: -len(ELLIPSIS)]
    assert len(body) % 2 == 0
    assert fits(fitted, 21)


def test_invalid_characters_are_removed() -> None:
    assert fit_reply("hi\ufeff there") == "hi there"


def test_a_limit_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        fit_reply("anything", limit=1)


_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\ufffe\ufeff\uffff"),
    max_size=600,
)
_wordy = st.lists(
    st.one_of(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
        st.sampled_from(["日本", "👍🏽", "🇫🇷", "https://example.com/path", "example.org", "@jane", "é", "\n"]),
    ),
    max_size=150,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_texts, _wordy), limit=st.integers(min_value=2, max_value=300))
@example(text="@a " * 200, limit=10)
@example(text="x" * 300, limit=280)
def test_result_always_fits(text: str, limit: int) -> None:
    fitted = fit_reply(text, limit)
    assert weighted_length(fitted) <= limit
    if fits(text, limit):
        assert fitted == text
    else:
        assert fitted.endswith(ELLIPSIS)


@settings(max_examples=200, deadline=None)
@given(text=_wordy)
def test_shortened_text_is_a_prefix_of_the_original(text: str) -> None:
    fitted = fit_reply(text, 100)
    if fitted != text:
        assert unicodedata.normalize("NFC", text).startswith(fitted[: -len(ELLIPSIS)])


@settings(max_examples=200, deadline=None)
@given(handles=st.lists(st.from_regex(r"@[A-Za-z0-9_]{1,15}", fullmatch=True), min_size=1, max_size=3), text=_wordy)
def test_leading_handles_survive(handles: list[str], text: str) -> None:
    prefix = " ".join(handles) + " "
    fitted = fit_reply(prefix + text, 120)
    assert fitted.startswith(prefix)
