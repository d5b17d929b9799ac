"""Counts times prices, weighed by the mix (botlocal.cost.model)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from botlocal.cost import counting
from botlocal.cost.counting import Call, Execution, Invocation, PostRun, ScenarioCounts
from botlocal.cost.model import Line, Mix, billed_seconds, execution_seconds, gbp, post_lines, weigh
from botlocal.cost.prices import GBP_PER_USD, latency_seconds, price
from botlocal.cost.report import build_report

from tests.conftest import SUMMARY_LINE_PROPERTY


def test_the_default_mix_weighs_the_posts_as_the_issue_says() -> None:
    weights = Mix().weights()
    assert math.isclose(sum(weights.values()), 1.0)
    photos = sum(weight for kind, weight in weights.items() if kind.startswith("photo"))
    assert math.isclose(photos, 0.5)
    with_person = weights[counting.PHOTO_PERSON] + weights[counting.PHOTO_PERSON_TEXT]
    with_text = weights[counting.PHOTO_TEXT] + weights[counting.PHOTO_PERSON_TEXT]
    assert math.isclose(with_person, 0.25)
    assert math.isclose(with_text, 0.5 / 3)
    assert math.isclose(weights[counting.NEGATIVE_TEXT], 0.05)


@pytest.mark.parametrize("field", ["photo_share", "people_share", "text_in_photo_share", "negative_share"])
def test_a_share_outside_0_to_1_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Mix(**{field: 1.5})  # type: ignore[arg-type]


def test_weigh_adds_each_posts_lines_times_its_share() -> None:
    a = Line("Rekognition", "DetectLabels", 1, "image", "rekognition.image")
    b = Line("Lex", "RecognizeText", 1, "text request", "lex.text_request")
    lines = weigh({"photo": [a, a], "text": [b]}, {"photo": 0.25, "text": 0.75})
    by_item = {line.item: line.quantity for line in lines}
    assert by_item == {"DetectLabels": 0.5, "RecognizeText": 0.75}
    assert math.isclose(sum(line.usd for line in lines), 0.5 * 0.001 + 0.75 * 0.00075)


def test_a_lambda_invocation_is_billed_for_its_cpu_and_the_latency_of_its_calls() -> None:
    invocation = Invocation("f", 512, cpu_seconds=0.0101, calls=[Call("rekognition", "DetectLabels")], waits=["x"])
    expected = 0.0101 + latency_seconds("rekognition") + latency_seconds("x")
    assert billed_seconds(invocation) == math.ceil(expected * 1000) / 1000


def test_an_express_execution_lasts_the_longest_branch_rounded_up_to_100_ms() -> None:
    task = Invocation("t", 512, cpu_seconds=0.05)
    slow = Invocation("i", 512, cpu_seconds=0.3)
    seconds = execution_seconds(Execution(download=task, text=task, images=[slow], publish=task))
    assert seconds == math.ceil((0.05 + 0.3 + 0.05 + 7 * 0.02) * 10) / 10


def test_moderation_is_an_extra_feature_outside_the_total() -> None:
    run = PostRun(
        "photo", invocations=[Invocation("r", 512, calls=[Call("rekognition", "DetectModerationLabels", 1, True)])]
    )
    extra = [line for line in post_lines(run) if line.extra]
    assert {line.item for line in extra} == {
        "DetectModerationLabels",
        "GET by Rekognition",
        "duration waiting for moderation",
    }


def test_the_report_adds_up(counts: ScenarioCounts, record_property: Callable[[str, object], None]) -> None:
    report = build_report(counts, Mix())
    # Printed at the end of `make test`: where the default mix stands against the issue's goals
    # (at least 1.4 times below the original; everything but AI under 5%). Not asserted: measured.
    record_property(
        SUMMARY_LINE_PROPERTY,
        f"botctl cost (default mix): ${report.per_million_usd:,.0f} per million messages "
        f"(GBP {gbp(report.per_million_usd):,.0f}), original ${report.original_per_million_usd:,.0f}, "
        f"ratio {report.ratio:.2f}x, non-AI {report.non_ai_share:.1%}, "
        f"extra features ${report.extra_features_per_million_usd:,.0f}",
    )
    assert math.isclose(report.per_million_usd, sum(line.usd for line in report.like_for_like) * 1_000_000)
    assert all(not line.extra for line in report.like_for_like)
    assert math.isclose(report.ratio, report.original_per_million_usd / report.per_million_usd)
    assert math.isclose(gbp(report.per_million_usd), report.per_million_usd * GBP_PER_USD.usd)
    assert 0 < report.non_ai_share < 1
    assert math.isclose(sum(report.by_service(report.like_for_like).values()), report.per_million_usd)
    # The X API is apart: never an AWS line.
    assert all(line.service != "X API" for line in report.lines)


def test_the_report_follows_the_mix(counts: ScenarioCounts) -> None:
    text_only = build_report(counts, Mix(photo_share=0.0))
    photos_only = build_report(counts, Mix(photo_share=1.0))
    assert not any(line.item == "DetectLabels" for line in text_only.lines)
    labels = next(line for line in photos_only.lines if line.item == "DetectLabels")
    assert math.isclose(labels.quantity, 1.0)
    assert math.isclose(labels.usd, price("rekognition.image"))


def test_fixed_costs_are_apart_from_the_per_message_cost(counts: ScenarioCounts) -> None:
    report = build_report(counts, Mix(messages_per_month=0))
    assert math.isclose(report.monthly_usd, report.fixed_monthly_usd)
    keys = next(fixed for fixed in report.fixed if fixed.line.item == "customer-managed keys")
    assert keys.line.quantity >= 1  # counted in infrastructure/stacks
