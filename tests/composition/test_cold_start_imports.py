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
#: Loaded on the paths that use them only: the values of ports the webhook never calls, the
#: claim-check contract (an event over EventBridge's limit), html (text with "&" in it).
ONLY_WHERE_USED = ("chalicelib.kernel.port_values", "chalicelib.contracts.oversized", "html")
#: Loaded only where used: by a service's factory or an adapter, never by importing a handler module.
NOT_ON_IMPORT = (
    *NOT_ON_THE_WEBHOOK,
    *ONLY_WHERE_USED,
    "chalicelib.adapters.aws",
    "boto3",
    "uuid",
    "chalicelib.smallmodels",
)

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


def test_a_delivery_without_escapes_loads_neither_html_nor_the_claim_check() -> None:
    """A mention is translated and published (on a stub bus) without html, the claim-check contract
    or the port values; text with an escape still loads html and is unescaped."""
    script = (
        "import app, json, sys\n"
        "from chalicelib.ingress.translate import translate_delivery\n"
        "from chalicelib.kernel.delivery_json import parse_delivery\n"
        "from chalicelib.ports import EntryResult\n"
        "from chalicelib.publishing import EventPublisher\n"
        "class Bus:\n"
        "    def put_entries(self, entries):\n"
        "        return [EntryResult(event_id=str(i)) for i, _ in enumerate(entries)]\n"
        "def deliver(text):\n"
        "    post = {'id_str': '2', 'text': text, 'user': {'id_str': '3', 'screen_name': 'a'},\n"
        "            'entities': {'user_mentions': [{'id_str': '1'}]}}\n"
        "    body = json.dumps({'for_user_id': '1', 'tweet_create_events': [post]}).encode()\n"
        "    events = translate_delivery(parse_delivery(body), '1')\n"
        "    EventPublisher(bus=Bus(), bus_name='b', payload_store=None).publish(events)\n"
        "    return events[-1].detail['Text']\n"
        "assert deliver('@bot plain text') == '@bot plain text'\n"
        f"assert not [m for m in {list(ONLY_WHERE_USED)!r} if m in sys.modules]\n"
        "assert deliver('@bot fish &amp; chips') == '@bot fish & chips'\n"
    )
    assert _loaded(script, ONLY_WHERE_USED) == ["html"]


def test_no_module_the_webhook_imports_compiles_a_regular_expression_at_import() -> None:
    """Each pattern costs about as much to compile as a small module to import: compile it on first
    use (a functools.cache'd accessor), as chalicelib.ingress.translate does."""
    script = (
        "import json, re, sys\nimport app\n"
        "print(json.dumps(sorted(f'{name}.{key}' for name, module in list(sys.modules.items())\n"
        "    if name.split('.')[0] in ('app', 'chalicelib')\n"
        "    for key, value in vars(module).items() if isinstance(value, re.Pattern))))"
    )
    env = {key: value for key, value in os.environ.items() if key != "BOT_ADAPTERS"}
    env.update(AWS_ENV)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_ports_still_export_their_values() -> None:
    """chalicelib.ports names the values defined in chalicelib.kernel.port_values, loading them on
    first use; probing another name (as inspect and import machinery do) loads nothing."""
    script = (
        "import sys\nfrom chalicelib import ports\n"
        "assert not hasattr(ports, '__path__') and not hasattr(ports, 'NoSuchPort')\n"
        "assert 'chalicelib.kernel.port_values' not in sys.modules\n"
        "from chalicelib.ports import ConversationAnswer, MentionsPage, ModerationVerdict, PollState, RateLimit\n"
        "from chalicelib.kernel import port_values\n"
        "assert (ConversationAnswer, MentionsPage, ModerationVerdict, PollState, RateLimit) == (\n"
        "    port_values.ConversationAnswer, port_values.MentionsPage, port_values.ModerationVerdict,\n"
        "    port_values.PollState, port_values.RateLimit)\n"
        "assert PollState(since_id='1') == ports.PollState(since_id='1')\n"
    )
    assert _loaded(script, ("chalicelib.kernel.port_values",)) == ["chalicelib.kernel.port_values"]
