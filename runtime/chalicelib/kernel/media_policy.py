"""Which photo URLs the bot fetches: X's photo hosts only, over HTTPS (also applied to redirects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from chalicelib.kernel.errors import MediaError

#: X serves photos from these hosts only (MEDIA_HOSTS overrides them).
DEFAULT_MEDIA_HOSTS: Final = ("pbs.twimg.com", "ton.twimg.com")


def check_media_url(url: str, allowed_hosts: Sequence[str]) -> None:
    """Raise MediaError unless `url` is an https:// URL on one of `allowed_hosts` (exact host match)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a malformed netloc or port
        raise MediaError(f"not a valid URL: {error}") from error
    if parts.scheme.lower() != "https":
        raise MediaError(f"only https:// media URLs are fetched, not {parts.scheme or 'a relative URL'}")
    host = (parts.hostname or "").lower()
    if not host:
        raise MediaError("the media URL has no host")
    if parts.username is not None or parts.password is not None:
        raise MediaError("media URLs with credentials are refused")
    if port not in (None, 443):
        raise MediaError(f"media URLs on port {port} are refused; only the default HTTPS port is allowed")
    if host not in {allowed.lower() for allowed in allowed_hosts}:
        raise MediaError(f"host {host!r} is not an allowed media host")
