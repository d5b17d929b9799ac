"""The image triggers from CDK context (-c celebritiesWhenLabels=..., -c textWhenLabels=...) reach the
analyse-image function's environment, checked as the runtime reads them; without them no variable
is set and the runtime's defaults apply."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from chalicelib.contracts import workflow
from stacks.chalice_app import function_logical_id
from stacks.config import BotConfig

from tests.infrastructure.synthesis import Synth, synthesize_with
from tests.infrastructure.templates import functions

ANALYSE_IMAGE = function_logical_id(workflow.ANALYSE_IMAGE.function)
VARIABLES = ("CELEBRITIES_WHEN_LABELS", "TEXT_WHEN_LABELS")


def _config(**context: object) -> BotConfig:
    return BotConfig.from_context(cdk.App(context=dict(context)).node)


def test_no_context_sets_no_variable():
    config = _config()
    assert config.celebrities_when_labels is None and config.text_when_labels is None
    assert config.analysis_environment == {}


def test_dash_c_strings_and_cdk_json_lists():
    config = _config(celebritiesWhenLabels=" Person, Face ,Person", textWhenLabels=["Text", "Menu"])
    assert config.analysis_environment == {"CELEBRITIES_WHEN_LABELS": "Person,Face", "TEXT_WHEN_LABELS": "Text,Menu"}


def test_always_is_kept_as_the_runtime_reads_it():
    assert _config(textWhenLabels="Always").analysis_environment == {"TEXT_WHEN_LABELS": "always"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("celebritiesWhenLabels", "always,Person"),
        ("textWhenLabels", "Text;Menu"),
        ("textWhenLabels", 3),
        # "never" in any words would be a label that never matches: every call silently gone.
        ("celebritiesWhenLabels", "none"),
        ("textWhenLabels", "Off"),
    ],
)
def test_a_bad_value_fails_at_synth_naming_the_key(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})


def test_triggers_without_labels_among_the_image_features_fail_at_synth():
    with pytest.raises(ValueError, match="need 'labels' in imageFeatures"):
        _config(imageFeatures="celebrities,text", celebritiesWhenLabels="Person")
    assert _config(imageFeatures="celebrities,text").analysis_environment == {}


@pytest.fixture(scope="module")
def with_triggers(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_with(
        tmp_path_factory.mktemp("triggers"), {"celebritiesWhenLabels": "Person,Face", "textWhenLabels": "always"}
    )


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_context_reaches_the_analyse_image_function_only(with_triggers: Synth) -> None:
    for logical_id, function in functions(with_triggers.template).items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if logical_id == ANALYSE_IMAGE:
            assert variables["CELEBRITIES_WHEN_LABELS"] == "Person,Face"
            assert variables["TEXT_WHEN_LABELS"] == "always"
        else:
            assert not set(VARIABLES) & set(variables), logical_id


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_default_template_sets_no_trigger(synth: Synth) -> None:
    for logical_id, function in functions(synth.template).items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not set(VARIABLES) & set(variables), logical_id
