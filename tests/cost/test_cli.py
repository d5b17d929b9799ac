"""`botctl cost` (botlocal.cost.command)."""

from __future__ import annotations

import json

import pytest
from botlocal.cli import main
from botlocal.cost import counting
from botlocal.cost.counting import ScenarioCounts
from click.testing import CliRunner

JSON_KEYS = {
    "per_message_usd",
    "per_million_usd",
    "per_million_gbp",
    "original_per_million_usd",
    "original_per_million_gbp",
    "ratio",
    "lines",
    "extra_features_per_million_usd",
    "assumptions",
    "fixed_monthly",
    "x_api_per_million_usd",
    "prices",
}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, counts: ScenarioCounts) -> None:
    """The command counts with the session's run (one run of the scenario is enough)."""
    monkeypatch.setattr(counting, "count_scenario", lambda **_: counts)


@pytest.mark.usefixtures("counted")
def test_json_has_the_figures_the_issue_names() -> None:
    result = CliRunner().invoke(main, ["cost", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= JSON_KEYS
    assert report["per_million_usd"] > 0
    assert report["ratio"] == pytest.approx(report["original_per_million_usd"] / report["per_million_usd"], rel=1e-2)
    assert report["per_million_gbp"] == pytest.approx(
        report["per_million_usd"] * report["gbp_per_usd"]["rate"], rel=1e-3
    )
    for line in report["lines"]:
        assert {"service", "item", "quantity_per_message", "unit", "unit_price_usd", "per_million_usd"} <= set(line)
    assert report["extra_features_per_million_usd"] > 0  # moderation before a repost


@pytest.mark.usefixtures("counted")
def test_the_mix_options_change_the_figures() -> None:
    runner = CliRunner()
    text = json.loads(runner.invoke(main, ["cost", "--format", "json", "--photo-share", "0"]).output)
    photos = json.loads(runner.invoke(main, ["cost", "--format", "json", "--photo-share", "1"]).output)
    assert text["by_service_per_million_usd"].get("Rekognition", 0) == 0
    assert photos["by_service_per_million_usd"]["Rekognition"] > 0
    assert text["mix"]["photo_share"] == 0


@pytest.mark.usefixtures("counted")
def test_the_table_shows_both_designs_and_the_fixed_costs() -> None:
    result = CliRunner().invoke(main, ["cost"])
    assert result.exit_code == 0, result.output
    assert "original / this bot" in result.output
    assert "Fixed monthly" in result.output
    assert "X API" in result.output


def test_an_unknown_profile_is_refused() -> None:
    result = CliRunner().invoke(main, ["cost", "--profile", "luxury"])
    assert result.exit_code == 2
    assert "--profile" in result.output


def test_a_share_over_1_is_refused() -> None:
    result = CliRunner().invoke(main, ["cost", "--photo-share", "2"])
    assert result.exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("value", ["nan", "NaN", "-0.1", "inf"])
def test_a_share_that_is_not_a_number_between_0_and_1_is_refused(value: str) -> None:
    result = CliRunner().invoke(main, ["cost", "--people-share", value])
    assert result.exit_code == 2
    assert "--people-share" in result.output and "Traceback" not in result.output


def test_the_command_counts_a_scenario_of_its_own() -> None:
    # No shared counts: the command runs the scenario through the handlers itself, in this process
    # (which has run it before: the run leaves nothing behind that changes a second one).
    result = CliRunner().invoke(main, ["cost", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["per_million_usd"] > 0
    assert report["ratio"] > 1
