"""The Lambda bundle's size: what `chalice package` builds for every function (the CDK synth wraps
the same deployment.zip), zipped and unzipped, and the largest parts of it.

Sizes do not vary between runs: one build, one figure each. Lambda's limits: 50 MB zipped for a
direct upload, 250 MB unzipped for the function and its layers together.
"""

from __future__ import annotations

import os
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
    """`chalice package` of the default stage into `out`; the deployment zip's path.

    Chalice reuses its dependency cache (runtime/.chalice/deployments) while runtime/requirements.txt
    is unchanged; otherwise it downloads the Lambda wheels (as the synth does).
    """
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    subprocess.run(  # noqa: S603 (the venv's chalice, fixed arguments)
        [str(CHALICE), "package", str(out)], cwd=RUNTIME, env=env, check=True, capture_output=True
    )
    return out / "deployment.zip"


def unzipped_by_part(bundle: Path) -> Counter[str]:
    """Unzipped bytes by top-level entry (a package, a module, a .dist-info)."""
    parts: Counter[str] = Counter()
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            parts[info.filename.split("/", 1)[0]] += info.file_size
    return parts


def economy_layers() -> list[Path]:
    """The economy profile's Lambda layers (issue 12, section 2), once they exist: return their zips
    here and each gets its lines, and the total below counts them. None are built yet."""
    return []


def _size_lines(section: str, name: str, archive: Path) -> tuple[Figure, Figure, int]:
    unzipped = sum(unzipped_by_part(archive).values())
    return (
        figure(section, f"{name}: zipped", "MB", [archive.stat().st_size / MB]),
        figure(section, f"{name}: unzipped", "MB", [unzipped / MB]),
        unzipped,
    )


def measure() -> list[Figure]:
    section = "Lambda bundle (chalice package, default stage)"
    with tempfile.TemporaryDirectory(prefix="xbot-bench-bundle-") as folder:
        bundle = build(Path(folder) / "package")
        zipped, unzipped, total = _size_lines(section, "deployment.zip", bundle)
        largest = ", ".join(f"{part} {size / MB:.1f}" for part, size in unzipped_by_part(bundle).most_common(4))
        unzipped = figure(section, unzipped.name, unzipped.unit, unzipped.runs, f"largest (MB): {largest}")
        figures = [zipped, unzipped]
    layers = economy_layers()
    for layer in layers:
        layer_zipped, layer_unzipped, size = _size_lines(section, f"layer {layer.stem}", layer)
        figures += [layer_zipped, layer_unzipped]
        total += size
    if not layers:
        figures.append(figure(section, "economy layers", "MB", [], "none built yet (bench/bundle.py economy_layers)"))
    figures.append(
        figure(section, "function + layers: unzipped", "MB", [total / MB], f"Lambda's limit: {UNZIPPED_LIMIT_MB} MB")
    )
    return figures
