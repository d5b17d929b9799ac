"""`make demo`: the bot's main job on the local runtime, end to end, with a readable transcript.

Starts `botctl serve` on a free port with fresh state, plays the scenario (botlocal.demo_scenario)
through the real webhook with the commands a person would type (signed deliveries, found through
the address the server records), waits for the work, prints what came in, what the analysis found,
the alert, the replies and their annotated images, runs the README's analytics queries, and stops.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts.messages import is_direct_message

from botlocal.background import BOTCTL, serving, wait_until_idle
from botlocal.demo_scenario import ASSETS, SCENARIO, Delivery, DirectMessage, Mention, OwnPost, Photo, Step
from botlocal.layout import LOCAL_DIR_VARIABLE, LocalLayout
from botlocal.render import render

TABLE: Final = '"analysed-messages-table"'
#: Marks a state folder the demo made, so the next demo may empty it (and no other folder).
DEMO_MARKER: Final = ".xbot-demo"
#: Where the demo writes the files it sends (painted photos, raw deliveries), inside its state folder.
INPUTS_DIR: Final = "demo-inputs"
Echo = Callable[[str], None]


class DemoError(Exception):
    """The demo could not run (the runtime did not start, a step failed); the message says why."""


@dataclass(frozen=True)
class Sent:
    """A step as sent: the id of the mention (replies answer it) or of the bot's own post."""

    step: Step
    tweet_id: str | None = None
    own_post_id: str | None = None


def painted_photo(photo: Photo, path: Path) -> Path:
    """The photo's asset, with its sign's lines on a white panel: what a sign looks like to the OCR."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(ASSETS / photo.asset).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.rectangle((40, 40, 560, 50 + 70 * len(photo.sign)), fill="white")
    for index, line in enumerate(photo.sign):
        draw.text((60, 50 + 70 * index), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def photo_file(photo: Photo, work: Path) -> Path:
    """The file to attach for `photo`: the asset itself, or a painted copy in `work`."""
    if not photo.sign:
        return ASSETS / photo.asset
    return painted_photo(photo, work / f"{Path(photo.asset).stem}-sign.png")


def own_post_delivery(step: OwnPost, bot_user_id: str) -> tuple[dict[str, Any], str]:
    """The delivery of the bot's own post (written by the bot, replying to the bot), and its id."""
    from botlocal.compose import LOCAL_BOT_SCREEN_NAME, compose_mention

    own = compose_mention(step.text, author=LOCAL_BOT_SCREEN_NAME, photo_urls=[], bot_user_id=bot_user_id)
    post = own.delivery["tweet_create_events"][0]
    post["user"]["id_str"] = bot_user_id
    post["in_reply_to_user_id_str"] = bot_user_id
    return own.delivery, own.tweet_id


def raw_delivery(step: Delivery, bot_user_id: str) -> dict[str, Any]:
    """The asset's delivery, addressed to the bot."""
    delivery: dict[str, Any] = json.loads((ASSETS / step.asset).read_text(encoding="utf-8"))
    delivery["for_user_id"] = bot_user_id
    return delivery


def _send(step: Step, layout: LocalLayout, env: dict[str, str], work: Path, bot_user_id: str) -> Sent:
    """Send one step with the command a person would type; botctl finds the server's address."""
    local_dir = ["--local-dir", str(layout.root)]
    own_post_id = None
    if isinstance(step, Mention):
        args = ["tweet", step.text, "--author", step.author, "--lang", step.lang, *local_dir]
        for photo in step.photos:
            args += ["--image", str(photo_file(photo, work))]
    elif isinstance(step, DirectMessage):
        args = ["dm", step.text, "--author", step.author, *local_dir]
    else:
        if isinstance(step, OwnPost):
            delivery, own_post_id = own_post_delivery(step, bot_user_id)
        else:
            delivery = raw_delivery(step, bot_user_id)
        body = work / f"{abs(hash(step.title))}.json"
        body.write_text(json.dumps(delivery), encoding="utf-8")
        args = ["send", *local_dir, str(body)]
    result = subprocess.run([str(BOTCTL), *args], env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DemoError(f"{step.title}: botctl {args[0]} failed: {(result.stderr or result.stdout).strip()}")
    tweet_id = result.stdout.strip() if isinstance(step, Mention | DirectMessage) else None
    return Sent(step, tweet_id=tweet_id, own_post_id=own_post_id)


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


def _print_transcript(sent: list[Sent], layout: LocalLayout, echo: Echo) -> int:
    """Print what happened to each step; return how many expectations were not met."""
    from botlocal.alerts import read_alerts
    from botlocal.compose import user_id_of
    from botlocal.outbox import read_outbox

    local_dir = layout.root
    alerts = read_alerts(layout.alerts)
    outbox = read_outbox(layout.outbox)
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(text)
        echo(f"   !! {text}")

    for item in sent:
        step = item.step
        echo(f"\n== {step.title}")
        if isinstance(step, DirectMessage):
            echo(f"   DM from @{step.author}: {step.text}")
            # A DM answer names the person it goes to (X's DM endpoint takes no "in reply to").
            person = user_id_of(step.author)
            answers = [entry for entry in outbox if is_direct_message(entry) and entry.get("ParticipantId") == person]
            for answer in answers:
                echo(f"   DM answer: {answer.get('Text')}")
            if len(answers) != 1:
                problem(f"{len(answers)} DM answers instead of one")
            for answer in answers:
                _check_intent(step.expect_intent, "en", str(answer.get("Text")), problem)
            continue
        if isinstance(step, Mention):
            photos = f"  [+{len(step.photos)} photo]" if step.photos else ""
            echo(f"   @{step.author}: {step.text}{photos}")
            detail = _analysis(local_dir, item.tweet_id) if item.tweet_id else None
            if detail is None:
                problem("no analysis found")
            for line in _describe_analysis(detail) if detail else []:
                echo(f"   analysis: {line}")
            raised = [alert for alert in alerts if item.tweet_id and item.tweet_id in str(alert.get("message", ""))]
            for alert in raised:
                echo(f"   ALERT: {alert.get('subject')}")
            if step.expect_alert and not raised:
                problem("no alert raised")
            if raised and not step.expect_alert:
                problem("an alert nobody expected")
        else:
            echo(f"   {step.described}")
            if _count(local_dir, f"detail_type = '{step.expect_raw}'"):
                echo(f"   recorded as {step.expect_raw} in the data lake")
            else:
                problem(f"no {step.expect_raw} event recorded")
            if item.own_post_id:
                messages = _count(
                    local_dir,
                    f"detail_type = 'MESSAGE_RECEIVED' AND detail.twitter.tweetid = '{item.own_post_id}'",
                )
                if messages:
                    problem("the bot's own post became a MESSAGE_RECEIVED: a reply loop")
                else:
                    echo("   not a message for the bot: no analysis, no reply")
        replies = [entry for entry in outbox if item.tweet_id and entry.get("ReplyToTweetId") == item.tweet_id]
        for reply in replies:
            echo(f"   reply: {reply.get('Text')}")
            for image in reply.get("Images") or []:
                echo(f"   annotated image: {image}")
                if not Path(image).is_file():
                    problem(f"the annotated image {image} does not exist")
        expect_reply = isinstance(step, Mention)
        if expect_reply and not replies:
            problem("no reply in the outbox")
        if not expect_reply and replies:
            problem("a reply nobody expected")
        if isinstance(step, Mention):
            _check_reply(step, replies, problem)
    expected = {item.tweet_id for item in sent}
    strays = [entry for entry in outbox if entry.get("ReplyToTweetId") not in expected]
    if strays:
        echo("")
        problem(f"replies to posts the demo did not send: {strays}")
    return len(problems)


def _check_reply(step: Mention, replies: list[dict[str, Any]], problem: Callable[[str], None]) -> None:
    """The step's expectations of its reply: names with a photo, words, an intent, no joke or fact."""
    texts = [str(reply.get("Text")) for reply in replies]
    for name in step.expect_names:
        if not any(name in str(reply.get("Text")) and reply.get("Images") for reply in replies):
            problem(f"no reply naming {name} with an annotated photo")
    if step.expect_words and not any(
        word.casefold() in text.casefold() for text in texts for word in step.expect_words
    ):
        problem(f"no reply saying any of {list(step.expect_words)}")
    for text in texts:
        _check_intent(step.expect_intent, step.lang, text, problem)
        if step.expect_no_fun and _without_handle(text) in _fun_answers():
            problem("a joke or a fact for a negative message")


def _check_intent(intent: str | None, lang: str, text: str, problem: Callable[[str], None]) -> None:
    """The reply must be one of the bot's answers for `intent` in the language's locale."""
    from chalicelib.contracts.conversation import locale_for
    from chalicelib.responding.smalltalk import answers_for

    if intent is not None and _without_handle(text) not in answers_for(locale_for(lang), intent):
        problem(f"the reply is not a {intent} answer in {locale_for(lang)}")


def _without_handle(text: str) -> str:
    return text.split(" ", 1)[1] if text.startswith("@") and " " in text else text


@functools.cache
def _fun_answers() -> frozenset[str]:
    from chalicelib.responding.facts import FACTS
    from chalicelib.responding.jokes import JOKES

    return frozenset(JOKES) | frozenset(FACTS)


def _print_queries(local_dir: Path, echo: Echo) -> None:
    from chalicelib.contracts.queries import SAMPLE_QUERIES

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
    layout = LocalLayout(local_dir)
    work = local_dir / INPUTS_DIR
    work.mkdir()
    env = {**os.environ, LOCAL_DIR_VARIABLE: str(local_dir), "BOT_EGRESS": "outbox"}
    env.pop("BOT_USER_ID", None)
    echo(f"Starting the local runtime (state in {local_dir}) ...")
    started = time.monotonic()
    with serving(layout, env) as url:
        echo(f"Webhook at {url}; replaying the scenario through it, signed as X signs deliveries.")
        sent = [_send(step, layout, env, work, LOCAL_BOT_USER_ID) for step in SCENARIO]
        echo("Waiting for the analysis, the replies and the data lake ...")
        problem = wait_until_idle(layout, env, timeout)
        if problem is not None:
            raise DemoError(f"the local runtime did not finish the work: {problem}")
    problems = _print_transcript(sent, layout, echo)
    _print_queries(local_dir, echo)
    echo(
        f"\nDone in {time.monotonic() - started:.0f} s. Explore further with: "
        f".venv/bin/botctl query --local-dir {local_dir} 'SELECT ...'"
    )
    if problems:
        echo(f"{problems} problem(s): see the lines marked !!")
    return problems
