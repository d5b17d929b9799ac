"""The local stand-in for the analysis state machine (botlocal.workflow), with recording tasks.

It runs the one definition (chalicelib.contracts.workflow): the same tasks, retries and catch as
the state machine built from it (tests/workflow/test_workflow_definition.py checks that side).
(Moved from tests/local/test_local_workflow.py.)
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botlocal.workflow import AnalysisFailedError, LocalAnalysisWorkflow
from chalicelib.contracts import workflow

MESSAGE = {"Text": "hi", "ImageUrls": ["u1", "u2"]}
FUNCTIONS = [task.function for task in workflow.TASKS]


class TransientError(Exception):
    """Named like the runtime's: the retry matches on the error's name, as Step Functions does."""


class Tasks:
    def __init__(self, fail: dict[str, list[Exception]] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = fail or {}
        self.lock = threading.Lock()
        self.waits: list[float] = []

    def __call__(self, name: str) -> Any:
        def task(payload: Any) -> Any:
            with self.lock:
                self.calls.append((name, payload))
                pending = self.fail.get(name, [])
                if pending:
                    raise pending.pop(0)
            if name == "analysis_download_media":
                return {"Images": [{"Url": url, "Key": f"k-{url}"} for url in payload["Message"]["ImageUrls"]]}
            if name == "analysis_analyse_image":
                return {**payload, "Analysis": {"Labels": []}}
            if name == "analysis_analyse_text":
                return {"TextSentiment": "POSITIVE"}
            return {"EventId": "e"}

        return task

    def workflow(self) -> LocalAnalysisWorkflow:
        return LocalAnalysisWorkflow({name: self(name) for name in FUNCTIONS}, sleep=self.waits.append)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def test_the_tasks_run_in_the_state_machines_shape() -> None:
    tasks = Tasks()
    tasks.workflow().run({"detail": MESSAGE})
    names = tasks.names()
    assert names[0] == "analysis_download_media"
    assert sorted(names[1:4]) == ["analysis_analyse_image", "analysis_analyse_image", "analysis_analyse_text"]
    assert names[4:] == ["analysis_publish_analysis"]
    published = tasks.calls[-1][1]
    assert published["Text"] == {"TextSentiment": "POSITIVE"}
    assert [image["Url"] for image in published["Images"]] == ["u1", "u2"]  # the photos keep their order


def test_transient_errors_are_retried() -> None:
    tasks = Tasks(fail={"analysis_analyse_text": [TransientError("slow down"), TransientError("slow down")]})
    tasks.workflow().run({"detail": MESSAGE})
    assert tasks.names().count("analysis_analyse_text") == 3
    assert tasks.names()[-1] == "analysis_publish_analysis"


def test_other_errors_publish_the_failure_and_fail_the_execution() -> None:
    tasks = Tasks(fail={"analysis_analyse_image": [ValueError("model exploded")]})
    with pytest.raises(AnalysisFailedError, match="ValueError: model exploded"):
        tasks.workflow().run({"detail": MESSAGE})
    assert tasks.names()[-1] == "analysis_publish_failure"
    assert tasks.calls[-1][1] == {"Message": MESSAGE, "Error": "ValueError", "Cause": "model exploded"}
    assert "analysis_publish_analysis" not in tasks.names()


def test_retries_run_out() -> None:
    """As many attempts as the state machine's Retry allows (the first and workflow.RETRY.retries more)."""
    attempts = workflow.RETRY.attempts
    tasks = Tasks(fail={"analysis_download_media": [TransientError("x")] * attempts})
    with pytest.raises(AnalysisFailedError, match="TransientError"):
        tasks.workflow().run({"detail": MESSAGE})
    assert tasks.names() == ["analysis_download_media"] * attempts + ["analysis_publish_failure"]


def test_retry_waits_follow_the_definitions_backoff_with_full_jitter() -> None:
    retry = workflow.RETRY
    tasks = Tasks(fail={"analysis_download_media": [TransientError("x")] * retry.retries})
    tasks.workflow().run({"detail": MESSAGE})
    assert len(tasks.waits) == retry.retries
    assert all(0 <= wait <= retry.delay_ceiling(n) for n, wait in enumerate(tasks.waits, start=1))
    # 1 s doubling to at most max_delay_seconds.
    assert [retry.delay_ceiling(n) for n in range(1, 6)] == [
        min(retry.max_delay_seconds, retry.interval_seconds * retry.backoff_rate ** (n - 1)) for n in range(1, 6)
    ]


def test_a_missing_task_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="analysis_publish_failure"):
        LocalAnalysisWorkflow({name: lambda payload: None for name in FUNCTIONS[:-1]})
