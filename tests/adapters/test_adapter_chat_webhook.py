"""SlackWebhook against a loopback receiver: JSON body, status handling, and the URL kept secret."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from chalicelib.adapters.chat_webhook import ChatWebhookError, SlackWebhook

TOKEN = "T000-B000-very-secret-token"  # made up: the tests look for it in messages


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(
            {"path": self.path, "content_type": self.headers["Content-Type"], "json": json.loads(body)}
        )
        if self.path.endswith("/ok"):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
        elif self.path.endswith("/throttled"):
            self.send_response(429)
            self.send_header("Retry-After", "7")
            self.end_headers()
        elif self.path.endswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere/ok")
            self.end_headers()
        elif self.path.endswith("/gone"):
            self.send_error(404, "no_service")
        else:
            self.send_error(500)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/services/{TOKEN}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _clear() -> None:
    _Receiver.received.clear()


def test_posts_the_payload_as_json(base_url: str) -> None:
    SlackWebhook(f"{base_url}/ok").post({"text": "Negative message from @jane: I hate this 😠"})
    (request,) = _Receiver.received
    assert request["json"] == {"text": "Negative message from @jane: I hate this 😠"}
    assert request["content_type"].startswith("application/json")


@pytest.mark.parametrize(
    ("suffix", "status", "retryable"),
    [("/broken", 500, True), ("/throttled", 429, True), ("/gone", 404, False), ("/moved", 302, False)],
)
def test_failures_raise_with_the_status_and_never_the_url(
    base_url: str, suffix: str, status: int, retryable: bool
) -> None:
    with pytest.raises(ChatWebhookError, match=f"HTTP {status}") as raised:
        SlackWebhook(base_url + suffix).post({"text": "x"})
    assert raised.value.status == status
    assert raised.value.retryable is retryable
    assert raised.value.__cause__ is None
    assert TOKEN not in str(raised.value)
    assert len(_Receiver.received) == 1  # a redirect is not followed (it would drop the body)


def test_throttling_carries_the_delay_asked_for(base_url: str) -> None:
    with pytest.raises(ChatWebhookError) as raised:
        SlackWebhook(f"{base_url}/throttled").post({"text": "x"})
    assert raised.value.retry_after == 7.0


def test_network_failure_is_retryable_and_secret_free() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChatWebhookError, match="cannot reach the chat webhook") as raised:
        SlackWebhook(f"http://127.0.0.1:{port}/services/{TOKEN}", timeout_seconds=1).post({"text": "x"})
    assert raised.value.retryable
    assert raised.value.__cause__ is None
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        f"http://hooks.example.com/services/{TOKEN}",
        f"ftp://hooks.example.com/{TOKEN}",
        f"file:///tmp/{TOKEN}",
        f"/services/{TOKEN}",
    ],
)
def test_only_https_or_loopback_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"must use https|no host") as raised:
        SlackWebhook(url)
    assert TOKEN not in str(raised.value)


def test_repr_hides_the_url() -> None:
    hook = SlackWebhook(f"https://hooks.slack.com/services/{TOKEN}")
    assert TOKEN not in repr(hook)
