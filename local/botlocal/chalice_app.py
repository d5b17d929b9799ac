"""The Chalice app's own event handlers as local targets, invoked the way Lambda would.

`@app.on_cw_event(pattern, name=...)` registers a CloudWatchEventConfig in `app.event_sources` and
the Lambda entry point in `app.handler_map[name]`. On AWS, EventBridge calls that entry point with
the envelope and a Lambda context; locally the dispatcher does the same in-process, so handler
code, middleware and Powertools run exactly as deployed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from chalice.config import Config as ChaliceConfig
from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT
from chalicelib.contracts.names import QUEUE_FEEDS
from chalicelib.settings import Settings

from botlocal.config import LocalConfig
from botlocal.targets import LAMBDA_PREFIX, Target

#: The Chalice stage the local runtime uses (runtime/.chalice/config.json has a "local" stage).
LOCAL_STAGE: Final = "local"
_PRIVATE_MODULE_NAME: Final = "_botlocal_runtime_app"


def find_runtime_dir() -> Path:
    """runtime/ of this checkout (local/botlocal/ sits next to it)."""
    runtime = Path(__file__).resolve().parents[2] / "runtime"
    if not (runtime / "app.py").is_file():
        raise FileNotFoundError(
            f"cannot find the Chalice app at {runtime / 'app.py'}; botlocal must run from a checkout "
            "of the repository (pip install -e .)"
        )
    return runtime


def stage_environment(runtime_dir: Path, stage: str = LOCAL_STAGE) -> dict[str, str]:
    """The environment variables .chalice/config.json gives the stage's functions (the app's, then
    the stage's), as `chalice local --stage local` sets them in its process."""
    config_file = runtime_dir / ".chalice" / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RuntimeError(f"cannot read the Chalice configuration {config_file}: {error}") from error
    stage_config = config.get("stages", {}).get(stage)
    if stage_config is None:
        raise RuntimeError(f"{config_file} has no {stage!r} stage")
    return {**config.get("environment_variables", {}), **stage_config.get("environment_variables", {})}


def apply_stage_environment(runtime_dir: Path, stage: str = LOCAL_STAGE) -> None:
    """Set the stage's variables in this process: the local stage names the local adapters
    (BOT_ADAPTERS), so the app imported here never publishes to a real bus."""
    os.environ.update(stage_environment(runtime_dir, stage))


def load_chalice_app(runtime_dir: Path) -> Any:
    """Import runtime/app.py as module `app` (as Chalice does) and return its Chalice object,
    with the local stage's environment applied first."""
    apply_stage_environment(runtime_dir)
    app_file = (runtime_dir / "app.py").resolve()
    if not app_file.is_file():
        raise FileNotFoundError(f"no Chalice app at {app_file}")
    if str(runtime_dir.resolve()) not in sys.path:
        sys.path.insert(0, str(runtime_dir.resolve()))
    module = _import_app_module(app_file)
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "event_sources") or not hasattr(app, "handler_map"):
        raise RuntimeError(f"{app_file} has no Chalice object named `app`")
    return app


def _import_app_module(app_file: Path) -> ModuleType:
    # Another module called `app` may be loaded (e.g. infrastructure/app.py in a test run): then
    # ours is loaded under a private name rather than replacing it.
    for name in ("app", _PRIVATE_MODULE_NAME):
        existing = sys.modules.get(name)
        if existing is None:
            return _exec_module(name, app_file)
        if getattr(existing, "__file__", None) and Path(str(existing.__file__)).resolve() == app_file:
            return existing
    raise RuntimeError(f"cannot import {app_file}: modules named app and {_PRIVATE_MODULE_NAME} are taken")


def _exec_module(name: str, app_file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, app_file)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {app_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        # Informational only: locally nothing stops a handler that runs past its timeout.
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def chalice_targets(app: Any, settings: Settings, runtime_dir: Path) -> list[Target]:
    """One Target per `@app.on_cw_event` handler, and per `@app.on_sqs_message` handler of a queue
    the bus feeds (names.QUEUE_FEEDS), named lambda:<handler name>.

    Locally the journal is the queue: an event for a queue's handler is delivered to it wrapped in
    an SQS message, as the rule and the queue would on AWS, and retried by the dispatcher.
    """
    targets = []
    for source in app.event_sources:
        pattern = getattr(source, "event_pattern", None)
        wrap: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        queue = getattr(source, "queue", None)
        if pattern is None and queue in QUEUE_FEEDS:
            pattern = QUEUE_FEEDS[queue]
            wrap = _as_sqs_message(queue)
        if pattern is None:
            # Schedules, other queues, S3 ... have no local trigger yet.
            continue
        function_name = f"{app.app_name}-{LOCAL_STAGE}-{source.name}"
        timeout, memory = function_limits(runtime_dir, source.name)
        deliver = _invoker(app.handler_map[source.name], function_name, settings, timeout, memory)
        targets.append(
            Target(
                name=f"{LAMBDA_PREFIX}{source.name}",
                pattern=pattern,
                deliver=deliver if wrap is None else _wrapped(deliver, wrap),
            )
        )
    return targets


def _as_sqs_message(queue: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The Lambda event of an SQS event source (one record) holding `envelope`, as a rule's SQS
    target writes it: the body is the whole EventBridge event."""
    config = LocalConfig.from_environment()
    queue_arn = f"arn:aws:sqs:{config.region}:{config.account}:{queue}"

    def wrap(envelope: dict[str, Any]) -> dict[str, Any]:
        message_id = str(envelope.get("id") or uuid.uuid4())
        return {
            "Records": [
                {
                    "messageId": message_id,
                    "receiptHandle": f"local-{message_id}",
                    "body": json.dumps(envelope),
                    "attributes": {"SentTimestamp": str(int(time.time() * 1000))},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": config.region,
                }
            ]
        }

    return wrap


def _wrapped(
    deliver: Callable[[dict[str, Any]], Any], wrap: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[dict[str, Any]], Any]:
    def deliver_wrapped(envelope: dict[str, Any]) -> Any:
        return deliver(wrap(envelope))

    return deliver_wrapped


def _invoker(handler: Any, function_name: str, settings: Settings, timeout: int, memory: int) -> Any:
    del settings  # the runtime's settings hold nothing a context needs; the local config does
    config = LocalConfig.from_environment()
    arn = f"arn:aws:lambda:{config.region}:{config.account}:function:{function_name}"

    def invoke(event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function_name,
            memory_limit_in_mb=memory,
            invoked_function_arn=arn,
            timeout_seconds=timeout,
        )
        return handler(event, context)

    return invoke


def lambda_invoker(app: Any, name: str, settings: Settings, runtime_dir: Path) -> Callable[[Any], Any]:
    """Call the app's Lambda function `name` (e.g. an `@app.lambda_function`) as Lambda would."""
    timeout, memory = function_limits(runtime_dir, name)
    function_name = f"{app.app_name}-{LOCAL_STAGE}-{name}"
    return _invoker(app.handler_map[name], function_name, settings, timeout, memory)  # type: ignore[no-any-return]


def function_limits(runtime_dir: Path, name: str) -> tuple[int, int]:
    """The function's lambda_timeout and lambda_memory_size, from .chalice/config.json (their one
    home), looked up as `chalice package` does: the local stage's value for the function, the
    stage's, the app's value for the function ("lambda_functions"), the app's, Chalice's default."""
    config_file = runtime_dir / ".chalice" / "config.json"
    try:
        config_from_disk = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config_from_disk = {}
    config = ChaliceConfig(chalice_stage=LOCAL_STAGE, config_from_disk=config_from_disk).scope(LOCAL_STAGE, name)
    timeout = config.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT
    memory = config.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE
    return int(timeout), int(memory)
