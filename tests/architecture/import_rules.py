"""The layers of the code and the imports each may make, checked on the source (AST, no import).

blueprints -> services -> ports / contracts / kernel <- adapters -> smallmodels (the small models'
code, which imports only contracts, the kernel and itself); the composition root (wiring, app.py)
knows them all; the local runtime (botlocal) sits outside and depends on the runtime,
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


def imported_modules(source: str, module: str = "", *, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """Every module an import names, anywhere in the file (functions included): absolute imports,
    relative ones (resolved against `module`), and importlib.import_module / __import__ of a literal."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, module, is_package=is_package)
            if not base:
                continue
            yield node.lineno, base
            # `from chalicelib import wiring` imports the module chalicelib.wiring.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and _is_dynamic_import(node.func)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _resolve(name: str | None, level: int, module: str, *, is_package: bool) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".") if module else []
    # `from . import x` in a module means its package; in a package's __init__, the package itself.
    keep = len(parts) - level + (1 if is_package else 0)
    if keep < 0:
        return ""
    return ".".join([*parts[:keep], *([name] if name else [])])


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


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
    if top == "smallmodels":
        return "smallmodels"
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
    if layer == "smallmodels" and target not in ("contracts", "kernel", "smallmodels"):
        return "smallmodels import only contracts, the kernel and smallmodels (adapters use them)"
    if layer == "adapters" and target in ("service", "blueprint", "composition"):
        return "adapters never import a service, a blueprint or the composition root"
    if layer == "blueprint" and target == "adapters":
        return "blueprints never import an adapter (they get services from chalicelib.wiring)"
    if layer in ("blueprint", "service") and target == "smallmodels":
        return "only adapters use smallmodels: blueprints and services get them behind a port"
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
        source = path.read_text(encoding="utf-8")
        for line, imported in imported_modules(source, module, is_package=path.name == "__init__.py"):
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


#: The local runtime's adapters: LocalAdapters and every botlocal module it reaches.
LOCAL_ADAPTERS_MODULE: Final = "botlocal.adapters"


def local_adapter_modules(local_dir: Path) -> dict[str, Path]:
    """botlocal.adapters and the botlocal modules it imports, directly or not (by module name)."""
    found: dict[str, Path] = {}
    pending = [LOCAL_ADAPTERS_MODULE]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        relative = Path(*name.split("."))
        path = next(
            (
                candidate
                for candidate in (local_dir / f"{relative}.py", local_dir / relative / "__init__.py")
                if candidate.is_file()
            ),
            None,
        )
        if path is None:
            continue
        found[name] = path
        source = path.read_text(encoding="utf-8")
        for _, imported in imported_modules(source, name, is_package=path.name == "__init__.py"):
            if _within(imported, "botlocal"):
                pending.append(imported)
    return found


def check_local_adapters(local_dir: Path) -> list[Violation]:
    """The adapter rule for the local runtime: its adapters never import a service, a blueprint or
    the composition root of the runtime either."""
    violations = []
    for name, path in sorted(local_adapter_modules(local_dir).items()):
        source = path.read_text(encoding="utf-8")
        for line, imported in imported_modules(source, name, is_package=path.name == "__init__.py"):
            if _within(imported, "chalicelib") and layer_of(imported) in ("service", "blueprint", "composition"):
                violations.append(
                    Violation(
                        path, line, imported, "adapters never import a service, a blueprint or the composition root"
                    )
                )
    return violations
