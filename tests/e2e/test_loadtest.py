"""`make loadtest`'s core on a few deliveries, so it keeps working (its figures belong in the README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.loadtest import render_report, run_loadtest


@pytest.mark.slow
def test_a_small_load_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    report = run_loadtest(tmp_path / "loadtest", deliveries=30, senders=5, wait_timeout=180)
    summary = render_report(report, senders=5)
    assert report.drained, summary
    assert report.lost == [], summary
    assert report.duplicated == [], summary
    assert report.server_errors == 0, summary
    assert report.unexpected == [], summary
    # Every kind was sent, and each post was analysed (or skipped by a guard) exactly once.
    assert {"mention", "negative", "photo", "follow", "resend", "x-activity", "forged", "malformed"} <= set(
        report.by_kind
    ), summary
    assert report.duplicates_suppressed > 0, summary
    assert report.replies <= report.posts, summary
