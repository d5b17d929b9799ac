"""infrastructure/app.py as the CDK CLI runs it: a refused setting is one line, and the app runs
only on the Lambda runtime's Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infrastructure.synthesis import INFRASTRUCTURE_DIR, _load_cdk_entry_point


def test_the_app_runs_only_on_the_lambda_runtimes_python() -> None:
    app = _load_cdk_entry_point()
    app.check_python((3, 12))
    for other in ((3, 11), (3, 13)):
        with pytest.raises(SystemExit, match=r"must run on Python 3\.12 .* not 3\.1[13]"):
            app.check_python(other)


def _run_app(tmp_path: Path, context: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """app.py as the CDK CLI starts it: its -c values in CDK_CONTEXT_JSON."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    }
    return subprocess.run(
        [sys.executable, "app.py"], cwd=INFRASTRUCTURE_DIR, env=env, capture_output=True, text=True, check=False
    )


# A few settings of each kind, run as the CLI runs them (each run starts the CDK's node process);
# every refusal of every setting is checked in-process by test_infra_config and test_infra_stage_config.
@pytest.mark.parametrize(
    ("context", "starts"),
    [
        (
            {"profile": "cheap"},
            "error: context value profile must be default or economy, got 'cheap' (economy: small models from a "
            "Lambda layer instead of Comprehend, DetectLabels and Lex; unset: default)",
        ),
        ({"stage": "dev\n"}, "error: context value stage must be at most 20 lowercase letters"),
        ({"alertEmail": "you@"}, "error: context value alertEmail must be an email address, got 'you@'"),
        ({"ingress": "poll"}, "error: context value ingress=poll needs botUserId"),
    ],
)
def test_a_setting_the_app_refuses_stops_the_cli_with_one_line_naming_it(
    tmp_path: Path, context: dict[str, str], starts: str
) -> None:
    """A refused deploy setting (see "Deploying with make"): one line naming it, no traceback."""
    result = _run_app(tmp_path, context)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(starts), line
    assert result.stderr.strip().splitlines()[-1] == line
