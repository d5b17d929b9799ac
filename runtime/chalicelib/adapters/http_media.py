"""Downloading a photo from X's media hosts with the standard library, behind the MediaFetcher port.

The URL comes from a post anyone can write, so the download is treated as hostile input:
HTTPS only, to an exact allow-list of hosts (also after every redirect, of which there are at most
three), a size cap enforced while streaming (a Content-Length is not trusted, nor required), and
time limits. Every refusal is a MediaError whose message says why, for the MESSAGE_ANALYSED result.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import IO, Any, Final
from urllib.parse import urljoin, urlsplit

from chalicelib.kernel.media_policy import check_media_url  # the allow-list policy, also applied to redirects
from chalicelib.ports import MediaError, TransientMediaError

#: Redirects followed before giving up (X's hosts answer directly; a CDN may add one or two).
MAX_REDIRECTS: Final = 3
#: Read size while streaming the body.
CHUNK_BYTES: Final = 64 * 1024
USER_AGENT: Final = "xbot-media-fetcher/1.0"


class AllowListRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows at most MAX_REDIRECTS redirects, each to an https:// URL on the allow-list."""

    # urllib counts the distinct URLs visited: the (N+1)th redirect raises HTTPError(30x).
    max_redirections = MAX_REDIRECTS

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._allowed_hosts = tuple(allowed_hosts)

    def http_error_302(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: http.client.HTTPMessage
    ) -> Any:  # typeshed: urllib's private alias of Any
        # Checked here, before urllib's own scheme check, so that a redirect to file:// or ftp://
        # is reported as off the allow-list rather than as urllib's generic redirect error.
        location = headers.get("location") or headers.get("uri")
        if location:
            self._check(urljoin(req.full_url, location), code, fp)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        self._check(newurl, code, fp)  # the URL urllib will actually request (it may re-quote it)
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def _check(self, url: str, code: int, fp: IO[bytes]) -> None:
        try:
            check_media_url(url, self._allowed_hosts)
        except MediaError as error:
            fp.close()  # urllib only closes the redirect's body when the redirect is followed
            raise MediaError(f"redirected off the allow-list (HTTP {code}): {error}") from None


def build_media_opener(
    allowed_hosts: Iterable[str], *, https_handler: urllib.request.BaseHandler | None = None
) -> urllib.request.OpenerDirector:
    """An opener that speaks HTTPS only (no http, ftp, file or data handlers), with the redirect policy.

    `https_handler` replaces the certificate-verifying HTTPS handler; tests pass one that serves
    https:// requests from a local server so that nothing reaches the internet.
    """
    opener = urllib.request.OpenerDirector()
    for handler in (
        https_handler or urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        AllowListRedirectHandler(allowed_hosts),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class HttpMediaFetcher:
    """chalicelib.ports.MediaFetcher over HTTPS with urllib (no dependency beyond the stdlib).

    `timeout_seconds` bounds connecting and each read; the whole download is also bounded by
    `deadline_seconds` (three times the timeout by default), so a server that trickles bytes
    cannot hold the function until its own timeout.
    """

    def __init__(
        self,
        allowed_hosts: tuple[str, ...],
        timeout_seconds: float = 5.0,
        opener: urllib.request.OpenerDirector | None = None,
        *,
        deadline_seconds: float | None = None,
    ) -> None:
        if not allowed_hosts:
            raise ValueError("HttpMediaFetcher needs at least one allowed media host")
        self._allowed_hosts = allowed_hosts
        self._timeout = timeout_seconds
        self._deadline = deadline_seconds if deadline_seconds is not None else 3 * timeout_seconds
        self._opener = opener or build_media_opener(allowed_hosts)

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        check_media_url(url, self._allowed_hosts)
        host = urlsplit(url).hostname
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})  # noqa: S310 (https checked above)
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status = getattr(response, "status", None) or response.getcode()
                if not 200 <= status < 300:
                    raise _http_error(status, host)
                _check_declared_length(response.headers.get("Content-Length"), max_bytes)
                return _read_capped(response, max_bytes, started + self._deadline)
        except MediaError:
            raise
        except urllib.error.HTTPError as error:
            error.close()
            # urllib's own refusal of one redirect too many (or of a loop) starts with inf_msg.
            if 300 <= error.code < 400 and str(error.msg).startswith(AllowListRedirectHandler.inf_msg):
                raise MediaError(f"more than {MAX_REDIRECTS} redirects from {host}") from None
            raise _http_error(error.code, host) from None
        except urllib.error.URLError as error:
            kind = TransientMediaError if _is_transient(error.reason) else MediaError
            raise kind(f"cannot download from {host}: {_describe(error.reason)}") from None
        except (OSError, http.client.HTTPException) as error:
            kind = TransientMediaError if _is_transient(error) else MediaError
            raise kind(f"download from {host} failed: {_describe(error)}") from None


def _http_error(status: int, host: str | None) -> MediaError:
    # 429 and 5xx pass with time; other statuses (404, 403, ...) will not.
    kind = TransientMediaError if status == 429 or status >= 500 else MediaError
    return kind(f"HTTP {status} from {host}")


def _is_transient(reason: object) -> bool:
    """Timeouts and dropped connections may pass; DNS and TLS failures will not."""
    if isinstance(reason, socket.gaierror | ssl.SSLError):
        return False
    return isinstance(reason, TimeoutError | ConnectionError | http.client.IncompleteRead)


def _check_declared_length(value: str | None, max_bytes: int) -> None:
    if value is None:
        return
    try:
        declared = int(value)
    except ValueError:
        return  # a malformed header is ignored; the streamed count still enforces the cap
    if declared > max_bytes:
        raise MediaError(f"the photo is larger than {max_bytes} bytes (Content-Length {declared})")


def _read_capped(response: IO[bytes], max_bytes: int, deadline: float) -> bytes:
    """Read up to max_bytes + 1 bytes: one byte more than allowed is enough to refuse the photo."""
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        if time.monotonic() > deadline:
            raise MediaError("the download took too long")
        chunk = response.read(min(CHUNK_BYTES, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise MediaError(f"the photo is larger than {max_bytes} bytes")
    return b"".join(chunks)


def _describe(reason: object) -> str:
    """A short, readable cause for a network failure (no URLs, no headers)."""
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "the TLS certificate is not valid"
    if isinstance(reason, ssl.SSLError):
        return "TLS error"
    if isinstance(reason, ConnectionError):
        return "the connection failed"
    if isinstance(reason, http.client.IncompleteRead):
        return "the connection closed before the whole photo arrived"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response ({type(reason).__name__})"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return str(reason)
