"""Cold start per Lambda function, on the AWS adapters (BOT_ADAPTERS unset).

Each Lambda function imports one handler module: the webhook (the REST API's one function) imports
`app`, every other function its blueprint's module (Chalice's handler string
`chalicelib.<service>.blueprint.<handler>`). Two figures per function, each a fresh interpreter's
wall time minus a bare interpreter's (`python -c pass`), interleaved round by round so load on the
machine weighs on both alike:

- import: the handler module alone, what Lambda's init phase runs; for the webhook also "in process",
  the time of the import statement itself read inside the interpreter (no interpreter start or exit:
  the figure issue 12's 60 ms goal and docs/benchmarks.md's 65 ms baseline are about);
- first use: the module and what the first invocation builds before it calls out: the services
  and adapters (`chalicelib.wiring`: boto3 and its clients included) and the modules the handler
  imports lazily. Network calls are not made (and could not be: every AWS endpoint points at a
  closed local port).

Bytecode: every module comes from a warm bytecode cache (a private PYTHONPYCACHEPREFIX), the same
for every run: as on Lambda, where the synth ships an unchecked-hash .pyc beside every source of the
bundle (infrastructure/stacks/bundle_bytecode.py) and boto3 comes with the runtime, compiled. The
row "webhook: import app.py, no .pyc in the bundle" is the case before that: /var/task is
read-only, so the bundle's own code (runtime/, Powertools, Chalice's app.py) was compiled at each
cold start.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.stats import Figure, figure
from tests.ingress import test_cold_start as cold_start_test

ROOT: Final = Path(__file__).resolve().parents[1]
RUNTIME: Final = ROOT / "runtime"
WEBHOOK: Final = "webhook"
#: Not a function of its own: the webhook answering X's CRC check, its first use without a PutEvents.
CRC_CHECK: Final = "webhook CRC check"

#: The X secret's read (Secrets Manager, through Powertools' parameters) answered in process: the
#: poller and Egress read it while they are built. The provider's boto3 client is not made.
_X_DOCUMENT_IN_PROCESS: Final = (
    "from aws_lambda_powertools.utilities import parameters; "
    "parameters.get_secret = lambda *_, **__: dict.fromkeys(('ApiKey', 'ApiSecret', 'AccessToken', "
    "'AccessTokenSecret'), 'bench')"
)

#: What each function's first invocation builds or imports before its first call out (read from
#: its handler in chalicelib/<service>/blueprint.py). A function missing here is measured on
#: import only, and the table says so.
FIRST_USE: Final[dict[str, str]] = {
    # A delivery: Ingress built, and the EventBridge client its first PutEvents makes.
    WEBHOOK: "wiring.ingress_service(); from chalicelib.adapters.aws import aws_client; aws_client('events')",
    # X's CRC check (and a refused delivery): Ingress alone, no boto3.
    CRC_CHECK: "wiring.ingress_service()",
    "ingress_poll_mentions": (
        f"from chalicelib.ingress.poller import PollError; {_X_DOCUMENT_IN_PROCESS}; wiring.mentions_poller()"
    ),
    "plumbing_access_revoked": "",
    "analysis_delete_media": "wiring.payload_resolver(); wiring.media_deletion()",
    "analysis_download_media": "wiring.analysis_steps()",
    "analysis_analyse_image": "wiring.analysis_steps()",
    "analysis_analyse_text": "wiring.analysis_steps()",
    "analysis_publish_analysis": "wiring.analysis_steps()",
    "analysis_publish_failure": "wiring.analysis_steps()",
    "alerting_alert_negative": (
        "from chalicelib.contracts.analysis import MessageAnalysed; wiring.payload_resolver(); wiring.alert_service()"
    ),
    "alerting_forward_alert": "wiring.alert_forwarder()",
    "responding_reply_to_photos": (
        "from chalicelib.contracts.analysis import MessageAnalysed; wiring.payload_resolver(); wiring.photo_responder()"
    ),
    "responding_reply_to_text": (
        "from chalicelib.contracts.analysis import MessageAnalysed; wiring.payload_resolver(); wiring.text_responder()"
    ),
    "responding_lex_fulfilment": "from chalicelib.responding.fulfilment import fulfil",
    "egress_post_reply": (
        "from chalicelib.contracts.direct_messages import SendDirectMessage; "
        f"from chalicelib.contracts.replies import SendTweet; {_X_DOCUMENT_IN_PROCESS}; wiring.payload_resolver(); "
        "wiring.egress_service()"
    ),
}

#: A deployed function's configuration, with made-up names (nothing is called).
DEPLOYED_ENV: Final = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",  # a dummy: no call leaves the machine
    "AWS_EC2_METADATA_DISABLED": "true",
    # Any call that slipped through would fail here at once rather than reach AWS.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "POWERTOOLS_SERVICE_NAME": "xbot",
    "EVENT_BUS_NAME": "xbot-bus",
    "TWITTER_SECRET_NAME": "xbot/twitter",
    "BOT_USER_ID": "1234567890123456789",
    "OVERSIZE_BUCKET": "xbot-oversize",
    "MEDIA_BUCKET": "xbot-media",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:xbot-alerts",
    "CHAT_WEBHOOK_SECRET_NAME": "xbot/chat-webhook",
    "LEX_BOT_ID": "BENCHBOT01",
    "LEX_BOT_ALIAS_ID": "TSTALIASID",
    "IDEMPOTENCY_TABLE": "xbot-idempotency",
    "POLL_CHECKPOINT_TABLE": "xbot-poll-checkpoint",
    "POSTING_SWITCH_PARAMETER": "/xbot/posting",
}

#: The bundle's third-party packages that import on the webhook's path (compiled at each cold start on
#: Lambda, as runtime/ is). boto3 and botocore come with the Lambda runtime, compiled.
BUNDLED_ON_WEBHOOK_PATH: Final = ("aws_lambda_powertools", "chalice", "jmespath", "typing_extensions")

#: Modules the webhook must not load: the ones whose absence the cold-start test checks (one list,
#: the test's), which `bench` reports if they appear.
HEAVY: Final = (*cold_start_test.HEAVY, *cold_start_test.NOT_ON_THE_IMPORT, "chalicelib.adapters.aws")


@dataclass(frozen=True)
class Function:
    name: str
    module: str  # the handler module Lambda imports


def functions() -> list[Function]:
    """Every Lambda function of the Chalice app with its handler module, the webhook first."""
    sys.path.insert(0, str(RUNTIME))
    try:
        from app import app
    finally:
        sys.path.remove(str(RUNTIME))
    found = [Function(WEBHOOK, "app"), Function(CRC_CHECK, "app")]
    handlers: list[tuple[str, str]] = [(f.name, f.handler_string) for f in app.pure_lambda_functions]
    handlers += [(source.name, source.handler_string) for source in app.event_sources]
    found += [Function(name, handler.rsplit(".", 1)[0]) for name, handler in handlers]
    return found


def _script(module: str, first_use: str | None) -> str:
    lines = [f"import {module}"]
    if first_use is not None:
        lines += ["from chalicelib import wiring", *(part.strip() for part in first_use.split(";") if part.strip())]
    return "\n".join(lines)


def _run(script: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], cwd=RUNTIME, env=env, check=True)  # noqa: S603 (our interpreter)
    return time.perf_counter() - started


def _timed_import(module: str) -> str:
    """Imports `module` and prints how long the import statement took, in seconds (`time` is built in)."""
    return f"import time\nstarted = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - started)"


def _run_timed(script: str, env: dict[str, str]) -> tuple[float, float]:
    """The process's wall time and the import time the script printed, in seconds."""
    started = time.perf_counter()
    out = subprocess.run(  # noqa: S603 (our interpreter)
        [sys.executable, "-c", script], cwd=RUNTIME, env=env, check=True, capture_output=True, text=True
    ).stdout
    return time.perf_counter() - started, float(out.strip().splitlines()[-1])


def _environment(pycache: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BOT_", "POWERTOOLS_"))}
    env.update(DEPLOYED_ENV)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _warm(pycache: Path, env: dict[str, str], scripts: list[str]) -> None:
    """Compile every module the scripts import into the private bytecode cache."""
    writing = {**env, "PYTHONDONTWRITEBYTECODE": ""}
    for script in scripts:
        subprocess.run([sys.executable, "-c", script], cwd=RUNTIME, env=writing, check=True)  # noqa: S603


def _without_bundle_bytecode(warm: Path, cold: Path) -> None:
    """A copy of the warm cache without the bytecode of runtime/ and of the bundled packages."""
    shutil.copytree(warm, cold)
    stale = [cold / RUNTIME.relative_to(RUNTIME.anchor)]
    for package in BUNDLED_ON_WEBHOOK_PATH:
        stale += list(cold.glob(f"**/site-packages/{package}"))
        stale += list(cold.glob(f"**/site-packages/__pycache__/{package}.*"))
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def loaded_heavy_modules() -> list[str]:
    """The HEAVY modules importing app.py loads (should be none)."""
    script = f"import sys, app; print(','.join(m for m in {list(HEAVY)!r} if m in sys.modules))"
    env = {**os.environ, **DEPLOYED_ENV}
    env.pop("BOT_ADAPTERS", None)
    out = subprocess.run(  # noqa: S603 (our interpreter, a constant script)
        [sys.executable, "-c", script], cwd=RUNTIME, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    return [name for name in out.split(",") if name]


def measure(rounds: int = 5) -> list[Figure]:
    """The cold-start figures, in ms over a bare interpreter. Functions that run the same first use
    (the analysis workflow's five) share one row."""
    found = functions()
    modules = sorted({f.module for f in found}, key=lambda m: (m != "app", m))
    imports = {module: _script(module, None) for module in modules}
    first_uses: dict[str, list[str]] = {}  # script -> the functions it stands for
    for each in found:
        if each.name in FIRST_USE:
            first_uses.setdefault(_script(each.module, FIRST_USE[each.name]), []).append(each.name)
    with tempfile.TemporaryDirectory(prefix="xbot-bench-pyc-") as folder:
        warm, cold = Path(folder) / "warm", Path(folder) / "cold"
        env = _environment(warm)
        _warm(warm, env, [*imports.values(), *first_uses])
        _without_bundle_bytecode(warm, cold)
        cold_env = _environment(cold)
        bare: list[float] = []
        import_runs: dict[str, list[float]] = {m: [] for m in modules}
        first_runs: dict[str, list[float]] = {script: [] for script in first_uses}
        compiled: list[float] = []
        in_process: list[float] = []
        for _ in range(rounds):
            bare.append(_run("pass", env))
            for module, script in imports.items():
                if module == "app":
                    wall, statement = _run_timed(_timed_import(module), env)
                    in_process.append(statement)
                else:
                    wall = _run(script, env)
                import_runs[module].append(wall)
            for script in first_uses:
                first_runs[script].append(_run(script, env))
            compiled.append(_run(imports["app"], cold_env))
    base = statistics.median(bare)

    def over_bare(samples: list[float]) -> list[float]:
        return [(sample - base) * 1000 for sample in samples]

    section = "cold start: ms over a bare interpreter (AWS adapters)"
    heavy = loaded_heavy_modules()
    figures = [
        figure(section, "bare interpreter (python -c pass)", "ms", [s * 1000 for s in bare], "subtracted below"),
        figure(
            section,
            "webhook: import app.py",
            "ms",
            over_bare(import_runs["app"]),
            "exit included; heavy modules loaded: " + (", ".join(heavy) or "none"),
        ),
        figure(
            section,
            "webhook: import app.py, in process",
            "ms",
            [sample * 1000 for sample in in_process],
            "goal <= 60; the import statement alone, same runs as above",
        ),
        figure(
            section,
            "webhook: import app.py, no .pyc in the bundle",
            "ms",
            over_bare(compiled),
            "what the bundle's compiling cost each cold start before the synth shipped .pyc",
        ),
    ]
    for module in modules:
        if module != "app":
            count = sum(f.module == module for f in found)
            note = f"{count} function{'s' if count != 1 else ''}"
            figures.append(figure(section, f"import {module}", "ms", over_bare(import_runs[module]), note))
    for script, names in first_uses.items():
        label = names[0] if len(names) == 1 else f"{names[0]} (and {len(names) - 1} more)"
        note = "builds " + FIRST_USE[names[0]].rsplit("; ", 1)[-1] if FIRST_USE[names[0]] else "nothing to build"
        figures.append(figure(section, f"first use: {label}", "ms", over_bare(first_runs[script]), note))
    missing = [f.name for f in found if f.name not in FIRST_USE]
    if missing:
        print(f"cold start: first use not modelled for {', '.join(missing)} (bench/cold_start.py FIRST_USE)")
    return figures
