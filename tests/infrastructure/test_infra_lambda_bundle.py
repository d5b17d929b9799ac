"""Every wheel in the Lambda bundle runs on Lambda's python3.12 x86_64 (Amazon Linux 2023)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.infrastructure.lambda_bundle import Runtime, bundled_wheels, incompatible_wheels, tag_runs_on, wheel_tags

REQUIREMENTS = Path(__file__).resolve().parents[2] / "runtime" / "requirements.txt"


def _pinned_requirements() -> dict[str, str]:
    """runtime/requirements.txt as {normalised name: version} (every line is name==version)."""
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, version = requirement.split("==")
            pins[re.sub(r"[-_.]+", "_", name).lower()] = version
    return pins


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_every_wheel_in_the_synthesized_bundle_runs_on_lambda(synth):
    (bundle,) = synth.bundles
    wheels = bundled_wheels(bundle)
    assert "aws_lambda_powertools-3.37.0" in wheels
    assert incompatible_wheels(bundle) == {}


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_every_pinned_requirement_is_in_the_bundle(synth):
    """Pillow included: the download step decodes photos with it (a portable wheel, checked above)."""
    (bundle,) = synth.bundles
    bundled = {distribution.lower() for distribution in bundled_wheels(bundle)}
    for name, version in _pinned_requirements().items():
        assert f"{name}-{version}" in bundled, name


def _wheel(*tags: str, extra: str = "") -> str:
    lines = ["Wheel-Version: 1.0", "Generator: test", "Root-Is-Purelib: false", *(f"Tag: {t}" for t in tags)]
    return "\n".join(lines) + "\n" + extra


def _bundle(tmp_path: Path, wheels: dict[str, str | None]) -> Path:
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "app = None\n")
        for distribution, metadata in wheels.items():
            archive.writestr(f"{distribution}.dist-info/METADATA", f"Name: {distribution}\n")
            if metadata is not None:
                archive.writestr(f"{distribution}.dist-info/WHEEL", metadata)
    return path


def test_wheel_tags_expands_compressed_tag_sets():
    assert wheel_tags(_wheel("py2.py3-none-any")) == ["py2-none-any", "py3-none-any"]
    assert wheel_tags(_wheel("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")) == [
        "cp312-cp312-manylinux_2_17_x86_64",
        "cp312-cp312-manylinux2014_x86_64",
    ]


@pytest.mark.parametrize(
    "tag",
    [
        "py3-none-any",
        "py312-none-any",
        "py311-none-any",
        "cp312-cp312-manylinux_2_17_x86_64",
        "cp312-cp312-manylinux2014_x86_64",
        "cp312-cp312-manylinux1_x86_64",
        "cp312-cp312-manylinux_2_28_x86_64",  # numpy's and onnxruntime's: glibc 2.28 <= 2.34
        "cp312-cp312-manylinux_2_34_x86_64",
        "cp38-abi3-manylinux_2_17_x86_64",
        "cp312-abi3-manylinux2010_x86_64",
    ],
)
def test_tags_that_run_on_lambda(tag):
    assert tag_runs_on(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "cp312-cp312-linux_x86_64",  # built on this machine: no portability promise
        "cp312-cp312-manylinux_2_35_x86_64",  # needs a newer glibc than Amazon Linux 2023's 2.34
        "cp312-cp312-manylinux_2_17_aarch64",  # other architecture
        "cp312-cp312-musllinux_1_1_x86_64",
        "cp311-cp311-manylinux_2_17_x86_64",  # other Python
        "cp313-cp313-manylinux_2_17_x86_64",
        "cp313-abi3-manylinux_2_17_x86_64",  # stable ABI, but newer than 3.12
        "cp312-cp312-macosx_11_0_x86_64",
        "py2-none-any",
    ],
)
def test_tags_that_do_not(tag):
    assert not tag_runs_on(tag)


def test_runtime_is_configurable():
    # Amazon Linux 2 (python3.11 and older), glibc 2.26: no manylinux_2_28 wheel.
    assert not tag_runs_on("cp311-cp311-manylinux_2_28_x86_64", Runtime(python=(3, 11), glibc=(2, 26)))
    assert tag_runs_on("cp311-cp311-manylinux_2_26_x86_64", Runtime(python=(3, 11), glibc=(2, 26)))
    assert tag_runs_on("cp313-cp313-manylinux_2_17_x86_64", Runtime(python=(3, 13)))


def test_incompatible_wheels_in_a_bundle(tmp_path):
    bundle = _bundle(
        tmp_path,
        {
            "pure-1.0": _wheel("py3-none-any"),
            "binary-2.0": _wheel("cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"),
            "pillow-13.0": _wheel("cp312-cp312-linux_x86_64"),
            "mystery-0.1": None,
        },
    )
    assert incompatible_wheels(bundle) == {"pillow-13.0": ["cp312-cp312-linux_x86_64"], "mystery-0.1": []}


def test_a_bundle_of_portable_wheels_passes(tmp_path):
    bundle = _bundle(
        tmp_path, {"pure-1.0": _wheel("py2.py3-none-any"), "abi3-1.0": _wheel("cp39-abi3-manylinux1_x86_64")}
    )
    assert incompatible_wheels(bundle) == {}
