"""The local runtime end to end: delivery to reply for one post at a time, and a burst's throughput.

Starts `botctl serve` on a free port with fresh state (as `make loadtest` does, with its code:
bench/loadtest.py) and sends signed mentions, each from an author of its own (so no guard skips
one). Delivery to reply is the time from sending the delivery to the reply's line in the dry-run
outbox. The burst is `burst` text mentions from `senders` threads at once; its throughput is
posts answered per second from the first send until the local bus has nothing pending.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Final

from botlocal.layout import LocalLayout

from bench.loadtest import (
    ASSETS,
    PHOTO_ASSETS,
    Mix,
    Planned,
    fresh_state,
    mention,
    plan,
    send_all,
    serve_environment,
    signed_locally,
    small_photo,
)
from bench.stats import Figure, figure, percentile

#: Seconds a reply may take before the run gives up on it (the photo path on a busy machine is slow).
REPLY_TIMEOUT: Final = 120.0
TEXT_ONLY: Final = Mix(duplicates=0, photos=0, follows=0, forged=0, malformed=0, negative=0)


def _reply_time(outbox: Path, tweet_id: str, timeout: float) -> float:
    """When the reply to `tweet_id` was written to the outbox (epoch seconds)."""
    from datetime import datetime

    from botlocal.outbox import read_outbox

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for reply in read_outbox(outbox):
            if str(reply.get("ReplyToTweetId")) == tweet_id:
                return datetime.fromisoformat(str(reply["time"])).timestamp()
        time.sleep(0.02)
    raise TimeoutError(f"no reply to {tweet_id} within {timeout:.0f} s")


class _Poster:
    """Sends one mention at a time to a running `botctl serve` and times its reply."""

    def __init__(self, url: str, layout: LocalLayout, photos: list[bytes]) -> None:
        from botlocal.compose import LOCAL_BOT_USER_ID

        self._url, self._layout, self._photos = url, layout, photos
        self._bot = LOCAL_BOT_USER_ID
        self._rng = random.Random(12)  # noqa: S311 (a reproducible mix, not a secret)
        self._count = 0

    def delivery_to_reply(self, kind: str) -> float:
        self._count += 1
        author = f"bench_user_{self._count}"
        body, tweet_id = mention(kind, self._count, self._rng, self._layout, self._bot, self._photos, author=author)
        (sent,) = send_all(self._url, [Planned(kind, body, signed_locally(body), 200, tweet_id)], senders=1)
        if sent.status != 200:
            raise RuntimeError(f"the webhook answered {sent.status}: {sent.error}")
        return _reply_time(self._layout.outbox, tweet_id, REPLY_TIMEOUT) - sent.sent_at


def measure(
    local_dir: Path, rounds: int = 3, text_posts: int = 8, photo_posts: int = 4, burst: int = 40, senders: int = 10
) -> list[Figure]:
    from botlocal.background import serving, wait_until_idle
    from botlocal.compose import LOCAL_BOT_USER_ID

    layout = fresh_state(local_dir)
    env = serve_environment(layout)
    photos = [small_photo(ASSETS / name) for name in PHOTO_ASSETS]
    text: dict[str, list[float]] = {"p50": [], "p95": []}
    photo: dict[str, list[float]] = {"p50": [], "p95": []}
    throughput: list[float] = []
    with serving(layout, env) as url:
        poster = _Poster(url, layout, photos)
        # Warm up: the first post of each kind loads the local models.
        poster.delivery_to_reply("mention")
        poster.delivery_to_reply("photo")
        for _ in range(rounds):
            for kind, posts, into in (("mention", text_posts, text), ("photo", photo_posts, photo)):
                samples = [poster.delivery_to_reply(kind) for _ in range(posts)]
                into["p50"].append(percentile(samples, 0.50) * 1000)
                into["p95"].append(percentile(samples, 0.95) * 1000)
            deliveries = plan(burst, layout, LOCAL_BOT_USER_ID, TEXT_ONLY, seed=len(throughput))
            started = time.monotonic()
            send_all(url, deliveries, senders)
            problem = wait_until_idle(layout, env, timeout=600)
            if problem is not None:
                raise RuntimeError(f"botctl wait: {problem}")
            throughput.append(burst / (time.monotonic() - started))
    section = "local runtime (botctl serve, dry-run outbox)"
    return [
        figure(section, "text post: delivery to reply, p50", "ms", text["p50"], f"{text_posts} posts a run"),
        figure(section, "text post: delivery to reply, p95", "ms", text["p95"], "p95 of a run ~ its slowest"),
        figure(section, "photo post: delivery to reply, p50", "ms", photo["p50"], f"{photo_posts} posts a run"),
        figure(section, "photo post: delivery to reply, p95", "ms", photo["p95"], "p95 of a run ~ its slowest"),
        figure(section, "burst of text posts: throughput", "posts/s", throughput, f"{burst} posts, {senders} senders"),
    ]
