"""`botctl cost --profile economy`: the economy adapters' calls counted with the real small models."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
from botlocal.cli import main
from botlocal.cost import counting
from botlocal.cost.counting import ECONOMY_MEMORY_MB, ScenarioCounts
from botlocal.cost.model import COMPREHEND, LEX, REKOGNITION, CostReport, Mix
from botlocal.cost.profiles import ECONOMY
from botlocal.cost.report import build_report
from click.testing import CliRunner

from tests.cost.test_cli import JSON_KEYS

_SMALL_MODELS = ("dlib", "onnxruntime", "rapidocr", "moto")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(name) is None for name in _SMALL_MODELS),
        reason="the small models' libraries or moto are not installed",
    ),
]


@pytest.fixture(scope="module")
def report(economy_counts: ScenarioCounts, counts: ScenarioCounts) -> CostReport:
    return build_report(economy_counts, Mix(), original_counts=counts)


def test_every_post_of_the_economy_scenario_is_answered(economy_counts: ScenarioCounts) -> None:
    assert economy_counts.profile == ECONOMY
    assert {kind: run.x_posts_written for kind, run in economy_counts.posts.items()} == dict.fromkeys(counting.KINDS, 1)


def test_no_comprehend_lex_or_detect_labels_line(report: CostReport) -> None:
    every = [*report.like_for_like, *report.extra_lines]
    assert not [line for line in every if line.service in {COMPREHEND, LEX}]
    assert not [line for line in every if line.item == "DetectLabels"]
    assert report.by_service(report.like_for_like).get(COMPREHEND, 0.0) == 0.0


def test_celebrities_text_and_moderation_stay_on_rekognition(report: CostReport) -> None:
    paid = {line.item: line.quantity for line in report.like_for_like if line.service == REKOGNITION}
    mix = report.mix
    # Only the photos whose small labels call for them: a person (half the photos), text (a third).
    assert paid["RecognizeCelebrities"] == pytest.approx(mix.photo_share * mix.people_share)
    assert paid["DetectText"] == pytest.approx(mix.photo_share * mix.text_in_photo_share)
    moderation = [line for line in report.extra_lines if line.item == "DetectModerationLabels"]
    assert moderation and moderation[0].quantity > 0


def test_the_economy_functions_use_the_deployed_memory(economy_counts: ScenarioCounts, report: CostReport) -> None:
    for function, memory_mb in ECONOMY_MEMORY_MB.items():
        assert economy_counts.memory_mb[function] == memory_mb, function
    text = " ".join(report.assumptions)
    assert "as `-c profile=economy` deploys it" in text
    assert "cold start" in text.lower()


def test_the_original_design_is_the_same_figure_for_both_profiles(report: CostReport, counts: ScenarioCounts) -> None:
    default = build_report(counts, Mix())
    assert report.original_per_million_usd == pytest.approx(default.original_per_million_usd)
    # The small models replace Comprehend, Lex and DetectLabels: cheaper than the default profile.
    assert report.per_million_usd < default.per_million_usd
    assert report.ratio == pytest.approx(report.original_per_million_usd / report.per_million_usd)


def test_the_json_has_the_default_fields_and_the_profile(
    monkeypatch: pytest.MonkeyPatch, counts: ScenarioCounts, economy_counts: ScenarioCounts
) -> None:
    def count(**options: Any) -> ScenarioCounts:
        return economy_counts if options.get("profile") == ECONOMY else counts

    monkeypatch.setattr(counting, "count_scenario", count)
    result = CliRunner().invoke(main, ["cost", "--profile", "economy", "--format", "json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures) >= JSON_KEYS | {"profile"}
    assert figures["profile"] == ECONOMY
    assert figures["per_million_gbp"] == pytest.approx(
        figures["per_million_usd"] * figures["gbp_per_usd"]["rate"], rel=1e-3
    )
    assert figures["per_million_gbp"] > 0
    assert figures["by_service_per_million_usd"].get("Comprehend", 0) == 0
