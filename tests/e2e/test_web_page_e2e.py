"""`botctl serve` serves the local web page (issue 11, section 2): it prints the page's address,
the page shows a post the bot answered, and a page port already taken costs one line, not the bot."""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.runtime import LocalRuntime, serving
from tests.local.web_scenario import parse

#: How long the bot may take to answer (the local models load on first use).
ANSWER_TIMEOUT_SECONDS = 240
_PAGE_LINE = re.compile(r"^page: (http://127\.0\.0\.1:(\d+)/)$", re.MULTILINE)


@contextmanager
def serving_with(state: Path, *options: str) -> Iterator[tuple[LocalRuntime, Path]]:
    """`serving` with `options`; yields the runtime and the file serve's terminal output goes to."""
    with serving(state, options=options, NO_COLOR="1") as runtime:
        yield runtime, state / "serve.log"


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


@pytest.mark.slow
def test_serve_prints_the_page_address_and_the_page_shows_the_answered_post(tmp_path: Path) -> None:
    with serving_with(tmp_path, "--page-port", "0") as (runtime, output):
        match = _PAGE_LINE.search(output.read_text())
        assert match, output.read_text()
        port = int(match[2])
        status, body = get(port, "/")
        assert status == 200 and '<section id="live">' in body

        posted = runtime.botctl("tweet", "tell me a joke", "--author", "pageviewer", "--url", runtime.url)
        assert posted.returncode == 0, posted.stderr
        tweet_id = posted.stdout.strip()
        runtime.wait(timeout=ANSWER_TIMEOUT_SECONDS)

        deadline = time.monotonic() + 10
        while True:  # the page refreshes its read model at most five times a second
            status, live = get(port, "/live")
            article = [a for a in parse(live).find_all("article") if a.attrs.get("data-message-id") == tweet_id]
            if (article and article[0].attrs["data-status"] == "answered") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200 and article, live
        (message,) = article
        assert message.attrs["data-status"] == "answered", live
        assert message.one(cls="author").all_text() == "@pageviewer"
        assert message.one(cls="text").all_text().endswith("tell me a joke")  # after the "@bot" mention
        assert message.one(cls="reply-text").all_text().startswith("@pageviewer")
        counts = parse(live).one("table", id="counts")
        assert counts.one("tr", data_type="REPLY_POSTED").one("td", cls="count").all_text() == "1"


@pytest.mark.slow
def test_a_page_port_already_taken_costs_one_line_and_the_bot_runs_on(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with serving_with(tmp_path, "--page-port", str(port)) as (runtime, output):
            text = output.read_text()
            lines = [line for line in text.splitlines() if line.startswith("page:")]
            assert len(lines) == 1 and lines[0].startswith(f"page: not started: cannot listen on 127.0.0.1:{port}")
            assert "Webhook ready" in text
            posted = runtime.botctl("tweet", "hello bot", "--url", runtime.url)
            assert posted.returncode == 0, posted.stderr
    # --no-page: no page line at all.
    with serving_with(tmp_path / "again", "--no-page") as (_, output):
        assert "page:" not in output.read_text()
