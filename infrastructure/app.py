#!/usr/bin/env python3
"""The CDK app: `npx cdk synth` / `npx cdk deploy` from this folder (see cdk.json).

A region is needed even to synthesize: `chalice package` asks boto for one.

`-c stage=dev` makes the stack XBot-dev (and every name it sets carries the stage); without a stage
the stack is XBot, as it always was. stacks/config.py reads and checks every context value.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from stacks.bot_stack import BotStack
from stacks.config import BotConfig

DEFAULT_REGION = "us-east-1"
#: The Lambda runtime's Python. Chalice gives every function the runtime of the interpreter that
#: runs the synth, packages its wheels and compiles the bundle's bytecode with it: another one
#: would deploy another runtime than the one the project is tested on.
LAMBDA_PYTHON = (3, 12)


class ContextError(ValueError):
    """A context value (`-c key=value`) the app refuses: its message names the setting."""


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:2])) -> None:
    """Refuses to synthesize with another Python than Lambda's (LAMBDA_PYTHON)."""
    if tuple(version[:2]) != LAMBDA_PYTHON:
        wanted = ".".join(map(str, LAMBDA_PYTHON))
        raise SystemExit(
            f"error: the CDK app must run on Python {wanted} (the Lambda runtime's), not "
            f"{'.'.join(map(str, version[:2]))}: use `make synth` / `make deploy`, which make "
            f".venv-deploy with it (tools/find_python.sh finds one)"
        )


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """The app with its one stack and the AWS Solutions checks (synth fails on any finding)."""
    region = os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    # Chalice's packager asks boto for a region; make sure it finds the one the stack uses.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    check_python()
    app = cdk.App(context=dict(context) if context else None, outdir=outdir)
    # Read (and checked) before the stack exists: the stage names the stack.
    try:
        config = BotConfig.from_context(app.node)
    except ValueError as error:
        raise ContextError(str(error)) from error
    BotStack(
        app,
        config.stack_name,
        config=config,
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
        description="Event-driven X (Twitter) bot: webhook, bus, plumbing, data lake, analysis, alerting and replies.",
    )
    # Acknowledgments are also written into each resource's Metadata, so the template itself
    # records them (and the SAM-expanded template can be checked with the same ones).
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app


if __name__ == "__main__":
    try:
        build_app().synth()
    except ContextError as error:
        # A setting the app refuses (stacks/config.py): one line naming it, not a traceback.
        raise SystemExit(f"error: {error}") from None
