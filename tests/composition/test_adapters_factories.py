"""The Adapters protocol, its two implementations and how configuration chooses between them."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from botlocal.adapters import LOCAL_ADAPTERS, LocalAdapters
from botlocal.chalice_app import stage_environment
from chalicelib import wiring
from chalicelib.adapters.aws import AwsAdapters
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.ports import Adapters
from chalicelib.settings import AWS_ADAPTERS, load_settings

from tests.fakes import FakeAdapters

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def _factories(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("implementation", [AwsAdapters, LocalAdapters, FakeAdapters])
def test_each_runtime_implements_every_factory_of_the_protocol(implementation: type) -> None:
    protocol = _factories(Adapters)
    assert protocol, "the protocol lists the factories"
    built = _factories(implementation)
    for name, signature in protocol.items():
        assert name in built, f"{implementation.__name__} lacks {name}()"
        assert list(built[name].parameters) == list(signature.parameters), name


def test_the_local_stage_names_the_local_adapters_and_the_app_defaults_to_aws() -> None:
    config = json.loads((RUNTIME / ".chalice" / "config.json").read_text(encoding="utf-8"))
    assert "BOT_ADAPTERS" not in config.get("environment_variables", {})
    assert stage_environment(RUNTIME)["BOT_ADAPTERS"] == LOCAL_ADAPTERS
    assert f"{LocalAdapters.__module__}:{LocalAdapters.__name__}" == LOCAL_ADAPTERS
    assert f"{AwsAdapters.__module__}:{AwsAdapters.__name__}" == AWS_ADAPTERS


def test_without_configuration_the_runtime_uses_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_ADAPTERS", raising=False)
    assert isinstance(wiring.adapters(), AwsAdapters)


def test_configuration_chooses_the_local_adapters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_ADAPTERS", LOCAL_ADAPTERS)
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    adapters = wiring.adapters()
    assert isinstance(adapters, LocalAdapters)
    assert adapters.layout.root == tmp_path.resolve()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("botlocal.adapters.LocalAdapters", "must be 'module:Class'"),
        ("no_such_module_anywhere:Adapters", "cannot be imported"),
        ("chalicelib.settings:AWS_ADAPTERS", "is not a class"),
        ("chalicelib.adapters.aws:Missing", "is not a class"),
    ],
)
def test_a_wrong_adapters_setting_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("BOT_ADAPTERS", value)
    with pytest.raises(ConfigurationError, match=message):
        wiring.load_adapters(load_settings())


def test_services_are_built_once_and_reset_forgets_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_ADAPTERS", LOCAL_ADAPTERS)
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    first = wiring.ingress_service()
    assert wiring.ingress_service() is first
    wiring.reset()
    assert wiring.ingress_service() is not first


def test_the_local_adapters_refuse_to_run_inside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stage deployed with the local stage's BOT_ADAPTERS must fail loudly, not write to /tmp.
    monkeypatch.setenv("BOT_ADAPTERS", LOCAL_ADAPTERS)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "xbot-local-egress_post_reply")
    with pytest.raises(ConfigurationError, match="inside AWS Lambda"):
        wiring.adapters()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAX_WEBHOOK_BODY_BYTES", "abc", "MAX_WEBHOOK_BODY_BYTES must be a whole number, not 'abc'"),
        ("SECRET_CACHE_SECONDS", "5m", "SECRET_CACHE_SECONDS must be a whole number"),
        ("MAX_MEDIA_BYTES", "0", "MAX_MEDIA_BYTES must be at least 1"),
        ("IMAGE_FEATURES", "lables", "IMAGE_FEATURES: unknown image features"),
        ("BOT_EGRESS", "twitter", "BOT_EGRESS must be one of 'x', 'outbox'"),
    ],
)
def test_a_wrong_setting_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_a_wrong_setting_makes_the_webhook_answer_500_without_the_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import app
    from chalice.test import Client

    monkeypatch.setenv("SECRET_CACHE_SECONDS", "not-a-number-SECRETISH")
    with Client(app) as client:
        response = client.http.get("/twitter?crc_token=abc")
    assert response.status_code == 500
    assert b"SECRETISH" not in response.body


def test_the_chalice_app_leaves_the_powertools_logger_alone() -> None:
    """Chalice's logger and Powertools' are both "xbot": the app must not turn it down to ERROR."""
    import logging

    from app import app
    from chalicelib.observability import logger

    assert app.log is logging.getLogger("xbot")
    assert logging.getLogger("xbot").getEffectiveLevel() <= logging.INFO
    assert len(app.log.handlers) == 1  # Powertools' JSON handler only: each line printed once
    assert logger.log_level <= logging.INFO
