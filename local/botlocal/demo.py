"""`make demo`: the bot's main job on the local runtime, end to end, with a readable transcript.

Starts `botctl serve` on a free port with fresh state, replays a scenario through the real webhook
(signed deliveries), waits for the work, prints what came in, what the analysis found, the alert,
the replies and their annotated images, runs the README's analytics queries, and stops.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

ASSETS: Final = Path(__file__).parent / "demo_assets"
BOTCTL: Final = Path(sys.executable).parent / "botctl"
TABLE: Final = '"analysed-messages-table"'
DEMO_MARKER: Final = ".xbot-demo"
Echo = Callable[[str], None]


class DemoError(Exception):
    """The demo could not run (the runtime did not start, a step failed); the message says why."""


@dataclass(frozen=True)
class Step:
    """One thing that happens to the bot's account."""

    title: str
    text: str = ""
    author: str = "demo_user"
    images: tuple[Path, ...] = ()
    delivery: dict[str, Any] | None = None  # a raw delivery instead of a composed mention
    expect_reply: bool = True
    expect_alert: bool = False
    expect_names: tuple[str, ...] = ()  # celebrities the reply must name, with an annotated photo
    expect_raw: str | None = None  # the detail-type a raw delivery must be recorded as
    ignored_post_id: str | None = None  # a post that must not become a MESSAGE_RECEIVED
    described: str = ""  # what a raw delivery is, for the transcript


@dataclass
class Sent:
    step: Step
    tweet_id: str | None
    status: int


@dataclass
class Scenario:
    steps: list[Step] = field(default_factory=list)


def written_text_photo(path: Path) -> Path:
    """A real photo with words on a panel: what a sign or a menu looks like to the OCR."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(ASSETS / "coffee.jpg").convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.rectangle((40, 40, 560, 190), fill="white")
    draw.text((60, 50), "OPEN DAILY", fill="black", font=font)
    draw.text((60, 120), "Fresh coffee", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def scenario(work: Path, bot_user_id: str) -> Scenario:
    from botlocal.compose import LOCAL_BOT_SCREEN_NAME, compose_mention

    # The bot's own reply comes back through the webhook too. This one even mentions the bot and
    # replies to it (a thread with itself): only the author check keeps it from starting a loop.
    own = compose_mention(
        "@xbot thanks, here is your joke", author=LOCAL_BOT_SCREEN_NAME, photo_urls=[], bot_user_id=bot_user_id
    )
    post = own.delivery["tweet_create_events"][0]
    post["user"]["id_str"] = bot_user_id
    post["in_reply_to_user_id_str"] = bot_user_id
    follow = json.loads((ASSETS.parent / "demo_assets" / "follow.json").read_text(encoding="utf-8"))
    follow["for_user_id"] = bot_user_id
    return Scenario(
        [
            Step("A joke request", "tell me a joke", author="alice"),
            Step("A fact request", "tell me a fun fact please", author="bob"),
            Step("A negative mention", "you are a terrible, useless and awful bot", author="carol", expect_alert=True),
            Step(
                "A photo of a public figure",
                "who is this?",
                author="dave",
                images=(ASSETS / "obama2.jpg",),
                expect_names=("Barack Obama",),
            ),
            Step(
                "A photo with written text",
                "what does this say?",
                author="erin",
                images=(written_text_photo(work / "sign.png"),),
            ),
            Step(
                "A follow",
                delivery=follow,
                expect_reply=False,
                expect_raw="TWITTER_FOLLOWED",
                described=f"@{follow['follow_events'][0]['source']['screen_name']} followed the bot",
            ),
            Step(
                "The bot's own reply",
                delivery=own.delivery,
                expect_reply=False,
                expect_raw="TWITTER_TWEETED",
                ignored_post_id=own.tweet_id,
                described="the bot's own post (mentioning and replying to itself) came back through the webhook",
            ),
        ]
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _runtime(local_dir: Path, port: int, env: dict[str, str]) -> Iterator[str]:
    log_path = local_dir.parent / f"{local_dir.name}-serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own botctl, fixed arguments)
            [str(BOTCTL), "serve", "--port", str(port), "--local-dir", str(local_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 90
            while "Webhook ready" not in log_path.read_text(encoding="utf-8", errors="replace"):
                if process.poll() is not None:
                    raise DemoError(f"botctl serve stopped; see {log_path}")
                if time.monotonic() > deadline:
                    raise DemoError(f"botctl serve did not start in 90 s; see {log_path}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}/twitter"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _send(step: Step, url: str, local_dir: Path, env: dict[str, str], work: Path) -> Sent:
    if step.delivery is not None:
        body = work / f"{abs(hash(step.title))}.json"
        body.write_text(json.dumps(step.delivery), encoding="utf-8")
        args = ["send", "--url", url, str(body)]
    else:
        args = ["tweet", step.text, "--author", step.author, "--url", url, "--local-dir", str(local_dir)]
        for image in step.images:
            args += ["--image", str(image)]
    result = subprocess.run([str(BOTCTL), *args], env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DemoError(f"{step.title}: botctl {args[0]} failed: {(result.stderr or result.stdout).strip()}")
    tweet_id = result.stdout.strip() if step.delivery is None else None
    return Sent(step, tweet_id, 200)


def _wait(local_dir: Path, env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(  # noqa: S603
        [str(BOTCTL), "wait", "--timeout", str(timeout), "--local-dir", str(local_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 30,
        check=False,
    )
    if result.returncode != 0:
        raise DemoError(f"the local runtime did not finish the work: {(result.stderr or result.stdout).strip()}")


def _analysis(local_dir: Path, tweet_id: str) -> dict[str, Any] | None:
    from botlocal.query import run_query

    _, rows = run_query(
        f"SELECT detail FROM {TABLE} WHERE detail_type = 'MESSAGE_ANALYSED' AND detail.twitter.tweetid = '{tweet_id}'",  # noqa: S608 (our own id)
        local_dir,
    )
    return rows[0][0] if rows else None


def _describe_analysis(detail: dict[str, Any]) -> list[str]:
    analysis = detail.get("analysis") or {}
    lines = []
    sentiment = analysis.get("textsentiment")
    if sentiment:
        scores = analysis.get("sentimentscore") or {}
        negative, positive = float(scores.get("negative") or 0), float(scores.get("positive") or 0)
        lines.append(f"sentiment {sentiment} (negative {negative:.2f}, positive {positive:.2f})")
    for index, image in enumerate(analysis.get("images") or [], start=1):
        if image.get("error"):
            lines.append(f"photo {index}: not analysed ({image['error']})")
            continue
        found = image.get("analysis") or {}
        names = [face["name"] for face in found.get("celebrityfaces") or []]
        labels = [label["name"] for label in (found.get("labels") or [])[:5]]
        words = [text["detectedtext"] for text in found.get("textdetections") or [] if text.get("type") == "LINE"]
        lines.append(f"photo {index}: celebrities {names or 'none'}; labels {labels or 'none'}; text {words or 'none'}")
    return lines


def _count(local_dir: Path, where: str) -> int:
    from botlocal.query import run_query

    _, rows = run_query(f"SELECT count(*) FROM {TABLE} WHERE {where}", local_dir)  # noqa: S608 (our own SQL)
    return int(rows[0][0])


def _print_transcript(sent: list[Sent], local_dir: Path, echo: Echo) -> int:
    """Print what happened to each step; return how many expectations were not met."""
    from botlocal.alerts import read_alerts
    from botlocal.outbox import read_outbox

    alerts = read_alerts(local_dir / "alerts.jsonl")
    outbox = read_outbox(local_dir / "outbox.jsonl")
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(text)
        echo(f"   !! {text}")

    for item in sent:
        step = item.step
        echo(f"\n== {step.title}")
        if item.tweet_id is None:
            echo(f"   {step.described}")
            if step.expect_raw:
                recorded = _count(local_dir, f"detail_type = '{step.expect_raw}'")
                if recorded:
                    echo(f"   recorded as {step.expect_raw} in the data lake")
                else:
                    problem(f"no {step.expect_raw} event recorded")
            if step.ignored_post_id:
                messages = _count(
                    local_dir,
                    f"detail_type = 'MESSAGE_RECEIVED' AND detail.twitter.tweetid = '{step.ignored_post_id}'",
                )
                if messages:
                    problem("the bot's own post became a MESSAGE_RECEIVED: a reply loop")
                else:
                    echo("   not a message for the bot: no analysis, no reply")
        else:
            photos = f"  [+{len(step.images)} photo]" if step.images else ""
            echo(f"   @{step.author}: {step.text}{photos}")
            detail = _analysis(local_dir, item.tweet_id)
            if detail is None:
                problem("no analysis found")
            for line in _describe_analysis(detail) if detail else []:
                echo(f"   analysis: {line}")
            raised = [alert for alert in alerts if item.tweet_id in str(alert.get("message", ""))]
            for alert in raised:
                echo(f"   ALERT: {alert.get('subject')}")
            if step.expect_alert and not raised:
                problem("no alert raised")
            if raised and not step.expect_alert:
                problem("an alert nobody expected")
        replies = [entry for entry in outbox if item.tweet_id and entry.get("ReplyToTweetId") == item.tweet_id]
        for reply in replies:
            echo(f"   reply: {reply.get('Text')}")
            for image in reply.get("Images") or []:
                echo(f"   annotated image: {image}")
                if not Path(image).is_file():
                    problem(f"the annotated image {image} does not exist")
        if step.expect_reply and not replies:
            problem("no reply in the outbox")
        if not step.expect_reply and replies:
            problem("a reply nobody expected")
        for name in step.expect_names:
            if not any(name in str(reply.get("Text")) and reply.get("Images") for reply in replies):
                problem(f"no reply naming {name} with an annotated photo")
    expected = {item.tweet_id for item in sent}
    strays = [entry for entry in outbox if entry.get("ReplyToTweetId") not in expected]
    if strays:
        echo("")
        problem(f"replies to posts the demo did not send: {strays}")
    return len(problems)


def _print_queries(local_dir: Path, echo: Echo) -> None:
    from chalicelib.contracts.queries import SAMPLE_QUERIES

    from botlocal.cli import render
    from botlocal.query import run_query, to_jsonable

    echo("\n== The README's analytics queries, run by DuckDB on the local data lake")
    for query in SAMPLE_QUERIES:
        columns, rows = run_query(query.sql, local_dir)
        echo(f"\n-- {query.name}: {query.description}")
        echo(
            textwrap.indent(
                render(columns, [[to_jsonable(value) for value in row] for row in rows[:12]], "table"), "   "
            )
        )


def run_demo(local_dir: Path, echo: Echo = print, timeout: float = 300) -> int:
    """Run the whole scenario; returns the number of problems found (0 means every step worked)."""
    from botlocal.compose import LOCAL_BOT_USER_ID

    if local_dir.exists() and any(local_dir.iterdir()) and not (local_dir / DEMO_MARKER).exists():
        # Never empty a folder an earlier demo did not make: it may hold someone's known faces.
        raise DemoError(f"{local_dir} is not empty and not a demo folder; choose another --local-dir")
    if local_dir.exists():
        shutil.rmtree(local_dir)
    local_dir.mkdir(parents=True)
    (local_dir / DEMO_MARKER).write_text("made by botctl demo: emptied by the next demo\n", encoding="utf-8")
    work = local_dir / "demo-inputs"
    work.mkdir()
    env = {**os.environ, "BOT_LOCAL_DIR": str(local_dir), "BOT_EGRESS": "outbox"}
    env.pop("BOT_USER_ID", None)
    echo(f"Starting the local runtime (state in {local_dir}) ...")
    started = time.monotonic()
    with _runtime(local_dir, _free_port(), env) as url:
        echo(f"Webhook at {url}; replaying the scenario through it, signed as X signs deliveries.")
        sent = [_send(step, url, local_dir, env, work) for step in scenario(work, LOCAL_BOT_USER_ID).steps]
        echo("Waiting for the analysis, the replies and the data lake ...")
        _wait(local_dir, env, timeout)
    problems = _print_transcript(sent, local_dir, echo)
    _print_queries(local_dir, echo)
    echo(
        f"\nDone in {time.monotonic() - started:.0f} s. Explore further with: "
        f".venv/bin/botctl query --local-dir {local_dir} 'SELECT ...'"
    )
    if problems:
        echo(f"{problems} problem(s): see the lines marked !!")
    return problems
