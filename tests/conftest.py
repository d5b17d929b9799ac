"""Shared test helpers: fixture payloads from X and a clean environment per test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import settings

# No deadline: these tests check behaviour, not speed (figures belong in `make bench`), and on a
# loaded 2-core machine a first example can take far longer than hypothesis' 200 ms default.
settings.register_profile("xbot", deadline=None)
settings.load_profile("xbot")


def _silence_jsii_end_of_life_banner() -> None:
    """As the Makefile does, for a pytest run outside make: jsii skips its Node end-of-life banner
    for the Node major named in this variable (the one that runs it)."""
    node = shutil.which("node")
    if node is None or "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in os.environ:
        return
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    if match := re.match(r"v(\d+)", version.strip()):
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = match.group(1)


_silence_jsii_end_of_life_banner()

FIXTURES = Path(__file__).parent / "fixtures" / "x-webhooks"


def load_delivery(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def delivery_files() -> list[Path]:
    """Every webhook body in the fixtures (the signature vectors file is not a body)."""
    return sorted(p for p in FIXTURES.glob("*.json") if p.name != "signature_test_vectors.json")


@pytest.fixture
def signature_vectors() -> dict[str, Any]:
    return load_delivery("signature_test_vectors.json")


@pytest.fixture(autouse=True)
def _fresh_wiring(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Adapters are cached per process; every test starts from its own environment."""
    from chalicelib import wiring

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Never real AWS: a test that forgets its fakes fails on these instead of using a developer's
    # credentials (moto accepts them).
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # botctl's registry of running servers: one per test, never the developer's.
    monkeypatch.setenv("BOT_SERVER_REGISTRY", str(tmp_path_factory.mktemp("server-registry")))
    wiring.reset()
    yield
    wiring.reset()


#: A test that wants a line printed at the end of the run (`make test` shows it, pass or fail) records
#: it with `record_property(SUMMARY_LINE_PROPERTY, line)`. A user property travels with the test's
#: report, so the line also reaches the controller when pytest-xdist runs the test in a worker, where
#: a module-level variable would not.
SUMMARY_LINE_PROPERTY: Final = "summary_line"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == SUMMARY_LINE_PROPERTY
    ]
    # Every phase's report (setup, call, teardown) carries the test's properties: print each line once.
    for line in dict.fromkeys(lines):
        terminalreporter.write_line(line)
