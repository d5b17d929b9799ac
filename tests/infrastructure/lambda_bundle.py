"""Does every wheel in a Lambda bundle run on the Lambda runtime? (python3.12, x86_64, Amazon Linux 2023)

Chalice downloads Lambda-compatible wheels, but when none exists for a dependency it quietly
bundles one built on this machine (tag linux_x86_64), which may not load on Lambda. Each installed
distribution keeps its wheel tags in `<name>.dist-info/WHEEL` ("Tag: py3-none-any"), so the bundle
can be checked before it is deployed (tests/infrastructure/test_infra_lambda_bundle.py does, on
the bundle the synth built).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from itertools import product
from pathlib import Path

#: Lambda's python3.12 runtime runs on Amazon Linux 2023, whose glibc is 2.34 (so manylinux_2_28
#: wheels, such as numpy's and onnxruntime's newer ones, load there).
LAMBDA_PYTHON = (3, 12)
LAMBDA_GLIBC = (2, 34)
LAMBDA_ARCH = "x86_64"

#: The legacy manylinux names and the glibc each promises.
_LEGACY_MANYLINUX_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = re.compile(r"^(manylinux1|manylinux2010|manylinux2014)_(\w+)$")
_PYTHON_TAG = re.compile(r"^(py|cp)(\d)(\d*)$")


@dataclass(frozen=True)
class Runtime:
    python: tuple[int, int] = LAMBDA_PYTHON
    glibc: tuple[int, int] = LAMBDA_GLIBC
    arch: str = LAMBDA_ARCH


def wheel_tags(wheel_metadata: str) -> list[str]:
    """The tags a WHEEL file declares, compressed sets expanded (py2.py3-none-any -> two tags)."""
    tags: list[str] = []
    for line in wheel_metadata.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() != "tag":
            continue
        interpreters, abis, platforms = value.strip().split("-")
        tags.extend(
            "-".join(parts) for parts in product(interpreters.split("."), abis.split("."), platforms.split("."))
        )
    return tags


def tag_runs_on(tag: str, runtime: Runtime = Runtime()) -> bool:
    """Whether a wheel with this single tag loads on the runtime."""
    interpreter, abi, platform = tag.split("-")
    return _platform_ok(platform, runtime) and _python_ok(interpreter, abi, runtime)


def _python_ok(interpreter: str, abi: str, runtime: Runtime) -> bool:
    match = _PYTHON_TAG.match(interpreter)
    if match is None:
        return False
    kind, major, minor = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if major != runtime.python[0]:
        return False
    if abi == "none":
        # Pure Python (py3, py39) or a C extension with no Python ABI: any version up to ours.
        return kind == "py" or minor <= runtime.python[1]
    if abi == "abi3":
        # The stable ABI: built against an older CPython, loads on every newer one.
        return kind == "cp" and minor <= runtime.python[1]
    # A version-specific ABI (cp312) must be exactly ours.
    return kind == "cp" and (major, minor) == runtime.python and abi == f"cp{major}{minor}"


def _platform_ok(platform: str, runtime: Runtime) -> bool:
    if platform == "any":
        return True
    match = _MANYLINUX.match(platform)
    if match:
        glibc, arch = (int(match.group(1)), int(match.group(2))), match.group(3)
        return arch == runtime.arch and glibc <= runtime.glibc
    legacy = _LEGACY.match(platform)
    if legacy:
        return legacy.group(2) == runtime.arch and _LEGACY_MANYLINUX_GLIBC[legacy.group(1)] <= runtime.glibc
    # linux_x86_64 (built here, no portability promise), musllinux, macOS, Windows.
    return False


def bundled_wheels(bundle: Path) -> dict[str, list[str]]:
    """Every distribution installed in a deployment zip -> the tags of its wheel.

    A distribution without a WHEEL file (installed some other way) maps to no tags, so it fails
    the check: nothing says where it can run.
    """
    wheels: dict[str, list[str]] = {}
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            top, _, rest = name.partition("/")
            if not top.endswith(".dist-info"):
                continue
            distribution = top.removesuffix(".dist-info")
            wheels.setdefault(distribution, [])
            if rest == "WHEEL":
                wheels[distribution] = wheel_tags(archive.read(name).decode("utf-8"))
    return wheels


def incompatible_wheels(bundle: Path, runtime: Runtime = Runtime()) -> dict[str, list[str]]:
    """The bundled distributions none of whose tags runs on the runtime: name -> its tags."""
    return {
        distribution: tags
        for distribution, tags in bundled_wheels(bundle).items()
        if not any(tag_runs_on(tag, runtime) for tag in tags)
    }
