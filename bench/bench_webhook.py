"""Figures for the webhook's cold start and hot path, and for the local bus. Prints; asserts nothing.

Run with `make bench`. Machines here are noisy: compare medians of the same machine only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime"
FIXTURE = ROOT / "tests" / "fixtures" / "x-webhooks" / "tweet_create_events_mention_reply.json"

_COLD_START = """
import sys, time
started = time.perf_counter()
import app
elapsed = time.perf_counter() - started
print(elapsed, len(sys.modules), int('boto3' in sys.modules))
"""


def cold_start(runs: int = 7) -> None:
    """Importing app.py in a fresh interpreter, as a Lambda cold start does (AWS runtime)."""
    env = {**os.environ, "BOT_ADAPTERS": "chalicelib.adapters.aws:AwsAdapters", "PYTHONDONTWRITEBYTECODE": "1"}
    samples, modules, boto = [], 0, 0
    for _ in range(runs):
        out = subprocess.run(  # noqa: S603 (our own interpreter and a constant script)
            [sys.executable, "-c", _COLD_START], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        samples.append(float(out[0]))
        modules, boto = int(out[1]), int(out[2])
    print(
        f"cold start: import app.py  median {statistics.median(samples) * 1000:.1f} ms over {runs} runs, "
        f"{modules} modules loaded, boto3 loaded: {bool(boto)}"
    )


class _NullBus:
    def put_entries(self, entries: list[dict[str, Any]]) -> list[Any]:
        from chalicelib.ports import EntryResult

        return [EntryResult(event_id=str(i)) for i, _ in enumerate(entries)]


def hot_path(requests: int = 2000) -> None:
    """A signed delivery through the route (Chalice test client), the bus answering at once."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # one log line per request would dominate
    sys.path.insert(0, str(RUNTIME))
    from app import app
    from botlocal.config import StaticConsumerSecret
    from chalice.test import Client
    from chalicelib import wiring
    from chalicelib.ingress.signature import sign

    wiring.event_bus = lambda: _NullBus()  # type: ignore[assignment]
    wiring.webhook_secret = lambda: StaticConsumerSecret("bench")  # type: ignore[assignment]
    body = FIXTURE.read_bytes()
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": sign("bench", body)}
    with Client(app) as client:
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.http.post("/twitter", headers=headers, body=body)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
    timings.sort()
    print(
        f"hot path: signed delivery -> 2 events  median {statistics.median(timings) * 1e6:.0f} us, "
        f"p99 {timings[int(len(timings) * 0.99)] * 1e6:.0f} us over {requests} requests"
    )


def local_bus(deliveries: int = 500) -> None:
    """PutEvents into the local journal (durable: one fsync'ed transaction per call)."""
    from botlocal.adapters import LocalAdapters
    from chalicelib.settings import load_settings

    with tempfile.TemporaryDirectory() as state:
        os.environ["BOT_LOCAL_DIR"] = state
        bus = LocalAdapters(load_settings()).event_bus()
        entry = {"Source": "xbot.ingress", "DetailType": "TWITTER_TWEETED", "Detail": json.dumps({"n": 1})}
        started = time.perf_counter()
        for _ in range(deliveries):
            bus.put_entries([entry, entry])
        elapsed = time.perf_counter() - started
    print(f"local bus: {deliveries / elapsed:.0f} deliveries/s of 2 events ({elapsed / deliveries * 1000:.2f} ms each)")


if __name__ == "__main__":
    cold_start()
    hot_path()
    local_bus()
