"""The import rules hold in the runtime, and the checker does catch each kind of break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.architecture.import_rules import (
    check_local_adapters,
    check_runtime,
    imported_modules,
    layer_of,
    local_adapter_modules,
    rules_for,
)

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
LOCAL = Path(__file__).resolve().parents[2] / "local"


def test_the_runtime_keeps_every_import_rule() -> None:
    violations = check_runtime(RUNTIME)
    assert not violations, "\n".join(str(violation) for violation in violations)


def test_every_service_has_a_package_with_a_blueprint() -> None:
    from tests.architecture.import_rules import SERVICES

    for service in SERVICES:
        assert (RUNTIME / "chalicelib" / service / "blueprint.py").is_file(), service


@pytest.mark.parametrize(
    ("module", "imported", "broken"),
    [
        ("chalicelib.wiring", "botlocal.adapters", "never imports the local runtime"),
        ("chalicelib.egress.service", "botlocal.outbox", "never imports the local runtime"),
        ("chalicelib.adapters.http_media", "chalicelib.analysis.media", "adapters never import a service"),
        ("chalicelib.adapters.x_api", "chalicelib.wiring", "adapters never import a service"),
        ("chalicelib.ingress.blueprint", "chalicelib.adapters.secrets", "blueprints never import an adapter"),
        ("chalicelib.egress.service", "chalicelib.adapters.x_api", "services get their adapters"),
        ("chalicelib.egress.service", "chalicelib.settings", "services get their adapters and settings"),
        ("chalicelib.responding.service", "chalicelib.analysis.text", "never imports another service"),
        ("chalicelib.kernel.errors", "chalicelib.ports", "the kernel imports nothing"),
        ("chalicelib.contracts.names", "chalicelib.publishing", "contracts import only"),
        ("chalicelib.ports", "chalicelib.adapters.lex", "ports import only"),
        ("chalicelib.smallmodels.text", "chalicelib.adapters.comprehend", "smallmodels import only"),
        ("chalicelib.smallmodels.imagenet", "chalicelib.ports", "smallmodels import only"),
        ("chalicelib.smallmodels.cues", "botlocal.analysis.ocr", "never imports the local runtime"),
        ("chalicelib.analysis.images", "chalicelib.smallmodels.cues", "only adapters use smallmodels"),
        ("chalicelib.responding.blueprint", "chalicelib.smallmodels.intents", "only adapters use smallmodels"),
    ],
)
def test_each_rule_flags_its_break(module: str, imported: str, broken: str) -> None:
    rule = rules_for(module, imported)
    assert rule is not None and broken in rule


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("chalicelib.analysis.workflow", "chalicelib.analysis.images"),
        ("chalicelib.responding.service", "chalicelib.kernel.text"),
        ("chalicelib.adapters.http_media", "chalicelib.kernel.media_policy"),
        ("chalicelib.ingress.blueprint", "chalicelib.wiring"),
        ("chalicelib.wiring", "chalicelib.egress.service"),
        ("chalicelib.adapters.aws", "chalicelib.adapters.x_api"),
        ("chalicelib.adapters.economy", "chalicelib.smallmodels.text"),
        ("chalicelib.smallmodels.text", "chalicelib.kernel.languages"),
        ("chalicelib.smallmodels.intents", "chalicelib.contracts.conversation"),
        ("chalicelib.smallmodels.cues", "chalicelib.smallmodels.labels"),
    ],
)
def test_allowed_imports_pass(module: str, imported: str) -> None:
    assert rules_for(module, imported) is None


def test_layers_are_read_from_module_names() -> None:
    assert layer_of("chalicelib.egress.blueprint") == "blueprint"
    assert layer_of("chalicelib.egress.service") == "service"
    assert layer_of("chalicelib.adapters.lex") == "adapters"
    assert layer_of("chalicelib.kernel.errors") == "kernel"
    assert layer_of("chalicelib.smallmodels.cues") == "smallmodels"
    assert layer_of("app") == "composition"


def test_a_broken_copy_of_the_runtime_fails(tmp_path: Path) -> None:
    """The checker run on a copy of the runtime with rules broken on purpose finds each break."""
    copy = tmp_path / "runtime"
    shutil.copytree(RUNTIME, copy, ignore=shutil.ignore_patterns("__pycache__", ".chalice"))
    service = copy / "chalicelib" / "egress" / "service.py"
    service.write_text(
        service.read_text(encoding="utf-8")
        + "\n\ndef _local() -> object:\n    from botlocal.outbox import OutboxPoster\n\n    return OutboxPoster\n"
        + "\n\ndef _variable() -> str:\n    import os\n\n    return os.environ['X']\n",
        encoding="utf-8",
    )
    blueprint = copy / "chalicelib" / "ingress" / "blueprint.py"
    blueprint.write_text(
        "from chalicelib.adapters.secrets import SecretConfigurationError\n" + blueprint.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    adapter = copy / "chalicelib" / "adapters" / "http_media.py"
    adapter.write_text(
        adapter.read_text(encoding="utf-8") + "\nfrom chalicelib.analysis.media import MediaDownloadService\n",
        encoding="utf-8",
    )
    found = {(violation.path.name, violation.module) for violation in check_runtime(copy)}
    assert found == {
        ("service.py", "botlocal.outbox"),
        ("service.py", "botlocal.outbox.OutboxPoster"),
        ("service.py", "os.environ"),
        ("blueprint.py", "chalicelib.adapters.secrets"),
        ("blueprint.py", "chalicelib.adapters.secrets.SecretConfigurationError"),
        ("http_media.py", "chalicelib.analysis.media"),
        ("http_media.py", "chalicelib.analysis.media.MediaDownloadService"),
    }


def test_grep_finds_no_local_runtime_in_the_lambda_code() -> None:
    """The issue's own check: `grep -rn botlocal runtime/app.py runtime/chalicelib` prints nothing."""
    files = [RUNTIME / "app.py", *(RUNTIME / "chalicelib").rglob("*.py")]
    mentions = [
        f"{path}:{number}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "botlocal" in line
    ]
    assert not mentions, mentions


def test_relative_and_dynamic_imports_are_seen() -> None:
    source = (
        "from ..adapters import x_api\n"
        "from . import text\n"
        "import importlib\n"
        "importlib.import_module('botlocal.outbox')\n"
        "__import__('botlocal.media')\n"
    )
    found = {name for _, name in imported_modules(source, "chalicelib.egress.service")}
    assert {"chalicelib.adapters", "chalicelib.adapters.x_api", "chalicelib.egress.text"} <= found
    assert {"botlocal.outbox", "botlocal.media"} <= found
    package = {name for _, name in imported_modules("from .service import X\n", "chalicelib.egress", is_package=True)}
    assert "chalicelib.egress.service" in package


def test_a_relative_or_dynamic_break_fails(tmp_path: Path) -> None:
    copy = tmp_path / "runtime"
    shutil.copytree(RUNTIME, copy, ignore=shutil.ignore_patterns("__pycache__", ".chalice"))
    service = copy / "chalicelib" / "egress" / "service.py"
    service.write_text(
        service.read_text(encoding="utf-8")
        + "\nfrom ..adapters import x_api\n"
        + "\n\ndef _local() -> object:\n    import importlib\n\n"
        + "    return importlib.import_module('botlocal.outbox')\n",
        encoding="utf-8",
    )
    found = {violation.module for violation in check_runtime(copy)}
    assert {"chalicelib.adapters", "chalicelib.adapters.x_api", "botlocal.outbox"} <= found


def test_the_local_adapters_import_no_service() -> None:
    modules = local_adapter_modules(LOCAL)
    assert {"botlocal.adapters", "botlocal.bus", "botlocal.outbox", "botlocal.analysis"} <= set(modules)
    violations = check_local_adapters(LOCAL)
    assert not violations, "\n".join(str(violation) for violation in violations)


def test_a_local_adapter_importing_a_service_fails(tmp_path: Path) -> None:
    copy = tmp_path / "local"
    shutil.copytree(LOCAL, copy, ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "gallery", "demo_assets"))
    outbox = copy / "botlocal" / "outbox.py"
    outbox.write_text(outbox.read_text(encoding="utf-8") + "\nfrom chalicelib.egress.service import EgressService\n")
    found = {(violation.path.name, violation.module) for violation in check_local_adapters(copy)}
    assert ("outbox.py", "chalicelib.egress.service") in found
