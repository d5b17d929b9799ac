"""The webhook's hot path in process (the bus stubbed) and the local bus's PutEvents.

Part of `make bench` (bench/run.py); `python -m bench.bench_webhook` prints these figures alone.
Machines here are noisy: compare medians of the same machine only.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench.stats import Figure, figure, percentile, render

ROOT: Final = Path(__file__).resolve().parents[1]
RUNTIME: Final = ROOT / "runtime"
FIXTURE: Final = ROOT / "tests" / "fixtures" / "x-webhooks" / "tweet_create_events_mention_reply.json"


class _NullBus:
    def put_entries(self, entries: list[dict[str, Any]]) -> list[Any]:
        from chalicelib.ports import EntryResult

        return [EntryResult(event_id=str(i)) for i, _ in enumerate(entries)]


def hot_path(rounds: int = 5, requests: int = 400) -> list[Figure]:
    """A signed delivery through the route (Chalice test client), the bus answering at once: p50 and
    p99 of each run of `requests` deliveries."""
    sys.path.insert(0, str(RUNTIME))
    from app import app
    from botlocal.config import StaticConsumerSecret
    from chalice.test import Client
    from chalicelib import wiring
    from chalicelib.ingress.signature import sign
    from chalicelib.observability import logger

    # One log line per request would dominate (and the logger may exist already: no env variable).
    logger.setLevel("WARNING")

    wiring.event_bus = lambda: _NullBus()  # type: ignore[assignment]
    wiring.webhook_secret = lambda: StaticConsumerSecret("bench")  # type: ignore[assignment]
    body = FIXTURE.read_bytes()
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": sign("bench", body)}
    p50: list[float] = []
    p99: list[float] = []
    with Client(app) as client:
        client.http.post("/twitter", headers=headers, body=body)  # builds the services once
        for _ in range(rounds):
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.http.post("/twitter", headers=headers, body=body)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200
            p50.append(percentile(timings, 0.50) * 1e6)
            p99.append(percentile(timings, 0.99) * 1e6)
    section = "webhook in process (Chalice test client, bus stubbed)"
    note = f"signed delivery -> 2 events, {requests} requests a run"
    return [
        figure(section, "delivery answered, p50", "us", p50, note),
        figure(section, "delivery answered, p99", "us", p99, note),
    ]


def local_bus(rounds: int = 5, deliveries: int = 200) -> list[Figure]:
    """PutEvents into the local journal (durable: one fsync'ed transaction per call)."""
    from botlocal.adapters import LocalAdapters
    from chalicelib.settings import load_settings

    rates: list[float] = []
    saved = os.environ.get("BOT_LOCAL_DIR")
    try:
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as state:
                os.environ["BOT_LOCAL_DIR"] = state
                bus = LocalAdapters(load_settings()).event_bus()
                entry = {"Source": "xbot.ingress", "DetailType": "TWITTER_TWEETED", "Detail": json.dumps({"n": 1})}
                started = time.perf_counter()
                for _ in range(deliveries):
                    bus.put_entries([entry, entry])
                rates.append(deliveries / (time.perf_counter() - started))
    finally:
        if saved is None:
            os.environ.pop("BOT_LOCAL_DIR", None)
        else:
            os.environ["BOT_LOCAL_DIR"] = saved
    section = "local bus (SQLite journal)"
    return [figure(section, "PutEvents of 2 events", "calls/s", rates, f"{deliveries} calls a run, fsync'ed")]


if __name__ == "__main__":
    print(render([*hot_path(), *local_bus()]))
