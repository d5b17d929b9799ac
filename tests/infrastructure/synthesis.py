"""Synthesize the CDK app once per test process, in-process, into a temporary folder.

`chalice package` (run by synth) writes chalice.out/ into the working directory and leaves the
stage's environment variables in os.environ; Chalice also imports the module named `app`, which
must stay runtime/app.py. `synthesize_once` restores the cwd, the environment and sys.path
afterwards. The infrastructure tests and the workflow tests (tests/workflow, which run the
synthesized state machine) share the one synth: both groups run on the same xdist worker
(`xdist_group("synth")`) and this module keeps the result.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from tests.infrastructure.sam_expansion import expand_sam

INFRASTRUCTURE_DIR = Path(__file__).resolve().parents[2] / "infrastructure"
REGION = "us-east-1"
STACK_NAME = "XBot"
#: Context the session synth adds to cdk.json's, so optional wiring is synthesized and can be checked.
TEST_CONTEXT = {
    "botUserId": "1234567890123456789",
    "chatWebhookSecretName": "xbot/chat-webhook",
}


@dataclass(frozen=True)
class Synth:
    stack: Stack
    #: The synthesized template (SAM resources not expanded) and the same after the SAM transform.
    template: dict[str, Any]
    expanded: dict[str, Any]
    workdir: Path

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    @property
    def bundles(self) -> list[Path]:
        """The Lambda deployment packages Chalice built (chalice.out/<uuid>/deployment.zip)."""
        return sorted((self.workdir / "chalice.out").glob("*/deployment.zip"))


_synth: Synth | None = None


def synthesize_once(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    global _synth
    if _synth is None:
        _synth = _synthesize(tmp_path_factory.mktemp("synth"))
    return _synth


def _load_cdk_entry_point() -> Any:
    # infrastructure/app.py must not be imported as `app`: that name is runtime/app.py, the module
    # Chalice imports to package the functions.
    spec = importlib.util.spec_from_file_location("xbot_cdk_entry_point", INFRASTRUCTURE_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthesize_with(workdir: Path, context: Mapping[str, Any]) -> Synth:
    """The app with `context` added to the session synth's (e.g. another stage). Not cached: each
    call is a whole synth (about 40 s); share the result with a session-scoped fixture."""
    return _synthesize(workdir, extra_context=context)


def _synthesize(workdir: Path, *, extra_context: Mapping[str, Any] | None = None) -> Synth:
    saved_cwd, saved_environ, saved_path = Path.cwd(), dict(os.environ), list(sys.path)
    context = json.loads((INFRASTRUCTURE_DIR / "cdk.json").read_text(encoding="utf-8"))["context"]
    context.update(TEST_CONTEXT)
    context.update(extra_context or {})
    try:
        os.chdir(workdir)
        os.environ["CDK_DEFAULT_REGION"] = REGION
        os.environ.pop("CDK_DEFAULT_ACCOUNT", None)
        entry_point = _load_cdk_entry_point()
        app = entry_point.build_app(context=context, outdir=str(workdir / "cdk.out"))
        # Runs the cdk-nag plugin too: synth raises if any finding is not acknowledged.
        assembly = app.synth()
        # The app's one stack: XBot, or XBot-<stage> with `-c stage`.
        (stack,) = [child for child in app.node.children if isinstance(child, Stack)]
        template = assembly.get_stack_by_name(stack.stack_name).template
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
    assert isinstance(stack, Stack)
    return Synth(stack=stack, template=template, expanded=expand_sam(template, region=REGION), workdir=workdir)
