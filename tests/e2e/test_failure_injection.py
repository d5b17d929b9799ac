"""Failure injection (issue 8, section 7, first bullet): a failure in each stage of the bot (bus,
analysis task, alert, responder, egress, X 5xx, X 429), and every message ends either delivered
(one MESSAGE_ANALYSED, one reply in the outbox) or parked with its reason (a dead letter in the
journal, or MESSAGE_ANALYSIS_FAILED in the lake), never lost and never answered twice.

The real local runtime runs in this process: the Chalice app's webhook (chalice.test.Client on the
local stage), its event handlers and the analysis workflow as the dispatcher's targets, the local
adapters with their state in a temporary folder. Failures are injected by wrapping what a
LocalAdapters factory builds; the dispatcher's clock is advanced so its retries come due at once,
and the workflow's retries do not sleep.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botlocal.adapters import LocalAdapters
from botlocal.alerts import read_alerts
from botlocal.chalice_app import chalice_targets, find_runtime_dir, lambda_invoker, load_chalice_app, stage_environment
from botlocal.compose import compose_mention
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.datalake import FILES_GLOB
from botlocal.dispatcher import Dispatcher
from botlocal.journal import DeadLetter, Journal
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from botlocal.targets import Target, build_targets
from botlocal.workflow import STATES_PREFIX, AnalysisFailedError, LocalAnalysisWorkflow
from chalice.test import Client
from chalicelib.adapters.x_api import XApiTransientError
from chalicelib.contracts import workflow
from chalicelib.contracts.names import MESSAGE_RECEIVED_PATTERN
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import EgressError, EntryResult, RateLimitedError
from chalicelib.settings import load_settings

from tests.local.journal_views import drain

RUNTIME_DIR = find_runtime_dir()
#: A negative post that mentions the bot: it is analysed, alerted on and answered (three stages).
NEGATIVE_TEXT = "I hate you, you are a terrible and useless bot"
FRIENDLY_TEXT = "tell me a joke please"
#: How often the sender (X) delivers again after an answer other than 200.
X_DELIVERY_ATTEMPTS = 4
#: Enough to bring any retry of the dispatcher's policy due (its delays stop at 60 s).
CLOCK_STEP_SECONDS = 120.0
ALWAYS = 1_000_000

ANALYSED = "MESSAGE_ANALYSED"
ANALYSIS_FAILED = "MESSAGE_ANALYSIS_FAILED"
ALERT_TARGET = "lambda:alerting_alert_negative"
REPLY_TARGET = "lambda:responding_reply_to_text"
EGRESS_TARGET = "lambda:egress_post_reply"
ANALYSIS_TARGET = f"{STATES_PREFIX}analysis"


# --- the faults -----------------------------------------------------------------------------------


class Faulty:
    """Wraps an adapter: the first `times` calls of `method` that `applies` to go to `fail` (which
    raises, or returns a failed result), the others to the adapter. Everything else passes through."""

    def __init__(
        self,
        inner: Any,
        method: str,
        fail: Callable[..., Any],
        *,
        times: int,
        applies: Callable[..., bool] = lambda *args, **kwargs: True,
    ) -> None:
        self._inner = inner
        self._method = method
        self._fail = fail
        self._times = times
        self._applies = applies
        self.failed = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.failed < self._times and self._applies(*args, **kwargs):
                self.failed += 1
                return self._fail(*args, **kwargs)
            return attribute(*args, **kwargs)

        return call


def raising(error: Callable[[], BaseException]) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error()

    return fail


class FailInTurn:
    """Raises the given errors one per call, in turn (the last one again after that)."""

    def __init__(self, *errors: BaseException) -> None:
        self._errors = errors
        self._calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        error = self._errors[min(self._calls, len(self._errors) - 1)]
        self._calls += 1
        raise error


def entries_refused(entries: list[dict[str, Any]]) -> list[EntryResult]:
    """PutEvents answering 200 with every entry failed (FailedEntryCount), as EventBridge may."""
    return [EntryResult(error_code="InternalFailure", error_message="injected entry failure") for _ in entries]


def carrying(detail_type: str) -> Callable[..., bool]:
    def applies(entries: list[dict[str, Any]]) -> bool:
        return any(entry.get("DetailType") == detail_type for entry in entries)

    return applies


@dataclass(frozen=True)
class Fault:
    """Which LocalAdapters factory's product fails, which method, how and how often."""

    factory: str
    method: str
    fail: Callable[..., Any]
    times: int
    applies: Callable[..., bool] = field(default=lambda *args, **kwargs: True)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> list[Faulty]:
        built: list[Faulty] = []
        original = getattr(LocalAdapters, self.factory)

        def factory(adapters: LocalAdapters, *args: Any) -> Any:
            wrapped = Faulty(original(adapters, *args), self.method, self.fail, times=self.times, applies=self.applies)
            built.append(wrapped)
            return wrapped

        monkeypatch.setattr(LocalAdapters, self.factory, factory)
        return built


def rate_limited(reset_in_seconds: float) -> Callable[[], BaseException]:
    return lambda: RateLimitedError("X answered 429 Too Many Requests", reset_at=time.time() + reset_in_seconds)


# --- the table --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    fault: Fault
    #: Delivered: analysed once, one reply, one alert. Otherwise where it is parked, and why.
    parked_at: str | None = None
    reason: str = ""
    #: What still gets through when the message is parked downstream of it.
    replied: bool = True
    alerted: bool = True
    analysed: bool = True
    #: What X is answered, delivery after delivery (it delivers again after anything but 200).
    x_answers: tuple[int, ...] = (200,)
    #: The post: negative, so that every stage (the alert too) has work to do.
    text: str = NEGATIVE_TEXT


CASES = {
    # The bus. The publisher retries a refused call or refused entries itself (4 attempts); past
    # that the webhook answers 500 and X delivers again, or the handler fails and is retried.
    "bus-entries-refused-at-ingress": Case(
        Fault("event_bus", "put_entries", entries_refused, times=2, applies=carrying("MESSAGE_RECEIVED"))
    ),
    "bus-down-at-ingress-500-then-x-redelivers": Case(
        Fault(
            "event_bus",
            "put_entries",
            raising(lambda: ConnectionError("injected: bus unreachable")),
            times=5,
            applies=carrying("MESSAGE_RECEIVED"),
        ),
        x_answers=(500, 200),
    ),
    "bus-refuses-message-analysed": Case(
        Fault("event_bus", "put_entries", entries_refused, times=ALWAYS, applies=carrying(ANALYSED)),
        parked_at=ANALYSIS_FAILED,
        reason="PublishError: 1 of 1 events not published after 4 attempts: InternalFailure",
        replied=False,
        alerted=False,
        analysed=False,
    ),
    # PublishAnalysis and then PublishFailure fail: the execution fails, the dispatcher runs it again.
    "bus-down-for-analysis-and-its-failure": Case(
        Fault(
            "event_bus",
            "put_entries",
            raising(lambda: ConnectionError("injected: bus unreachable")),
            times=8,
            applies=lambda entries: carrying(ANALYSED)(entries) or carrying(ANALYSIS_FAILED)(entries),
        )
    ),
    "bus-refuses-send-tweet": Case(
        Fault("event_bus", "put_entries", entries_refused, times=6, applies=carrying("SEND_TWEET"))
    ),
    # An analysis task: the workflow retries TransientError; anything else, or a transient error
    # that outlasts the retries, ends as MESSAGE_ANALYSIS_FAILED with the reason.
    "analysis-transient": Case(
        Fault("text_analyser", "analyse", raising(lambda: TransientError("injected: model busy")), times=2)
    ),
    "analysis-transient-then-permanent": Case(
        Fault(
            "text_analyser",
            "analyse",
            FailInTurn(TransientError("injected: model busy"), ValueError("injected: model broken")),
            times=2,
        ),
        parked_at=ANALYSIS_FAILED,
        reason="injected: model broken",
        replied=False,
        alerted=False,
        analysed=False,
    ),
    "analysis-transient-outlasts-retries": Case(
        Fault("text_analyser", "analyse", raising(lambda: TransientError("injected: model busy")), times=ALWAYS),
        parked_at=ANALYSIS_FAILED,
        reason="injected: model busy",
        replied=False,
        alerted=False,
        analysed=False,
    ),
    # The alert sink: retried by the dispatcher, then dead-lettered; the reply does not wait for it.
    "alert-sink-flaky": Case(
        Fault("alert_sink", "publish", raising(lambda: ConnectionError("injected: topic unreachable")), times=2)
    ),
    "alert-sink-down": Case(
        Fault("alert_sink", "publish", raising(lambda: ConnectionError("injected: topic unreachable")), times=ALWAYS),
        parked_at=ALERT_TARGET,
        reason="injected: topic unreachable",
        alerted=False,
    ),
    # The responder's conversation bot (Lex on AWS). A negative post never reaches it (it gets a
    # calm answer without the bot): these cases send a friendly one, which raises no alert.
    "responder-flaky": Case(
        Fault("conversation_bot", "respond", raising(lambda: TimeoutError("injected: bot timed out")), times=2),
        text=FRIENDLY_TEXT,
        alerted=False,
    ),
    "responder-down": Case(
        Fault("conversation_bot", "respond", raising(lambda: TimeoutError("injected: bot timed out")), times=ALWAYS),
        parked_at=REPLY_TARGET,
        reason="injected: bot timed out",
        replied=False,
        alerted=False,
        text=FRIENDLY_TEXT,
    ),
    # Egress and X.
    "egress-refused": Case(
        Fault("reply_poster", "post_reply", raising(lambda: EgressError("injected: X answered 400")), times=ALWAYS),
        parked_at=EGRESS_TARGET,
        reason="EgressError: injected: X answered 400",
        replied=False,
    ),
    "x-5xx": Case(
        Fault(
            "reply_poster",
            "post_reply",
            raising(lambda: XApiTransientError("injected: X answered 503")),
            times=2,
        )
    ),
    "x-5xx-persistent": Case(
        Fault(
            "reply_poster",
            "post_reply",
            raising(lambda: XApiTransientError("injected: X answered 503")),
            times=ALWAYS,
        ),
        parked_at=EGRESS_TARGET,
        reason="XApiTransientError: injected: X answered 503",
        replied=False,
    ),
    "x-429-reset-passed-retried-in-invocation": Case(
        Fault("reply_poster", "post_reply", raising(rate_limited(-5)), times=1)
    ),
    "x-429-reset-later-retried-by-dispatcher": Case(
        Fault("reply_poster", "post_reply", raising(rate_limited(3600)), times=2)
    ),
    "x-429-persistent": Case(
        Fault("reply_poster", "post_reply", raising(rate_limited(3600)), times=ALWAYS),
        parked_at=EGRESS_TARGET,
        reason="RateLimitedTransientError",
        replied=False,
    ),
}


# --- the runtime, in this process -----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class InProcessRuntime:
    layout: LocalLayout
    journal: Journal
    client: Client
    dispatcher: Dispatcher
    clock: Clock

    def deliver_as_x(self, delivery: dict[str, Any]) -> list[int]:
        """POST a signed delivery as X does: again (up to X_DELIVERY_ATTEMPTS) until it gets 200."""
        body = json.dumps(delivery).encode("utf-8")
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)}
        statuses: list[int] = []
        for _ in range(X_DELIVERY_ATTEMPTS):
            statuses.append(self.client.http.post("/twitter", body=body, headers=headers).status_code)
            if statuses[-1] == 200:
                break
        return statuses

    def settle(self, *, max_rounds: int = 20) -> None:
        """Dispatch until nothing is pending, bringing each round's retries due."""
        for _ in range(max_rounds):
            drain(self.dispatcher)
            if self.journal.pending_count() == 0:
                return
            self.clock.now += CLOCK_STEP_SECONDS
        raise AssertionError(f"still {self.journal.pending_count()} deliveries pending after {max_rounds} rounds")

    def lake(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for path in sorted(self.layout.datalake.glob(FILES_GLOB))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]

    def dead_letters(self) -> list[DeadLetter]:
        return self.journal.dead_letters()


def analysis_target(app: Any, settings: Any) -> Target:
    """botlocal.workflow.analysis_workflow_target, with a runner whose retries do not sleep."""
    runner = LocalAnalysisWorkflow(
        {task.function: lambda_invoker(app, task.function, settings, RUNTIME_DIR) for task in workflow.TASKS},
        sleep=lambda _: None,
    )

    def deliver(envelope: dict[str, Any]) -> None:
        # MESSAGE_ANALYSIS_FAILED is then on the bus; the rule's delivery itself succeeded.
        with contextlib.suppress(AnalysisFailedError):
            runner.run(envelope)

    return Target(name=ANALYSIS_TARGET, pattern=MESSAGE_RECEIVED_PATTERN, deliver=deliver)


def in_process_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessRuntime]:
    """The local runtime in this process, on a fresh state folder under tmp_path."""
    # The local stage's variables through monkeypatch, so they are undone after the test.
    for name, value in stage_environment(RUNTIME_DIR).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BOT_ADAPTERS", "botlocal.adapters:LocalAdapters")
    for variable in ("EVENT_BUS_NAME", "TWITTER_CONSUMER_SECRET", "CHAT_WEBHOOK_URL", "BOT_EGRESS", "BOT_POSTING"):
        monkeypatch.delenv(variable, raising=False)
    layout = LocalLayout(tmp_path / "state")
    app = load_chalice_app(RUNTIME_DIR)
    settings = load_settings()
    targets = build_targets(layout, [*chalice_targets(app, settings, RUNTIME_DIR), analysis_target(app, settings)])
    journal = Journal(layout.journal)
    clock = Clock()
    with Client(app, stage_name="local", project_dir=str(RUNTIME_DIR)) as client:
        yield InProcessRuntime(layout, journal, client, Dispatcher(journal, targets, clock=clock), clock)
    journal.close()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessRuntime]:
    yield from in_process_runtime(tmp_path, monkeypatch)


# --- the test -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_failure_in_any_stage_ends_delivered_or_parked_with_its_reason_never_lost(
    case: Case, runtime: InProcessRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    injected = case.fault.install(monkeypatch)
    composed = compose_mention(case.text, author="eve", photo_urls=[])
    post = composed.tweet_id

    statuses = runtime.deliver_as_x(composed.delivery)
    runtime.settle()

    # The fault did happen, as often as asked (else the case proves nothing).
    failures = sum(wrapper.failed for wrapper in injected)
    assert failures >= 1 if case.fault.times == ALWAYS else failures == case.fault.times
    # X was answered 200 in the end: the delivery was accepted, not dropped.
    assert tuple(statuses) == case.x_answers
    assert runtime.journal.pending_count() == 0

    lake = runtime.lake()
    analysed = [e for e in lake if e["detail-type"] == ANALYSED and e["detail"]["Twitter"]["TweetId"] == post]
    failed = [e for e in lake if e["detail-type"] == ANALYSIS_FAILED and e["detail"]["Twitter"]["TweetId"] == post]
    replies = [reply for reply in read_outbox(runtime.layout.outbox) if reply["ReplyToTweetId"] == post]
    alerts = [alert for alert in read_alerts(runtime.layout.alerts) if post in json.dumps(alert)]
    dead = runtime.dead_letters()

    # Never lost: analysed, or its failure recorded with the reason.
    assert len(analysed) + len(failed) >= 1, "the message was neither analysed nor parked"
    # Never twice.
    assert len(analysed) <= 1
    assert len(replies) <= 1, replies
    assert len(alerts) <= 1, alerts

    assert len(analysed) == int(case.analysed)
    assert len(replies) == int(case.replied)
    assert len(alerts) == int(case.alerted)
    if case.parked_at is None:
        assert dead == [], [(letter.target, letter.last_error) for letter in dead]
        assert failed == []
    elif case.parked_at == ANALYSIS_FAILED:
        (failure,) = failed
        assert case.reason in failure["detail"]["Reason"], failure["detail"]
        assert dead == []
    else:
        (letter,) = dead
        assert letter.target == case.parked_at
        assert case.reason in (letter.last_error or ""), letter.last_error
