"""`botctl` commands, through click's test runner (and a tiny webhook on 127.0.0.1 for send)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botlocal.cli import main
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.datalake import LocalDataLake
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.server_record import hold_serve_lock, new_record, write_record
from chalicelib.ingress.signature import sign
from click.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def botctl(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, list(args), catch_exceptions=False)


def served(local_dir: Path) -> LocalLayout:
    """A state folder as `botctl serve` leaves it when it starts: its bus, with nothing recorded yet."""
    layout = LocalLayout(local_dir)
    Journal(layout.journal).close()
    return layout


# --- query -----------------------------------------------------------------------------------


@pytest.fixture
def lake(local_dir: Path, envelope: Callable[..., Any]) -> Path:
    writer = LocalDataLake(LocalLayout(local_dir).datalake)
    writer.append(envelope("MESSAGE_RECEIVED", {"Text": "hi\nthere", "Author": "alice", "ImageUrls": ["u"]}))
    writer.append(envelope("TWITTER_FOLLOWED", {}))
    return local_dir


SQL = (
    'SELECT detail_type, detail.author AS author, detail.imageurls AS urls FROM "analysed-messages-table" '
    "ORDER BY detail_type"
)


def test_query_as_a_table(runner: CliRunner, lake: Path) -> None:
    result = botctl(runner, "query", SQL, "--local-dir", str(lake))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "detail_type       author  urls",
        "----------------  ------  -----",
        'MESSAGE_RECEIVED  alice   ["u"]',
        "TWITTER_FOLLOWED  NULL    NULL",
        "(2 rows)",
    ]


def test_query_as_json_and_csv(runner: CliRunner, lake: Path) -> None:
    as_json = botctl(runner, "query", SQL, "--format", "json", "--local-dir", str(lake))
    assert json.loads(as_json.output) == [
        {"detail_type": "MESSAGE_RECEIVED", "author": "alice", "urls": ["u"]},
        {"detail_type": "TWITTER_FOLLOWED", "author": None, "urls": None},
    ]
    as_csv = botctl(
        runner,
        "query",
        'SELECT detail.text AS text, detail_type FROM "analysed-messages-table" ORDER BY 2',
        "--format",
        "csv",
        "--local-dir",
        str(lake),
    )
    assert as_csv.output.splitlines()[0] == "text,detail_type"
    assert '"hi\nthere",MESSAGE_RECEIVED' in as_csv.output


def test_json_refuses_columns_with_the_same_name(runner: CliRunner, lake: Path) -> None:
    result = runner.invoke(main, ["query", "SELECT 1 AS a, 2 AS a", "--format", "json", "--local-dir", str(lake)])
    assert result.exit_code != 0
    assert "columns named more than once: a" in result.output


def test_query_reads_bot_local_dir_from_the_environment(runner: CliRunner, lake: Path) -> None:
    result = botctl(runner, "query", 'SELECT count(*) AS n FROM "analysed-messages-table"', "--format", "json")
    assert json.loads(result.output) == [{"n": 2}]


def test_bad_sql_is_a_clear_error_without_traceback(runner: CliRunner, local_dir: Path) -> None:
    served(local_dir)
    result = runner.invoke(main, ["query", "SELEC nothing"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Parser Error")
    assert "Traceback" not in result.output


# --- wait, deadletters, redrive ----------------------------------------------------------------


def test_wait_with_no_journal_returns_at_once(runner: CliRunner, local_dir: Path) -> None:
    LocalLayout(local_dir).datalake.mkdir(parents=True)  # state, but no bus (yet)
    before = sorted(local_dir.rglob("*"))
    result = botctl(runner, "wait")
    assert result.exit_code == 0
    assert result.output == "nothing pending (no events recorded yet)\n"
    assert sorted(local_dir.rglob("*")) == before  # a read-only command creates nothing


def test_wait_times_out_while_work_is_pending_then_succeeds(
    runner: CliRunner, local_dir: Path, envelope: Callable[..., Any]
) -> None:
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope(event_id="e")])
        pending = runner.invoke(main, ["wait", "--timeout", "0.2"])
        assert pending.exit_code == 1
        assert "1 deliveries still pending after 0.2s" in pending.output
        assert "server.json is missing" in pending.output  # and says why: nothing is delivering
        journal.route("e", ["t"])
        journal.mark_failed("e", "t", "ValueError: nope", retry_at=None)
    done = botctl(runner, "wait", "--timeout", "1")
    assert done.exit_code == 0
    assert "1 dead letters" in done.output


def test_deadletters_lists_and_redrive_revives(
    runner: CliRunner, local_dir: Path, envelope: Callable[..., Any]
) -> None:
    served(local_dir)
    assert botctl(runner, "deadletters").output == "no dead letters\n"
    with Journal(LocalLayout(local_dir).journal) as journal:
        journal.append([envelope("SEND_TWEET", event_id="e1")])
        journal.route("e1", ["lambda:egress"])
        journal.mark_failed("e1", "lambda:egress", "HTTPError: 403 duplicate", retry_at=None)
    table = botctl(runner, "deadletters").output
    assert "e1" in table
    assert "lambda:egress" in table
    assert "HTTPError: 403 duplicate" in table
    (letter,) = json.loads(botctl(runner, "deadletters", "--format", "json").output)
    assert letter["event_id"] == "e1"
    assert letter["detail_type"] == "SEND_TWEET"
    assert letter["attempts"] == 1
    assert botctl(runner, "redrive").output == "1 deliveries pending again\n"
    assert botctl(runner, "deadletters").output == "no dead letters\n"


# --- send --------------------------------------------------------------------------------------


class Webhook:
    """A stand-in webhook on 127.0.0.1 that records what it receives and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                webhook.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(webhook.status)
                self.end_headers()
                self.wfile.write(b'{"message": "refused"}' if webhook.status >= 300 else b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/twitter"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()
    thread.join()


def test_send_posts_the_raw_bytes_signed_like_x(
    runner: CliRunner, webhook: Webhook, tmp_path: Path, local_dir: Path
) -> None:
    raw = b'{"for_user_id": "1",\n  "tweet_create_events": [ ]}  \n'  # odd spacing kept byte for byte
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_bytes(raw)
    second.write_bytes(b"{}")
    result = botctl(runner, "send", str(first), str(second), "--url", webhook.url)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"200 OK {first}", f"200 OK {second}"]
    (headers, body), _ = webhook.requests
    assert body == raw
    assert headers["content-type"] == "application/json"
    assert headers["x-twitter-webhooks-signature"] == sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, raw)


def test_send_signs_with_the_given_secret(
    runner: CliRunner, webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signature_vectors: Any
) -> None:
    file = tmp_path / "d.json"
    file.write_bytes(b'{"x": 1}')
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET", "from-env")
    botctl(runner, "send", str(file), "--url", webhook.url)
    botctl(runner, "send", str(file), "--url", webhook.url, "--secret", "from-flag")
    signatures = [headers["x-twitter-webhooks-signature"] for headers, _ in webhook.requests]
    assert signatures == [sign("from-env", b'{"x": 1}'), sign("from-flag", b'{"x": 1}')]


def test_send_fails_on_a_non_2xx_answer(runner: CliRunner, webhook: Webhook, tmp_path: Path) -> None:
    file = tmp_path / "d.json"
    file.write_bytes(b"{}")
    webhook.status = 401
    result = runner.invoke(main, ["send", str(file), "--url", webhook.url])
    assert result.exit_code == 1
    assert f"401 Unauthorized {file}" in result.output
    assert "refused" in result.output


def test_send_fails_clearly_when_nothing_listens(runner: CliRunner, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    file = tmp_path / "d.json"
    file.write_bytes(b"{}")
    result = runner.invoke(main, ["send", str(file), "--url", f"http://127.0.0.1:{port}/twitter"])
    assert result.exit_code == 1
    assert "cannot reach" in result.output
    assert "Connection refused" in result.output
    assert "Traceback" not in result.output


def test_send_refuses_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["send", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_the_cli_imports_no_heavy_modules() -> None:
    code = "import sys, botlocal.cli; print(sorted(m for m in ('duckdb', 'requests', 'chalice') if m in sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "[]"


# --- finding the server and the state ------------------------------------------------------------


@contextmanager
def recorded_server(local_dir: Path, url: str) -> Iterator[LocalLayout]:
    """What a running `botctl serve` keeps in its state folder: its address, and the lock it holds."""
    layout = LocalLayout(local_dir.resolve())
    with hold_serve_lock(layout):
        write_record(layout, new_record(layout, url))
        yield layout


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("where", ["env", "option"])
def test_tweet_and_send_post_to_the_address_serve_recorded(
    runner: CliRunner, webhook: Webhook, local_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    delivery = tmp_path / "delivery.json"
    delivery.write_bytes(b"{}")
    state: list[str] = []
    if where == "option":  # the server's folder given on the command line, not in the environment
        monkeypatch.delenv("BOT_LOCAL_DIR")
        state = ["--local-dir", str(local_dir)]
    with recorded_server(local_dir, webhook.url):
        tweeted = botctl(runner, "tweet", "tell me a joke", *state)
        sent = botctl(runner, "send", str(delivery), *state)
    assert tweeted.exit_code == 0, tweeted.output
    assert tweeted.output.strip().isdigit()  # the id of the post it made up
    assert sent.exit_code == 0, sent.output
    (_, tweet_body), (_, send_body) = webhook.requests
    assert b"tell me a joke" in tweet_body
    assert send_body == b"{}"


def test_url_wins_over_the_recorded_address(runner: CliRunner, webhook: Webhook, local_dir: Path) -> None:
    with recorded_server(local_dir, "http://127.0.0.1:9/twitter"):  # nothing listens there
        result = botctl(runner, "tweet", "hi", "--url", webhook.url)
    assert result.exit_code == 0, result.output
    assert len(webhook.requests) == 1


def test_url_needs_no_recorded_server(runner: CliRunner, webhook: Webhook, local_dir: Path) -> None:
    served(local_dir)
    assert botctl(runner, "tweet", "hi", "--url", webhook.url).exit_code == 0
    assert len(webhook.requests) == 1


def test_a_text_post_with_url_needs_no_state_folder(runner: CliRunner, webhook: Webhook, local_dir: Path) -> None:
    # A webhook served by `chalice local` alone: no `botctl serve`, perhaps no state folder yet.
    assert not local_dir.exists()
    result = botctl(runner, "tweet", "hi", "--url", webhook.url)
    assert result.exit_code == 0, result.output
    assert len(webhook.requests) == 1


def test_a_photo_post_still_needs_the_state_folder(
    runner: CliRunner, webhook: Webhook, local_dir: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"not really a photo")
    result = botctl(runner, "tweet", "hi", "--image", str(photo), "--url", webhook.url)
    assert result.exit_code == 1
    assert "no local state in" in result.output
    assert webhook.requests == []


@pytest.mark.parametrize("command", ["tweet", "send"])
def test_a_stale_record_is_recognised_and_nothing_is_posted(
    runner: CliRunner, webhook: Webhook, local_dir: Path, tmp_path: Path, command: str
) -> None:
    # `botctl serve` was killed (SIGKILL, a crash): its record is still there, its pid is gone.
    local_dir.mkdir()
    layout = LocalLayout(local_dir.resolve())
    pid = dead_pid()
    write_record(layout, new_record(layout, webhook.url, pid=pid))
    delivery = tmp_path / "delivery.json"
    delivery.write_bytes(b"{}")
    result = runner.invoke(main, ["tweet", "hi"] if command == "tweet" else ["send", str(delivery)])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"Error: the `botctl serve` recorded in {layout.server} (pid {pid}, started ")
    assert "is no longer running: start it with `botctl serve` (or `make local`)" in line
    assert line.endswith("or pass --url")
    assert webhook.requests == []
    assert layout.server.exists()  # a client changes nothing; the next `botctl serve` replaces it


def test_a_record_whose_pid_was_reused_is_stale(runner: CliRunner, webhook: Webhook, local_dir: Path) -> None:
    # The pid is alive (ours, here) but nothing holds the serve lock: that server is gone.
    local_dir.mkdir()
    layout = LocalLayout(local_dir.resolve())
    write_record(layout, new_record(layout, webhook.url))
    result = runner.invoke(main, ["tweet", "hi"])
    assert result.exit_code == 1
    assert "is no longer running" in result.output
    assert webhook.requests == []


def test_without_a_record_or_url_the_error_says_how_to_reach_the_server(runner: CliRunner, local_dir: Path) -> None:
    served(local_dir)  # e.g. `chalice local` alone, or a server that stopped
    result = runner.invoke(main, ["tweet", "hi"])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line == (
        f"Error: no `botctl serve` is recorded in {local_dir.resolve()} (server.json is missing): start it with "
        "`botctl serve` (or `make local`), point --local-dir or BOT_LOCAL_DIR at the folder it uses, or pass --url"
    )


STATE_READERS = {
    "outbox": ["outbox"],
    "alerts": ["alerts"],
    "query": ["query", 'SELECT count(*) FROM "analysed-messages-table"'],
    "deadletters": ["deadletters"],
    "redrive": ["redrive"],
    "wait": ["wait"],
    "tweet": ["tweet", "hi"],
    "tweet --image": ["tweet", "hi", "--image", __file__, "--url", "http://127.0.0.1:9/twitter"],
}


@pytest.mark.parametrize("args", STATE_READERS.values(), ids=STATE_READERS.keys())
def test_a_missing_state_folder_is_a_clear_error(runner: CliRunner, local_dir: Path, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    (line,) = result.output.splitlines()  # one line, no traceback, no "(0 rows)"
    assert line == (
        f"Error: no local state in {local_dir.resolve()}: start `botctl serve` (or `make local`) first, "
        "or point --local-dir or BOT_LOCAL_DIR at the folder it uses"
    )
    assert not local_dir.exists()  # and nothing was created


@pytest.mark.parametrize("args", [["outbox"], ["tweet", "hi"]], ids=["outbox", "tweet"])
def test_a_folder_no_server_used_is_no_state(runner: CliRunner, local_dir: Path, args: list[str]) -> None:
    # `make demo` leaves .local/ holding only demo/, while `make local` may keep its state elsewhere.
    (local_dir / "demo").mkdir(parents=True)
    (local_dir / "demo-serve.log").write_text("")
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no local state in {local_dir.resolve()} (no `botctl serve` has used it): start `botctl serve` "
        "(or `make local`) first, or point --local-dir or BOT_LOCAL_DIR at the folder it uses\n"
    )


def test_the_state_folder_defaults_to_dot_local(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOT_LOCAL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    missing = runner.invoke(main, ["outbox"])
    assert missing.exit_code == 1
    assert f"no local state in {tmp_path.resolve() / '.local'}:" in missing.output
    served(tmp_path / ".local")
    assert botctl(runner, "outbox").output.splitlines()[-1] == "(0 rows)"


def test_query_names_the_folder_given_with_local_dir(runner: CliRunner, local_dir: Path, tmp_path: Path) -> None:
    local_dir.mkdir()  # BOT_LOCAL_DIR exists, but the option wins
    elsewhere = tmp_path / "elsewhere"
    result = runner.invoke(main, ["query", "SELECT 1", "--local-dir", str(elsewhere)])
    assert result.exit_code == 1
    assert f"no local state in {elsewhere}:" in result.output


def test_wait_says_which_server_is_delivering(
    runner: CliRunner, webhook: Webhook, local_dir: Path, envelope: Callable[..., Any]
) -> None:
    with recorded_server(local_dir, webhook.url) as layout, Journal(layout.journal) as journal:
        journal.append([envelope(event_id="e")])
        result = runner.invoke(main, ["wait", "--timeout", "0.1"])
    assert result.exit_code == 1
    assert f"1 deliveries still pending after 0.1s; `botctl serve` (pid {os.getpid()}, {webhook.url})" in result.output


# --- finding a server started with BOT_LOCAL_DIR set for it alone ---------------------------------


@contextmanager
def registered_server(local_dir: Path, url: str) -> Iterator[LocalLayout]:
    """A running `botctl serve` on `local_dir`, registered for this user as serve does."""
    from botlocal.server_record import register, unregister

    with recorded_server(local_dir, url) as layout:
        record = new_record(layout, url)
        register(record)
        try:
            yield layout
        finally:
            unregister(record.pid)


def test_without_directions_clients_find_the_one_running_server(
    runner: CliRunner, webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case: `BOT_LOCAL_DIR=/elsewhere botctl serve`, then plain `botctl tweet` / `outbox`.
    monkeypatch.delenv("BOT_LOCAL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no .local here
    elsewhere = tmp_path / "elsewhere"
    with registered_server(elsewhere, webhook.url) as layout:
        Journal(layout.journal).close()
        tweeted = runner.invoke(main, ["tweet", "hi"])
        outbox = runner.invoke(main, ["outbox"])
    assert tweeted.exit_code == 0, tweeted.output
    assert len(webhook.requests) == 1
    assert f"using the state of the running `botctl serve`: {layout.root}" in tweeted.output
    assert outbox.exit_code == 0, outbox.output


def test_directions_win_over_the_registry(
    runner: CliRunner, webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path / "asked-for"))
    with registered_server(tmp_path / "elsewhere", webhook.url):
        result = runner.invoke(main, ["outbox"])
    assert result.exit_code == 1
    assert f"no local state in {(tmp_path / 'asked-for').resolve()}" in result.output
    assert webhook.requests == []


def test_several_running_servers_must_be_chosen_between(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botlocal.server_record import register, unregister

    monkeypatch.delenv("BOT_LOCAL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with (
            registered_server(tmp_path / "one", "http://127.0.0.1:9/twitter") as first,
            recorded_server(tmp_path / "two", "http://127.0.0.1:10/twitter") as second,
        ):
            # A second server, as another process (pid) would register it.
            record = new_record(second, "http://127.0.0.1:10/twitter", pid=sleeper.pid)
            register(record)
            try:
                result = runner.invoke(main, ["outbox"])
            finally:
                unregister(record.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.exit_code == 2, result.output
    assert "several `botctl serve` are running" in result.output
    assert str(first.root) in result.output and str(second.root) in result.output


def test_query_by_name_says_why_posts_got_no_answer(
    runner: CliRunner, local_dir: Path, envelope: Callable[..., Any]
) -> None:
    writer = LocalDataLake(LocalLayout(local_dir).datalake)
    skipped = {
        "Twitter": {"TweetId": "7", "UserId": "42", "ConversationId": "5"},
        "Author": "bob",
        "Reason": "author limit",
    }
    writer.append(envelope("REPLY_SKIPPED", skipped, source="xbot.responding"))
    result = botctl(runner, "query", "skipped-messages", "--format", "json", "--local-dir", str(local_dir))
    assert result.exit_code == 0, result.output
    ((row),) = json.loads(result.output)
    assert (row["tweet_id"], row["author"], row["reason"]) == ("7", "bob", "author limit")
