"""The local stand-in for the analysis state machine, with recording tasks."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botlocal.workflow import TASKS, AnalysisFailedError, LocalAnalysisWorkflow

MESSAGE = {"Text": "hi", "ImageUrls": ["u1", "u2"]}


class TransientError(Exception):
    """Named like the runtime's: the retry matches on the error's name, as Step Functions does."""


class Tasks:
    def __init__(self, fail: dict[str, list[Exception]] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = fail or {}
        self.lock = threading.Lock()

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
        return LocalAnalysisWorkflow({name: self(name) for name in TASKS}, sleep=lambda _: None)

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
    tasks = Tasks(fail={"analysis_download_media": [TransientError("x")] * 3})
    with pytest.raises(AnalysisFailedError, match="TransientError"):
        tasks.workflow().run({"detail": MESSAGE})
    assert tasks.names() == ["analysis_download_media"] * 3 + ["analysis_publish_failure"]


def test_a_missing_task_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="analysis_publish_failure"):
        LocalAnalysisWorkflow({name: lambda payload: None for name in TASKS[:-1]})
