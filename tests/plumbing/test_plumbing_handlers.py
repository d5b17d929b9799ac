"""Plumbing's event handlers, imported the way Lambda imports them (not through app.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).parents[2] / "runtime"

_INVOKE_AS_LAMBDA = """
import json, sys
from types import SimpleNamespace
import chalicelib.plumbing.blueprint as module
assert "app" not in sys.modules
event = {"version": "0", "id": "e-1", "detail-type": "TWITTER_PERMISSION_REVOKED", "source": "xbot.ingress",
         "account": "1", "time": "2026-11-29T00:00:00Z", "region": "us-east-1", "resources": [],
         "detail": {"revoke": {"source": {"user_id": "42"}}}}
context = SimpleNamespace(
    function_name="xbot-plumbing",
    aws_request_id="req-1",
    memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:us-east-1:1:function:xbot",
    get_remaining_time_in_millis=lambda: 1000,
)
module.access_revoked(event, context)
"""


def test_access_revoked_logs_an_error_with_its_context_without_app_py() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _INVOKE_AS_LAMBDA], cwd=RUNTIME, capture_output=True, text=True, check=True, timeout=60
    )
    (line,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert line["level"] == "ERROR"
    assert line["message"] == "X access revoked"
    assert (line["function_name"], line["request_id"], line["event_id"]) == ("xbot-plumbing", "req-1", "e-1")
    assert line["detail"] == {"revoke": {"source": {"user_id": "42"}}}
