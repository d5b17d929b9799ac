"""`-c profile=economy`: the small models' layer on the analysis and text-reply functions, in place of
Comprehend, DetectLabels and the Lex bot (stacks/small_models.py, docs/economy-profile-plan.md).

One economy synth (with the real layer, built or taken from build/economy-layer by the
`economy_layer_dir` fixture) on a worker of its own; the default profile's pins use the session synth.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from botlocal.cost import counting
from cdk_nag import AwsSolutionsChecks
from chalicelib.adapters.economy import EconomyAdapters
from chalicelib.contracts import workflow
from chalicelib.smallmodels import files
from stacks import analysis, responding
from stacks.bot_stack import ECONOMY_MEMORY_MB, FUNCTION_ROLES, BotStack
from stacks.chalice_app import WILDCARD_RESOURCE_FINDING, XRAY_ACTIONS, function_logical_id
from stacks.config import PROFILE_DEFAULT, PROFILE_ECONOMY, BotConfig
from stacks.economy_layer import MODELS_DIR, layer_files
from stacks.small_models import ECONOMY_ADAPTERS

from tests.infrastructure import test_infra_compliance as compliance
from tests.infrastructure.sam_expansion import nag_violations
from tests.infrastructure.synthesis import INFRASTRUCTURE_DIR, Synth, _load_cdk_entry_point, synthesize_with
from tests.infrastructure.templates import functions, of_type, only, permissions, role_of, statements

pytestmark = [pytest.mark.slow]
#: The economy synth (about a minute, plus the layer's first build), on a worker of its own.
ECONOMY = pytest.mark.xdist_group("economy")
#: The default profile's pins share the session synth with the other infrastructure tests.
DEFAULT = pytest.mark.xdist_group("synth")

ROOT = INFRASTRUCTURE_DIR.parent
CHALICE_CONFIG = ROOT / "runtime" / ".chalice" / "config.json"
#: The functions that run the small models, as Chalice registers them, and their logical ids.
ECONOMY_FUNCTIONS = (workflow.ANALYSE_IMAGE.function, workflow.ANALYSE_TEXT.function, responding.REPLY_TO_TEXT)
ECONOMY_IDS = {function_logical_id(name) for name in ECONOMY_FUNCTIONS}
#: Those that load the layer's packages and models (the intent matcher is plain Python).
LAYERED_IDS = {function_logical_id(name) for name in (workflow.ANALYSE_IMAGE.function, workflow.ANALYSE_TEXT.function)}
ECONOMY_VARIABLES = ("BOT_ADAPTERS", "SMALL_MODELS_DIR")
#: Every role's logs and X-Ray, which ChaliceApp grants.
BASE_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", *XRAY_ACTIONS}
#: What the factories' check keeps of the test process's environment besides AWS_* (fake credentials).
KEPT_VARIABLES = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL")


@pytest.fixture(scope="module")
def economy(tmp_path_factory: pytest.TempPathFactory, economy_layer_dir: Path) -> Synth:
    # The fixture builds the layer first (or finds it cached); the app's own build() then finds it.
    return synthesize_with(tmp_path_factory.mktemp("economy"), {"profile": "economy"})


def _variables(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
    return variables


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _memory_by_function_id() -> dict[str, int]:
    """Each function's memory as runtime/.chalice/config.json sets it (its default, unless the
    function has its own), by logical id."""
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    own = {
        name: settings["lambda_memory_size"]
        for name, settings in config["lambda_functions"].items()
        if "lambda_memory_size" in settings
    }
    return {
        function_logical_id(name): own.get(name, config["lambda_memory_size"])
        for role in FUNCTION_ROLES.values()
        for name in role.functions
    }


def _files_under(directory: Path) -> Iterator[tuple[str, int]]:
    for path in layer_files(directory):
        yield path.relative_to(directory).as_posix(), path.stat().st_size


# Compliance -----------------------------------------------------------------------------------


@ECONOMY
def test_the_economy_template_passes_cfn_lint(economy: Synth) -> None:
    assert compliance._lint(economy.template) == []
    assert "Transform" not in economy.expanded
    assert compliance._lint(economy.expanded) == []


@ECONOMY
def test_the_economy_template_passes_cdk_nag_with_every_acknowledgment_justified(
    economy: Synth, tmp_path: Path
) -> None:
    report = AwsSolutionsChecks().validate_scope(economy.stack)
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []
    # Every acknowledgment says why (as test_infra_compliance checks for the default profile).
    for logical_id, resource in economy.template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            assert len(rule["reason"]) > 40, (logical_id, rule)
    assert isinstance(economy.stack, BotStack)
    acknowledged = economy.stack.app.generated_acknowledgments
    assert nag_violations(economy.template, economy.expanded, tmp_path, sam_acknowledgments=acknowledged) == []
    # The analysis role's '*' is explained by what it still calls, not by Comprehend or DetectLabels.
    policy = economy.template["Resources"][_default_policy(economy.template, workflow.ANALYSE_IMAGE.function)]
    (reason,) = [
        rule["reason"]
        for rule in policy["Metadata"]["cdk_nag"]["rules_to_suppress"]
        if rule["id"] == WILDCARD_RESOURCE_FINDING
    ]
    assert "rekognition:RecognizeCelebrities" in reason and "Comprehend" not in reason
    assert "DetectLabels" not in reason


def _default_policy(template: dict[str, Any], function: str) -> str:
    """The logical id of the one policy of the role of `function` (its default policy)."""
    role = role_of(template, function)
    (policy,) = [
        k for k, p in of_type(template, "AWS::IAM::Policy").items() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return policy


# The layer, the adapters and the memory --------------------------------------------------------


@ECONOMY
def test_the_layer_is_on_exactly_the_economy_functions(economy: Synth) -> None:
    layer = only(economy.template, "AWS::Lambda::LayerVersion")
    properties = economy.template["Resources"][layer]["Properties"]
    assert properties["CompatibleRuntimes"] == ["python3.12"]
    assert properties["CompatibleArchitectures"] == ["x86_64"]
    with_layers = {
        k: f["Properties"]["Layers"] for k, f in functions(economy.template).items() if "Layers" in f["Properties"]
    }
    assert with_layers == {logical_id: [{"Ref": layer}] for logical_id in LAYERED_IDS}
    # The same after the SAM transform, on the Lambda functions themselves.
    expanded = {
        k: f["Properties"]["Layers"]
        for k, f in of_type(economy.expanded, "AWS::Lambda::Function").items()
        if "Layers" in f["Properties"]
    }
    assert expanded == {logical_id: [{"Ref": layer}] for logical_id in LAYERED_IDS}


@ECONOMY
def test_the_economy_functions_use_the_economy_adapters_and_the_layers_models(economy: Synth) -> None:
    for logical_id, function in functions(economy.template).items():
        variables = _variables(function)
        if logical_id in ECONOMY_IDS:
            assert variables["BOT_ADAPTERS"] == ECONOMY_ADAPTERS, logical_id
            if logical_id in LAYERED_IDS:
                assert variables["SMALL_MODELS_DIR"] == MODELS_DIR == "/opt/models", logical_id
            else:
                assert "SMALL_MODELS_DIR" not in variables, logical_id
        else:
            # The other functions keep the AWS adapters (the variable unset).
            assert not set(ECONOMY_VARIABLES) & set(variables), logical_id
        assert not [name for name in variables if name.startswith("LEX_")], logical_id
    module, _, name = ECONOMY_ADAPTERS.partition(":")
    assert (module, name) == (EconomyAdapters.__module__, EconomyAdapters.__name__)


@ECONOMY
def test_every_factory_an_economy_function_uses_builds_from_its_environment(
    economy: Synth, economy_layer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The factories read their settings (MEDIA_BUCKET, IDEMPOTENCY_TABLE, SMALL_MODELS_DIR, ...): with
    each function's variables as the template sets them (a reference stands for the resource's
    name; the layer's models/ for /opt/models), none is missing."""
    from chalicelib.responding.fulfilment import fulfil
    from chalicelib.settings import load_settings

    for logical_id in sorted(ECONOMY_IDS):
        variables = _variables(functions(economy.template)[logical_id])
        # Only the function's variables (and the fake credentials of tests/conftest.py): a variable
        # left by another test must not stand in for one the template forgot.
        for name in list(os.environ):
            if not name.startswith("AWS_") and name not in KEPT_VARIABLES:
                monkeypatch.delenv(name)
        for name, value in variables.items():
            monkeypatch.setenv(name, value if isinstance(value, str) else f"resolved-{name.lower()}")
        if variables.get("SMALL_MODELS_DIR") == MODELS_DIR:
            monkeypatch.setenv("SMALL_MODELS_DIR", str(economy_layer_dir / "models"))
        settings = load_settings()
        assert settings.adapters == ECONOMY_ADAPTERS
        adapters = EconomyAdapters(settings)
        # The factory each function's handler calls.
        if logical_id == function_logical_id(workflow.ANALYSE_TEXT.function):
            adapters.text_analyser()
        elif logical_id == function_logical_id(workflow.ANALYSE_IMAGE.function):
            adapters.image_analyser(adapters.media_store())
        else:
            adapters.conversation_bot(fulfil)


def test_the_economy_memory_is_the_cost_models() -> None:
    # One figure per function: the stack's (from the services) and the one `botctl cost` bills.
    assert dict(ECONOMY_MEMORY_MB) == dict(counting.ECONOMY_MEMORY_MB)
    assert set(ECONOMY_MEMORY_MB) == set(ECONOMY_FUNCTIONS)
    # One full vCPU for the photo models (Lambda gives one at 1,769 MB).
    assert ECONOMY_MEMORY_MB[workflow.ANALYSE_IMAGE.function] == 1769


@ECONOMY
def test_the_economy_functions_get_their_memory_and_the_others_keep_theirs(economy: Synth) -> None:
    expected = _memory_by_function_id() | {function_logical_id(name): mb for name, mb in ECONOMY_MEMORY_MB.items()}
    actual = {k: f["Properties"]["MemorySize"] for k, f in functions(economy.template).items()}
    assert actual == expected
    # The photo function's timeout (runtime/.chalice/config.json) leaves room for a cold start
    # (models loaded, about 4 s of CPU at one vCPU) and a photo (about 1 s, plus Rekognition's calls)
    # many times over; the Express execution's five minutes cover it with the other tasks.
    image = functions(economy.template)[function_logical_id(workflow.ANALYSE_IMAGE.function)]["Properties"]
    assert image["Timeout"] >= 10 * counting.ECONOMY_IMAGE_COLD_START_SECONDS
    assert image["Timeout"] * 3 < workflow.EXECUTION_TIMEOUT_SECONDS


@ECONOMY
def test_the_layers_asset_is_the_built_folder_with_its_models(economy: Synth, economy_layer_dir: Path) -> None:
    layer = economy.template["Resources"][only(economy.template, "AWS::Lambda::LayerVersion")]
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    manifest = json.loads((economy.workdir / "cdk.out" / f"{economy.stack.stack_name}.assets.json").read_text())
    source = manifest["files"][asset_hash]["source"]
    assert source["packaging"] == "zip"
    staged = economy.workdir / "cdk.out" / source["path"]
    assert sorted(_files_under(staged)) == sorted(_files_under(economy_layer_dir))
    for model in (files.EFFICIENTNET_LITE0, files.PP_OCR_DET):
        files.verified_path(model, staged / "models")
    assert (staged / "python" / "onnxruntime").is_dir()


# Least privilege -------------------------------------------------------------------------------


@ECONOMY
def test_the_analysis_role_gets_no_comprehend_and_no_detect_labels(economy: Synth) -> None:
    role = role_of(economy.template, workflow.ANALYSE_IMAGE.function)
    granted = permissions(economy.template, role)
    assert not [action for action in granted if action.startswith("comprehend:")]
    assert "rekognition:DetectLabels" not in granted
    # What the economy image analyser still asks Rekognition (celebrities and text, per imageFeatures).
    assert granted["rekognition:RecognizeCelebrities"] == ["*"]
    assert granted["rekognition:DetectText"] == ["*"]
    assert set(granted) == BASE_ACTIONS | {
        "events:PutEvents",
        "s3:PutObject",
        "s3:GetObject",  # the photo step reads the photo to label it in the function
        "s3:ListBucket",
        "s3:DeleteObject",  # the download step: a photo stored while its post was deleted on X
        *analysis.CLAIM_ACTIONS,
        "rekognition:RecognizeCelebrities",
        "rekognition:DetectText",
    }


@ECONOMY
def test_the_text_responder_reads_and_writes_its_sessions_only_and_not_lex(economy: Synth) -> None:
    role = role_of(economy.template, responding.REPLY_TO_TEXT)
    granted = permissions(economy.template, role)
    assert not [action for action in granted if action.startswith("lex:")]
    table = {"Fn::GetAtt": [economy.template["Outputs"]["IdempotencyTableName"]["Value"]["Ref"], "Arn"]}
    sessions = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["session#*"]}}
    (grant,) = [s for s in statements(economy.template, role) if s.get("Condition") == sessions]
    assert sorted(_actions(grant)) == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert grant["Resource"] == table
    # PutItem nowhere else: the role cannot overwrite the claims, counters or opt-outs.
    assert [s for s in statements(economy.template, role) if "dynamodb:PutItem" in _actions(s)] == [grant]
    assert set(granted) == BASE_ACTIONS | {
        "sqs:SendMessage",
        "events:PutEvents",
        "s3:PutObject",
        "s3:GetObject",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }


def test_the_sessions_grant_and_time_to_live_are_the_adapters() -> None:
    from chalicelib.adapters.dynamodb_sessions import IDLE_SESSION_TTL_SECONDS, KEY_PREFIX

    assert f"{KEY_PREFIX}*" == responding.SESSION_KEYS
    assert responding.SESSION_ACTIONS == ("dynamodb:GetItem", "dynamodb:PutItem")
    # A session idles out after the same hour with or without Lex.
    assert responding.IDLE_SESSION_TTL.to_seconds() == IDLE_SESSION_TTL_SECONDS


@pytest.mark.parametrize(
    ("features", "key_phrases", "expected"),
    [
        (("labels", "celebrities", "text"), False, ("rekognition:RecognizeCelebrities", "rekognition:DetectText")),
        (("labels", "celebrities", "text"), True, ("rekognition:RecognizeCelebrities", "rekognition:DetectText")),
        (("labels", "text"), False, ("rekognition:DetectText",)),
        (("labels",), True, ()),
    ],
)
def test_the_small_models_need_no_comprehend_and_no_detect_labels(
    features: tuple[str, ...], key_phrases: bool, expected: tuple[str, ...]
) -> None:
    assert analysis.analysis_actions(features, key_phrases, small_models=True) == expected


@ECONOMY
def test_no_lex_bot_and_nothing_may_invoke_the_idle_fulfilment_function(economy: Synth) -> None:
    template = economy.template
    assert not [k for k, r in template["Resources"].items() if r["Type"].startswith("AWS::Lex::")]
    assert "lexv2.amazonaws.com" not in json.dumps(template)
    assert "lex:" not in json.dumps([p["Properties"] for p in of_type(template, "AWS::IAM::Policy").values()])
    assert not {"LexBotId", "LexBotAliasId"} & set(template["Outputs"])
    # The fulfilment function is still there (Chalice registers it), with nothing but its logs.
    fulfilment = function_logical_id(responding.LEX_FULFILMENT_FUNCTION)
    assert fulfilment in functions(template)
    assert set(permissions(template, role_of(template, responding.LEX_FULFILMENT_FUNCTION))) == BASE_ACTIONS
    for expanded in (template, economy.expanded):
        invokers = [
            p
            for p in of_type(expanded, "AWS::Lambda::Permission").values()
            if fulfilment in json.dumps(p["Properties"]["FunctionName"])
        ]
        assert invokers == []
    # What used to name the bot still synthesizes without it: the dashboard and its outputs.
    assert "DashboardName" in template["Outputs"]
    assert of_type(template, "AWS::CloudWatch::Dashboard")


# The default profile stays as it was -------------------------------------------------------------


@DEFAULT
def test_the_default_profile_keeps_lex_comprehend_detect_labels_and_its_memory(synth: Synth) -> None:
    template = synth.template
    assert not of_type(template, "AWS::Lambda::LayerVersion")
    for logical_id, function in functions(template).items():
        assert "Layers" not in function["Properties"], logical_id
        assert not set(ECONOMY_VARIABLES) & set(_variables(function)), logical_id
    assert {k: f["Properties"]["MemorySize"] for k, f in functions(template).items()} == _memory_by_function_id()
    for resource_type in ("AWS::Lex::Bot", "AWS::Lex::BotVersion", "AWS::Lex::BotAlias"):
        only(template, resource_type)
    assert {"LexBotId", "LexBotAliasId"} <= set(template["Outputs"])
    analysis_role = permissions(template, role_of(template, workflow.ANALYSE_TEXT.function))
    assert set(analysis.COMPREHEND_ACTIONS) | {"rekognition:DetectLabels"} <= set(analysis_role)
    text_role = permissions(template, role_of(template, responding.REPLY_TO_TEXT))
    assert "lex:RecognizeText" in text_role
    assert not [
        s for s in statements(template, role_of(template, responding.REPLY_TO_TEXT)) if "session#*" in json.dumps(s)
    ]
    assert {"LEX_BOT_ID", "LEX_BOT_ALIAS_ID", "LEX_LOCALE_ID"} <= set(
        _variables(functions(template)[function_logical_id(responding.REPLY_TO_TEXT)])
    )


def test_the_default_profile_does_not_import_the_layers_build_code() -> None:
    """The stack's modules load without stacks.economy_layer: only `-c profile=economy` imports it."""
    check = "import sys, stacks.bot_stack; sys.exit('stacks.economy_layer' in sys.modules)"
    path = os.pathsep.join(str(ROOT / part) for part in ("runtime", "local", "infrastructure"))
    result = subprocess.run(
        [sys.executable, "-c", check], env={**os.environ, "PYTHONPATH": path}, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()


# The context value ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, PROFILE_DEFAULT),
        ("", PROFILE_DEFAULT),
        ("default", PROFILE_DEFAULT),
        ("economy", PROFILE_ECONOMY),
        ("ECONOMY", PROFILE_ECONOMY),
        (" Economy ", PROFILE_ECONOMY),
    ],
)
def test_the_profile_context_value(value: str | None, expected: str) -> None:
    config = BotConfig.from_context(cdk.App(context={"profile": value} if value is not None else None).node)
    assert config.profile == expected
    assert config.economy == (expected == PROFILE_ECONOMY)


@pytest.mark.parametrize("value", ["cheap", "economic", "lex", "1"])
def test_an_unknown_profile_fails_the_synth_with_a_clear_message(value: str) -> None:
    with pytest.raises(ValueError, match=rf"context value profile must be default or economy, got '{value}'"):
        BotConfig.from_context(cdk.App(context={"profile": value}).node)
    # From the CDK app itself: before the stack, so before anything is packaged or built.
    entry_point = _load_cdk_entry_point()
    with pytest.raises(ValueError, match="context value profile must be default or economy"):
        entry_point.build_app(context={"profile": value})


@pytest.mark.parametrize("target", ["deploy", "diff", "destroy"])
def test_make_passes_the_profile_to_the_cdk_app_only_when_set(target: str) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")

    def cdk_command(*variables: str) -> str:
        commands = subprocess.run(
            ["make", "-n", target, *variables], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        (line,) = [line for line in commands.splitlines() if "npx cdk" in line]
        return line

    assert " -c profile=economy " in f"{cdk_command('PROFILE=economy', 'STAGE=dev')} "
    assert "profile" not in cdk_command()
