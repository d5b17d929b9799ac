"""The original design (makit/aws-serverless-twitter-bot) on the same price table and mix.

Its analysis is a Standard state machine (lib/stacks/analysis-stack.ts in that repository) that
calls the AI services itself:

    Analyse Text and Images (Parallel)
      ├── Analyse Text (Parallel): Detect Entities ‖ Detect Sentiment      (Comprehend, every post)
      └── Contain Image(s)? (Choice)
            ├── no:  No Images (Pass)
            └── yes: Download Images to S3 (Lambda) -> Map through Images:
                       Analyse Image (Parallel): Detect Labels ‖ Detect Text ‖ Recognize Celebrities
    -> Push Result (EventBridge PutEvents, MESSAGE_ANALYSED)

A Standard workflow is billed per state transition: one each time a state is entered. Counted from
that shape: a text post enters 7 states (the two Parallels, the two Comprehend tasks, the Choice,
the Pass, Push Result); a post with n photos enters 8 + 4n (the two Parallels, the two Comprehend
tasks, the Choice, the download, the Map, Push Result, and per photo the Parallel and its three
Rekognition tasks): 12 for one photo. Its responders send every text-only post to Lex.

Everything outside the analysis (the webhook, the bus and its events, the data lake, the logs,
the responders, posting the reply) is taken as this project's, counted in the same run: the
original has the same services there. Left out because the original has none: DynamoDB (this
project's idempotency, claims, guards and counters), the SSM posting switch, the Express state
machine and its analysis functions, and the photo check before a repost.
"""

from __future__ import annotations

from typing import Final

from chalicelib.contracts import workflow

from botlocal.cost import counting, model
from botlocal.cost.counting import Invocation, PostRun
from botlocal.cost.model import Line

#: State transitions of the original's Standard workflow, from its shape (see the module's text).
TEXT_POST_TRANSITIONS: Final = 7
PHOTO_POST_BASE_TRANSITIONS: Final = 8
TRANSITIONS_PER_PHOTO: Final = 4
#: Rekognition calls per photo: DetectLabels, DetectText and RecognizeCelebrities, always.
ORIGINAL_PHOTO_CALLS: Final = ("DetectLabels", "DetectText", "RecognizeCelebrities")
#: The original's Comprehend calls for every post.
ORIGINAL_TEXT_CALLS: Final = ("DetectEntities", "DetectSentiment")

#: Our functions that the original does not have: its state machine calls the AI services itself.
_ANALYSIS_FUNCTIONS: Final = frozenset(
    {
        workflow.ANALYSE_TEXT.function,
        workflow.ANALYSE_IMAGE.function,
        workflow.PUBLISH_ANALYSIS.function,
        workflow.PUBLISH_FAILURE.function,
    }
)
#: Services of ours the original has no counterpart of.
_NOT_IN_ORIGINAL: Final = frozenset({model.DYNAMODB, model.SSM})

ASSUMPTIONS: Final = (
    f"Original design: Standard workflow, {TEXT_POST_TRANSITIONS} state transitions per text post and "
    f"{PHOTO_POST_BASE_TRANSITIONS} + {TRANSITIONS_PER_PHOTO} per photo "
    f"({PHOTO_POST_BASE_TRANSITIONS + TRANSITIONS_PER_PHOTO} for one photo), counted from its shape "
    "(makit/aws-serverless-twitter-bot, lib/stacks/analysis-stack.ts).",
    "Original design: Comprehend DetectEntities + DetectSentiment for every post, Lex for every text-only "
    "post (negative ones too), DetectLabels + DetectText + RecognizeCelebrities for every photo; its photo "
    "download is a Lambda (taken as our DownloadMedia's invocation); its other functions, events, data lake, "
    "logs and edge are taken as ours; it has no DynamoDB, SSM switch or photo moderation.",
)


def transitions(photos: int) -> int:
    """State transitions of one execution of the original's Standard workflow."""
    if photos == 0:
        return TEXT_POST_TRANSITIONS
    return PHOTO_POST_BASE_TRANSITIONS + TRANSITIONS_PER_PHOTO * photos


def _photos(run: PostRun) -> int:
    return sum(len(execution.images) for execution in run.executions)


def _text_units(run: PostRun) -> float:
    """The post's Comprehend units (the same text as ours: the units of our DetectSentiment call)."""
    for call in run.calls:
        if call.service == "comprehend" and call.operation == "DetectSentiment":
            return call.units
    return 3.0


def _invocations(run: PostRun, photos: int) -> list[Invocation]:
    kept = [
        invocation
        for invocation in run.invocations
        if invocation.function not in _ANALYSIS_FUNCTIONS
        and (photos > 0 or invocation.function != workflow.DOWNLOAD_MEDIA.function)
    ]
    if photos == 0 and not any(invocation.function == counting.LEX_FULFILMENT for invocation in kept):
        # The original sends negative posts to Lex too: one fulfilment invocation more, as ours.
        kept.append(Invocation(counting.LEX_FULFILMENT, memory_mb=128, cpu_seconds=0.001))
    return kept


def post_lines(kind: str, run: PostRun) -> list[Line]:
    """What one post of `kind` costs the original design, per post (our run gives its text and photos)."""
    del kind  # the run says everything: its photos, its text
    photos = _photos(run)
    units = _text_units(run)
    lines = [
        Line(model.COMPREHEND, operation, units, "100-character unit", "comprehend.unit")
        for operation in ORIGINAL_TEXT_CALLS
    ]
    if photos == 0:
        lines.append(Line(model.LEX, "RecognizeText", 1, "text request", "lex.text_request"))
    for operation in ORIGINAL_PHOTO_CALLS:
        if photos:
            lines.append(Line(model.REKOGNITION, operation, photos, "image", "rekognition.image"))
            lines.append(Line(model.S3, "GET by Rekognition", photos, "request", "s3.get"))
    lines.append(
        Line(
            model.STEP_FUNCTIONS,
            "Standard state transitions",
            transitions(photos),
            "transition",
            "sfn.standard.transition",
        )
    )
    ours = [
        line
        for line in model.call_lines(run)
        if not line.ai and not line.extra and line.service not in _NOT_IN_ORIGINAL and line.item != "GET by Rekognition"
    ]
    return [
        *lines,
        *ours,
        *model.lambda_lines(_invocations(run, photos)),
        *model.event_lines(run),
        *model.edge_lines(run),
    ]
