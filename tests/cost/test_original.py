"""The original design on the same table (botlocal.cost.original)."""

from __future__ import annotations

import math

from botlocal.cost import original
from botlocal.cost.counting import Call, Execution, Invocation, PostRun
from botlocal.cost.model import Mix, weigh
from botlocal.cost.prices import price


def test_state_transitions_are_counted_from_the_original_shape() -> None:
    assert original.transitions(0) == 7
    assert original.transitions(1) == 12
    assert original.transitions(2) == 16


def _text_run() -> PostRun:
    call = Call("comprehend", "DetectSentiment", 3.0)
    return PostRun(
        "text", invocations=[Invocation("analysis_analyse_text", 512, calls=[call])], executions=[Execution()]
    )


def _photo_run() -> PostRun:
    image = Invocation("analysis_analyse_image", 512, calls=[Call("rekognition", "DetectLabels", 1, True)])
    return PostRun("photo", invocations=[image], executions=[Execution(images=[image])])


def test_a_text_post_costs_the_original_comprehend_twice_lex_once_and_7_transitions() -> None:
    lines = original.post_lines("text", _text_run())
    ai = {line.item: line.quantity for line in lines if line.ai}
    assert ai == {"DetectEntities": 3.0, "DetectSentiment": 3.0, "RecognizeText": 1}
    transitions = next(line for line in lines if line.item == "Standard state transitions")
    assert transitions.quantity == 7
    assert not any(line.service == "Rekognition" for line in lines)


def test_a_photo_costs_the_original_three_rekognition_calls_whatever_it_shows() -> None:
    lines = original.post_lines("photo", _photo_run())
    rekognition = {line.item: line.quantity for line in lines if line.service == "Rekognition"}
    assert rekognition == {"DetectLabels": 1, "DetectText": 1, "RecognizeCelebrities": 1}
    assert not any(line.service == "Lex" for line in lines)
    # Our analysis functions are not the original's: its state machine calls the services itself.
    assert not any(line.service == "Lambda" and line.quantity and line.item == "requests" for line in lines)


def test_the_original_ai_per_message_at_the_default_mix() -> None:
    weights = {"text": 0.5, "photo": 0.5}
    lines = weigh(
        {"text": original.post_lines("text", _text_run()), "photo": original.post_lines("photo", _photo_run())}, weights
    )
    ai = sum(line.usd for line in lines if line.ai)
    expected = 6 * price("comprehend.unit") + 0.5 * price("lex.text_request") + 0.5 * 3 * price("rekognition.image")
    assert math.isclose(ai, expected)
    assert Mix().photo_share == 0.5
