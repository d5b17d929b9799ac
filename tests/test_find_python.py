"""tools/find_python.sh, which `make setup` and the deploy virtualenv use to find the Lambda runtime's
Python: it takes an interpreter only after running it, so a pyenv shim that exits 127 is passed over.

Each test runs the script with a PATH of its own (fake `python3.x` and `pyenv` scripts, plus the few
tools the script needs), so what is installed on the machine running the tests does not matter. The
interpreter that is found is always the real one running the tests, reached through a wrapper.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "find_python.sh"
#: The version the tests ask for: the one running them, so that the real interpreter is the answer.
WANT = f"{sys.version_info.major}.{sys.version_info.minor}"
#: What a pyenv shim prints when the version it was asked for is not the selected one.
SHIM = f'#!/bin/sh\necho "pyenv: python{WANT}: command not found" >&2\nexit 127\n'


def _script(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _bin(tmp_path: Path) -> Path:
    """A directory for the PATH holding only the tools the script runs besides the fakes."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("bash", "grep", "sort", "cat"):
        found = shutil.which(tool)
        assert found is not None, tool
        (directory / tool).symlink_to(found)
    return directory


def _fake_pyenv(directory: Path, versions: list[str], working: str, log: Path) -> None:
    """A pyenv that lists `versions` and whose `exec python3.x` runs the real one for `working` only
    (and fails like a shim for the others), writing each PYENV_VERSION it is run with to `log`."""
    _script(
        directory / "pyenv",
        f"""#!/bin/sh
case "$1" in
versions) printf '%s\\n' {" ".join(versions)} ;;
exec)
    echo "$PYENV_VERSION" >> {log}
    shift
    if [ "$PYENV_VERSION" = "{working}" ] && [ "$1" = "python{WANT}" ]; then shift; exec {sys.executable} "$@"; fi
    echo "pyenv: $1: command not found" >&2; exit 127 ;;
esac
""",
    )


def _run(directory: Path, *args: str, want: str = WANT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), want, *args],
        env={"PATH": str(directory), "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_takes_pyenvs_newest_version_that_runs_when_the_path_has_only_a_shim(tmp_path: Path) -> None:
    directory = _bin(tmp_path)
    _script(directory / f"python{WANT}", SHIM)
    log = tmp_path / "tried"
    # Numerically newest first (x.10 before x.9); x.10 is broken, so x.9 is taken; other versions never tried.
    _fake_pyenv(directory, ["3.11.7", f"{WANT}.9", f"{WANT}.10", f"{WANT}.1", "3.99.0"], f"{WANT}.9", log)

    result = _run(directory)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sys.executable
    assert log.read_text(encoding="utf-8").split() == [f"{WANT}.10", f"{WANT}.9"]


def test_prefers_the_interpreter_on_the_path_when_it_runs(tmp_path: Path) -> None:
    directory = _bin(tmp_path)
    _script(directory / f"python{WANT}", f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    log = tmp_path / "tried"
    _fake_pyenv(directory, [f"{WANT}.1"], f"{WANT}.1", log)

    result = _run(directory)

    assert (result.returncode, result.stdout.strip()) == (0, sys.executable)
    assert not log.exists()


def test_fails_with_how_to_install_it_when_nothing_runs(tmp_path: Path) -> None:
    directory = _bin(tmp_path)
    _script(directory / f"python{WANT}", SHIM)
    _fake_pyenv(directory, ["3.11.7", f"{WANT}.1"], "none", tmp_path / "tried")

    result = _run(directory)

    assert (result.returncode, result.stdout) == (1, "")
    assert f"pyenv install {WANT}" in result.stderr
    assert f"PYTHON=/path/to/python{WANT}" in result.stderr


def test_checks_the_python_it_is_given_and_nothing_else(tmp_path: Path) -> None:
    directory = _bin(tmp_path)
    _script(directory / "other-python", '#!/bin/sh\nexec /nonexistent "$@"\n')

    assert _run(directory, sys.executable).stdout.strip() == sys.executable
    wrong = _run(directory, str(directory / "other-python"))
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert "is not Python" in wrong.stderr and "it does not run" in wrong.stderr
    older = _run(directory, sys.executable, want="3.1")
    assert (older.returncode, older.stdout) == (1, "")
    assert f"is not Python 3.1 ({platform.python_version()})" in older.stderr
