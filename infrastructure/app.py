#!/usr/bin/env python3
"""The CDK app: `npx cdk synth` / `npx cdk deploy` from this folder (see cdk.json).

A region is needed even to synthesize: `chalice package` asks boto for one.

`-c stage=dev` makes the stack XBot-dev (and every name it sets carries the stage); without a stage
the stack is XBot, as it always was. stacks/config.py reads and checks every context value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from stacks.bot_stack import BotStack
from stacks.config import BotConfig

DEFAULT_REGION = "us-east-1"


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """The app with its one stack and the AWS Solutions checks (synth fails on any finding)."""
    region = os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    # Chalice's packager asks boto for a region; make sure it finds the one the stack uses.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    app = cdk.App(context=dict(context) if context else None, outdir=outdir)
    # Read (and checked) before the stack exists: the stage names the stack.
    config = BotConfig.from_context(app.node)
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
    build_app().synth()
