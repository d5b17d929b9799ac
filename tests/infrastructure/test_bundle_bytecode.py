"""The Lambda bundle's bytecode (stacks/bundle_bytecode.py): each source gets an unchecked-hash .pyc
that the interpreter loads as it is, and the stale __pycache__ Chalice copied goes."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from stacks import bundle_bytecode
from stacks.bundle_bytecode import compile_bundle, pyc_name

#: A bundle as Chalice zips it (its files' own dates: fixed here, so that two bundles are equal).
_FILES = {
    "app.py": b"ANSWER = 'compiled at synth'\n",
    "pkg/__init__.py": b"",
    "pkg/broken.py": b"def (:\n",  # not Python: kept, without bytecode
    "pkg/data.json": b"{}",
    "pkg/__pycache__/__init__.cpython-311.pyc": b"stale",
}


def _bundle_bytes(folder: Path) -> bytes:
    folder.mkdir()
    return _bundle(folder).read_bytes()


def _bundle(folder: Path) -> Path:
    bundle = folder / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in _FILES.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 3, 12, 0, 0)), data)
    return bundle


def test_every_source_gets_bytecode_and_the_stale_cache_goes(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    compile_bundle(bundle)
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert names == {
        "app.py",
        f"__pycache__/app.{tag}.pyc",
        "pkg/__init__.py",
        f"pkg/__pycache__/__init__.{tag}.pyc",
        "pkg/broken.py",
        "pkg/data.json",
    }


def test_the_interpreter_loads_the_bytecode_without_checking_the_source(tmp_path: Path) -> None:
    """On Lambda nothing changes the source; here a changed source proves the .pyc is what ran."""
    bundle = _bundle(tmp_path)
    compile_bundle(bundle)
    task = tmp_path / "task"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(task)
    (task / "app.py").write_text("ANSWER = 'compiled at cold start'\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    result = subprocess.run(
        [sys.executable, "-c", "import app; print(app.ANSWER)"],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "compiled at synth"


def test_the_same_sources_give_the_same_zip(tmp_path: Path) -> None:
    """The CDK asset's hash is the zip's: a synth of unchanged sources must not deploy new code."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    bundles = [_bundle(first), _bundle(second)]
    for bundle in bundles:
        compile_bundle(bundle)
    assert bundles[0].read_bytes() == bundles[1].read_bytes()
    # Same within a second proves little: each .pyc carries its source's date, not the synth's.
    with zipfile.ZipFile(bundles[0]) as archive:
        dates = {info.filename: info.date_time for info in archive.infolist()}
    assert dates[f"__pycache__/app.{sys.implementation.cache_tag}.pyc"] == dates["app.py"] == (2026, 12, 3, 12, 0, 0)


def test_the_bytecode_is_named_for_lambda_not_for_the_synths_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PYTHONPYCACHEPREFIX in the synth's environment must not move the .pyc (nor -O rename it):
    Lambda looks beside the source, for the plain name."""
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "prefix"))
    tag = sys.implementation.cache_tag
    assert pyc_name("app.py") == f"__pycache__/app.{tag}.pyc"
    assert pyc_name("pkg/sub/mod.py") == f"pkg/sub/__pycache__/mod.{tag}.pyc"
    bundle = _bundle(tmp_path)
    compile_bundle(bundle)
    with zipfile.ZipFile(bundle) as archive:
        assert f"pkg/__pycache__/__init__.{tag}.pyc" in archive.namelist()


def test_a_cache_key_covers_this_module_and_the_bytecode_version(tmp_path: Path) -> None:
    """A changed compiler (this module) or interpreter must not reuse an earlier result."""
    cache = tmp_path / "cache"
    compile_bundle(_bundle(tmp_path), cache)
    (entry,) = cache.iterdir()
    key = hashlib.sha256(_bundle_bytes(tmp_path / "fresh"))
    assert not entry.name.startswith(key.hexdigest())  # not the input's hash alone
    key.update(Path(bundle_bytecode.__file__).read_bytes())
    key.update(importlib.util.MAGIC_NUMBER)
    assert entry.name.startswith(key.hexdigest())


def test_a_cached_result_is_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    compiled = _bundle(tmp_path)
    compile_bundle(compiled, cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"the cached result")  # stands for a zip compiled by an earlier synth
    again = tmp_path / "again"
    again.mkdir()
    bundle = _bundle(again)
    compile_bundle(bundle, cache)
    assert bundle.read_bytes() == b"the cached result"


@pytest.mark.xdist_group("synth")
def test_the_synthesized_bundle_ships_bytecode_for_the_lambda_runtime(synth) -> None:
    """What CDK uploads: the webhook's handler module and the code under it come compiled, for the
    interpreter that ran the synth (which Chalice also makes every function's runtime)."""
    (bundle,) = synth.bundles
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}
    for source in ("app.py", "chalicelib/ingress/blueprint.py", "chalice/app.py", "aws_lambda_powertools/__init__.py"):
        assert source in sources
        assert pyc_name(source) in names, source
    compiled = {name for name in names if name.endswith(".pyc")}
    assert all(f".{tag}.pyc" in name for name in compiled)
    assert len(compiled) >= 0.95 * len(sources)


def test_a_package_a_killed_synth_left_unfinished_is_dropped_before_chalice_reuses_it(tmp_path: Path) -> None:
    from stacks.chalice_app import drop_unfinished_packages

    finished = tmp_path / "0f3a-python3.12.zip"
    with zipfile.ZipFile(finished, "w") as bundle:
        bundle.writestr("app.py", "print('hello')\n")
    # What Chalice leaves when it is killed while writing: local headers, no central directory.
    unfinished = tmp_path / "9b7c-python3.12.zip"
    unfinished.write_bytes(finished.read_bytes()[:40])
    (tmp_path / "notes.txt").write_text("not a package")
    assert drop_unfinished_packages(tmp_path) == [unfinished]
    assert finished.exists() and not unfinished.exists() and (tmp_path / "notes.txt").exists()
