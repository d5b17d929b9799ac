"""The layers of the code and the imports each may make, checked on the source (AST, no import).

blueprints -> services -> ports / contracts / kernel <- adapters; the composition root (wiring,
app.py) knows them all; the local runtime (botlocal) sits outside and depends on the runtime,
never the other way round. See CONTRIBUTING.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: The runtime's services: one package each in chalicelib, one module each in infrastructure/stacks.
SERVICES: Final = ("ingress", "plumbing", "analysis", "alerting", "responding", "egress")
#: What every layer may use: the shared kernel, the event contracts and the ports.
SHARED: Final = ("chalicelib.kernel", "chalicelib.contracts", "chalicelib.ports")
#: Small cross-cutting modules services use (logging, the bus publisher on the EventBus port).
SERVICE_HELPERS: Final = ("chalicelib.observability", "chalicelib.publishing")


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    module: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.module}: {self.rule}"


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """Every absolute module an import statement names, anywhere in the file (functions included)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            # `from chalicelib import wiring` imports the module chalicelib.wiring.
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def layer_of(module: str) -> str:
    """The layer of a chalicelib module (by its dotted name)."""
    parts = module.split(".")
    if parts[0] == "app":
        return "composition"
    if parts[0] != "chalicelib" or len(parts) == 1:
        return "other"
    top = parts[1]
    if top in ("kernel", "contracts"):
        return top
    if top in ("ports", "settings", "observability", "publishing"):
        return top
    if top == "adapters":
        return "adapters"
    if top == "wiring":
        return "composition"
    if top in SERVICES:
        return "blueprint" if parts[-1] == "blueprint" else "service"
    return "other"


def rules_for(module: str, imported: str) -> str | None:
    """The rule `module` breaks by importing `imported`, or None."""
    if _within(imported, "botlocal"):
        return "the Lambda code never imports the local runtime (name it in BOT_ADAPTERS instead)"
    if not _within(imported, "chalicelib", "app"):
        return None
    layer, target = layer_of(module), layer_of(imported)
    if layer == "kernel" and target != "kernel":
        return "the kernel imports nothing of the runtime but itself"
    if layer == "contracts" and target not in ("contracts", "kernel"):
        return "contracts import only contracts and the kernel"
    if layer == "ports" and target not in ("contracts", "kernel", "settings"):
        return "ports import only contracts, the kernel and settings"
    if layer == "adapters" and target in ("service", "blueprint", "composition"):
        return "adapters never import a service, a blueprint or the composition root"
    if layer == "blueprint" and target == "adapters":
        return "blueprints never import an adapter (they get services from chalicelib.wiring)"
    if layer == "service":
        own = ".".join(module.split(".")[:2])
        if target in ("adapters", "composition", "blueprint", "settings"):
            return "services get their adapters and settings passed in; they never import them"
        if target == "service" and not _within(imported, own):
            return "a service never imports another service (shared code belongs in the kernel)"
    return None


def module_name(path: Path, runtime_dir: Path) -> str:
    relative = path.relative_to(runtime_dir).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def check_runtime(runtime_dir: Path) -> list[Violation]:
    """Every broken rule in runtime/app.py and runtime/chalicelib."""
    files = [runtime_dir / "app.py", *sorted((runtime_dir / "chalicelib").rglob("*.py"))]
    violations = []
    for path in files:
        if not path.is_file():
            continue
        module = module_name(path, runtime_dir)
        for line, imported in imported_modules(path.read_text(encoding="utf-8")):
            rule = rules_for(module, imported)
            if rule is not None:
                violations.append(Violation(path, line, imported, rule))
        if layer_of(module) == "service":
            violations += [
                Violation(path, line, "os.environ", "services never read the environment (settings do)")
                for line in _environment_reads(path.read_text(encoding="utf-8"))
            ]
    return violations


def _environment_reads(source: str) -> Iterator[int]:
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            yield node.lineno
