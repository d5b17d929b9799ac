"""Reply text that fits X's 280 weighted characters, shortened cleanly when it does not.

X counts text with twitter-text's "v3" configuration: the text is NFC-normalised, each code point
weighs 1 when it falls in one of a few ranges (Latin, Greek, Cyrillic, ..., general punctuation) and
2 otherwise (CJK, emoji, ...), every URL weighs 23 (t.co wraps it), and a valid emoji sequence weighs
2 as a whole.

Why our own implementation: the Python port on PyPI (twitter-text-parser 3.0.0, last released in
2023) imports `pkg_resources` at import time, which setuptools >= 81 no longer ships and the Lambda
runtime does not provide, so it cannot even be imported here. The rules above are small; the hard
part of twitter-text is deciding exactly what is a URL (its TLD lists, preceding-character rules)
and which code point sequences are emoji. We do not replicate those; instead `weighted_length`
is an upper bound of X's count that equals it for ordinary text:
- an http(s) URL whose host ends in a well-known TLD weighs 23 (X surely wraps it);
- any other URL-like span (no scheme, or an unusual TLD) weighs max(23, its own characters): 23 if
  X wraps it, its characters if X does not; either way we never count less than X;
- emoji sequences are weighed code point by code point (2 each, 1 for a zero-width joiner), which
  is never less than X's 2 per sequence.
Counting a little more than X only costs a slightly earlier cut; counting less would get the post
refused, so every approximation here errs on the long side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Final

#: What X allows in one post (twitter-text v3's max_weighted_tweet_length).
MAX_WEIGHTED_LENGTH: Final = 280
#: Every URL is replaced by a t.co link of this length.
TRANSFORMED_URL_LENGTH: Final = 23
#: Shortened replies end with this (U+2026; weighs 2, being outside the weight-1 ranges).
ELLIPSIS: Final = "\u2026"

#: twitter-text v3: code points in these inclusive ranges weigh 1, all others 2.
_LIGHT_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

#: twitter-text refuses a post holding any of these (non-characters and the byte-order mark).
_INVALID_CHARACTERS: Final = frozenset("\ufffe\ufeff\uffff")

#: Leading mentions kept whole when shortening ("@jane @bob thanks!"). X handles: 1-15 of [A-Za-z0-9_].
_LEADING_HANDLES: Final = re.compile(r"(?:@[A-Za-z0-9_]{1,15}\s+)+")

# URL-like spans. The character classes are a subset of what twitter-text accepts inside a URL and
# the span must end on a character twitter-text accepts at a URL's end, so whenever X sees a URL
# here, X's URL covers at least our span (which keeps our counting an upper bound).
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
_REST = r"(?::[0-9]{1,5})?(?:[/?#][a-z0-9\-._~:/?#@!$&'*+,;=%\[\]|]*)?"
_URL_LIKE: Final = re.compile(
    rf"(?<![a-z0-9@.\-_/])(?P<scheme>https?://)?{_HOST}{_REST}",
    re.IGNORECASE,
)
#: The characters twitter-text lets a URL end with (trailing dots, commas, quotes... are left out).
_URL_END: Final = re.compile(r"[a-z0-9\-_=#/+&]", re.IGNORECASE)

#: TLDs X certainly recognises: an http(s) URL on one of these weighs exactly 23.
_WELL_KNOWN_TLD_NAMES: Final = (
    "com org net edu gov mil int info biz name pro mobi app dev io ai co me tv ly gg fm so to sh cc "
    "news blog shop online site tech store cloud page link live xyz art design us uk eu de fr es it "
    "nl be ch at se no dk fi ie pt pl cz gr ru ua tr il in jp kr cn tw hk sg au nz ca mx br ar cl za "
    "ng ke eg "
)
_WELL_KNOWN_TLDS: Final = frozenset(_WELL_KNOWN_TLD_NAMES.split())


def weighted_length(text: str) -> int:
    """X's weighted length of `text`, or slightly more (never less): see the module docstring."""
    normalized = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end, certain in _url_spans(normalized):
        total += _characters_weight(normalized[position:start])
        span_weight = _characters_weight(normalized[start:end])
        total += TRANSFORMED_URL_LENGTH if certain else max(TRANSFORMED_URL_LENGTH, span_weight)
        position = end
    return total + _characters_weight(normalized[position:])


def fits(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    return weighted_length(text) <= limit


def fit_reply(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> str:
    """`text` when it fits in `limit` weighted characters; otherwise a shortened copy that does.

    The shortened copy is NFC-normalised, cut at a word boundary when that keeps at least half of
    what a hard cut would keep (else between two grapheme clusters), never inside a URL, keeps the
    leading "@handle " mentions, and ends with an ellipsis. Characters X refuses outright
    (U+FFFE, U+FEFF, U+FFFF) are removed in either case.
    """
    if limit < weighted_length(ELLIPSIS):
        raise ValueError(f"limit {limit} leaves no room for any text")
    cleaned = "".join(character for character in text if character not in _INVALID_CHARACTERS)
    if fits(cleaned, limit):
        return cleaned
    normalized = unicodedata.normalize("NFC", cleaned)

    handles = _LEADING_HANDLES.match(normalized)
    prefix = handles.group(0) if handles else ""
    if not fits(prefix + ELLIPSIS, limit):
        prefix = ""  # so many mentions that keeping them leaves no room: cut through them like text
    body = normalized[len(prefix) :]

    def shortened(cut: int) -> str:
        return f"{prefix}{body[:cut].rstrip()}{ELLIPSIS}"

    cuts = _cut_points(body)
    hard = _longest_fitting(cuts, shortened, limit)
    words = [cut for cut in cuts if cut == 0 or (cut < len(body) and body[cut].isspace())]
    soft = _longest_fitting(words, shortened, limit)
    # A word boundary far back would throw away most of the room (one very long word): cut hard then.
    chosen = soft if soft * 2 >= hard else hard
    return shortened(chosen)


def _longest_fitting(cuts: list[int], shortened: Callable[[int], str], limit: int) -> int:
    """The largest cut whose shortened text fits. Cut 0 always fits (the caller made sure)."""
    # Weight grows with the cut, so a binary search finds it; the final walk down guards against
    # the rare non-monotonic case (a truncated token that starts to look like a URL, or stops to).
    low, high = 0, len(cuts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(shortened(cuts[middle]), limit):
            low = middle
        else:
            high = middle - 1
    while low > 0 and not fits(shortened(cuts[low]), limit):
        low -= 1
    return cuts[low]


def _cut_points(body: str) -> list[int]:
    """Indexes where `body` may be cut: between grapheme clusters and outside every URL."""
    inside_url: set[int] = set()
    for start, end, _certain in _url_spans(body):
        inside_url.update(range(start + 1, end))
    return [index for index in range(len(body) + 1) if index not in inside_url and _is_cluster_boundary(body, index)]


def without_url_like(text: str) -> str:
    """The text with every span X might turn into a link removed (with or without a scheme:
    "www.example.com", "bit.ly/x"), spaces collapsed: for text the bot did not write (the words
    read in a photo), which must never make it post a link."""
    kept, position = [], 0
    for start, end, _certain in _url_spans(text):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join(" ".join(kept).split())


def _url_spans(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, certain) of each URL-like span; `certain` when X surely counts it as 23."""
    for match in _URL_LIKE.finditer(text):
        start, end = match.span()
        while end > start and not _URL_END.match(text, end - 1):
            end -= 1
        tld_end = match.end("tld")
        if end < tld_end:  # trimming ate into the host: not a URL after all
            continue
        certain = match.group("scheme") is not None and match.group("tld").lower() in _WELL_KNOWN_TLDS
        yield start, end, certain


def _characters_weight(text: str) -> int:
    return sum(_code_point_weight(ord(character)) for character in text)


def _code_point_weight(code_point: int) -> int:
    for first, last in _LIGHT_RANGES:
        if first <= code_point <= last:
            return 1
    return 2


# --- Grapheme clusters ----------------------------------------------------------------------------
# The standard library has no grapheme segmentation. Cutting must not separate a character from
# what modifies it: combining marks, variation selectors, emoji skin tones and tags, a zero-width
# joiner and what it joins, the two halves of a flag, CR LF. (A Python str holds code points, so a
# surrogate pair can never be split.)

_ZWJ: Final = 0x200D
_KEYCAP: Final = 0x20E3


def _extends_previous(code_point: int) -> bool:
    return (
        code_point == _ZWJ
        or code_point == _KEYCAP
        or 0xFE00 <= code_point <= 0xFE0F  # variation selectors
        or 0xE0100 <= code_point <= 0xE01EF  # variation selectors supplement
        or 0x1F3FB <= code_point <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code_point <= 0xE007F  # tags (subdivision flags)
        or unicodedata.category(chr(code_point)) in ("Mn", "Me", "Mc")
    )


def _is_regional_indicator(character: str) -> bool:
    return 0x1F1E6 <= ord(character) <= 0x1F1FF


def _is_cluster_boundary(text: str, index: int) -> bool:
    if index in (0, len(text)):
        return True
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return False
    if ord(before) == _ZWJ or _extends_previous(ord(after)):
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags are pairs of regional indicators: cut only after an even run of them.
        run = 0
        while index - run - 1 >= 0 and _is_regional_indicator(text[index - run - 1]):
            run += 1
        return run % 2 == 0
    return True


__all__ = ["ELLIPSIS", "MAX_WEIGHTED_LENGTH", "TRANSFORMED_URL_LENGTH", "fit_reply", "fits", "weighted_length"]
