"""The dispatcher: routes by pattern, retries with backoff, dead-letters, resumes after restart."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botlocal.chalice_app import LambdaContext, chalice_targets, find_runtime_dir, load_chalice_app
from botlocal.datalake import FILES_GLOB
from botlocal.dispatcher import Dispatcher, RetryPolicy
from botlocal.journal import DEAD, DELIVERED, PENDING, Journal
from botlocal.layout import LocalLayout
from botlocal.targets import Target, TargetRegistry, build_targets
from chalicelib import observability
from chalicelib.contracts.names import CATCH_ALL_PATTERN, MESSAGE_RECEIVED_PATTERN
from chalicelib.kernel.errors import RetryLaterError
from chalicelib.settings import Settings

from tests.local.journal_views import delivery_states, drain, event_count


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A target that records envelopes and fails the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.calls = 0

    def __call__(self, envelope: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        self.received.append(envelope)


@pytest.fixture
def journal(local_dir: Path) -> Journal:
    return Journal(LocalLayout(local_dir).journal)


def test_each_event_goes_to_every_matching_target(journal: Journal, envelope: Callable[..., Any]) -> None:
    everything, received_only = Recorder(), Recorder()
    targets = TargetRegistry(
        [Target("all", CATCH_ALL_PATTERN, everything), Target("received", MESSAGE_RECEIVED_PATTERN, received_only)]
    )
    message = envelope("MESSAGE_RECEIVED", event_id="m")
    follow = envelope("TWITTER_FOLLOWED", event_id="f")
    foreign = envelope("MESSAGE_RECEIVED", source="someone.else", event_id="x")
    journal.append([message, follow, foreign])
    drain(Dispatcher(journal, targets))
    assert everything.received == [message, follow]
    assert received_only.received == [message]
    assert journal.pending_count() == 0
    assert delivery_states(journal, "x") == {}


def test_a_failed_target_is_retried_with_backoff_without_redelivering_the_others(
    journal: Journal, envelope: Callable[..., Any]
) -> None:
    steady, flaky = Recorder(), Recorder(failures=2)
    clock = Clock()
    targets = TargetRegistry([Target("steady", CATCH_ALL_PATTERN, steady), Target("flaky", CATCH_ALL_PATTERN, flaky)])
    dispatcher = Dispatcher(
        journal, targets, clock=clock, retry=RetryPolicy(max_attempts=5, base_delay_seconds=1, factor=2)
    )
    journal.append([envelope(event_id="e")])

    drain(dispatcher)
    assert (steady.calls, flaky.calls) == (1, 1)
    assert delivery_states(journal, "e") == {"steady": DELIVERED, "flaky": PENDING}
    assert journal.next_attempt_at() == clock.now + 1

    clock.now += 1
    drain(dispatcher)
    assert flaky.calls == 2
    assert journal.next_attempt_at() == clock.now + 2  # backoff doubled

    clock.now += 2
    drain(dispatcher)
    assert (steady.calls, flaky.calls) == (1, 3)
    assert delivery_states(journal, "e") == {"steady": DELIVERED, "flaky": DELIVERED}
    assert journal.pending_count() == 0


def test_a_target_that_keeps_failing_becomes_a_dead_letter(
    journal: Journal, envelope: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    broken = Recorder(failures=100)
    clock = Clock()
    dispatcher = Dispatcher(
        journal,
        TargetRegistry([Target("broken", CATCH_ALL_PATTERN, broken)]),
        clock=clock,
        retry=RetryPolicy(max_attempts=3, base_delay_seconds=0.5),
    )
    journal.append([envelope(event_id="e")])
    with caplog.at_level(logging.INFO, logger="botlocal"):
        for _ in range(10):
            drain(dispatcher)
            clock.now += 60
    assert broken.calls == 3
    (letter,) = journal.dead_letters()
    assert (letter.target, letter.attempts, letter.last_error) == ("broken", 3, "RuntimeError: failure 3")
    assert journal.pending_count() == 0
    messages = [record.getMessage() for record in caplog.records]
    assert messages.count("delivery failed") == 2
    assert messages.count("dead-lettered") == 1
    failure = next(record for record in caplog.records if record.getMessage() == "dead-lettered")
    assert failure.botlocal_fields["event_id"] == "e"  # type: ignore[attr-defined]
    assert failure.botlocal_fields["target"] == "broken"  # type: ignore[attr-defined]


def test_pending_work_is_dispatched_after_a_restart(local_dir: Path, envelope: Callable[..., Any]) -> None:
    with Journal(LocalLayout(local_dir).journal) as before:
        before.append([envelope(event_id="unrouted"), envelope(event_id="half-done")])
        before.route("half-done", ["a", "b"])
        before.mark_delivered("half-done", "a")
    a, b = Recorder(), Recorder()
    with Journal(LocalLayout(local_dir).journal) as after:
        targets = TargetRegistry([Target("a", CATCH_ALL_PATTERN, a), Target("b", CATCH_ALL_PATTERN, b)])
        drain(Dispatcher(after, targets))
        assert [event["id"] for event in a.received] == ["unrouted"]
        assert sorted(event["id"] for event in b.received) == ["half-done", "unrouted"]
        assert after.pending_count() == 0


def test_a_delivery_to_a_target_that_no_longer_exists_is_dead_lettered(
    journal: Journal, envelope: Callable[..., Any]
) -> None:
    journal.append([envelope(event_id="e")])
    journal.route("e", ["gone"])
    drain(Dispatcher(journal, TargetRegistry()))
    (letter,) = journal.dead_letters()
    assert letter.last_error == "target 'gone' is no longer registered"


def test_run_forever_delivers_in_the_background_until_stopped(journal: Journal, envelope: Callable[..., Any]) -> None:
    recorder = Recorder()
    stop = threading.Event()
    dispatcher = Dispatcher(journal, TargetRegistry([Target("t", CATCH_ALL_PATTERN, recorder)]))
    thread = threading.Thread(target=dispatcher.run_forever, args=(stop,), kwargs={"idle_seconds": 0.01})
    thread.start()
    try:
        journal.append([envelope(event_id="e")])
        for _ in range(500):
            if journal.pending_count() == 0 and event_count(journal) == 1:
                break
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert [event["id"] for event in recorder.received] == ["e"]


def test_the_registry_refuses_duplicates_and_bad_patterns() -> None:
    registry = TargetRegistry([Target("t", CATCH_ALL_PATTERN, Recorder())])
    with pytest.raises(ValueError, match="already registered"):
        registry.add(Target("t", CATCH_ALL_PATTERN, Recorder()))
    with pytest.raises(ValueError, match="target 'bad' has an invalid event pattern"):
        Target("bad", {"source": "xbot.ingress"}, Recorder())


def test_retry_policy_is_bounded() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_seconds=2, factor=3, max_delay_seconds=5)
    assert policy.retry_at(1, 0.0) == 2.0
    assert policy.retry_at(2, 0.0) == 5.0  # 6 capped at 5
    assert policy.retry_at(3, 0.0) is None
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)


# --- the Chalice app's own handlers ----------------------------------------------------------


@pytest.fixture
def chalice_app(settings: Settings) -> Any:
    return load_chalice_app(find_runtime_dir())


def test_the_fake_lambda_context_looks_like_lambdas() -> None:
    context = LambdaContext(
        function_name="xbot-local-f", memory_limit_in_mb=256, invoked_function_arn="arn:x", timeout_seconds=30
    )
    assert context.log_group_name == "/aws/lambda/xbot-local-f"
    assert context.function_version == "$LATEST"
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id != LambdaContext("f", 1, "arn", 1).aws_request_id


def test_the_apps_cw_event_handlers_become_targets(chalice_app: Any, settings: Settings) -> None:
    registry = build_targets(LocalLayout.from_environment(), chalice_targets(chalice_app, settings, find_runtime_dir()))
    assert "lambda:plumbing_access_revoked" in registry.names()
    assert "firehose:datalake" in registry.names()


def test_a_permission_revoked_event_invokes_the_real_handler_like_lambda(
    chalice_app: Any, settings: Settings, journal: Journal, envelope: Callable[..., Any]
) -> None:
    registry = build_targets(LocalLayout.from_environment(), chalice_targets(chalice_app, settings, find_runtime_dir()))
    revoked = envelope("TWITTER_PERMISSION_REVOKED", {"revoke": {"source": {"user_id": "1"}}}, event_id="r")
    followed = envelope("TWITTER_FOLLOWED", event_id="f")
    journal.append([revoked, followed])
    with (
        mock.patch.object(observability.logger, "error", autospec=True) as error,
        mock.patch.object(observability.logger, "append_keys", autospec=True) as append_keys,
    ):
        drain(Dispatcher(journal, registry))
    # Chalice built its CloudWatchEvent from our envelope...
    error.assert_called_once()
    extra = error.call_args.kwargs["extra"]
    assert (extra["event_id"], extra["detail_type"], extra["detail"]) == (
        "r",
        revoked["detail-type"],
        revoked["detail"],
    )
    # ...and the middleware saw the Lambda context's function name, as deployed.
    append_keys.assert_any_call(function_name="xbot-local-plumbing_access_revoked")
    assert delivery_states(journal, "r") == {
        "lambda:plumbing_access_revoked": DELIVERED,
        # The revoking user's photos are deleted too (chalicelib/analysis/deletion.py).
        "lambda:analysis_delete_media": DELIVERED,
        "firehose:datalake": DELIVERED,
    }
    assert delivery_states(journal, "f") == {"firehose:datalake": DELIVERED}
    lines = [json.loads(line) for f in LocalLayout.from_environment().datalake.glob(FILES_GLOB) for line in f.open()]
    # The two events, and MEDIA_DELETED (the deletion's record, published by the handler).
    assert sorted(line["detail-type"] for line in lines) == [
        "MEDIA_DELETED",
        "TWITTER_FOLLOWED",
        "TWITTER_PERMISSION_REVOKED",
    ]


def test_a_handler_that_raises_is_retried_then_dead_lettered(
    chalice_app: Any, settings: Settings, journal: Journal, envelope: Callable[..., Any]
) -> None:
    registry = TargetRegistry(chalice_targets(chalice_app, settings, find_runtime_dir()))
    clock = Clock()
    journal.append([envelope("TWITTER_PERMISSION_REVOKED", event_id="r")])
    dispatcher = Dispatcher(journal, registry, clock=clock, retry=RetryPolicy(max_attempts=2, base_delay_seconds=1))
    with mock.patch.object(observability.logger, "error", side_effect=OSError("log sink down")):
        drain(dispatcher)
        clock.now += 1
        drain(dispatcher)
    (letter,) = journal.dead_letters()
    assert letter.last_error == "OSError: log sink down"
    # The media deletion, whose handler does not fail, is delivered (without ids, it deletes nothing).
    assert delivery_states(journal, "r") == {
        "lambda:plumbing_access_revoked": DEAD,
        "lambda:analysis_delete_media": DELIVERED,
    }


class Later:
    """A target that says "later" (RetryLaterError) the first `times` times, as Egress over budget does."""

    def __init__(self, times: int, retry_after: float) -> None:
        self.times = times
        self.retry_after = retry_after
        self.calls = 0

    def __call__(self, envelope: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise RetryLaterError("budget full", retry_after_seconds=self.retry_after)


def test_a_deferred_delivery_waits_as_told_and_never_counts_an_attempt(
    journal: Journal, envelope: Callable[..., Any]
) -> None:
    later = Later(times=5, retry_after=600)
    clock = Clock()
    dispatcher = Dispatcher(
        journal,
        TargetRegistry([Target("egress", CATCH_ALL_PATTERN, later)]),
        clock=clock,
        retry=RetryPolicy(max_attempts=2),
    )
    journal.append([envelope(event_id="e")])
    for _ in range(5):
        drain(dispatcher)
        assert journal.next_attempt_at() == clock.now + 600
        clock.now += 599
        drain(dispatcher)  # not due yet
        clock.now += 1
    drain(dispatcher)
    assert later.calls == 6  # five deferrals (more than max_attempts), then delivered
    assert delivery_states(journal, "e") == {"egress": DELIVERED}
    assert journal.dead_letters() == []


def test_a_reply_held_by_a_crashed_poster_is_deferred_not_dead_lettered(
    journal: Journal, envelope: Callable[..., Any], tmp_path: Path
) -> None:
    """Egress died while posting: its in-progress mark outlives the dispatcher's quick retries. The
    retry is deferred (ConcurrentDeliveryError is a RetryLaterError) until the mark lapses."""
    from botlocal.idempotency import local_idempotency
    from chalicelib.kernel.idempotency import IN_PROGRESS_RETRY_SECONDS

    store = local_idempotency(tmp_path / "idempotency.sqlite3")

    class Killed(BaseException):
        pass

    def crash() -> str:
        raise Killed

    with pytest.raises(Killed):
        store.run("reply-to:1", crash, remaining_ms=lambda: 60_000)
    posted: list[str] = []

    def egress(_: dict[str, Any]) -> None:
        posted.append(store.run("reply-to:1", lambda: "post-1", remaining_ms=lambda: 60_000))

    clock = Clock()
    dispatcher = Dispatcher(
        journal, TargetRegistry([Target("egress", CATCH_ALL_PATTERN, egress)]), clock=clock, retry=RetryPolicy()
    )
    journal.append([envelope(event_id="e")])
    for _ in range(RetryPolicy().max_attempts + 2):  # more tries than the retry policy allows
        drain(dispatcher)
        assert journal.dead_letters() == []
        assert journal.next_attempt_at() == pytest.approx(clock.now + IN_PROGRESS_RETRY_SECONDS)
        clock.now += IN_PROGRESS_RETRY_SECONDS
    assert posted == []
    assert delivery_states(journal, "e") == {"egress": "pending"}
