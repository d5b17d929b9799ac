#!/usr/bin/env bash
# Prints the path of a Python interpreter of the version asked for (e.g. 3.12) that really runs.
# Usage: tools/find_python.sh 3.12 [PYTHON]. With PYTHON given, only that one is checked.
# Each candidate is checked by running it, never by `command -v` alone: on a pyenv machine
# `command -v python3.12` finds a shim that then fails (exit 127) unless PYENV_VERSION names a 3.12.
# Candidates, in order: python3.12 on the PATH, pyenv's installed 3.12.x (newest first), uv's.
set -uo pipefail
want="${1:?usage: $0 MAJOR.MINOR [PYTHON]}"
given="${2:-}"
# Prints the interpreter's own absolute path; fails unless it is $want (the callers then drop what it printed).
probe='import sys; print(sys.executable); sys.exit(sys.argv[1] != "%d.%d" % sys.version_info[:2])'

check() {  # check COMMAND...: prints the interpreter's path if it runs and is $want
    "$@" -c "$probe" "$want" 2>/dev/null
}

if [ -n "$given" ]; then
    if found=$(check "$given"); then echo "$found"; exit 0; fi
    version=$("$given" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || version="it does not run"
    echo "PYTHON=$given is not Python $want ($version). Set PYTHON to a python$want, or unset it to let make find one." >&2
    exit 1
fi

if found=$(check "python$want"); then echo "$found"; exit 0; fi

if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -t. -k3,3nr); do
        if found=$(PYENV_VERSION="$version" check pyenv exec "python$want"); then echo "$found"; exit 0; fi
    done
fi

if command -v uv >/dev/null 2>&1 && candidate=$(uv python find "$want" 2>/dev/null); then
    if found=$(check "$candidate"); then echo "$found"; exit 0; fi
fi

cat >&2 <<EOF
Python $want is required: the Lambda functions run on python$want (Amazon Linux 2023), and Chalice
packages the Lambda bundle for the interpreter that runs it. None was found that runs (tried
python$want on the PATH, pyenv's installed $want.x and uv's). Install it with one of:
  pyenv install $want        (then make finds it; no need to make it global)
  uv python install $want
  your system's package      (Ubuntu 24.04: apt install python$want; macOS: brew install python@$want)
  an installer from https://www.python.org/downloads/
or point make at one: make ... PYTHON=/path/to/python$want
EOF
exit 1
