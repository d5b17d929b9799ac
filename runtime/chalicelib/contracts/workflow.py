"""The analysis workflow, defined once: its states, the Lambda function each task runs, its retry
and catch policy, and its limits.

CDK builds the Step Functions state machine from this module (infrastructure/stacks/analysis.py)
and the local runtime (local/) runs the same Chalice functions in the same shape with it, so the
two cannot drift apart. Plain Python only: the Lambda code, the CDK app and the local runtime all
import it.

    DownloadMedia -> Analyse (Parallel: AnalyseImages, a Map of AnalyseImage || AnalyseText)
                  -> PublishAnalysis
    a failure of DownloadMedia, Analyse or PublishAnalysis (after its retries)
                  -> PublishFailure (MESSAGE_ANALYSIS_FAILED) -> AnalysisFailed (a Fail state)

Each task's input and output are documented on its Lambda function (chalicelib/analysis/blueprint.py).
The functions' Lambda timeout and memory are Chalice settings: runtime/.chalice/config.json
("lambda_functions") is their one home; `chalice package` (and so the CDK app) reads them from
there, and so does the local runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Task:
    """A Task state and the Chalice Lambda function it invokes."""

    #: The state's name in the state machine (and in its execution history and logs).
    state: str
    #: The function's name as Chalice registers it: the analysis blueprint's prefix + the handler's name.
    function: str


#: The prefix runtime/app.py registers the analysis blueprint with.
FUNCTION_PREFIX: Final = "analysis_"

DOWNLOAD_MEDIA: Final = Task("DownloadMedia", f"{FUNCTION_PREFIX}download_media")
ANALYSE_IMAGE: Final = Task("AnalyseImage", f"{FUNCTION_PREFIX}analyse_image")
ANALYSE_TEXT: Final = Task("AnalyseText", f"{FUNCTION_PREFIX}analyse_text")
PUBLISH_ANALYSIS: Final = Task("PublishAnalysis", f"{FUNCTION_PREFIX}publish_analysis")
PUBLISH_FAILURE: Final = Task("PublishFailure", f"{FUNCTION_PREFIX}publish_failure")
#: Every task, in the order a successful execution starts them (PublishFailure only on failure).
TASKS: Final = (DOWNLOAD_MEDIA, ANALYSE_IMAGE, ANALYSE_TEXT, PUBLISH_ANALYSIS, PUBLISH_FAILURE)

#: After DownloadMedia: a post already analysed (or being analysed) ends here, in a Succeed state.
FIRST_ARRIVAL: Final = "FirstArrival"  # Choice on the download's Claimed
ALREADY_ANALYSED: Final = "AlreadyAnalysed"  # Succeed: another arrival of the same post has it

#: The states that are not tasks.
ANALYSE: Final = "Analyse"  # Parallel: [the photos, the text]
ANALYSE_IMAGES: Final = "AnalyseImages"  # Map: ANALYSE_IMAGE on each downloaded photo
FAILED: Final = "AnalysisFailed"  # Fail: ends the execution with the caught error

#: Step Functions' name for "any error" (in ErrorEquals).
ALL_ERRORS: Final = "States.ALL"
#: What the analysis functions raise for a failure that may pass (throttling, a service's hiccup, a
#: timeout): the class name of chalicelib.kernel.errors.TransientError, which Retry matches on.
TRANSIENT_ERROR: Final = "TransientError"
#: Errors the Lambda service itself reports for an invocation (as Step Functions names them). The
#: local runtime never sees these; they are retried there too, so the list stays one list.
LAMBDA_SERVICE_ERRORS: Final = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
JITTER_FULL: Final = "FULL"


@dataclass(frozen=True)
class RetryPolicy:
    """One Retry rule, as Step Functions defines it (ErrorEquals, MaxAttempts, IntervalSeconds, ...)."""

    #: Error names retried (an error matches by its name: the class name of the exception raised).
    errors: tuple[str, ...]
    #: Retries after the first attempt: Step Functions' MaxAttempts.
    retries: int
    interval_seconds: int
    backoff_rate: float
    max_delay_seconds: int
    #: "FULL": each wait is drawn uniformly between 0 and its ceiling.
    jitter: str = JITTER_FULL

    @property
    def attempts(self) -> int:
        """Attempts in all, the first included."""
        return 1 + self.retries

    def retries_error(self, error_name: str) -> bool:
        return ALL_ERRORS in self.errors or error_name in self.errors

    def delay_ceiling(self, retry: int) -> float:
        """The wait before retry number `retry` (1 = the first retry), before jitter."""
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, got {retry}")
        return float(min(self.max_delay_seconds, self.interval_seconds * self.backoff_rate ** (retry - 1)))


#: The one retry policy of every task. Chosen: the one the deployed state machine already had (1 + 4
#: attempts, 1 s doubling to at most 10 s, full jitter), not the local runner's former 3 attempts:
#: the deployed behaviour stays as it was and the local runtime now behaves like it. With full jitter
#: the waits of one task stay under 1 + 2 + 4 + 8 s, far inside an Express execution's five minutes
#: even when several steps retry.
RETRY: Final = RetryPolicy(
    errors=(TRANSIENT_ERROR, *LAMBDA_SERVICE_ERRORS),
    retries=4,
    interval_seconds=1,
    backoff_rate=2.0,
    max_delay_seconds=10,
)


@dataclass(frozen=True)
class CatchPolicy:
    """One Catch rule: the errors caught, where the error goes in the state's data, the next state."""

    errors: tuple[str, ...]
    result_path: str
    next_state: str

    def catches(self, error_name: str) -> bool:
        return ALL_ERRORS in self.errors or error_name in self.errors


#: Any failure that is not retried away is published (MESSAGE_ANALYSIS_FAILED) before the execution
#: fails: the caught error ({"Error", "Cause"}) goes to $.error and PublishFailure reads it there.
CATCH: Final = CatchPolicy(errors=(ALL_ERRORS,), result_path="$.error", next_state=PUBLISH_FAILURE.state)
#: The states CATCH is on; PublishFailure itself has none (its failure fails the execution).
CAUGHT_STATES: Final = (DOWNLOAD_MEDIA.state, ANALYSE, PUBLISH_ANALYSIS.state)

#: Photos analysed at once per message (X allows four per post).
MAX_CONCURRENT_IMAGES: Final = 4
#: An Express execution may run for at most five minutes.
EXECUTION_TIMEOUT_SECONDS: Final = 300

#: How long an analysis claim is held before a crash releases it: the execution's own limit, plus
#: a minute for the release to be recorded (a later arrival of the post is analysed after that).
CLAIM_HOLD_SECONDS: Final = EXECUTION_TIMEOUT_SECONDS + 60
