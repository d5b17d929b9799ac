"""Each Lambda function loads only the services it runs: importing a handler module (app.py for the
webhook, a blueprint for the others) loads no service, and the webhook's first use builds Ingress
without loading another service or contract it never uses. `make bench` measures what this keeps
small (bench/cold_start.py); tests/ingress/test_cold_start.py checks the third-party libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNTIME = Path(__file__).parents[2] / "runtime"

#: Modules of services, contracts and helpers the webhook never runs.
NOT_ON_THE_WEBHOOK = (
    "chalicelib.alerting.service",
    "chalicelib.analysis.deletion",
    "chalicelib.analysis.images",
    "chalicelib.analysis.media",
    "chalicelib.analysis.text",
    "chalicelib.analysis.workflow",
    "chalicelib.ingress.poller",
    "chalicelib.responding.guards",
    "chalicelib.responding.conversation",
    "chalicelib.responding.photos",
    "chalicelib.responding.fulfilment",
    "chalicelib.egress.service",
    "chalicelib.contracts.analysis",
    "chalicelib.contracts.outcomes",
    "chalicelib.contracts.replies",
    "chalicelib.contracts.direct_messages",
    "chalicelib.contracts.workflow",
)
#: Loaded only where used: by a service's factory or an adapter, never by importing a handler module.
NOT_ON_IMPORT = (*NOT_ON_THE_WEBHOOK, "chalicelib.adapters.aws", "boto3", "uuid", "chalicelib.smallmodels")

HANDLER_MODULES = (
    "app",
    "chalicelib.ingress.blueprint",
    "chalicelib.plumbing.blueprint",
    "chalicelib.analysis.blueprint",
    "chalicelib.alerting.blueprint",
    "chalicelib.responding.blueprint",
    "chalicelib.egress.blueprint",
)

#: AWS adapters (BOT_ADAPTERS unset) with made-up names; a call that slipped out would fail locally.
AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "EVENT_BUS_NAME": "xbot-bus",
    "TWITTER_SECRET_NAME": "xbot/twitter",
    "OVERSIZE_BUCKET": "xbot-oversize",  # as deployed: the claim-check store's client is made on first use too
}


def _loaded(script: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` are in sys.modules after `script` runs in a fresh interpreter."""
    code = f"{script}\nimport json, sys\nprint(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))"
    env = {key: value for key, value in os.environ.items() if key != "BOT_ADAPTERS"}
    env.update(AWS_ENV)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_importing_a_handler_module_loads_no_service(module: str) -> None:
    assert _loaded(f"import {module}", NOT_ON_IMPORT) == []


def test_the_webhooks_first_use_builds_ingress_alone() -> None:
    script = "import app\nfrom chalicelib import wiring\nservice = wiring.ingress_service()"
    assert _loaded(script, NOT_ON_THE_WEBHOOK) == []


def test_the_watch_list_names_real_modules() -> None:
    """A renamed module would make the checks above pass for nothing."""
    script = "import importlib\nfor name in " + repr(list(NOT_ON_IMPORT)) + ":\n    importlib.import_module(name)"
    assert sorted(_loaded(script, NOT_ON_IMPORT)) == sorted(NOT_ON_IMPORT)


def test_building_ingress_on_aws_loads_no_boto3_until_the_first_put_events() -> None:
    """The EventBridge client is made on the first PutEvents: a CRC check never loads boto3."""
    script = (
        "import app\nfrom chalicelib import wiring\nservice = wiring.ingress_service()\n"
        "import sys\nbefore = 'boto3' in sys.modules\n"
        "try:\n    wiring.event_bus().put_entries([{'Source': 's', 'DetailType': 'd', 'Detail': '{}'}])\n"
        "except Exception:\n    pass  # the endpoint is a closed local port\n"
        "assert not before, 'boto3 was loaded before the first PutEvents'"
    )
    assert _loaded(script, ("boto3", "botocore.client")) == ["boto3", "botocore.client"]


def test_make_bench_models_the_first_use_of_every_lambda_function() -> None:
    """A new function needs its line in bench/cold_start.py's FIRST_USE (what its first invocation
    builds), or `make bench` measures its import only."""
    from bench.cold_start import FIRST_USE, functions

    names = {function.name for function in functions()}
    assert len(names) > 10  # read from the Chalice app: every function and the webhook
    assert names == set(FIRST_USE)
