"""Bytecode in the Lambda bundle: `.pyc` files compiled at synth, so that no cold start compiles.

Chalice's deployment zip carries the sources only (and whatever stale `__pycache__` of the
developer's own Python sat in runtime/chalicelib), and Lambda's /var/task is read-only: every cold
start of every function compiled the bundle's code (runtime/, Powertools, Chalice's app.py) from
source, which more than tripled the webhook's import (`make bench`, "bundle compiled").

The `.pyc` are "unchecked-hash" ones (PEP 552): the interpreter loads them without comparing them
with the source's mtime, which zipping and unzipping do not keep to the second. Nothing can change
the source next to them in a deployed bundle, so nothing can make them stale. They are compiled by
the interpreter that runs the synth, whose version Chalice also gives every function as its Lambda
runtime ("Runtime": "python3.12"), so the bytecode always matches the runtime's magic number.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Final

#: PEP 552's flags word: hash-based (bit 0), source not checked (bit 1 clear).
_UNCHECKED_HASH_FLAGS: Final = (0b01).to_bytes(4, "little")


def compile_bundle(bundle: Path, cache: Path | None = None) -> None:
    """Rewrites the zip `bundle` with an unchecked-hash `.pyc` next to each of its `.py` files, and
    without the `__pycache__` it had (another interpreter's, never loaded). A source that does not
    compile (none should) is left without one.

    `cache`: a folder that keeps each result under a SHA-256 of its input, this module and the
    interpreter's bytecode version (compiling the bundle takes a few seconds, and every synth
    packages the same zip while runtime/ is unchanged)."""
    kept = None
    if cache is not None:
        key = hashlib.sha256(bundle.read_bytes())
        key.update(Path(__file__).read_bytes())
        key.update(importlib.util.MAGIC_NUMBER)
        kept = cache / f"{key.hexdigest()}-{sys.implementation.cache_tag}-bytecode.zip"
        if kept.exists():
            shutil.copyfile(kept, bundle)
            return
    rewritten = bundle.with_name(bundle.name + ".with-bytecode")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if "__pycache__/" in info.filename:
                continue
            data = source.read(info)
            target.writestr(info, data)
            pyc = _unchecked_hash_pyc(data, info.filename) if info.filename.endswith(".py") else None
            if pyc is None:
                continue
            # The source's own date, so that the same sources give the same zip (the asset's hash).
            entry = zipfile.ZipInfo(pyc_name(info.filename), date_time=info.date_time)
            entry.external_attr = info.external_attr
            target.writestr(entry, pyc, zipfile.ZIP_DEFLATED)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        # Copied under a temporary name and renamed: a synth beside this one (or after this one was
        # killed) never takes a half-written file for a finished one.
        partial = kept.with_name(f".{kept.name}.{os.getpid()}")
        shutil.copyfile(rewritten, partial)
        partial.replace(kept)
    rewritten.replace(bundle)


def pyc_name(source: str) -> str:
    """Where the interpreter looks for `source`'s bytecode inside the bundle: `__pycache__/` beside
    it, named for this interpreter, without optimisation. Not importlib's cache_from_source, whose
    answer follows the synth's own environment (PYTHONPYCACHEPREFIX, -O), which Lambda's is not."""
    folder, _, file_name = source.rpartition("/")
    name = f"__pycache__/{file_name.removesuffix('.py')}.{sys.implementation.cache_tag}.pyc"
    return f"{folder}/{name}" if folder else name


def _unchecked_hash_pyc(source: bytes, path: str) -> bytes | None:
    try:
        # "/var/task/<path>": where Lambda unpacks the bundle (the loader sets the real path anyway).
        code = compile(source, f"/var/task/{path}", "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        return None
    # PEP 552's layout, what `py_compile` writes for PycInvalidationMode.UNCHECKED_HASH.
    header = importlib.util.MAGIC_NUMBER + _UNCHECKED_HASH_FLAGS + importlib.util.source_hash(source)
    return header + marshal.dumps(code)
