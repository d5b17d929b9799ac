"""The web page's server (botlocal.web.server): the page, the live region, the script and the
photos, with a strict CSP; GET and HEAD only; photos only from the two folders (no traversal, no
symbolic link, images only); reads the state and changes nothing; `botctl serve`'s wiring."""

from __future__ import annotations

import hashlib
import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botlocal.cli import _page_port
from botlocal.layout import LocalLayout
from botlocal.server import _start_page
from botlocal.web.server import CONTENT_SECURITY_POLICY, MIN_REFRESH_SECONDS, PageServer, start_page
from chalicelib.contracts import names
from chalicelib.contracts.messages import MessageReceived, TwitterRef

from tests.local.web_scenario import (
    PHOTO_POST,
    SECRET,
    T0,
    Scenario,
    append,
    jpeg,
    parse,
    write_scenario,
)


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return write_scenario(tmp_path / "state")


@pytest.fixture
def page(scenario: Scenario) -> Iterator[PageServer]:
    """A page of its own, for a test that changes the state folder."""
    server = start_page(scenario.layout, port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return write_scenario(tmp_path_factory.mktemp("web") / "state")


@pytest.fixture(scope="module")
def shared(shared_scenario: Scenario) -> Iterator[PageServer]:
    """One page for the tests that only read (the scenario takes a while to write)."""
    server = start_page(shared_scenario.layout, port=0)
    try:
        yield server
    finally:
        server.stop()


def request(
    server: PageServer, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        # http.client sends the path as given: the traversal attempts below reach the server unchanged.
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_page_is_served_with_a_strict_csp_and_nosniff(shared: PageServer) -> None:
    status, headers, body = request(shared, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    text = body.decode()
    assert f'data-message-id="{PHOTO_POST.tweet_id}"' in text
    assert '<script src="/static/page.js" defer></script>' in text
    assert SECRET not in text


def test_the_live_region_alone_is_what_the_script_swaps_in(shared: PageServer) -> None:
    status, headers, body = request(shared, "/live")
    assert status == 200 and headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    (live,) = parse(body.decode()).children
    assert (live.tag, live.attrs["id"]) == ("section", "live")


def test_the_script_and_style_sheet_are_served_as_such(shared: PageServer) -> None:
    status, headers, body = request(shared, "/static/page.js")
    assert (status, headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert b'fetch("/live"' in body and b"dataset.updated" in body
    status, headers, _ = request(shared, "/static/page.css")
    assert (status, headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert request(shared, "/static/../server.py")[0] == 404
    assert request(shared, "/static/state.py")[0] == 404


def test_photos_and_annotated_photos_are_served_from_the_state_folder(
    shared_scenario: Scenario, shared: PageServer
) -> None:
    status, headers, body = request(shared, f"/media/{shared_scenario.photo_key}")
    assert (status, headers["content-type"]) == (200, "image/jpeg")
    assert body == (shared_scenario.layout.media / shared_scenario.photo_key).read_bytes()
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = request(shared, f"/outbox-images/{shared_scenario.outbox_image}")
    assert (status, headers["content-type"]) == (200, "image/jpeg")
    assert body == (shared_scenario.layout.outbox_images / shared_scenario.outbox_image).read_bytes()
    status, headers, body = request(shared, f"/media/{shared_scenario.annotated_key}", method="HEAD")
    assert (status, body) == (200, b"")
    assert (
        int(headers["content-length"]) == (shared_scenario.layout.media / shared_scenario.annotated_key).stat().st_size
    )


@pytest.mark.parametrize(
    "path",
    [
        "/media/../bus.sqlite3",
        "/media/%2e%2e/bus.sqlite3",
        "/media/%2E%2E%2Fbus.sqlite3",
        "/media/..%2f..%2fetc%2fpasswd",
        "/media/%252e%252e/bus.sqlite3",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/users/../../outbox.jsonl",
        "/media/users/42/..\\..\\bus.sqlite3",
        "/media/x%00.jpg",
        "/outbox-images/../outbox.jsonl",
        "/outbox-images/%2e%2e/alerts.jsonl",
        "/outbox-images/",
        "/media/",
        "/media/users/42/posts/1790000000000000001/nothing.jpg",
        "/bus.sqlite3",
        "/alerts.jsonl",
    ],
)
def test_anything_but_an_image_in_the_two_folders_is_not_found(shared: PageServer, path: str) -> None:
    status, _, body = request(shared, path)
    assert status == 404
    assert b"SQLite" not in body and b"PostId" not in body


def test_symbolic_links_and_files_that_are_not_images_are_not_served(scenario: Scenario, page: PageServer) -> None:
    outside = scenario.layout.root.parent / "outside.jpg"
    outside.write_bytes(jpeg())
    (scenario.layout.media / "link.jpg").symlink_to(outside)
    (scenario.layout.media / "inside-link.jpg").symlink_to(scenario.layout.media / scenario.photo_key)
    (scenario.layout.media / "linked-folder").symlink_to(scenario.layout.root.parent, target_is_directory=True)
    (scenario.layout.media / "page.jpg").write_text("<script>alert(1)</script>")
    (scenario.layout.media / "notes.txt").write_text("hello")
    for path in (
        "/media/link.jpg",
        "/media/inside-link.jpg",
        "/media/linked-folder/outside.jpg",
        "/media/page.jpg",
        "/media/notes.txt",
    ):
        assert request(page, path)[0] == 404, path


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head_are_allowed(shared: PageServer, method: str) -> None:
    status, headers, _ = request(shared, "/", method=method)
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_a_host_that_is_not_this_machine_is_refused(shared: PageServer) -> None:
    assert request(shared, "/", headers={"Host": "attacker.example:8001"})[0] == 403
    assert request(shared, "/", headers={"Host": f"localhost:{shared.port}"})[0] == 200
    assert request(shared, "/", headers={"Host": f"[::1]:{shared.port}"})[0] == 200


def test_a_new_event_shows_in_the_live_region(scenario: Scenario, page: PageServer) -> None:
    before = request(page, "/live")[2].decode()
    assert 'data-message-id="555"' not in before
    post = TwitterRef(tweet_id="555", user_id="9")
    append(
        scenario.layout,
        names.MESSAGE_RECEIVED,
        MessageReceived("brand new", "newbie", "en", post).to_detail(),
        at=T0 + 500,
    )
    time.sleep(MIN_REFRESH_SECONDS + 0.05)
    after = request(page, "/live")[2].decode()
    assert 'data-message-id="555"' in after and "brand new" in after


def test_serving_changes_nothing_in_the_state_folder(scenario: Scenario, page: PageServer) -> None:
    before = _digests(scenario.layout.root)
    for path in ("/", "/live", f"/media/{scenario.photo_key}", "/media/../bus.sqlite3"):
        request(page, path)
    for method in ("POST", "DELETE"):
        request(page, "/live", method=method)
    after = _digests(scenario.layout.root)
    assert {name: digest for name, digest in after.items() if name in before} == before
    assert set(after) - set(before) <= {"bus.sqlite3-wal", "bus.sqlite3-shm"}


def test_the_page_works_before_the_journal_exists_and_creates_nothing(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path / "not-yet")
    server = start_page(layout, port=0)
    try:
        status, _, body = request(server, "/")
        assert status == 200 and b"botctl tweet" in body
        assert request(server, "/live")[0] == 200
    finally:
        server.stop()
    assert not layout.root.exists()


def test_serve_prints_the_page_address_or_one_line_when_its_port_is_taken(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    page, line = _start_page(layout, 0)
    try:
        assert page is not None and line == f"page: {page.url}\n"
        assert request(page, "/")[0] == 200
        taken, taken_line = _start_page(layout, page.port)
        assert taken is None
        assert taken_line.startswith(f"page: not started: cannot listen on 127.0.0.1:{page.port}")
        assert taken_line.count("\n") == 1 and "--page-port" in taken_line
    finally:
        if page is not None:
            page.stop()
    assert _start_page(layout, None) == (None, "")


def test_the_page_port_is_the_one_after_the_webhooks_unless_chosen() -> None:
    assert _page_port(8000, None) == 8001
    assert _page_port(8000, 9000) == 9000
    assert _page_port(8000, 0) == 0
    assert _page_port(65535, None) == 0


def _digests(root: Path) -> dict[str, str]:
    return {
        os.fspath(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
