"""Counts times prices: the cost per message of this design, at a mix of posts.

`post_lines` turns one post's counted run (counting.PostRun) into priced lines: the calls our code
made (counted), and the usage AWS bills for things our code does not call itself (derived from
the counted events, invocations and executions, with the assumptions in ASSUMPTIONS). `weigh`
averages the posts' lines by the mix. Fixed monthly costs are apart (`fixed_lines`), and so is the
X API (`x_lines`), which is not AWS.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from botlocal.cost import counting
from botlocal.cost.counting import Execution, Invocation, PostRun
from botlocal.cost.prices import GBP_PER_USD, latency_seconds, price

# Services, as the table names them.
LAMBDA: Final = "Lambda"
STEP_FUNCTIONS: Final = "Step Functions"
API_GATEWAY: Final = "API Gateway"
EVENTBRIDGE: Final = "EventBridge"
FIREHOSE: Final = "Firehose"
S3: Final = "S3"
LOGS: Final = "CloudWatch Logs"
METRICS: Final = "CloudWatch"
SNS: Final = "SNS"
KMS: Final = "KMS"
SQS: Final = "SQS"
DYNAMODB: Final = "DynamoDB"
SECRETS: Final = "Secrets Manager"
SSM: Final = "SSM"
XRAY: Final = "X-Ray"
REKOGNITION: Final = "Rekognition"
COMPREHEND: Final = "Comprehend"
LEX: Final = "Lex"
X_API: Final = "X API"
AI_SERVICES: Final = frozenset({REKOGNITION, COMPREHEND, LEX})

GB: Final = 1024**3
#: Lambda writes START, END and REPORT lines for every invocation (about this many bytes).
PLATFORM_LOG_BYTES: Final = 300
#: API Gateway's access log line per request (stacks/ingress.py keeps an access log).
ACCESS_LOG_BYTES: Final = 400
#: CloudWatch Logs counts each event's bytes plus this much.
LOG_EVENT_OVERHEAD_BYTES: Final = 26
#: One line of the state machine's log (level ALL, execution data excluded).
SFN_LOG_EVENT_BYTES: Final = 350
#: Step Functions' own time per state transition in an Express execution.
SFN_TRANSITION_SECONDS: Final = 0.02
#: Express workflows are billed in 64 MB chunks; this one's payloads are small: one chunk.
SFN_MEMORY_GB: Final = 64 / 1024
#: Firehose rounds each record up to 5 KB.
FIREHOSE_RECORD_BYTES: Final = 5 * 1024
#: A rule's SQS target sends, the event source mapping receives and deletes: three requests.
SQS_REQUESTS_PER_MESSAGE: Final = 3

ASSUMPTIONS: Final = (
    "Counts come from the scenario's second run (warm containers): cold starts, the secret cache's "
    "reads (one GetSecretValue per container per 5 minutes) and retries are not per-message costs here.",
    "Lambda duration = measured in-process CPU time + a stated latency per AWS call and per wait on X "
    "(prices.LATENCY_MS), rounded up to 1 ms; memory as runtime/.chalice/config.json configures it "
    "(what `chalice package`, and so the CDK app, deploys); x86_64.",
    "Free tiers are not subtracted.",
    "EventBridge: each PutEvents entry is one event per 64 KB; deliveries to Lambda, Step Functions, SQS, "
    "Firehose and the log group are not charged; the archive is charged $0.10 per GB of events.",
    "Firehose: every event on the bus goes to the data lake (the catch-all rule), each rounded up to 5 KB.",
    "CloudWatch Logs: every event in the catch-all log (+26 bytes), each function's measured log lines "
    f"+ {PLATFORM_LOG_BYTES} bytes of START/END/REPORT lines, {ACCESS_LOG_BYTES} bytes of API access log "
    f"per request, and the state machine's log at level ALL ({SFN_LOG_EVENT_BYTES} bytes per history event, "
    "events counted from the execution's shape).",
    "Step Functions Express: one execution per MESSAGE_RECEIVED; duration = DownloadMedia + the longer "
    f"of the text and the photos + PublishAnalysis + {SFN_TRANSITION_SECONDS * 1000:.0f} ms per state, "
    "rounded up to 100 ms, in one 64 MB chunk.",
    "SQS: three requests per reply (the rule sends, the event source mapping receives and deletes).",
    "S3: Rekognition reads each photo it analyses from the media bucket: one GET per call.",
    "SNS: the alert topic is encrypted with a customer-managed key: at most one KMS request per publish.",
    "X-Ray: one trace per webhook delivery and one per queued reply (EventBridge and Step Functions carry "
    "the trace on; SQS starts a new one); no sampling (an upper bound).",
    "Negative text posts get a calm answer without Lex and raise an alert; photo posts are not negative "
    "in the scenario.",
    "Like for like: photo moderation (DetectModerationLabels before a repost, its S3 reads and the Lambda "
    "time waiting for it) is a feature the original lacks: its own lines, out of the totals and the ratio. "
    "The mix has no direct messages (DMs would be extra features too).",
)


def economy_assumptions() -> list[str]:
    """What the economy profile's figures rest on, besides ASSUMPTIONS (its memory in one place:
    counting.ECONOMY_MEMORY_MB)."""
    memory = ", ".join(f"{name} {mb:,} MB" for name, mb in counting.ECONOMY_MEMORY_MB.items())
    return [
        f"Economy memory: {memory}, as `-c profile=economy` deploys it; "
        "the other functions keep runtime/.chalice/config.json's memory.",
        "Economy Lambda duration: the in-process CPU time of the small models (ImageNet labels on onnxruntime, "
        "the HOG face cue, the PP-OCR text cue; fastText/VADER/entities; the intent matcher) measured on this "
        "machine (not on Lambda's vCPU share), warm, + the stated latency per AWS call; onnxruntime's second "
        "intra-op thread of the labeller is not in that CPU time.",
        "Economy cold starts are excluded as for default; measured for the plan: about "
        f"{counting.ECONOMY_IMAGE_COLD_START_SECONDS:.0f} s for the image function at 1,769 MB (models loaded), "
        "about 0.5 s of CPU for the text function.",
        "Economy scenario: the same posts, with the photos' words written on them (the small labels are computed "
        "from the pixels, not stubbed); Rekognition's answers to RecognizeCelebrities and DetectText are stubbed.",
        "The original design is modelled from the default profile's run (the same figure for both profiles).",
    ]


@dataclass(frozen=True)
class Mix:
    """What share of the messages are which kind of post (the issue's default mix)."""

    messages_per_month: int = 10_000
    photo_share: float = 0.5
    people_share: float = 0.5
    text_in_photo_share: float = 1 / 3
    #: Of the text-only posts, how many are negative (calm answer, alert): an assumption.
    negative_share: float = 0.1

    def __post_init__(self) -> None:
        for name in ("photo_share", "people_share", "text_in_photo_share", "negative_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.messages_per_month < 0:
            raise ValueError("messages_per_month must not be negative")

    def weights(self) -> dict[str, float]:
        """Each scenario post's share of the messages (they add up to 1)."""
        photo, people, text = self.photo_share, self.people_share, self.text_in_photo_share
        return {
            counting.TEXT: (1 - photo) * (1 - self.negative_share),
            counting.NEGATIVE_TEXT: (1 - photo) * self.negative_share,
            counting.PHOTO_NEITHER: photo * (1 - people) * (1 - text),
            counting.PHOTO_PERSON: photo * people * (1 - text),
            counting.PHOTO_TEXT: photo * (1 - people) * text,
            counting.PHOTO_PERSON_TEXT: photo * people * text,
        }


@dataclass(frozen=True)
class Line:
    """`quantity` units of `price_key`, per message (or per post before weighing, per month if fixed)."""

    service: str
    item: str
    quantity: float
    unit: str
    price_key: str
    #: A feature the original design lacks: shown apart, out of the totals and the ratio.
    extra: bool = False

    @property
    def unit_price(self) -> float:
        return price(self.price_key)

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_price

    @property
    def ai(self) -> bool:
        return self.service in AI_SERVICES

    def key(self) -> tuple[str, str, str, str, bool]:
        return (self.service, self.item, self.unit, self.price_key, self.extra)


def billed_seconds(invocation: Invocation, *, skip_moderation: bool = False) -> float:
    """The invocation's billed duration: CPU + the stated latency of each call and wait, to 1 ms up."""
    seconds = invocation.cpu_seconds
    for call in invocation.calls:
        if skip_moderation and call.operation == "DetectModerationLabels":
            continue
        seconds += latency_seconds(call.service)
    seconds += sum(latency_seconds(what) for what in invocation.waits)
    return math.ceil(seconds * 1000) / 1000


def lambda_lines(invocations: Iterable[Invocation]) -> list[Line]:
    lines = []
    for invocation in invocations:
        gb_seconds = invocation.memory_mb / 1024 * billed_seconds(invocation, skip_moderation=True)
        lines.append(Line(LAMBDA, "requests", 1, "request", "lambda.request"))
        lines.append(Line(LAMBDA, "duration", gb_seconds, "GB-second", "lambda.gb_second"))
        log_bytes = invocation.log_bytes + PLATFORM_LOG_BYTES
        lines.append(Line(LOGS, "function logs", log_bytes / GB, "GB", "logs.ingest_gb"))
    return lines


def _moderation_lines(invocations: Iterable[Invocation]) -> list[Line]:
    """The Lambda time spent waiting for the photo check (an extra feature)."""
    lines = []
    for invocation in invocations:
        waits = sum(1 for call in invocation.calls if call.operation == "DetectModerationLabels")
        if waits:
            gb_seconds = invocation.memory_mb / 1024 * waits * latency_seconds("rekognition")
            lines.append(
                Line(LAMBDA, "duration waiting for moderation", gb_seconds, "GB-second", "lambda.gb_second", True)
            )
    return lines


def call_lines(run: PostRun) -> list[Line]:
    """The calls our code made, priced."""
    lines = []
    for call in run.calls:
        service, operation = call.service, call.operation
        if service == "rekognition":
            extra = operation == "DetectModerationLabels"
            lines.append(Line(REKOGNITION, operation, 1, "image", "rekognition.image", extra))
            if call.reads_s3_object:
                lines.append(Line(S3, "GET by Rekognition", 1, "request", "s3.get", extra))
        elif service == "comprehend":
            lines.append(Line(COMPREHEND, operation, call.units, "100-character unit", "comprehend.unit"))
        elif service == "lexv2-runtime":
            lines.append(Line(LEX, operation, 1, "text request", "lex.text_request"))
        elif service == "dynamodb":
            kind = counting.dynamodb_unit_kind(operation)
            unit = "read request unit" if kind == "rru" else "write request unit"
            lines.append(Line(DYNAMODB, f"{unit}s ({operation})", call.units, unit, f"dynamodb.{kind}"))
        elif service == "s3":
            is_get = operation in {"GetObject", "HeadObject"}
            lines.append(Line(S3, operation, 1, "request", "s3.get" if is_get else "s3.put"))
        elif service == "events":
            lines.append(Line(EVENTBRIDGE, "events put", call.units, "event", "eventbridge.event"))
        elif service == "sns":
            lines.append(Line(SNS, operation, 1, "request", "sns.publish"))
            lines.append(Line(KMS, "requests by SNS (encrypted topic)", 1, "request", "kms.request"))
        elif service == "ssm":
            lines.append(Line(SSM, operation, 1, "request", "ssm.standard_parameter_read"))
        elif service == "secretsmanager":
            lines.append(Line(SECRETS, operation, 1, "API call", "secretsmanager.api_call"))
        elif service == "sqs":
            lines.append(Line(SQS, operation, 1, "request", "sqs.request"))
        else:
            raise KeyError(f"no price for {service}.{operation}: add it to botlocal/cost/prices.py and model.py")
    return lines


def event_lines(run: PostRun) -> list[Line]:
    """What the bus's events cost after they are put: the archive, the data lake, the catch-all log."""
    lines = []
    for _detail_type, size in run.events:
        lines.append(Line(EVENTBRIDGE, "archive", size / GB, "GB", "eventbridge.archive_gb"))
        firehose_bytes = math.ceil(size / FIREHOSE_RECORD_BYTES) * FIREHOSE_RECORD_BYTES
        lines.append(Line(FIREHOSE, "ingestion (5 KB rounding)", firehose_bytes / GB, "GB", "firehose.gb"))
        log_bytes = size + LOG_EVENT_OVERHEAD_BYTES
        lines.append(Line(LOGS, "catch-all log", log_bytes / GB, "GB", "logs.ingest_gb"))
    return lines


def sfn_history_events(images: int) -> int:
    """History events of one successful Express execution (logged at level ALL): execution
    started/succeeded; entered/exited per state; scheduled/started/succeeded per task; started and
    succeeded for the Parallel, the Map and each Map iteration."""
    tasks = 3 + images  # DownloadMedia, AnalyseText, PublishAnalysis, one AnalyseImage per photo
    states = tasks + 3  # + FirstArrival (Choice), Analyse (Parallel), AnalyseImages (Map)
    return 2 + 2 * states + 3 * tasks + 2 + 2 + 2 * images


def execution_seconds(execution: Execution) -> float:
    def seconds(invocation: Invocation | None) -> float:
        return billed_seconds(invocation) if invocation is not None else 0.0

    analysed = max([seconds(execution.text), *(seconds(image) for image in execution.images)])
    transitions = 6 + len(execution.images)  # the states entered: 3 tasks + the photos' + Choice, Parallel, Map
    total = seconds(execution.download) + analysed + seconds(execution.publish) + transitions * SFN_TRANSITION_SECONDS
    return math.ceil(total * 10) / 10


def express_lines(run: PostRun) -> list[Line]:
    lines = []
    for execution in run.executions:
        lines.append(Line(STEP_FUNCTIONS, "Express executions", 1, "execution", "sfn.express.request"))
        gb_seconds = execution_seconds(execution) * SFN_MEMORY_GB
        lines.append(Line(STEP_FUNCTIONS, "Express duration", gb_seconds, "GB-second", "sfn.express.gb_second"))
        log_bytes = sfn_history_events(len(execution.images)) * SFN_LOG_EVENT_BYTES
        lines.append(Line(LOGS, "state machine log", log_bytes / GB, "GB", "logs.ingest_gb"))
    return lines


def edge_lines(run: PostRun) -> list[Line]:
    """API Gateway, the egress queue and X-Ray."""
    lines = [
        Line(API_GATEWAY, "REST requests", run.api_requests, "request", "apigateway.rest.request"),
        Line(LOGS, "API access log", run.api_requests * ACCESS_LOG_BYTES / GB, "GB", "logs.ingest_gb"),
        Line(SQS, "egress queue", run.queue_messages * SQS_REQUESTS_PER_MESSAGE, "request", "sqs.request"),
        Line(XRAY, "traces", run.api_requests + run.queue_messages, "trace", "xray.trace"),
    ]
    return lines


def post_lines(run: PostRun) -> list[Line]:
    """Everything one post costs this design, per post."""
    return [
        *call_lines(run),
        *lambda_lines(run.invocations),
        *_moderation_lines(run.invocations),
        *express_lines(run),
        *event_lines(run),
        *edge_lines(run),
    ]


def weigh(lines_by_kind: Mapping[str, list[Line]], weights: Mapping[str, float]) -> list[Line]:
    """The lines per message: each post's lines times its share, merged by what they are."""
    merged: dict[tuple[str, str, str, str, bool], Line] = {}
    for kind, weight in weights.items():
        for line in lines_by_kind.get(kind, []):
            key = line.key()
            quantity = line.quantity * weight
            merged[key] = (
                replace(merged[key], quantity=merged[key].quantity + quantity)
                if key in merged
                else replace(line, quantity=quantity)
            )
    return [line for line in merged.values() if line.quantity > 0]


def x_lines(posts: Mapping[str, PostRun], weights: Mapping[str, float]) -> list[Line]:
    """The X API per message, by how posts arrive: what the poller reads (ingress=poll), and the
    replies. Webhook deliveries (Account Activity) are not billed per post but by X's plan."""
    written = sum(weights[kind] * (run.x_posts_written + run.x_direct_messages) for kind, run in posts.items())
    return [
        Line(X_API, "posts read by the poller (ingress=poll)", 1.0, "post", "x.post_read"),
        # The author comes with each post (expansions): billed as a user read or not is unverified,
        # and X deduplicates within a UTC day: an upper bound when every author is new that day.
        Line(X_API, "authors read by the poller (ingress=poll; unverified, at most)", 1.0, "user", "x.user_read"),
        Line(X_API, "posts written (replies)", written, "post", "x.post_written"),
    ]


# ---------------------------------------------------------------------------------------------
# Fixed monthly costs

#: The CDK app (infrastructure/stacks/) is read, not imported (importing it needs the CDK).
STACKS_DIR: Final = Path(__file__).resolve().parents[3] / "infrastructure" / "stacks"
#: Alarms are made in loops (one per dead-letter queue, ...): not counted from the code, stated.
ALARMS_ASSUMED: Final = 8
#: Firehose writes one S3 object per buffer: at most one per 5 minutes at this volume.
FIREHOSE_OBJECTS_PER_MONTH: Final = 12 * 24 * 30
#: Lambda's SQS pollers long-poll an idle queue: about 5 pollers x 3 receives a minute.
SQS_IDLE_RECEIVES_PER_MONTH: Final = 5 * 3 * 60 * 24 * 30
#: The poller's schedule (-c ingress=poll): every 3 minutes by default.
POLL_RUNS_PER_MONTH: Final = 20 * 24 * 30
POLL_FUNCTION: Final = "ingress_poll_mentions"


def _count_in_stacks(*patterns: str) -> list[int]:
    """How often each pattern occurs in infrastructure/stacks (each file read once)."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(STACKS_DIR.glob("*.py"))]
    return [sum(len(re.findall(pattern, text)) for text in texts) for pattern in patterns]


@dataclass(frozen=True)
class FixedLine:
    line: Line
    note: str
    #: False for a cost only some deployments have (the poller's schedule in poll mode).
    in_total: bool = True


def fixed_lines(poll_memory_mb: int) -> list[FixedLine]:
    from chalicelib.contracts.names import ALL_DETAIL_TYPES

    keys, dashboards = _count_in_stacks(r"\bkms\.Key\(", r"\bcloudwatch\.Dashboard\(")
    poll_seconds = latency_seconds("x") + 2 * latency_seconds("dynamodb") + latency_seconds("events")
    poll_gb_seconds = POLL_RUNS_PER_MONTH * poll_memory_mb / 1024 * poll_seconds
    return [
        FixedLine(
            Line(KMS, "customer-managed keys", keys, "key-month", "kms.key_month"),
            "kms.Key in infrastructure/stacks (the alert and operations topics)",
        ),
        FixedLine(
            Line(
                METRICS,
                "custom metrics (one per detail-type)",
                len(ALL_DETAIL_TYPES),
                "metric-month",
                "cloudwatch.metric_month",
            ),
            "the catch-all log's metric filters; only types seen in a month are billed (an upper bound)",
        ),
        FixedLine(
            Line(METRICS, "dashboard", dashboards, "dashboard-month", "cloudwatch.dashboard_month"),
            "free if the account has fewer than three others",
        ),
        FixedLine(
            Line(METRICS, "alarms", ALARMS_ASSUMED, "alarm-month", "cloudwatch.alarm_month"),
            "about this many (the state machine's, the failure queues', ...): stated, not counted",
        ),
        FixedLine(Line(SECRETS, "secrets", 1, "secret-month", "secretsmanager.secret_month"), "TwitterSecret"),
        FixedLine(
            Line(S3, "PUTs by Firehose", FIREHOSE_OBJECTS_PER_MONTH, "request", "s3.put"),
            "one object per 5-minute buffer (at most)",
        ),
        FixedLine(
            Line(SQS, "idle receives of the egress queue", SQS_IDLE_RECEIVES_PER_MONTH, "request", "sqs.request"),
            "Lambda's pollers long-poll the queue (about 5 pollers, 3 receives a minute)",
        ),
        FixedLine(
            Line(LAMBDA, "poller runs (ingress=poll only)", POLL_RUNS_PER_MONTH, "request", "lambda.request"),
            "every 3 minutes; not deployed with the default ingress=webhook",
            in_total=False,
        ),
        FixedLine(
            Line(LAMBDA, "poller duration (ingress=poll only)", poll_gb_seconds, "GB-second", "lambda.gb_second"),
            "an empty poll: one X call, the checkpoint read and written",
            in_total=False,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class CostReport:
    profile: str
    mix: Mix
    lines: list[Line]
    original_lines: list[Line]
    fixed: list[FixedLine]
    x_api: list[Line]
    assumptions: list[str] = field(default_factory=list)

    @property
    def like_for_like(self) -> list[Line]:
        return [line for line in self.lines if not line.extra]

    @property
    def extra_lines(self) -> list[Line]:
        return [line for line in self.lines if line.extra]

    @property
    def per_message_usd(self) -> float:
        return sum(line.usd for line in self.like_for_like)

    @property
    def per_million_usd(self) -> float:
        return self.per_message_usd * 1_000_000

    @property
    def original_per_million_usd(self) -> float:
        return sum(line.usd for line in self.original_lines) * 1_000_000

    @property
    def ratio(self) -> float:
        return self.original_per_million_usd / self.per_million_usd if self.per_million_usd else math.inf

    @property
    def extra_features_per_million_usd(self) -> float:
        return sum(line.usd for line in self.extra_lines) * 1_000_000

    @property
    def ai_per_million_usd(self) -> float:
        return sum(line.usd for line in self.like_for_like if line.ai) * 1_000_000

    @property
    def non_ai_share(self) -> float:
        return 1 - self.ai_per_million_usd / self.per_million_usd if self.per_million_usd else 0.0

    @property
    def fixed_monthly_usd(self) -> float:
        return sum(fixed.line.usd for fixed in self.fixed if fixed.in_total)

    @property
    def monthly_usd(self) -> float:
        extra = self.extra_features_per_million_usd / 1_000_000
        return self.mix.messages_per_month * (self.per_message_usd + extra) + self.fixed_monthly_usd

    def by_service(self, lines: Iterable[Line]) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.usd * 1_000_000
        return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


def gbp(usd: float) -> float:
    return usd * GBP_PER_USD.usd
