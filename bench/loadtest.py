"""`make loadtest`: 1,000 signed deliveries from 20 concurrent senders against the local runtime.

Starts `botctl serve` on a free port with fresh state in `.local/loadtest/`, sends a mix of
deliveries (mentions asking for a joke or a fact, negative ones that alert, a few with a photo,
follows, 20% duplicates: exact re-sends as X redelivers, and the same posts again in the X Activity
envelope; a few hostile ones: a forged signature, signed but malformed bodies), waits until the
local bus has nothing pending, then reads the outcome from the state folder (the data lake through
Athena SQL on DuckDB, the outbox, the alerts, the dead letters) and prints the figures.

A benchmark, not a timed test: it exits 1 only on a lost post, a duplicated analysis or reply, or
a 5xx (or no answer at all). Definitions are in `Report` below and in README.md's "Load test".

    .venv/bin/python bench/loadtest.py [--deliveries 1000] [--senders 20] [--local-dir .local/loadtest]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botlocal.background import serving, wait_until_idle
from botlocal.layout import LOCAL_DIR_VARIABLE, LocalLayout

ROOT: Final = Path(__file__).resolve().parents[1]
ASSETS: Final = ROOT / "local" / "botlocal" / "demo_assets"
TABLE: Final = '"analysed-messages-table"'
#: Marks a state folder the load test made, so the next run may empty it (and no other folder).
MARKER: Final = ".xbot-loadtest"
#: Events that end a post's analysis: analysed, or failed with a reason.
ANALYSED: Final = "MESSAGE_ANALYSED"
ANALYSIS_FAILED: Final = "MESSAGE_ANALYSIS_FAILED"
RECEIVED: Final = "MESSAGE_RECEIVED"
REJECTED: Final = "DELIVERY_REJECTED"
FOLLOWED: Final = "TWITTER_FOLLOWED"
#: Guards (where the runtime has them) record why they skipped a post or a reply: *_SKIPPED.
SKIPPED_SUFFIX: Final = "_SKIPPED"
#: The photos a photo mention attaches, shrunk once: image analysis dominates the local runtime.
PHOTO_ASSETS: Final = ("obama2.jpg", "coffee.jpg")
PHOTO_WIDTH: Final = 320

JOKES: Final = ("tell me a joke", "got a joke for me?", "make me laugh, tell a joke please")
FACTS: Final = ("tell me a fun fact please", "share a fact", "what is an interesting fact?")
NEGATIVE: Final = (
    "you are a terrible, useless and awful bot",
    "I hate this bot, it is the worst and completely useless",
    "awful answers, horrible and stupid bot",
)
PHOTO_TEXTS: Final = ("who is this?", "what is in this photo?")
#: Authors of the mentions: few posts each, but for one that posts about 5% of them.
AUTHORS: Final = 300
CHATTY_AUTHOR: Final = "chatty_user"
CHATTY_SHARE: Final = 0.05


# --- the deliveries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One delivery to send: its kind, its exact bytes and signature, the post it carries (if any)
    and the answer it must get."""

    kind: str  # mention, negative, photo, follow, resend, x-activity, forged, malformed
    body: bytes
    signature: str
    expect: int
    tweet_id: str | None = None
    #: For a duplicate: the kind of the delivery it repeats.
    repeats: str | None = None


@dataclass
class Sent:
    planned: Planned
    sent_at: float
    status: int | None  # None: no answer (connection error, timeout)
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class Mix:
    """Shares of the deliveries, by kind (the rest are text mentions)."""

    duplicates: float = 0.20
    #: Of the duplicates, the share sent as the X Activity envelope of the same post.
    second_route: float = 0.30
    photos: float = 0.05
    follows: float = 0.08
    forged: float = 0.015
    malformed: float = 0.015
    #: Of the text mentions, the share that is negative (and should alert).
    negative: float = 0.15


def _count(total: int, share: float) -> int:
    return max(1, round(total * share)) if share > 0 else 0


def plan(total: int, layout: LocalLayout, bot_user_id: str, mix: Mix = Mix(), seed: int = 8) -> list[Planned]:
    """`total` deliveries in sending order; every duplicate comes after the delivery it repeats.

    Photos are copied into the state folder's media inbox (as `botctl tweet --image` does), so the
    made-up X media URLs bring them to the analysis without a download.
    """
    from chalicelib.ingress.signature import sign

    rng = random.Random(seed)  # noqa: S311 (a reproducible mix, not a secret)
    duplicates = _count(total, mix.duplicates)
    second_route = round(duplicates * mix.second_route)
    forged, malformed = _count(total, mix.forged), _count(total, mix.malformed)
    photos, follows = _count(total, mix.photos), _count(total, mix.follows)
    mentions = total - duplicates - forged - malformed - photos - follows
    if mentions < 1:
        raise ValueError(f"{total} deliveries are too few for the mix")
    negatives = round(mentions * mix.negative)
    kinds = ["negative"] * negatives + ["mention"] * (mentions - negatives) + ["photo"] * photos + ["follow"] * follows
    kinds += ["forged"] * forged + ["malformed"] * malformed
    rng.shuffle(kinds)
    photo_bytes = [small_photo(ASSETS / name) for name in PHOTO_ASSETS] if photos else []

    def signed(kind: str, body: bytes, expect: int = 200, **more: Any) -> Planned:
        return Planned(kind, body, signed_locally(body), expect, **more)

    originals: list[Planned] = []
    for index, kind in enumerate(kinds):
        if kind in ("mention", "negative", "photo"):
            body, tweet_id = mention(kind, index, rng, layout, bot_user_id, photo_bytes)
            originals.append(signed(kind, body, tweet_id=tweet_id))
        elif kind == "follow":
            originals.append(signed(kind, _follow(index, bot_user_id)))
        elif kind == "forged":
            body = json.dumps(_follow_delivery(index, bot_user_id)).encode()
            originals.append(Planned(kind, body, sign("not-the-consumer-secret", body), 401))
        else:
            originals.append(signed(kind, _malformed(index, bot_user_id)))

    # Duplicates go in after the delivery they repeat, at random later places.
    ordered: list[Planned] = list(originals)
    repeatable = [p for p in originals if p.kind in ("mention", "negative", "photo", "follow")]
    posts = [p for p in repeatable if p.tweet_id is not None]
    for number in range(duplicates):
        if number < second_route:
            original = rng.choice(posts)
            assert original.tweet_id is not None
            body = _x_activity(original, bot_user_id)
            duplicate = signed("x-activity", body, tweet_id=original.tweet_id, repeats=original.kind)
        else:
            original = rng.choice(repeatable)
            duplicate = Planned("resend", original.body, original.signature, 200, original.tweet_id, original.kind)
        after = ordered.index(original) + 1
        ordered.insert(rng.randint(after, len(ordered)), duplicate)
    return ordered


def small_photo(path: Path) -> bytes:
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image.thumbnail((PHOTO_WIDTH, PHOTO_WIDTH))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def mention(
    kind: str,
    index: int,
    rng: random.Random,
    layout: LocalLayout,
    bot_user_id: str,
    photos: list[bytes],
    author: str | None = None,
) -> tuple[bytes, str]:
    """The body of a mention (`kind`: mention, negative or photo) and its post id; `make bench` uses it too."""
    from botlocal.compose import compose_mention, snowflake

    # Most authors post a few times; one chatty author posts more than the Responding guards'
    # per-author limit allows (where the runtime has them): its extra posts are skipped, not lost.
    if author is None:
        author = CHATTY_AUTHOR if rng.random() < CHATTY_SHARE else f"load_user_{rng.randrange(AUTHORS)}"
    photo_urls: list[str] = []
    if kind == "photo":
        layout.media_inbox.mkdir(parents=True, exist_ok=True)
        name = f"{snowflake(datetime.now(UTC))}.jpg"
        (layout.media_inbox / name).write_bytes(photos[index % len(photos)])
        photo_urls.append(f"https://pbs.twimg.com/media/{name}")
        text = rng.choice(PHOTO_TEXTS)
    else:
        text = rng.choice(NEGATIVE if kind == "negative" else rng.choice((JOKES, FACTS)))
    composed = compose_mention(f"{text} #{index}", author=author, photo_urls=photo_urls, bot_user_id=bot_user_id)
    return json.dumps(composed.delivery, ensure_ascii=False).encode("utf-8"), composed.tweet_id


def _follow_delivery(index: int, bot_user_id: str) -> dict[str, Any]:
    delivery: dict[str, Any] = json.loads((ASSETS / "follow.json").read_text(encoding="utf-8"))
    delivery["for_user_id"] = bot_user_id
    event = delivery["follow_events"][0]
    event["created_timestamp"] = str(int(time.time() * 1000) + index)
    event["target"]["id"] = bot_user_id
    event["source"]["id"] = str(3_000_000_000 + index)
    return delivery


def _follow(index: int, bot_user_id: str) -> bytes:
    return json.dumps(_follow_delivery(index, bot_user_id)).encode("utf-8")


def _malformed(index: int, bot_user_id: str) -> bytes:
    """A signed body the webhook must record as DELIVERY_REJECTED (and answer 200)."""
    variant = index % 4
    if variant == 0:  # nested far deeper than any real delivery
        return b'{"for_user_id": "' + bot_user_id.encode() + b'", "deep": ' + b"[" * 40 + b"]" * 40 + b"}"
    if variant == 1:  # a constant that is not JSON's
        return b'{"for_user_id": "' + bot_user_id.encode() + b'", "tweet_create_events": [NaN]}'
    if variant == 2:  # a mention of the bot without an author
        mentions = [{"id_str": bot_user_id, "screen_name": "xbot"}]
        post = {"id_str": str(4_000_000_000 + index), "text": "@xbot hi", "entities": {"user_mentions": mentions}}
        return json.dumps({"for_user_id": bot_user_id, "tweet_create_events": [post]}).encode()
    # the subscribed account is not an id
    return json.dumps({"for_user_id": {"id": index}, "follow_events": []}).encode()


def _x_activity(original: Planned, bot_user_id: str) -> bytes:
    """The post of an Account Activity delivery, in the X Activity API's envelope (same post id)."""
    post = json.loads(original.body)["tweet_create_events"][0]
    user = post["user"]
    payload: dict[str, Any] = {
        "id": post["id_str"],
        "text": post["text"],
        "author_id": user["id_str"],
        "conversation_id": post["id_str"],
        "created_at": datetime.fromtimestamp(int(post["timestamp_ms"]) / 1000, UTC).isoformat(),
        "edit_history_tweet_ids": [post["id_str"]],
        "lang": post.get("lang") or "und",
        "entities": {
            "mentions": [
                {"start": m["indices"][0], "end": m["indices"][1], "username": m["screen_name"], "id": m["id_str"]}
                for m in post["entities"]["user_mentions"]
            ]
        },
    }
    author = {"id": user["id_str"], "username": user["screen_name"], "name": user["name"]}
    includes: dict[str, Any] = {"users": [author]}
    media = (post.get("extended_entities") or {}).get("media") or []
    if media:
        keys = [f"3_{m['id_str']}" for m in media]
        payload["attachments"] = {"media_keys": keys}
        includes["media"] = [
            {"media_key": key, "type": "photo", "url": m["media_url_https"]} for key, m in zip(keys, media, strict=True)
        ]
    envelope = {
        "data": {
            "event_uuid": post["id_str"],
            "filter": {"user_id": bot_user_id},
            "event_type": "post.mention.create",
            "tag": "mentions",
            "payload": payload,
            "includes": includes,
        }
    }
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


# --- sending ----------------------------------------------------------------------------------


def send_all(url: str, deliveries: list[Planned], senders: int, timeout: float = 60.0) -> list[Sent]:
    """POST every delivery from `senders` threads, one requests.Session each; in the plan's order."""
    import requests
    from chalicelib.ingress.signature import SIGNATURE_HEADER

    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        current: requests.Session = local.session
        return current

    def post(planned: Planned) -> Sent:
        headers = {"content-type": "application/json", SIGNATURE_HEADER: planned.signature}
        sent_at, started = time.time(), time.perf_counter()
        try:
            response = session().post(url, data=planned.body, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            return Sent(planned, sent_at, None, time.perf_counter() - started, type(error).__name__)
        text = "" if response.status_code < 300 else response.text[:200]
        return Sent(planned, sent_at, response.status_code, time.perf_counter() - started, text)

    try:
        with ThreadPoolExecutor(max_workers=senders, thread_name_prefix="sender") as pool:
            return list(pool.map(post, deliveries))
    finally:
        for each in sessions:
            each.close()


# --- the local runtime ------------------------------------------------------------------------


def fresh_state(local_dir: Path) -> LocalLayout:
    """An empty state folder; only a folder an earlier load test made is emptied."""
    if local_dir.exists() and any(local_dir.iterdir()) and not (local_dir / MARKER).exists():
        raise SystemExit(f"{local_dir} is not empty and not a load-test folder; choose another --local-dir")
    if local_dir.exists():
        shutil.rmtree(local_dir)
    local_dir.mkdir(parents=True)
    (local_dir / MARKER).write_text("made by bench/loadtest.py: emptied by the next run\n", encoding="utf-8")
    return LocalLayout(local_dir.resolve())


def wait_for_work(layout: LocalLayout, env: dict[str, str], timeout: float) -> bool:
    """`botctl wait`: True once nothing is pending on the local bus (dead letters do not count)."""
    problem = wait_until_idle(layout, env, timeout)
    if problem is not None:
        print(f"!! botctl wait: {problem}", file=sys.stderr)
    return problem is None


# --- the outcome ------------------------------------------------------------------------------


@dataclass
class Report:
    """What a run did. Each count is read from the state folder after `botctl wait`."""

    sent: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # status (or "no answer") -> deliveries
    unexpected: list[str] = field(default_factory=list)  # deliveries answered otherwise than planned
    send_seconds: float = 0.0
    answer_seconds: list[float] = field(default_factory=list)
    drain_seconds: float = 0.0
    posts: int = 0  # distinct posts addressed to the bot with at least one delivery answered 200
    received: int = 0  # MESSAGE_RECEIVED events (every arrival of a post)
    analysed: int = 0  # posts with a MESSAGE_ANALYSED
    analysis_failed: int = 0  # posts with a MESSAGE_ANALYSIS_FAILED and no MESSAGE_ANALYSED
    skipped: Counter[str] = field(default_factory=Counter)  # *_SKIPPED events by type
    alerts: int = 0
    negative_posts: int = 0
    replies: int = 0
    follows_sent: int = 0  # follow deliveries answered 200 (re-sends included)
    follows_recorded: int = 0
    malformed_sent: int = 0  # malformed deliveries answered 200
    rejected_recorded: int = 0
    dead_letters: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, first delivery of a post to its reply
    #: The runtime's own measure where it records one: REPLY_POSTED's LatencyMs, in seconds.
    runtime_latencies: list[float] = field(default_factory=list)
    last_reply_at: float = 0.0
    first_sent_at: float = 0.0
    drained: bool = True

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.answers.items() if status.startswith("5") or status == "no answer")

    @property
    def duplicates_suppressed(self) -> int:
        """Arrivals of an already-seen post that reached the bus and gave no second analysis/reply."""
        return self.received - self.posts

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.server_errors)


def collect(layout: LocalLayout, sent: list[Sent]) -> Report:
    """Read the outcome of `sent` from the state folder: the data lake, outbox, alerts, journal."""
    from botlocal.alerts import read_alerts
    from botlocal.journal import Journal
    from botlocal.outbox import read_outbox
    from botlocal.query import run_query

    report = Report(sent=len(sent), first_sent_at=min((s.sent_at for s in sent), default=0.0))
    first_sent: dict[str, float] = {}
    negative: set[str] = set()
    for each in sent:
        planned = each.planned
        report.by_kind[planned.kind] += 1
        status = "no answer" if each.status is None else str(each.status)
        report.answers[status] += 1
        if each.status is not None:
            report.answer_seconds.append(each.seconds)
        if each.status != planned.expect:
            report.unexpected.append(f"{planned.kind}: {status} (expected {planned.expect}) {each.error}".strip())
        if each.status != 200:
            continue
        if planned.tweet_id is not None:
            first_sent[planned.tweet_id] = min(each.sent_at, first_sent.get(planned.tweet_id, each.sent_at))
            if "negative" in (planned.kind, planned.repeats):
                negative.add(planned.tweet_id)
        if "follow" in (planned.kind, planned.repeats):
            report.follows_sent += 1
        if planned.kind == "malformed":
            report.malformed_sent += 1
    report.posts, report.negative_posts = len(first_sent), len(negative)

    _, rows = run_query(
        f"SELECT detail_type, detail.twitter.tweetid, detail.replytotweetid FROM {TABLE}",  # noqa: S608
        layout.root,
    )
    events: dict[str, Counter[str]] = defaultdict(Counter)  # tweet id -> detail type -> count
    for detail_type, tweet_id, reply_to in rows:
        post = tweet_id or reply_to
        if post:
            events[str(post)][str(detail_type)] += 1
        report.received += detail_type == RECEIVED
        report.follows_recorded += detail_type == FOLLOWED
        report.rejected_recorded += detail_type == REJECTED
    skipped_posts = _skipped(layout, report.skipped)
    report.runtime_latencies = _runtime_latencies(layout)

    replies: dict[str, list[float]] = defaultdict(list)
    for reply in read_outbox(layout.outbox):
        replies[str(reply.get("ReplyToTweetId"))].append(datetime.fromisoformat(str(reply["time"])).timestamp())
    report.replies = sum(len(times) for times in replies.values())
    alerts = read_alerts(layout.alerts)
    report.alerts = len(alerts)
    alerts_per_post = Counter(str((a.get("attributes") or {}).get("TweetId")) for a in alerts)

    if layout.journal.exists():
        with Journal(layout.journal) as journal:
            report.dead_letters = len(journal.dead_letters())

    for tweet_id, sent_at in first_sent.items():
        counts = events.get(tweet_id, Counter())
        if counts[ANALYSED]:
            report.analysed += 1
        elif counts[ANALYSIS_FAILED]:
            report.analysis_failed += 1
        elif tweet_id not in skipped_posts:
            report.lost.append(tweet_id)
        if counts[ANALYSED] > 1 or len(replies.get(tweet_id, [])) > 1 or alerts_per_post[tweet_id] > 1:
            report.duplicated.append(
                f"{tweet_id}: {counts[ANALYSED]} analyses, {len(replies.get(tweet_id, []))} replies, "
                f"{alerts_per_post[tweet_id]} alerts"
            )
        if replies.get(tweet_id):
            reply_at = min(replies[tweet_id])
            report.latencies.append(reply_at - sent_at)
            report.last_reply_at = max(report.last_reply_at, reply_at)
    # Raw events are never deduplicated: each follow answered 200 is one TWITTER_FOLLOWED, and
    # each malformed one at least one DELIVERY_REJECTED.
    if report.follows_recorded < report.follows_sent:
        report.lost.append(f"{report.follows_sent - report.follows_recorded} follows")
    if report.rejected_recorded < report.malformed_sent:
        report.lost.append(f"{report.malformed_sent - report.rejected_recorded} rejections")
    return report


def _runtime_latencies(layout: LocalLayout) -> list[float]:
    """REPLY_POSTED's LatencyMs (Ingress accepting the delivery to the reply), if the runtime has it."""
    from botlocal.query import QueryError, run_query

    try:
        _, rows = run_query(
            f"SELECT detail.latencyms FROM {TABLE} WHERE detail_type = 'REPLY_POSTED'",  # noqa: S608
            layout.root,
        )
    except QueryError:  # a runtime without REPLY_POSTED has no such column
        return []
    return [float(row[0]) / 1000 for row in rows if isinstance(row[0], int | float)]


def _skipped(layout: LocalLayout, counts: Counter[str]) -> set[str]:
    """Posts a guard skipped with a reason (events *_SKIPPED, read whole from the lake's files, as
    their detail may have fields the table has no column for); counts them by type."""
    from botlocal.datalake import FILES_GLOB

    posts: set[str] = set()
    for path in sorted(layout.datalake.glob(FILES_GLOB)):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if SKIPPED_SUFFIX not in line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn line
            detail_type = str(event.get("detail-type", ""))
            if not detail_type.endswith(SKIPPED_SUFFIX):
                continue
            counts[detail_type] += 1
            detail = event.get("detail")
            if _find(detail, "reason") is not None:
                posts.update(_ids(detail))
    return posts


def _find(value: Any, key: str) -> Any:
    """The first value of `key` (any case) anywhere in `value`."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name.lower() == key:
                return inner
        for inner in value.values():
            if (found := _find(inner, key)) is not None:
                return found
    return None


def _ids(detail: Any) -> set[str]:
    found = {_find(detail, key) for key in ("tweetid", "replytotweetid")}
    return {str(value) for value in found if isinstance(value, str | int)}


# --- printing ---------------------------------------------------------------------------------


def _percentiles(samples: list[float], unit: str = "s", scale: float = 1.0) -> str:
    """Nearest-rank percentiles of `samples`, multiplied by `scale` and shown in `unit`."""
    if not samples:
        return "none"
    ordered = sorted(samples)

    def at(share: float) -> str:
        return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))] * scale:.2f} {unit}"

    return f"p50 {at(0.50)}, p90 {at(0.90)}, p99 {at(0.99)}, max {ordered[-1] * scale:.2f} {unit}"


def render_report(report: Report, senders: int) -> str:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(report.by_kind.items()))
    answers = ", ".join(f"{status}: {n}" for status, n in sorted(report.answers.items()))
    skipped = ", ".join(f"{kind} {n}" for kind, n in sorted(report.skipped.items())) or "0 (no skip events)"
    end_to_end = report.last_reply_at - report.first_sent_at if report.last_reply_at else 0.0
    lines = [
        f"sent:                  {report.sent} deliveries from {senders} senders ({kinds})",
        f"answers by status:     {answers}",
        f"unexpected answers:    {len(report.unexpected)}",
        f"posts to the bot:      {report.posts} distinct ({report.received} arrivals on the bus)",
        f"messages analysed:     {report.analysed} (analysis failed: {report.analysis_failed})",
        f"alerts:                {report.alerts} ({report.negative_posts} negative posts sent)",
        f"replies:               {report.replies}",
        f"duplicates suppressed: {report.duplicates_suppressed} arrivals of an already-seen post",
        f"skipped by guard:      {skipped}",
        f"follows recorded:      {report.follows_recorded} of {report.follows_sent} answered 200",
        f"rejections recorded:   {report.rejected_recorded} for {report.malformed_sent} malformed deliveries",
        f"dead letters:          {report.dead_letters}",
        f"lost:                  {len(report.lost)}",
        f"duplicated:            {len(report.duplicated)}",
        f"5xx or no answer:      {report.server_errors}",
        f"throughput:            {report.sent / report.send_seconds:.0f} deliveries/s accepted "
        f"({report.send_seconds:.1f} s to send); {report.analysed + report.analysis_failed} posts processed in "
        f"{report.drain_seconds:.1f} s from the first send to an empty bus "
        f"({(report.analysed + report.analysis_failed) / max(report.drain_seconds, 1e-9):.1f} posts/s)",
        f"webhook answer time:   {_percentiles(report.answer_seconds, 'ms', 1000)}",
        f"latency to reply:      {_percentiles(report.latencies)} over {len(report.latencies)} replies "
        f"(last reply {end_to_end:.1f} s after the first send)",
    ]
    if report.runtime_latencies:
        lines.append(
            f"runtime's LatencyMs:   {_percentiles(report.runtime_latencies)} "
            f"over {len(report.runtime_latencies)} REPLY_POSTED (Ingress's acceptance to the reply)"
        )
    if not report.drained:
        lines.append("!! the bus still had pending work when the wait ended")
    for title, items in (("unexpected", report.unexpected), ("lost", report.lost), ("duplicated", report.duplicated)):
        for item in items[:10]:
            lines.append(f"!! {title}: {item}")
        if len(items) > 10:
            lines.append(f"!! ... and {len(items) - 10} more {title}")
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------


def signed_locally(body: bytes) -> str:
    """The signature X would send with `body` to the local runtime (its development consumer secret)."""
    from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
    from chalicelib.ingress.signature import sign

    return sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)


def serve_environment(layout: LocalLayout) -> dict[str, str]:
    """The environment of a `botctl serve` that measures the pipeline: `layout`'s state, the dry-run
    outbox, the bot's local account id, few log lines."""
    env = {**os.environ, LOCAL_DIR_VARIABLE: str(layout.root), "BOT_EGRESS": "outbox"}
    env.pop("BOT_USER_ID", None)
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # a log line per event would slow the runtime
    # Measure the pipeline, not X's posting limit: with the default budget (100 posts per 15
    # minutes) every reply past the hundredth would wait for the next window. POST_BUDGET in the
    # caller's environment still wins, to watch the budget at work.
    env.setdefault("POST_BUDGET", "100000")
    return env


def run_loadtest(
    local_dir: Path, deliveries: int = 1000, senders: int = 20, mix: Mix = Mix(), wait_timeout: float = 600.0
) -> Report:
    """Start the local runtime on fresh state in `local_dir`, send, wait, stop it and read the outcome."""
    from botlocal.compose import LOCAL_BOT_USER_ID

    layout = fresh_state(local_dir)
    env = serve_environment(layout)
    planned = plan(deliveries, layout, LOCAL_BOT_USER_ID, mix)
    with serving(layout, env) as url:
        started = time.monotonic()
        sent = send_all(url, planned, senders)
        send_seconds = time.monotonic() - started
        drained = wait_for_work(layout, env, wait_timeout)
        drain_seconds = time.monotonic() - started
    report = collect(layout, sent)
    report.send_seconds, report.drain_seconds, report.drained = send_seconds, drain_seconds, drained
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--local-dir", type=Path, default=ROOT / ".local" / "loadtest")
    parser.add_argument("--wait-timeout", type=float, default=600.0, help="Seconds `botctl wait` may take.")
    args = parser.parse_args(argv)
    print(
        f"Load test: {args.deliveries} signed deliveries from {args.senders} senders against `botctl serve` "
        f"(state in {args.local_dir}) ..."
    )
    report = run_loadtest(args.local_dir, args.deliveries, args.senders, wait_timeout=args.wait_timeout)
    print(render_report(report, args.senders))
    if report.failed:
        print("FAILED: lost, duplicated or 5xx (see the lines marked !!)")
        return 1
    print("OK: 0 lost, 0 duplicated, 0 5xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
