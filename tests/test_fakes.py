"""The fakes behave like the real adapters where a service can tell the difference.

Each check runs on the fake and on the local runtime's adapter for the same port: a fake that drifts
from the real thing makes the tests that use it prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chalicelib.kernel.idempotency import Idempotency
from chalicelib.ports import MediaError, MediaStore

from tests.fakes import FakeChatWebhook, FakeFetcher, MemoryIdempotency, MemoryMediaStore, RecordingBus, Script


@pytest.fixture(params=["fake", "local"])
def media_store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    if request.param == "fake":
        return MemoryMediaStore()
    from botlocal.media import LocalMediaStore

    return LocalMediaStore(tmp_path / "media")


@pytest.fixture(params=["fake", "local"])
def idempotency(request: pytest.FixtureRequest, tmp_path: Path) -> Idempotency:
    if request.param == "fake":
        return MemoryIdempotency()
    from botlocal.idempotency import local_idempotency
    from botlocal.layout import LocalLayout

    return local_idempotency(LocalLayout(tmp_path).idempotency)


def test_media_store_gives_back_the_last_body_and_a_missing_key_is_a_media_error(media_store: MediaStore) -> None:
    media_store.put("2026/11/29/a.jpg", b"one", "image/jpeg")
    media_store.put("2026/11/29/a.jpg", b"two", "image/jpeg")
    assert media_store.get("2026/11/29/a.jpg") == b"two"
    with pytest.raises(MediaError, match=r"2026/11/29/missing\.jpg"):
        media_store.get("2026/11/29/missing.jpg")


def test_idempotency_runs_once_per_key_and_a_failure_leaves_no_record(idempotency: Idempotency) -> None:
    runs: list[str] = []

    def action(result: str) -> str:
        runs.append(result)
        return result

    assert idempotency.run("k1", lambda: action("first")) == "first"
    assert idempotency.run("k1", lambda: action("second")) == "first"

    def failing() -> str:
        runs.append("failed")
        raise RuntimeError("X is down")

    with pytest.raises(RuntimeError):
        idempotency.run("k2", failing)
    assert idempotency.run("k2", lambda: action("retried")) == "retried"
    assert runs == ["first", "failed", "retried"]
    with pytest.raises(ValueError, match="key"):
        idempotency.run("", lambda: action("no key"))


def test_a_script_gives_its_outcomes_in_order_then_repeats_the_last() -> None:
    script: Script[str] = Script(["a", ValueError("b"), "c"])
    assert script.next() == "a"
    with pytest.raises(ValueError, match="b"):
        script.next()
    assert [script.next(), script.next()] == ["c", "c"]


def test_the_bus_reports_partial_failures_per_entry_then_accepts_everything() -> None:
    bus = RecordingBus(failures=[{1}])
    first = bus.put_entries([{"n": 0}, {"n": 1}])
    assert [(result.ok, result.error_code) for result in first] == [(True, None), (False, "ThrottlingException")]
    assert all(result.ok for result in bus.put_entries([{"n": 1}]))
    assert bus.entries == [{"n": 0}, {"n": 1}, {"n": 1}]


def test_the_fetcher_answers_unknown_urls_with_a_404() -> None:
    fetcher = FakeFetcher({"https://pbs.twimg.com/a.png": b"png"})
    assert fetcher.fetch("https://pbs.twimg.com/a.png", max_bytes=10) == b"png"
    with pytest.raises(MediaError, match="404"):
        fetcher.fetch("https://pbs.twimg.com/b.png", max_bytes=10)
    assert fetcher.calls == [("https://pbs.twimg.com/a.png", 10), ("https://pbs.twimg.com/b.png", 10)]


def test_the_chat_webhook_records_every_payload_even_refused_ones() -> None:
    webhook = FakeChatWebhook(ConnectionError("down"), None)
    with pytest.raises(ConnectionError):
        webhook.post({"text": "a"})
    webhook.post({"text": "b"})
    assert webhook.payloads == [{"text": "a"}, {"text": "b"}]
