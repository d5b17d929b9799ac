"""The analysis state machine's local stand-in: the same Lambda tasks, in the same shape.

On AWS a rule starts an Express Step Functions execution for each MESSAGE_RECEIVED:
DownloadMedia -> (Map AnalyseImage || AnalyseText) -> PublishAnalysis, retrying TransientError
with backoff and sending any other failure to PublishFailure. Locally this class runs the very
same Chalice Lambda functions in that order, the photos and the text in parallel threads.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts.names import MESSAGE_RECEIVED_PATTERN
from chalicelib.settings import Settings

from botlocal.chalice_app import lambda_invoker
from botlocal.targets import Target

log = logging.getLogger(__name__)

STATES_PREFIX: Final = "states:"
TASKS: Final = (
    "analysis_download_media",
    "analysis_analyse_image",
    "analysis_analyse_text",
    "analysis_publish_analysis",
    "analysis_publish_failure",
)
#: As the state machine's Retry: the error names worth another attempt, and how many attempts.
RETRYABLE_ERRORS: Final = frozenset({"TransientError"})
MAX_ATTEMPTS: Final = 3
MAX_PARALLEL_IMAGES: Final = 4

Invoke = Callable[[Any], Any]


class AnalysisFailedError(Exception):
    """The execution ended in its Fail state (after MESSAGE_ANALYSIS_FAILED was published)."""


class LocalAnalysisWorkflow:
    def __init__(
        self,
        tasks: dict[str, Invoke],
        *,
        base_delay_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        missing = sorted(set(TASKS) - set(tasks))
        if missing:
            raise ValueError(f"the app lacks the workflow's Lambda functions: {', '.join(missing)}")
        self._tasks = tasks
        self._base_delay = base_delay_seconds
        self._sleep = sleep

    def run(self, envelope: dict[str, Any]) -> None:
        message = envelope["detail"]
        try:
            images = self._task("analysis_download_media", {"Message": message})["Images"]
            with ThreadPoolExecutor(max_workers=MAX_PARALLEL_IMAGES + 1, thread_name_prefix="analysis") as pool:
                text = pool.submit(self._task, "analysis_analyse_text", {"Message": message})
                analysed = [pool.submit(self._task, "analysis_analyse_image", image) for image in images]
                result = {"Message": message, "Text": text.result(), "Images": [future.result() for future in analysed]}
            self._task("analysis_publish_analysis", result)
        except Exception as error:
            failure = {"Message": message, "Error": type(error).__name__, "Cause": str(error)}
            self._task("analysis_publish_failure", failure)
            raise AnalysisFailedError(f"{failure['Error']}: {failure['Cause']}") from error

    def _task(self, name: str, payload: Any) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._tasks[name](payload)
            except Exception as error:
                if type(error).__name__ not in RETRYABLE_ERRORS or attempt == MAX_ATTEMPTS:
                    raise
                log.warning("retrying %s after %s (attempt %d)", name, type(error).__name__, attempt)
                self._sleep(random.uniform(0, self._base_delay * 2**attempt))  # noqa: S311 (jitter)
        raise AssertionError("unreachable")


def analysis_workflow_target(app: Any, settings: Settings, runtime_dir: Path) -> Target:
    """The rule MESSAGE_RECEIVED -> state machine, as a local target."""
    workflow = LocalAnalysisWorkflow({name: lambda_invoker(app, name, settings, runtime_dir) for name in TASKS})

    def deliver(envelope: dict[str, Any]) -> None:
        try:
            workflow.run(envelope)
        except AnalysisFailedError:
            # Like a failed Express execution: MESSAGE_ANALYSIS_FAILED is on the bus, and the rule's
            # delivery itself succeeded, so the dispatcher must not run the whole workflow again.
            log.warning("analysis failed for event %s", envelope.get("id"))

    return Target(name=f"{STATES_PREFIX}analysis", pattern=MESSAGE_RECEIVED_PATTERN, deliver=deliver)
