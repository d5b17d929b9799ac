"""`make demo` runs `botctl demo`: the whole scenario must work and the transcript show every step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BOTCTL = Path(sys.executable).parent / "botctl"


@pytest.mark.slow
def test_the_demo_runs_the_whole_scenario(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("BOT_LOCAL_DIR", "BOT_USER_ID")}
    result = subprocess.run(
        [str(BOTCTL), "demo", "--local-dir", str(tmp_path / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    transcript = result.stdout
    assert result.returncode == 0, transcript + result.stderr
    for step in (
        "A joke request",
        "A fact request",
        "A negative mention",
        "A photo of a public figure",
        "A photo with written text",
        "A follow",
        "The bot's own reply",
    ):
        assert f"== {step}" in transcript
    assert "ALERT: Negative message from @carol" in transcript
    assert "I recognised: Barack Obama" in transcript
    assert "annotated image: " in transcript
    assert "OPEN DAILY" in transcript
    assert "!!" not in transcript
    annotated = [
        line.split("annotated image: ", 1)[1] for line in transcript.splitlines() if "annotated image: " in line
    ]
    assert all(Path(path).is_file() for path in annotated)
    assert "-- celebrities-found" in transcript and "Barack Obama" in transcript.split("-- celebrities-found", 1)[1]
