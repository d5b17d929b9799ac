"""The analysis state machine's local stand-in: the same Lambda tasks, in the same shape.

On AWS a rule starts an Express Step Functions execution for each MESSAGE_RECEIVED (built from
chalicelib.contracts.workflow): DownloadMedia -> (Map AnalyseImage || AnalyseText) -> PublishAnalysis,
retrying the retried errors with backoff and sending any other failure to PublishFailure. Locally
this class runs the very same Chalice Lambda functions in that order, the photos and the text in
parallel threads, with the same definition: the task list, the retry policy (attempts, error names,
backoff with full jitter) and the catch. The execution's five-minute limit is not enforced locally.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts import workflow
from chalicelib.contracts.names import MESSAGE_RECEIVED_PATTERN
from chalicelib.settings import Settings

from botlocal.chalice_app import lambda_invoker
from botlocal.targets import Target

log = logging.getLogger(__name__)

STATES_PREFIX: Final = "states:"

Invoke = Callable[[Any], Any]


class AnalysisFailedError(Exception):
    """The execution ended in its Fail state (after MESSAGE_ANALYSIS_FAILED was published)."""


class LocalAnalysisWorkflow:
    def __init__(
        self,
        tasks: Mapping[str, Invoke],
        *,
        retry: workflow.RetryPolicy = workflow.RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`tasks`: the Lambda function each task invokes, by its name (workflow.TASKS' `function`)."""
        missing = sorted({task.function for task in workflow.TASKS} - set(tasks))
        if missing:
            raise ValueError(f"the app lacks the workflow's Lambda functions: {', '.join(missing)}")
        self._tasks = tasks
        self._retry = retry
        self._sleep = sleep

    def run(self, envelope: dict[str, Any]) -> None:
        message = envelope["detail"]
        try:
            # DownloadMedia, Analyse and PublishAnalysis: the states workflow.CATCH is on.
            downloaded = self._task(workflow.DOWNLOAD_MEDIA, {"Message": message, "EventId": envelope.get("id")})
            if not downloaded.get("Claimed", True):
                return  # FirstArrival -> AlreadyAnalysed: another arrival of the post has it
            images = downloaded["Images"]
            with ThreadPoolExecutor(
                max_workers=workflow.MAX_CONCURRENT_IMAGES + 1, thread_name_prefix="analysis"
            ) as pool:
                text = pool.submit(self._task, workflow.ANALYSE_TEXT, {"Message": message})
                analysed = [pool.submit(self._task, workflow.ANALYSE_IMAGE, image) for image in images]
                result = {"Message": message, "Text": text.result(), "Images": [future.result() for future in analysed]}
            self._task(workflow.PUBLISH_ANALYSIS, result)
        except Exception as error:
            if not workflow.CATCH.catches(type(error).__name__):
                raise
            failure = {"Message": message, "Error": type(error).__name__, "Cause": str(error)}
            self._task(workflow.PUBLISH_FAILURE, failure)
            raise AnalysisFailedError(f"{failure['Error']}: {failure['Cause']}") from error

    def _task(self, task: workflow.Task, payload: Any) -> Any:
        """Invoke the task's function; retry as the state machine's Retry does (by the error's name)."""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return self._tasks[task.function](payload)
            except Exception as error:
                if not self._retry.retries_error(type(error).__name__) or attempt == self._retry.attempts:
                    raise
                log.warning("retrying %s after %s (attempt %d)", task.state, type(error).__name__, attempt)
                self._sleep(random.uniform(0, self._retry.delay_ceiling(attempt)))  # noqa: S311 (jitter)
        raise AssertionError("unreachable")


def analysis_workflow_target(app: Any, settings: Settings, runtime_dir: Path) -> Target:
    """The rule MESSAGE_RECEIVED -> state machine, as a local target."""
    runner = LocalAnalysisWorkflow(
        {task.function: lambda_invoker(app, task.function, settings, runtime_dir) for task in workflow.TASKS}
    )

    def deliver(envelope: dict[str, Any]) -> None:
        try:
            runner.run(envelope)
        except AnalysisFailedError:
            # Like a failed Express execution: MESSAGE_ANALYSIS_FAILED is on the bus, and the rule's
            # delivery itself succeeded, so the dispatcher must not run the whole workflow again.
            log.warning("analysis failed for event %s", envelope.get("id"))

    return Target(name=f"{STATES_PREFIX}analysis", pattern=MESSAGE_RECEIVED_PATTERN, deliver=deliver)
