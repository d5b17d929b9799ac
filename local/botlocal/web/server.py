"""The page's HTTP server: the standard library's ThreadingHTTPServer on 127.0.0.1, GET and HEAD only.

    GET /                     the page (botlocal.web.render.page)
    GET /live                 the live region alone; /static/page.js swaps it in every second
    GET /static/page.js, /static/page.css
    GET /media/<key>          a photo of the media store (the originals and their annotated copies)
    GET /outbox-images/<name> a photo the dry-run outbox "posted" with a reply

`botctl serve` starts it on a daemon thread (`start_page`); it reads the state folder and changes
nothing. Photos are served from those two folders only: the path is decoded once, refused when a
segment is empty, "." or "..", or holds a backslash or NUL, and the file must resolve to exactly
that path under the folder (no symbolic link anywhere on the way), be an image by its extension
and its first bytes, and be a regular file. Anything else is 404. Every answer carries a strict
Content-Security-Policy (no inline script or style: the page has none) and nosniff.

A Host header that does not name this machine is refused (403): a web page elsewhere could
otherwise point a name it controls at 127.0.0.1 (DNS rebinding) and read what the bot received.
"""

from __future__ import annotations

import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from botlocal.layout import LocalLayout
from botlocal.web import render
from botlocal.web.state import StateReader

logger = logging.getLogger("botlocal.web")

#: The page binds to the loopback interface only, whatever --host the webhook uses.
PAGE_HOST: Final = "127.0.0.1"
#: The page refreshes its read model at most this often, however many tabs poll it.
MIN_REFRESH_SECONDS: Final = 0.2
#: The largest photo served (X's own limit for a photo is 5 MB).
MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_STATIC: Final = Path(__file__).resolve().parent / "static"
_STATIC_FILES: Final = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
_IMAGE_TYPES: Final = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "[::1]"})
_ALLOWED: Final = "GET, HEAD"


class LivePage:
    """The read model and its latest rendering, shared by the request threads under one lock."""

    def __init__(self, layout: LocalLayout) -> None:
        self.layout: Final = layout
        self._reader = StateReader(layout)
        self._lock = threading.Lock()
        self._refreshed_at = float("-inf")
        self._rendered: tuple[int, str] | None = None  #: (reader version, live region)
        self._closed = False

    def fragment(self) -> str:
        """The live region, re-rendered only when the state changed."""
        with self._lock:
            now = time.monotonic()
            if not self._closed and now - self._refreshed_at >= MIN_REFRESH_SECONDS:
                self._reader.refresh()
                self._refreshed_at = now
            if self._rendered is None or self._rendered[0] != self._reader.version:
                self._rendered = (self._reader.version, render.live(self._reader.view()))
            return self._rendered[1]

    def document(self) -> str:
        return render.page(self.fragment(), state_folder=str(self.layout.root))

    def close(self) -> None:
        with self._lock:
            self._closed = True  # a request still running must not open the journal again
            self._reader.close()


def resolve_image(root: Path, raw: str) -> tuple[Path, str] | None:
    """The image file `raw` (the URL path after the folder's prefix, still percent-encoded) names
    under `root`, and its content type; None when it is not one (see the module docstring)."""
    relative = unquote(raw)
    if not relative or relative.startswith("/") or "\\" in relative or "\0" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    content_type = _IMAGE_TYPES.get(Path(parts[-1]).suffix.lower())
    if content_type is None:
        return None
    base = root.resolve()
    candidate = base.joinpath(*parts)
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    # Equal to the path asked for: no symbolic link on the way, so nothing outside `root`.
    if real != candidate or not real.is_file():
        return None
    return real, content_type


def _looks_like(content_type: str, head: bytes) -> bool:
    if content_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    return head.startswith(b"RIFF") and head[8:12] == b"WEBP"


class _PageHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], page: LivePage) -> None:
        self.page = page
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _PageHTTPServer
    server_version = "botctl-page"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"GET and HEAD only\n", "text/plain; charset=utf-8", body=True)

    # Every other method is refused alike (BaseHTTPRequestHandler looks up do_<METHOD>).
    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method  # noqa: N815

    def _answer(self, *, body: bool) -> None:
        if not self._host_is_local():
            self._send(HTTPStatus.FORBIDDEN, b"unexpected Host\n", "text/plain; charset=utf-8", body=body)
            return
        path = urlsplit(self.path).path
        page = self.server.page
        try:
            if path == "/":
                self._send(HTTPStatus.OK, page.document().encode("utf-8"), "text/html; charset=utf-8", body=body)
            elif path == "/live":
                self._send(HTTPStatus.OK, page.fragment().encode("utf-8"), "text/html; charset=utf-8", body=body)
            elif path.startswith("/static/") and path.removeprefix("/static/") in _STATIC_FILES:
                name = path.removeprefix("/static/")
                self._send(
                    HTTPStatus.OK, (_STATIC / name).read_bytes(), _STATIC_FILES[name], body=body, cache="no-cache"
                )
            elif path.startswith(render.MEDIA_PATH):
                self._image(page.layout.media, path.removeprefix(render.MEDIA_PATH), body=body)
            elif path.startswith(render.OUTBOX_IMAGES_PATH):
                self._image(page.layout.outbox_images, path.removeprefix(render.OUTBOX_IMAGES_PATH), body=body)
            else:
                self._not_found(body=body)
        except Exception:
            # One request failed (a bug, a file that vanished): say so, keep serving the others.
            logger.warning("page request failed", exc_info=True, extra={"path": path})
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"the page failed; see serve.log\n", "text/plain", body=body)

    def _image(self, root: Path, raw: str, *, body: bool) -> None:
        found = resolve_image(root, raw)
        if found is None:
            self._not_found(body=body)
            return
        path, content_type = found
        try:
            with path.open("rb") as file:
                data = file.read(MAX_IMAGE_BYTES + 1)
        except OSError:
            self._not_found(body=body)
            return
        if len(data) > MAX_IMAGE_BYTES or not _looks_like(content_type, data[:12]):
            self._not_found(body=body)
            return
        # Keys are written once (a redelivery writes the same bytes again): a short cache is safe.
        self._send(HTTPStatus.OK, data, content_type, body=body, cache="private, max-age=300")

    def _not_found(self, *, body: bool) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", body=body)

    def _send(self, status: HTTPStatus, data: bytes, content_type: str, *, body: bool, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", cache)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", _ALLOWED)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _host_is_local(self) -> bool:
        host = self.headers.get("Host")
        if host is None:
            return True  # HTTP/1.0 without Host: only a local client gets here (we bind to loopback)
        name = host.strip().lower()
        # "[::1]:8001" keeps its brackets; "127.0.0.1:8001" and "localhost" lose the port.
        name = name[: name.find("]") + 1] if name.startswith("[") else name.split(":", 1)[0]
        return name in _LOCAL_HOSTS

    def log_message(self, format: str, *args: object) -> None:
        # Access lines at debug level: the page polls every second, serve.log needs none of them.
        logger.debug(format, *args)


class PageServer:
    """The page, served on a daemon thread until `stop()`."""

    def __init__(self, layout: LocalLayout, *, port: int, host: str = PAGE_HOST) -> None:
        self._page = LivePage(layout)
        try:
            self._http = _PageHTTPServer((host, port), self._page)
        except BaseException:
            self._page.close()
            raise
        self.host: Final = host
        self.port: Final = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.5}, name="page")
        self._thread.daemon = True

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> PageServer:
        self._thread.start()
        # Read the journal now, not on the first visit: 20,000 events take about a second.
        threading.Thread(target=self._warm_up, name="page-warm-up", daemon=True).start()
        return self

    def _warm_up(self) -> None:
        try:
            self._page.fragment()
        except Exception:
            logger.warning("page: reading the state failed", exc_info=True)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
        self._http.server_close()
        self._page.close()


def start_page(layout: LocalLayout, *, port: int) -> PageServer:
    """Serve the page of `layout` on 127.0.0.1:`port` (0: a free port). OSError when it cannot
    listen there (the port is taken)."""
    return PageServer(layout, port=port).start()
