"""Text helpers more than one service uses."""

from __future__ import annotations

import re
from typing import Final

_MENTION: Final = re.compile(r"(?<![\w@])@\w{1,15}")
_URL: Final = re.compile(r"https?://\S+", re.IGNORECASE)


def without_mentions_and_urls(text: str) -> str:
    """The words of a post without @handles and links, spaces collapsed (what analysis reads and
    what a reply may quote)."""
    return " ".join(_URL.sub(" ", _MENTION.sub(" ", text)).split())
