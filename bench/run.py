"""`make bench`: every figure of issue 12's benchmark, in one table. Prints; asserts nothing.

Each figure is the median of repeated runs with its spread (min-max, and the interquartile range
from four runs up). docs/benchmarks.md keeps the baseline later changes compare against: compare
medians taken on the same machine only, and on a quiet one (the load average is printed first).

    .venv/bin/python -m bench.run [--quick] [--only cold-start,webhook,local,bundle,economy]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench.stats import Figure, render

ROOT: Final = Path(__file__).resolve().parents[1]
SECTIONS: Final = ("cold-start", "webhook", "local", "bundle", "economy")


def machine() -> str:
    """Cores, CPU model, RAM, Python, OS and the load when the run started."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown RAM"
    try:
        total_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("MemTotal:")
        )
        memory = f"{total_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return (
        f"{os.cpu_count()} cores, {cpu}, {memory}; Python {platform.python_version()} "
        f"({sys.executable}); {platform.platform()}; load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Fewer runs: a smoke test, not a baseline.")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"Comma-separated, of: {', '.join(SECTIONS)}.")
    parser.add_argument("--local-dir", type=Path, default=ROOT / ".local" / "bench", help="State of botctl serve.")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    rounds = 3 if args.quick else 5

    def cold_start() -> list[Figure]:
        from bench import cold_start

        return cold_start.measure(rounds=3 if args.quick else 7)

    def webhook() -> list[Figure]:
        from bench import bench_webhook

        return [*bench_webhook.hot_path(rounds=rounds), *bench_webhook.local_bus(rounds=rounds)]

    def local() -> list[Figure]:
        from bench import local_runtime

        if args.quick:
            return local_runtime.measure(args.local_dir, rounds=2, text_posts=4, photo_posts=2, burst=20)
        return local_runtime.measure(args.local_dir)

    def bundle() -> list[Figure]:
        from bench import bundle

        return bundle.measure()

    def economy() -> list[Figure]:
        from bench import economy

        return economy.measure(rounds=2 if args.quick else 3)

    runners: dict[str, Callable[[], list[Figure]]] = {
        "cold-start": cold_start,
        "webhook": webhook,
        "local": local,
        "bundle": bundle,
        "economy": economy,
    }
    print(f"machine: {machine()}")
    figures: list[Figure] = []
    started = time.monotonic()
    for name in SECTIONS:
        if name in chosen:
            section_started = time.monotonic()
            print(f"... {name}", flush=True)
            figures += runners[name]()
            print(f"    {time.monotonic() - section_started:.0f} s", flush=True)
    print()
    print(render(figures))
    print(f"\n{time.monotonic() - started:.0f} s in all; the baseline is docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
