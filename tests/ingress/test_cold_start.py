"""The webhook's cold start stays small: importing app.py loads none of the heavy libraries, and none
of the runtime's modules that its first CRC check or delivery does not run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).parents[2] / "runtime"
# (Powertools imports the bare botocore package for its user agent; clients and sessions stay unloaded.)
HEAVY = (
    "boto3",
    "botocore.client",
    "botocore.session",
    "PIL",
    "requests",
    "requests_oauthlib",
    "numpy",
    "onnxruntime",
    "rapidocr",
    "cv2",
    "duckdb",
    "botlocal",
    # The small models' code and what it runs (the economy profile's analysers load them on first use).
    "chalicelib.smallmodels",
    "dlib",
    "fasttext",
    "vaderSentiment",
    "yake",
)

#: The runtime's own modules that importing app.py must not load (issue 12, section 3): the ports'
#: Protocols are annotations on the webhook's path (about 4% of the import; the EventBridge adapter
#: loads them at its first PutEvents, not when Ingress is built for a CRC check), and the idempotency
#: namespaces serve Egress and the alerting only. `make bench` reports these and HEAVY if loaded.
NOT_ON_THE_IMPORT = ("chalicelib.ports", "chalicelib.kernel.idempotency")


def _loaded_by_importing_app(watched: tuple[str, ...]) -> list[str]:
    script = f"import json, sys; import app; print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))"
    env = {**os.environ, "BOT_ADAPTERS": "chalicelib.adapters.aws:AwsAdapters"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_app_loads_no_heavy_library() -> None:
    assert _loaded_by_importing_app(HEAVY) == []


def test_importing_the_app_loads_neither_the_ports_nor_the_idempotency_namespaces() -> None:
    assert _loaded_by_importing_app(NOT_ON_THE_IMPORT) == []


def test_the_modules_kept_off_the_import_exist() -> None:
    """A renamed module would make the check above pass for nothing."""
    script = "import importlib\nfor name in " + repr(list(NOT_ON_THE_IMPORT)) + ":\n    importlib.import_module(name)"
    subprocess.run([sys.executable, "-c", script], cwd=RUNTIME, check=True, capture_output=True)
