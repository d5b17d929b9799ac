"""requirements-deploy.txt (`make deploy`, `make diff`, `make destroy`): what the CDK app imports, no more.

A static check: every module that infrastructure/app.py can import at synth (the stacks, and the
Chalice project runtime/ that `chalice package` imports) comes from a distribution the file installs
(directly or as a dependency, as installed in .venv); nothing from requirements-local.txt (the local
runtime's models) is installed, even as a dependency; and versions come from requirements-dev.txt.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "requirements-deploy.txt"
LOCAL = ROOT / "requirements-local.txt"
DEV = ROOT / "requirements-dev.txt"
ECONOMY = ROOT / "requirements-economy.txt"
#: What the CDK app runs at synth: the app, its stacks, and the Chalice project it packages.
SYNTH_SOURCES = [
    ROOT / "infrastructure" / "app.py",
    *sorted((ROOT / "infrastructure" / "stacks").glob("*.py")),
    ROOT / "runtime" / "app.py",
    *sorted(
        path
        for path in (ROOT / "runtime" / "chalicelib").rglob("*.py")
        # The small models and the economy adapters import their packages (onnxruntime, numpy,
        # dlib, ...) lazily, inside the economy functions, from the economy layer: never at synth
        # (app.py does not load them: tests/composition/test_cold_start_imports.py).
        if "smallmodels" not in path.parts and not path.name.startswith("economy")
    ),
]
FIRST_PARTY = {"stacks", "chalicelib", "app"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(path: Path, *, follow_requirements: bool = True) -> Iterator[tuple[Path, str]]:
    """(file, requirement or option line), following `-r` (and not `-c`, which installs nothing)."""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r ") and follow_requirements:
            yield from _lines(path.parent / line.removeprefix("-r ").strip())
        else:
            yield path, line


def _names(path: Path, *, follow_requirements: bool = True) -> set[str]:
    return {
        _normalise(Requirement(line).name)
        for _, line in _lines(path, follow_requirements=follow_requirements)
        if not line.startswith("-")
    }


def _installed_closure(names: set[str]) -> set[str]:
    """The distributions pip installs for `names` (their unconditional dependencies, as in .venv)."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in importlib.metadata.requires(name) or []:
            parsed = Requirement(requirement)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                pending.append(_normalise(parsed.name))
    return seen


def _imported_modules(path: Path) -> set[str]:
    """Top-level modules `path` imports, except under `if TYPE_CHECKING:` (stubs are never installed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_checking_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    modules: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_checking_only:
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_deploy_requirements_take_their_versions_from_requirements_dev():
    lines = [line for path, line in _lines(DEPLOY) if path == DEPLOY]
    assert "-c requirements-dev.txt" in lines
    pinned_in_dev = _names(DEV)
    for line in lines:
        if line.startswith("-"):
            continue
        requirement = Requirement(line)
        assert not requirement.specifier, f"{line}: pin it in requirements-dev.txt only"
        assert _normalise(requirement.name) in pinned_in_dev, (
            f"{requirement.name} is not pinned in requirements-dev.txt"
        )
    # The runtime's packages: Chalice imports runtime/app.py to find the functions.
    assert f"-r {Path('runtime', 'requirements.txt')}" in [
        line for _, line in _lines(DEPLOY, follow_requirements=False)
    ]


def test_deploying_installs_nothing_from_requirements_local():
    local_only = _names(LOCAL, follow_requirements=False)
    assert local_only, "requirements-local.txt lists the local runtime's packages"
    deploy = _names(DEPLOY)
    assert deploy & local_only == set()
    # Not even as a dependency of what it installs.
    assert _installed_closure(deploy) & local_only == set()


def test_deploying_installs_nothing_from_requirements_economy():
    """The economy layer's packages are installed by pip into the layer (stacks/economy_layer.py,
    with the deploy virtualenv's own pip), never into .venv-deploy: synth imports none of them."""
    economy = _names(ECONOMY, follow_requirements=False)
    assert economy, "requirements-economy.txt lists the economy layer's packages"
    assert _installed_closure(_names(DEPLOY)) & economy == set()
    # requirements-local.txt takes them through `-r`, so its own pins stay separate from these.
    assert f"-r {ECONOMY.name}" in [line for _, line in _lines(LOCAL, follow_requirements=False)]
    assert _names(LOCAL, follow_requirements=False) & economy == set()


def test_every_module_the_cdk_app_imports_at_synth_is_installed_by_requirements_deploy():
    installed = _installed_closure(_names(DEPLOY))
    providers = importlib.metadata.packages_distributions()
    imported = set().union(*(_imported_modules(path) for path in SYNTH_SOURCES))
    third_party = sorted(imported - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"})
    assert "aws_cdk" in third_party and "chalice" in third_party and "cdk_nag" in third_party
    missing = {
        module: providers.get(module, ["(no installed distribution)"])
        for module in third_party
        if not {_normalise(d) for d in providers.get(module, [])} & installed
    }
    assert missing == {}


@pytest.mark.parametrize("target", ["deploy", "diff", "destroy", "synth"])
def test_make_deploy_diff_destroy_and_synth_use_only_the_deploy_virtualenv(target):
    """`make -n -B`: every command the target would run, its prerequisites' included (nothing runs)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    commands = subprocess.run(
        ["make", "-n", "-B", target, "STAGE=dev", "ALERT_EMAIL=you@example.com", "CONTEXT=-c logRetentionDays=30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pip install --disable-pip-version-check -r requirements-deploy.txt" in commands
    assert "requirements-local.txt" not in commands and "requirements-dev.txt" not in commands
    assert ".venv/" not in commands
    (cdk,) = [line for line in commands.splitlines() if "npx cdk" in line]
    assert '--app "../.venv-deploy/bin/python app.py"' in cdk
    assert f" {target} " in cdk
    assert "-c stage=dev -c alertEmail=you@example.com" in cdk and "-c logRetentionDays=30" in cdk
