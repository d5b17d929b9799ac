"""The webhook's cold start stays small: importing app.py loads none of the heavy libraries."""

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


def test_importing_the_app_loads_no_heavy_library() -> None:
    script = f"import json, sys; import app; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    env = {**os.environ, "BOT_ADAPTERS": "chalicelib.adapters.aws:AwsAdapters"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
