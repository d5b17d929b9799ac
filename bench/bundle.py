"""The Lambda bundle's size: what `chalice package` builds for every function (the CDK synth wraps
the same deployment.zip), zipped and unzipped, and the largest parts of it.

Sizes do not vary between runs: one build, one figure each. Lambda's limits: 50 MB zipped for a
direct upload, 250 MB unzipped for the function and its layers together.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Final

from bench.stats import Figure, figure

ROOT: Final = Path(__file__).resolve().parents[1]
RUNTIME: Final = ROOT / "runtime"
CHALICE: Final = Path(sys.executable).with_name("chalice")
MB: Final = 1_000_000
#: Lambda's limit for a function's code and its layers, unzipped.
UNZIPPED_LIMIT_MB: Final = 250


def build(out: Path) -> Path:
    """`chalice package` of the default stage into `out`, with the bytecode the synth adds
    (infrastructure/stacks/bundle_bytecode.py): the deployment zip that ships, and its path.

    Chalice reuses its dependency cache (runtime/.chalice/deployments) while runtime/requirements.txt
    is unchanged; otherwise it downloads the Lambda wheels (as the synth does).
    """
    infrastructure_on_path()
    from stacks.bundle_bytecode import compile_bundle
    from stacks.chalice_app import BYTECODE_CACHE, chalice_packaging

    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    with chalice_packaging():  # the synth's own packaging lock: the same cache folder
        subprocess.run(  # noqa: S603 (the venv's chalice, fixed arguments)
            [str(CHALICE), "package", str(out)], cwd=RUNTIME, env=env, check=True, capture_output=True
        )
    bundle = out / "deployment.zip"
    compile_bundle(bundle, cache=BYTECODE_CACHE)  # the synth's cache: the same zip it ships
    return bundle


@functools.cache
def shipped_bundle() -> Path:
    """The deployment zip, built once per `make bench` (the bundle and economy sections share it),
    in a temporary folder removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="xbot-bench-bundle-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return build(folder / "package")


def infrastructure_on_path() -> None:
    """The CDK app's modules (infrastructure/stacks) and the runtime they import, importable here."""
    for folder in (ROOT / "infrastructure", RUNTIME):
        if str(folder) not in sys.path:
            sys.path.append(str(folder))


def unzipped_by_part(bundle: Path) -> Counter[str]:
    """Unzipped bytes by top-level entry (a package, a module, a .dist-info)."""
    parts: Counter[str] = Counter()
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            parts[info.filename.split("/", 1)[0]] += info.file_size
    return parts


def economy_layer_zip(out: Path) -> Path:
    """The economy profile's layer (issue 12, section 2), zipped into `out` as CDK zips the asset
    it uploads; built first if it is not cached yet."""
    from bench.economy import layer_folder

    folder = layer_folder()  # puts infrastructure/ on sys.path first
    from stacks import economy_layer

    return economy_layer.zip_layer(folder, out / "economy-layer.zip")


def _size_lines(section: str, name: str, archive: Path) -> tuple[Figure, Figure, int]:
    """Zipped and unzipped MB of `archive` (the unzipped line names its largest parts), and its
    unzipped bytes."""
    parts = unzipped_by_part(archive)
    unzipped = sum(parts.values())
    largest = ", ".join(f"{part} {size / MB:.1f}" for part, size in parts.most_common(4))
    return (
        figure(section, f"{name}: zipped", "MB", [archive.stat().st_size / MB]),
        figure(section, f"{name}: unzipped", "MB", [unzipped / MB], f"largest (MB): {largest}"),
        unzipped,
    )


def measure() -> list[Figure]:
    section = "Lambda bundle (chalice package, default stage) and the economy layer"
    bundle_zipped, bundle_unzipped, bundle_size = _size_lines(section, "deployment.zip", shipped_bundle())
    with tempfile.TemporaryDirectory(prefix="xbot-bench-layer-") as folder:
        layer_zipped, layer_unzipped, layer_size = _size_lines(
            section, "economy layer", economy_layer_zip(Path(folder))
        )
    return [
        bundle_zipped,
        bundle_unzipped,
        layer_zipped,
        layer_unzipped,
        figure(
            section,
            "deployment.zip + economy layer: unzipped",
            "MB",
            [(bundle_size + layer_size) / MB],
            f"Lambda's limit: {UNZIPPED_LIMIT_MB} MB",
        ),
    ]
