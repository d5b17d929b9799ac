"""The economy profile end to end, in process: posts delivered to the webhook and every event to the
runtime's handlers (botlocal.cost.counting's pipeline, AWS services on moto, every botocore call
counted), with EconomyAdapters and the real small models. No Comprehend, no Lex, no DetectLabels;
RecognizeCelebrities only for the photo with a face, DetectText only for the photo with text."""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass

import pytest
from botlocal.cost import counting
from botlocal.cost.counting import (
    CAT,
    NEGATIVE_TEXT,
    PERSON,
    PHOTO_NEITHER,
    PHOTO_PERSON,
    PHOTO_TEXT,
    TEXT,
    Photo,
    ScenarioCounts,
    ScenarioPost,
)
from botlocal.cost.profiles import ECONOMY
from chalicelib.ports import ConversationSessions

from tests.local_analysis.conftest import text_photo

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(name) is None for name in ("dlib", "onnxruntime", "rapidocr", "moto")),
        reason="the small models' libraries or moto are not installed",
    ),
]


class RecordingEconomyAdapters(counting.CountingEconomyAdapters):
    """The cost model's economy adapters (X's media host and API counted), each session call noted."""

    def conversation_sessions(self) -> ConversationSessions:
        return RecordedSessions(super().conversation_sessions())


#: Every session load and save of the run: (operation, session id).
SESSION_CALLS: list[tuple[str, str]] = []


class RecordedSessions:
    """The economy adapters' DynamoDB sessions, each call noted in SESSION_CALLS."""

    def __init__(self, sessions: ConversationSessions) -> None:
        self._sessions = sessions

    def load(self, session_id: str, locale_id: str) -> dict[str, str]:
        SESSION_CALLS.append(("load", session_id))
        return self._sessions.load(session_id, locale_id)

    def save(self, session_id: str, locale_id: str, attributes: dict[str, str]) -> None:
        SESSION_CALLS.append(("save", session_id))
        self._sessions.save(session_id, locale_id, attributes)


@dataclass(frozen=True)
class DrawnPhoto(Photo):
    """A scenario photo made in the test: words drawn on a real photo."""

    drawn: bytes = b""

    @property
    def body(self) -> bytes:
        return self.drawn


SIGN = DrawnPhoto("sign.png", (), text_lines=("OPEN DAILY",), drawn=text_photo(("OPEN DAILY", "Fresh coffee")))
SCENARIO = (
    ScenarioPost(TEXT, "tell me a joke please", "POSITIVE"),
    ScenarioPost(NEGATIVE_TEXT, "this is the worst bot ever and I hate it", "NEGATIVE"),
    ScenarioPost(PHOTO_NEITHER, "look at my cat", "POSITIVE", CAT),
    ScenarioPost(PHOTO_PERSON, "who is this?", "NEUTRAL", PERSON),
    ScenarioPost(PHOTO_TEXT, "what does it say?", "NEUTRAL", SIGN),
)
PHOTO_KINDS = (PHOTO_NEITHER, PHOTO_PERSON, PHOTO_TEXT)


@pytest.fixture(scope="module")
def counts() -> ScenarioCounts:
    SESSION_CALLS.clear()
    # The economy profile's environment and models folder, with this module's recording subclass.
    return counting.count_scenario(
        SCENARIO, runs=1, profile=ECONOMY, adapters=f"{__name__}:{RecordingEconomyAdapters.__name__}"
    )


def _operations(counts: ScenarioCounts, kind: str) -> Counter[tuple[str, str]]:
    return Counter((call.service, call.operation) for call in counts.posts[kind].calls)


def _functions(counts: ScenarioCounts, kind: str) -> set[str]:
    return {invocation.function for invocation in counts.posts[kind].invocations}


def test_every_post_is_answered(counts: ScenarioCounts) -> None:
    assert {kind: run.x_posts_written for kind, run in counts.posts.items()} == {post.kind: 1 for post in SCENARIO}


def test_no_comprehend_no_lex_and_no_detect_labels(counts: ScenarioCounts) -> None:
    every: Counter[tuple[str, str]] = Counter()
    for post in SCENARIO:
        every += _operations(counts, post.kind)
    services = {service for service, _ in every}
    assert "comprehend" not in services
    assert "lexv2-runtime" not in services
    assert ("rekognition", "DetectLabels") not in every
    # Lex would invoke the fulfilment Lambda: in this profile the fulfilment runs in the responder.
    assert all(counting.LEX_FULFILMENT not in _functions(counts, post.kind) for post in SCENARIO)


def test_recognize_celebrities_only_for_the_photo_with_a_face(counts: ScenarioCounts) -> None:
    called = {post.kind: _operations(counts, post.kind)[("rekognition", "RecognizeCelebrities")] for post in SCENARIO}
    assert called == {TEXT: 0, NEGATIVE_TEXT: 0, PHOTO_NEITHER: 0, PHOTO_PERSON: 1, PHOTO_TEXT: 0}


def test_detect_text_only_for_the_photo_with_text(counts: ScenarioCounts) -> None:
    called = {post.kind: _operations(counts, post.kind)[("rekognition", "DetectText")] for post in SCENARIO}
    assert called == {TEXT: 0, NEGATIVE_TEXT: 0, PHOTO_NEITHER: 0, PHOTO_PERSON: 0, PHOTO_TEXT: 1}


def test_the_reposted_photo_is_still_checked_by_rekognition(counts: ScenarioCounts) -> None:
    # Only the annotated photo of a named person is reposted, and moderation stays paid (issue 12).
    called = {kind: _operations(counts, kind)[("rekognition", "DetectModerationLabels")] for kind in PHOTO_KINDS}
    assert called == {PHOTO_NEITHER: 0, PHOTO_PERSON: 1, PHOTO_TEXT: 0}


def test_only_the_text_reply_reads_and_writes_its_session_in_dynamodb(counts: ScenarioCounts) -> None:
    # The negative post gets a calm answer without the bot; photos are answered without it.
    assert [operation for operation, _ in SESSION_CALLS] == ["load", "save"]
    assert len({session for _, session in SESSION_CALLS}) == 1
    text_reads = _operations(counts, TEXT)[("dynamodb", "GetItem")]
    assert text_reads == _operations(counts, NEGATIVE_TEXT)[("dynamodb", "GetItem")] + 1
