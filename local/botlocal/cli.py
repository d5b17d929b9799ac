"""`botctl`: run and poke the local runtime.

    botctl serve                 webhook + bus dispatcher on http://127.0.0.1:8000/twitter, page on :8001
    botctl serve --poll          ... and poll the real X for the bot's mentions (credentials from the environment)
    botctl send FILE...          POST webhook bodies, signed as X signs them
    botctl wait                  block until every recorded event is delivered (or dead)
    botctl query SQL|NAME        Athena SQL on the local data lake, or a named query (skipped-messages, ...)
    botctl demo                  the whole bot on a scripted scenario, with a transcript
    botctl tweet TEXT            post a mention of the bot (with --image photos) to the webhook
    botctl alerts                the negative-message alerts raised so far
    botctl tail                  follow the bus live, one line per event (--json for scripts)
    botctl outbox                the replies posted to the dry-run outbox
    botctl deadletters           deliveries the dispatcher gave up on
    botctl redrive               retry the dead letters

Every command takes --local-dir (or BOT_LOCAL_DIR; default .local), the state folder. `serve`
records its address there, so `tweet` and `send` post to the running server without --url. The
commands that read the state fail with a clear error when the folder does not exist (or no server
has used it), rather than show an empty result. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from chalicelib.contracts.messages import is_direct_message
from chalicelib.settings import DEFAULT_POLL_INTERVAL_MINUTES

from botlocal.cost.command import cost as cost_command
from botlocal.journal import Journal
from botlocal.layout import DEFAULT_LOCAL_DIR, LOCAL_DIR_VARIABLE, LocalLayout
from botlocal.render import FORMATS, RenderError, render
from botlocal.server_record import NoServerError, registered_servers, running_server
from botlocal.x_cli import x as x_commands

_URL_HELP = "The webhook to POST to [default: the address `botctl serve` recorded in the state folder]."


def local_dir_option[F: Callable[..., Any]](function: F) -> F:
    return click.option(
        "--local-dir",
        envvar=LOCAL_DIR_VARIABLE,
        default=DEFAULT_LOCAL_DIR,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Where the local runtime keeps its state [env: {LOCAL_DIR_VARIABLE}].",
    )(function)


def _find_running_state(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """When neither --local-dir nor BOT_LOCAL_DIR was given and the default folder holds no state,
    the state folder of the one `botctl serve` running for this user (started, perhaps, with
    BOT_LOCAL_DIR set for it alone)."""
    if ctx.get_parameter_source(param.name or "") is not click.core.ParameterSource.DEFAULT:
        return value
    if _has_state(LocalLayout(value.resolve())):
        return value
    running = registered_servers()
    if len(running) == 1:
        click.echo(f"(using the state of the running `botctl serve`: {running[0].local_dir})", err=True)
        return Path(running[0].local_dir)
    if len(running) > 1:
        folders = ", ".join(record.local_dir for record in running)
        raise click.UsageError(f"several `botctl serve` are running ({folders}): choose one with --local-dir")
    return value


def client_local_dir_option[F: Callable[..., Any]](function: F) -> F:
    """--local-dir for the commands that read a running bot's state: they also find a running server's."""
    return click.option(
        "--local-dir",
        envvar=LOCAL_DIR_VARIABLE,
        default=DEFAULT_LOCAL_DIR,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        callback=_find_running_state,
        help=f"Where the local runtime keeps its state [env: {LOCAL_DIR_VARIABLE}; default: also the "
        "state of the one `botctl serve` running].",
    )(function)


def state_of(local_dir: Path) -> LocalLayout:
    """The layout of a state folder the local runtime has used; a clear error when there is none to read.

    A folder that exists but holds none of the runtime's stores counts as none: `.local/` holds only
    `demo/` after `make demo`, while the server may keep its state elsewhere (BOT_LOCAL_DIR).
    """
    layout = LocalLayout(local_dir.resolve())
    if not layout.root.is_dir():
        problem = f"no local state in {layout.root}"
    elif not _has_state(layout):
        problem = f"no local state in {layout.root} (no `botctl serve` has used it)"
    else:
        return layout
    raise click.ClickException(
        f"{problem}: start `botctl serve` (or `make local`) first, "
        f"or point --local-dir or {LOCAL_DIR_VARIABLE} at the folder it uses"
    )


def _has_state(layout: LocalLayout) -> bool:
    stores = (layout.journal, layout.server, layout.datalake, layout.outbox, layout.alerts)
    return layout.root.is_dir() and any(store.exists() for store in stores)


def webhook_url(url: str | None, local_dir: Path) -> str:
    """--url if given, else the address of the `botctl serve` running on the state folder."""
    if url:
        return url
    try:
        return running_server(LocalLayout(local_dir.resolve())).url
    except NoServerError as error:
        raise click.ClickException(
            f"{error}: start it with `botctl serve` (or `make local`), point --local-dir or "
            f"{LOCAL_DIR_VARIABLE} at the folder it uses, or pass --url"
        ) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Run the X bot on this machine: no AWS account, no X account."""


main.add_command(x_commands)  # `botctl x ...`: X set-up (botlocal.x_cli)
main.add_command(cost_command)  # `botctl cost`: cost per message from counted calls (botlocal.cost)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve the webhook on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--poll",
    is_flag=True,
    help="Also poll the real X for the bot's mentions (needs BOT_USER_ID and TWITTER_API_KEY, TWITTER_API_SECRET, "
    "TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_TOKEN_SECRET).",
)
@click.option(
    "--poll-interval",
    default=DEFAULT_POLL_INTERVAL_MINUTES,
    show_default=True,
    type=click.IntRange(min=1),
    help="Minutes between polls (X's rate limit for the mentions timeline is low on the cheaper tiers).",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Print every log line here too (also BOT_LOG_VERBOSE=1) [default: one line per message handled; "
    "every line in serve.log in the state folder].",
)
@click.option(
    "--page-port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port of the local web page on 127.0.0.1 (0: any free one) [default: the webhook's port + 1].",
)
@click.option("--no-page", is_flag=True, help="Do not serve the local web page.")
@local_dir_option
def serve(
    host: str,
    port: int,
    poll: bool,
    poll_interval: int,
    local_dir: Path,
    verbose: bool,
    page_port: int | None,
    no_page: bool,
) -> None:
    """Serve the webhook (chalice local) and deliver the bus's events until Ctrl+C.

    The webhook's address is recorded in the state folder while it runs, for the other commands.
    With --poll, the bot's mentions are also read from X every --poll-interval minutes. A web page
    of what the bot does (messages, analyses, replies, alerts, latency, dead letters) is served on
    127.0.0.1 at the port after the webhook's; its address is printed at start-up.
    """
    from typing import TextIO, cast

    from botlocal import logs
    from botlocal.serve_output import quiet_terminal, verbose_from_env
    from botlocal.server import ServeError, ServeOptions
    from botlocal.server import serve as run_server

    logs.configure()
    verbose = verbose or verbose_from_env()
    log_file = LocalLayout(local_dir.resolve()).log
    try:
        # Every line goes to the log file; the terminal shows the summaries (all lines with --verbose).
        with quiet_terminal(log_file, verbose=verbose) as terminal:
            run_server(
                ServeOptions(
                    host=host,
                    port=port,
                    local_dir=local_dir,
                    poll=poll,
                    poll_interval_minutes=poll_interval,
                    log_file=log_file,
                    summaries=not verbose,
                    page_port=None if no_page else _page_port(port, page_port),
                ),
                out=cast("TextIO", terminal),  # a TextIOBase: writes and flushes, all serve does with it
            )
    except (ServeError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        # A second Ctrl+C during shutdown: already stopping, no traceback or "Aborted!".
        raise click.exceptions.Exit(130) from None


def _page_port(webhook_port: int, page_port: int | None) -> int:
    """--page-port, else the port after the webhook's (any free one after 65535)."""
    if page_port is not None:
        return page_port
    return webhook_port + 1 if webhook_port < 65535 else 0


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help=_URL_HELP)
@click.option(
    "--secret",
    envvar="TWITTER_CONSUMER_SECRET",
    default=None,
    help="Consumer secret to sign with [env: TWITTER_CONSUMER_SECRET; default: the local development secret].",
)
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds per request.")
@client_local_dir_option
def send(files: Sequence[Path], url: str | None, secret: str | None, timeout: float, local_dir: Path) -> None:
    """POST each FILE's bytes, exactly as on disk, signed like an X webhook delivery."""
    import requests

    from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET

    target = webhook_url(url, local_dir)
    key = secret or LOCAL_DEVELOPMENT_CONSUMER_SECRET
    failures = 0
    with requests.Session() as session:
        for file in files:
            body = file.read_bytes()
            try:
                response = _post_signed(session, target, key, body, timeout)
            except requests.RequestException as error:
                failures += 1
                click.echo(f"{file}: cannot reach {target} ({_reason(error)}); is `botctl serve` running?", err=True)
                continue
            ok = 200 <= response.status_code < 300
            failures += not ok
            line = f"{response.status_code} {response.reason} {file}"
            if not ok and response.text:
                line += f"  {response.text.strip()[:300]}"
            click.echo(line, err=not ok)
    if failures:
        raise click.exceptions.Exit(1)


def _deliver_signed(target: str, secret: str, delivery: dict[str, Any]) -> None:
    """POST one delivery signed as X signs it; a ClickException in one line when it is not taken."""
    import requests

    body = json.dumps(delivery, ensure_ascii=False).encode("utf-8")
    with requests.Session() as session:
        try:
            response = _post_signed(session, target, secret, body, 30.0)
        except requests.RequestException as error:
            raise click.ClickException(
                f"cannot reach {target} ({_reason(error)}); is `botctl serve` running?"
            ) from None
    if not 200 <= response.status_code < 300:
        raise click.ClickException(f"{response.status_code} {response.reason}: {response.text.strip()[:300]}")


def _post_signed(session: Any, url: str, secret: str, body: bytes, timeout: float) -> Any:
    """POST the raw bytes with X's signature header, as X delivers to a webhook."""
    from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    return session.post(url, data=body, headers=headers, timeout=timeout)


@main.command()
@click.option(
    "--local-dir",
    default=str(Path(DEFAULT_LOCAL_DIR) / "demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Fresh state for the demo (emptied first).",
)
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=1), help="Seconds to wait.")
def demo(local_dir: Path, timeout: float) -> None:
    """Run the bot's main job on a scripted scenario and print what happened."""
    from botlocal.background import BackgroundServeError
    from botlocal.demo import DemoError, run_demo

    try:
        problems = run_demo(local_dir, echo=click.echo, timeout=timeout)
    except (DemoError, BackgroundServeError) as error:
        raise click.ClickException(str(error)) from None
    if problems:
        raise click.exceptions.Exit(1)


@main.command()
@click.argument("text")
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A photo to attach (repeatable, up to 4); copied into the media inbox.",
)
@click.option("--author", default="local_user", show_default=True, help="Screen name of the post's author.")
@click.option(
    "--lang", default="en", show_default=True, help="The language X would say the post is in ('und': unknown)."
)
@click.option("--url", default=None, help=_URL_HELP)
@click.option("--secret", envvar="TWITTER_CONSUMER_SECRET", default=None, help="Consumer secret to sign with.")
@client_local_dir_option
def tweet(
    text: str, images: Sequence[Path], author: str, lang: str, url: str | None, secret: str | None, local_dir: Path
) -> None:
    """Post TEXT as a mention of the bot by AUTHOR, with photos, to the local webhook; print its id."""
    import shutil

    from chalicelib.settings import load_settings

    from botlocal.compose import LOCAL_BOT_USER_ID, compose_mention, snowflake
    from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET

    if len(images) > 4:
        raise click.BadParameter("X allows at most 4 photos per post", param_hint="--image")
    # The state folder is needed only for photos (its media inbox): with --url, a webhook served by
    # `chalice local` alone (no `botctl serve`, perhaps no state yet) can be sent text posts.
    layout = state_of(local_dir) if images or url is None else None
    target = webhook_url(url, local_dir)
    photo_urls = []
    for image in images:
        assert layout is not None  # photos always need the state folder (checked above)
        # The media inbox is consulted by file name before any download: a made-up X media URL
        # with that name brings the photo to the analysis exactly as a real one would.
        layout.media_inbox.mkdir(parents=True, exist_ok=True)
        name = f"{snowflake(datetime.now(UTC))}{image.suffix.lower() or '.jpg'}"
        shutil.copyfile(image, layout.media_inbox / name)
        photo_urls.append(f"https://pbs.twimg.com/media/{name}")
    composed = compose_mention(
        text,
        author=author,
        photo_urls=photo_urls,
        bot_user_id=load_settings().bot_user_id or LOCAL_BOT_USER_ID,
        lang=lang,
    )
    _deliver_signed(target, secret or LOCAL_DEVELOPMENT_CONSUMER_SECRET, composed.delivery)
    click.echo(composed.tweet_id)


@main.command()
@click.argument("text")
@click.option("--author", default="local_user", show_default=True, help="Screen name of the DM's sender.")
@click.option("--from-bot", is_flag=True, help="Send the DM the bot sent to AUTHOR instead (it is never answered).")
@click.option("--url", default=None, help=_URL_HELP)
@click.option("--secret", envvar="TWITTER_CONSUMER_SECRET", default=None, help="Consumer secret to sign with.")
@client_local_dir_option
def dm(text: str, author: str, from_bot: bool, url: str | None, secret: str | None, local_dir: Path) -> None:
    """Send TEXT as a direct message from AUTHOR to the bot, to the local webhook; print its DM event id.

    It arrives as Account Activity's direct_message_events, signed; the answer lands in the outbox,
    marked as a DM (`botctl outbox`). Photos in DMs are not analysed, so there is no --image.
    """
    from chalicelib.settings import load_settings

    from botlocal.compose import LOCAL_BOT_USER_ID, compose_dm
    from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET

    if url is None:
        state_of(local_dir)  # a clear error when no `botctl serve` state is there
    target = webhook_url(url, local_dir)
    composed = compose_dm(
        text, author=author, bot_user_id=load_settings().bot_user_id or LOCAL_BOT_USER_ID, from_bot=from_bot
    )
    _deliver_signed(target, secret or LOCAL_DEVELOPMENT_CONSUMER_SECRET, composed.delivery)
    click.echo(composed.event_id)


@main.command()
@click.option("--format", "output_format", type=click.Choice(("table", "json")), default="table", show_default=True)
@client_local_dir_option
def alerts(output_format: str, local_dir: Path) -> None:
    """List the negative-message alerts the local runtime raised."""
    from botlocal.alerts import read_alerts

    records = read_alerts(state_of(local_dir).alerts)
    if output_format == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    rows = [(record.get("time"), record.get("subject"), record.get("message")) for record in records]
    click.echo(_render(["time", "subject", "message"], rows, "table"), nl=False)


@main.command()
@click.option("--format", "output_format", type=click.Choice(("table", "json")), default="table", show_default=True)
@client_local_dir_option
def outbox(output_format: str, local_dir: Path) -> None:
    """List the replies the local runtime "posted" (the dry-run outbox); DM answers show as "DM to <id>"."""
    from botlocal.outbox import read_outbox

    records = read_outbox(state_of(local_dir).outbox)
    if output_format == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    rows = [
        (
            # A direct message is marked as one: it answers a DM, not a post.
            f"DM to {record.get('ParticipantId')}" if is_direct_message(record) else record.get("ReplyToTweetId"),
            record.get("Text"),
            record.get("Image"),
            record.get("time"),
        )
        for record in records
    ]
    click.echo(_render(["ReplyToTweetId", "Text", "Image", "time"], rows, "table"), nl=False)


@main.command()
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0), help="Seconds to wait.")
@client_local_dir_option
def wait(timeout: float, local_dir: Path) -> None:
    """Wait until no event is waiting to be routed or delivered (dead letters do not count)."""
    layout = state_of(local_dir)
    if not layout.journal.exists():
        click.echo("nothing pending (no events recorded yet)")
        return
    deadline = time.monotonic() + timeout
    with Journal(layout.journal) as journal:
        while (pending := journal.pending_count()) > 0:
            if time.monotonic() >= deadline:
                raise click.ClickException(
                    f"{pending} deliveries still pending after {timeout:g}s; {_server_status(layout)}"
                )
            time.sleep(0.1)
        dead = len(journal.dead_letters())
    click.echo("nothing pending" + (f" ({dead} dead letters: see `botctl deadletters`)" if dead else ""))


def _server_status(layout: LocalLayout) -> str:
    """Who should be delivering: the running server, or why none is."""
    try:
        record = running_server(layout)
    except NoServerError as error:
        return f"{error}: start `botctl serve` (or `make local`) to deliver them"
    return f"`botctl serve` (pid {record.pid}, {record.url}) is still delivering them"


# SQL pasted with its leading "-- comment" line starts with "--": taken as an unknown option, it is
# passed on as the SQL argument instead of being refused.
@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("sql")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True)
@client_local_dir_option
def query(sql: str, output_format: str, local_dir: Path) -> None:
    """Run Athena SQL on the local data lake (table "analysed-messages-table"), or one of the
    workgroup's named queries by its name (`botctl query skipped-messages`: why posts got no answer)."""
    from chalicelib.contracts.queries import SAMPLE_QUERIES

    from botlocal.query import QueryError, run_query, to_jsonable

    sql = next((named.sql for named in SAMPLE_QUERIES if named.name == sql.strip()), sql)
    layout = state_of(local_dir)
    try:
        columns, rows = run_query(sql, layout.root)
    except QueryError as error:
        raise click.ClickException(str(error)) from None
    records = [[to_jsonable(value) for value in row] for row in rows]
    click.echo(_render(columns, records, output_format), nl=False)


@main.command()
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True)
@client_local_dir_option
def deadletters(output_format: str, local_dir: Path) -> None:
    """List the deliveries the dispatcher gave up on, with their last error."""
    layout = state_of(local_dir)
    letters = []
    if layout.journal.exists():
        with Journal(layout.journal) as journal:
            letters = journal.dead_letters()
    if not letters and output_format == "table":
        click.echo("no dead letters")
        return
    columns = ["event_id", "target", "detail_type", "attempts", "failed_at", "last_error"]
    rows: list[list[Any]] = [
        [
            letter.event_id,
            letter.target,
            letter.detail_type,
            letter.attempts,
            datetime.fromtimestamp(letter.failed_at, UTC).isoformat(timespec="seconds"),
            letter.last_error,
        ]
        for letter in letters
    ]
    click.echo(_render(columns, rows, output_format), nl=False)


@main.command()
@click.option("--event-id", default=None, help="Only this event's dead letters (default: all).")
@client_local_dir_option
def redrive(event_id: str | None, local_dir: Path) -> None:
    """Make dead letters pending again; a running `botctl serve` delivers them."""
    layout = state_of(local_dir)
    if not layout.journal.exists():
        click.echo("no dead letters")
        return
    with Journal(layout.journal) as journal:
        count = journal.redrive(event_id=event_id)
    click.echo(f"{count} deliveries pending again")


@main.command()
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only events of this detail-type (MESSAGE_ANALYSED, ...; ALERT for alerts); repeatable.",
)
@click.option("--since", default=None, help="Only what happened since: 10m, 2h, 1d, or an ISO time.")
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(min=0),
    default=None,
    help="Show the last N entries before following [default: 10; with --since, all since then].",
)
@click.option("--follow/--no-follow", default=True, show_default=True, help="Keep following new events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: time, type, author, summary, ids.")
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set or stdout is not a terminal).")
@client_local_dir_option
def tail(
    types: Sequence[str],
    since: str | None,
    lines: int | None,
    follow: bool,
    as_json: bool,
    no_color: bool,
    local_dir: Path,
) -> None:
    """Follow the local bus live, one line per event and alert (time, type, author, summary).

    Reads the journal and the alerts file only, while `botctl serve` runs or after; a direct
    message's text is never shown. Ctrl-C stops it."""
    import os
    import shutil
    import sys

    from botlocal import tail as tailing

    types = tuple(name.upper() for name in types)  # detail-types are upper case: accept any case
    unknown = sorted(set(types) - set(tailing.known_types()))
    if unknown:
        click.echo(f"(no event type is named {', '.join(unknown)}: nothing of that type will show)", err=True)
    try:
        since_at = tailing.parse_since(since) if since else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    layout = state_of(local_dir)
    terminal = sys.stdout.isatty()
    colour = tailing.use_colour(terminal=terminal, no_color=no_color, environ=os.environ)
    width = shutil.get_terminal_size((tailing.PIPE_WIDTH, 24)).columns if terminal else tailing.PIPE_WIDTH

    def emit(entry: tailing.Entry) -> None:
        line = tailing.to_json(entry) if as_json else tailing.render(entry, colour=colour, width=width)
        click.echo(line, color=colour)
        sys.stdout.flush()  # a pipe (a script, a test) sees each line as it happens

    default_lines = None if since_at is not None else tailing.DEFAULT_LINES
    source = tailing.TailSource(layout, types=types, since=since_at)
    try:
        tailing.follow(source, emit, lines=default_lines if lines is None else lines, follow=follow)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how one stops following: not an error
    except BrokenPipeError:
        # The reader went away (`botctl tail | head`): stop quietly, as tail does; stdout now points
        # at /dev/null so the interpreter's last flush does not complain about the pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        source.close()


def _render(columns: Sequence[str], rows: Sequence[Sequence[Any]], output_format: str) -> str:
    try:
        return render(columns, rows, output_format)
    except RenderError as error:
        raise click.ClickException(str(error)) from None


def _reason(error: Exception) -> str:
    # requests nests the useful part (e.g. "Connection refused") deep inside its message.
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker
    return type(error).__name__
