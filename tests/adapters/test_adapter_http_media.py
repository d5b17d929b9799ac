"""HttpMediaFetcher: allow-list, redirect policy, size limit and errors, on a loopback server only.

The https:// URLs on the allow-listed hosts are served by a local HTTP server on 127.0.0.1 through
an injected HTTPS handler, so the fetcher's own redirect handler and checks run unchanged and
nothing reaches the internet.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chalicelib.adapters.http_media import HttpMediaFetcher, build_media_opener
from chalicelib.kernel.media_policy import check_media_url
from chalicelib.ports import MediaError, TransientMediaError

HOSTS = ("pbs.twimg.com", "ton.twimg.com")
PHOTO = b"\xff\xd8\xff" + b"x" * 997  # 1,000 bytes


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output quiet
        pass

    def _redirect(self, location: str, code: int = 302) -> None:
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/media/photo.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(PHOTO)))
            self.end_headers()
            self.wfile.write(PHOTO)
        elif path == "/undeclared":  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.end_headers()
            self.wfile.write(PHOTO)
        elif path == "/lying":  # declares a small body, sends a larger one
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(PHOTO)
        elif path == "/declared-huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
        elif path == "/missing":
            self.send_error(404)
        elif path == "/broken":
            self.send_error(503)
        elif path == "/slow":
            time.sleep(1.0)
            self.send_response(200)
            self.end_headers()
        elif path.startswith("/hop/"):  # /hop/N redirects N times, then serves the photo
            remaining = int(path.rsplit("/", 1)[1])
            self._redirect(f"/hop/{remaining - 1}" if remaining > 1 else "/media/photo.jpg")
        elif path == "/to-other-allowed-host":
            self._redirect("https://ton.twimg.com/media/photo.jpg", 301)
        elif path == "/to-unlisted-host":
            self._redirect("https://evil.example/media/photo.jpg")
        elif path == "/to-http":
            self._redirect("http://pbs.twimg.com/media/photo.jpg", 307)
        elif path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif path == "/nowhere":  # a redirect status without a Location
            self.send_response(302)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/to-lookalike":
            self._redirect("https://pbs.twimg.com.evil.example/media/photo.jpg", 308)
        else:
            self.send_error(400)


class LoopbackHTTPS(urllib.request.AbstractHTTPHandler):
    """Serves https:// requests, whatever their host, over plain HTTP from 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.hosts: list[str] = []

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        self.hosts.append(req.host)

        def connect(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return http.client.HTTPConnection("127.0.0.1", self.port, **kwargs)

        return self.do_open(connect, req)

    https_request = urllib.request.AbstractHTTPHandler.do_request_


class _Failing(urllib.request.BaseHandler):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def https_open(self, req: urllib.request.Request) -> None:
        raise self.error


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def loopback(server: ThreadingHTTPServer) -> LoopbackHTTPS:
    return LoopbackHTTPS(server.server_address[1])


def _fetcher(handler: urllib.request.BaseHandler, timeout: float = 2.0) -> HttpMediaFetcher:
    return HttpMediaFetcher(HOSTS, timeout, build_media_opener(HOSTS, https_handler=handler))


# --- the allow-list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://pbs.twimg.com/media/photo.jpg",
        "https://PBS.twimg.com/media/photo.jpg?format=jpg&name=large",
        "https://ton.twimg.com:443/x.png",
    ],
)
def test_allowed_urls(url: str) -> None:
    check_media_url(url, HOSTS)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://pbs.twimg.com/media/photo.jpg", "only https"),
        ("ftp://pbs.twimg.com/photo.jpg", "only https"),
        ("file:///etc/passwd", "only https"),
        ("/media/photo.jpg", "only https"),
        ("https://evil.example/photo.jpg", "not an allowed media host"),
        ("https://pbs.twimg.com.evil.example/photo.jpg", "not an allowed media host"),
        ("https://twimg.com/photo.jpg", "not an allowed media host"),
        ("https://user:pw@pbs.twimg.com/photo.jpg", "credentials"),
        ("https://pbs.twimg.com:8443/photo.jpg", "port 8443"),
        ("https://pbs.twimg.com:notaport/photo.jpg", "not a valid URL"),
        ("https:///photo.jpg", "no host"),
    ],
)
def test_refused_urls(url: str, reason: str) -> None:
    with pytest.raises(MediaError, match=reason):
        check_media_url(url, HOSTS)


def test_the_fetcher_checks_the_url_before_any_request(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(MediaError, match="not an allowed media host"):
        _fetcher(loopback).fetch("https://evil.example/media/photo.jpg", max_bytes=10_000)
    assert loopback.hosts == []


def test_the_default_opener_speaks_https_only() -> None:
    opener = build_media_opener(HOSTS)
    assert set(vars(opener)["handle_open"]) == {"https"}
    with pytest.raises(ValueError, match="allowed media host"):
        HttpMediaFetcher(())


# --- downloads ------------------------------------------------------------------------------------


def test_fetches_a_photo(loopback: LoopbackHTTPS) -> None:
    assert _fetcher(loopback).fetch("https://pbs.twimg.com/media/photo.jpg?name=large", max_bytes=1000) == PHOTO
    assert loopback.hosts == ["pbs.twimg.com"]


def test_body_without_content_length_is_streamed_and_capped(loopback: LoopbackHTTPS) -> None:
    assert _fetcher(loopback).fetch("https://pbs.twimg.com/undeclared", max_bytes=1000) == PHOTO
    with pytest.raises(MediaError, match="larger than 999 bytes"):
        _fetcher(loopback).fetch("https://pbs.twimg.com/undeclared", max_bytes=999)


def test_declared_length_over_the_limit_is_refused_before_reading(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(MediaError, match=r"larger than 5242880 bytes \(Content-Length 1000000000\)"):
        _fetcher(loopback).fetch("https://pbs.twimg.com/declared-huge", max_bytes=5 * 1024 * 1024)


def test_photo_over_the_limit_is_refused(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(MediaError, match="larger than 500 bytes"):
        _fetcher(loopback).fetch("https://pbs.twimg.com/media/photo.jpg", max_bytes=500)


def test_a_body_longer_than_declared_is_not_trusted(loopback: LoopbackHTTPS) -> None:
    # http.client stops at the declared length: what arrives is what was declared, within the cap.
    assert _fetcher(loopback).fetch("https://pbs.twimg.com/lying", max_bytes=1000) == PHOTO[:10]


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/broken", 503), ("/nothing-here", 400)])
def test_non_2xx_is_a_media_error_with_the_status(loopback: LoopbackHTTPS, path: str, status: int) -> None:
    with pytest.raises(MediaError, match=f"HTTP {status} from pbs.twimg.com") as raised:
        _fetcher(loopback).fetch(f"https://pbs.twimg.com{path}", max_bytes=1000)
    # 5xx may pass (the download is tried again); 4xx will not.
    assert isinstance(raised.value, TransientMediaError) == (status >= 500)


def test_timeout_is_a_media_error(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(TransientMediaError, match="timed out"):
        _fetcher(loopback, timeout=0.2).fetch("https://pbs.twimg.com/slow", max_bytes=1000)


def test_connection_refused_is_a_media_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MediaError, match=r"cannot download from pbs\.twimg\.com: the connection failed"):
        _fetcher(LoopbackHTTPS(port)).fetch("https://pbs.twimg.com/media/photo.jpg", max_bytes=1000)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "does not resolve"),
        (urllib.error.URLError(TimeoutError()), "timed out"),
        (urllib.error.URLError("tunnel refused"), "tunnel refused"),
        (ConnectionResetError(), "the connection failed"),
        (http.client.RemoteDisconnected("closed"), "the connection failed"),
        (http.client.IncompleteRead(b"partial"), "closed before the whole photo arrived"),
    ],
)
def test_network_errors_are_media_errors(error: BaseException, reason: str) -> None:
    with pytest.raises(MediaError, match=reason):
        _fetcher(_Failing(error)).fetch("https://pbs.twimg.com/media/photo.jpg", max_bytes=1000)


def test_a_trickling_server_is_cut_by_the_deadline() -> None:
    class Trickle:
        status = 200
        headers: dict[str, str] = {}  # noqa: RUF012

        def read(self, size: int) -> bytes:
            time.sleep(0.05)
            return b"x"

        def getcode(self) -> int:
            return 200

        def __enter__(self) -> Trickle:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class Opener(urllib.request.OpenerDirector):
        def open(self, fullurl: Any, data: Any = None, timeout: Any = None) -> Any:
            return Trickle()

    fetcher = HttpMediaFetcher(HOSTS, 5.0, Opener(), deadline_seconds=0.2)
    with pytest.raises(MediaError, match="took too long"):
        fetcher.fetch("https://pbs.twimg.com/media/photo.jpg", max_bytes=1000)


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_follows_up_to_three_redirects_on_the_allow_list(loopback: LoopbackHTTPS, hops: int) -> None:
    assert _fetcher(loopback).fetch(f"https://pbs.twimg.com/hop/{hops}", max_bytes=1000) == PHOTO
    assert len(loopback.hosts) == hops + 1


def test_a_fourth_redirect_is_refused(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(MediaError, match="more than 3 redirects"):
        _fetcher(loopback).fetch("https://pbs.twimg.com/hop/4", max_bytes=1000)


def test_redirect_to_another_allowed_host(loopback: LoopbackHTTPS) -> None:
    assert _fetcher(loopback).fetch("https://pbs.twimg.com/to-other-allowed-host", max_bytes=1000) == PHOTO
    assert loopback.hosts == ["pbs.twimg.com", "ton.twimg.com"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-unlisted-host", r"redirected off the allow-list \(HTTP 302\): host 'evil.example'"),
        ("/to-http", r"redirected off the allow-list \(HTTP 307\): only https"),
        ("/to-file", "redirected off the allow-list .* only https"),
        ("/to-lookalike", r"redirected off the allow-list \(HTTP 308\): host 'pbs.twimg.com.evil.example'"),
    ],
)
def test_redirects_off_the_allow_list_are_refused_without_following(
    loopback: LoopbackHTTPS, path: str, reason: str
) -> None:
    with pytest.raises(MediaError, match=reason):
        _fetcher(loopback).fetch(f"https://pbs.twimg.com{path}", max_bytes=1000)
    assert loopback.hosts == ["pbs.twimg.com"]  # the target was never requested


def test_a_redirect_without_location_is_reported_by_status(loopback: LoopbackHTTPS) -> None:
    with pytest.raises(MediaError, match=r"HTTP 302 from pbs\.twimg\.com"):
        _fetcher(loopback).fetch("https://pbs.twimg.com/nowhere", max_bytes=1000)
