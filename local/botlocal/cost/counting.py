"""Counts the AWS calls the pipeline really makes, post by post.

A scenario of posts (a text post, a negative one, photos with a person, with text, with both, with
neither) is delivered to the webhook route of runtime/app.py, and every event the handlers put on
the bus is delivered to the handlers whose rules match it, as on AWS: the analysis state machine
(from its one definition, contracts/workflow.py), the responders, the alert handler, and Egress
through its queue. The handlers run with the AWS adapters (chalicelib.adapters.aws) against moto
for the stateful services (S3, DynamoDB, EventBridge, SNS, Secrets Manager, SSM), and a botocore
event handler (`before-call`) counts every call by service and operation and answers the AI
services itself: Rekognition with the scenario photo's labels, faces and text; Comprehend with the
post's sentiment; Lex with the local intent matcher in front of our real fulfilment Lambda.

Only the two adapters that talk to X (downloading a photo, posting the reply) are replaced; they
count what X would be asked for. Each Lambda invocation records its in-process CPU time and its
calls, so the model can bill it with a stated latency per call (prices.LATENCY_MS).

The scenario is run twice and only the second run is kept: containers are warm (cold starts and
the secret cache's first reads are not per-message costs).

Profiles: `count_scenario(profile="economy")` runs the handlers with the economy adapters
(chalicelib.adapters.economy) and the real small models (the local runtime's models folder passed
through SMALL_MODELS_DIR, as the layer's /opt/models on Lambda), on ECONOMY_SCENARIO: the same posts,
with words written on the photos that Rekognition would read (the small text cue must see text for
DetectText to be called). Its functions' memory is what `-c profile=economy` deploys (ECONOMY_MEMORY_MB).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from chalicelib.adapters.aws import AwsAdapters
from chalicelib.adapters.economy import EconomyAdapters
from chalicelib.contracts import workflow
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.names import EGRESS_QUEUE, MESSAGE_RECEIVED_PATTERN
from chalicelib.ports import MediaFetcher, ReplyPoster
from chalicelib.publishing import entry_size

from botlocal.cost.profiles import DEFAULT, ECONOMY, PROFILES

#: Where the scenario's photos come from (public-domain and CC0 photos, see ATTRIBUTION.md there).
PHOTO_DIR: Final = Path(__file__).resolve().parents[1] / "demo_assets"

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"
BUS_NAME: Final = "xbot-cost"
MEDIA_BUCKET: Final = "xbot-cost-media"
OVERSIZE_BUCKET: Final = "xbot-cost-lake"
TABLE: Final = "xbot-cost-idempotency"
TOPIC_NAME: Final = "xbot-cost-alerts"
SECRET_NAME: Final = "TwitterSecret"  # noqa: S105 (a secret's name)
SWITCH_PARAMETER: Final = "/xbot-cost/posting"
BOT_USER_ID: Final = "1000000000000000001"
#: The consumer secret the scenario's deliveries are signed with (moto's secret holds it).
CONSUMER_SECRET: Final = "cost-model-consumer-secret"  # noqa: S105 (a made-up value for a stub)
API_FUNCTION: Final = "api_handler"
LEX_FULFILMENT: Final = "responding_lex_fulfilment"

# Post kinds: the mix weighs them (model.py).
TEXT: Final = "text"
NEGATIVE_TEXT: Final = "negative_text"
PHOTO_NEITHER: Final = "photo_neither"
PHOTO_PERSON: Final = "photo_person"
PHOTO_TEXT: Final = "photo_text"
PHOTO_PERSON_TEXT: Final = "photo_person_text"
KINDS: Final = (TEXT, NEGATIVE_TEXT, PHOTO_NEITHER, PHOTO_PERSON, PHOTO_TEXT, PHOTO_PERSON_TEXT)


#: The economy functions' memory, as `-c profile=economy` deploys it (the services' ECONOMY_MEMORY_MB in
#: infrastructure/stacks, which a test holds equal to this). 1,769 MB is one full vCPU for the image
#: models; text and intents need far less. Other functions keep runtime/.chalice/config.json's memory.
ECONOMY_MEMORY_MB: Final[Mapping[str, int]] = {
    "analysis_analyse_image": 1769,
    "analysis_analyse_text": 512,
    "responding_reply_to_text": 256,
}
#: The economy image function's cold start measured for the plan (models loaded, 2 photos, 1 vCPU).
ECONOMY_IMAGE_COLD_START_SECONDS: Final = 4.0


@dataclass(frozen=True)
class Photo:
    """A scenario photo and what Rekognition finds on it."""

    file: str
    labels: tuple[tuple[str, float, tuple[str, ...]], ...]
    celebrities: tuple[str, ...] = ()
    text_lines: tuple[str, ...] = ()
    #: Write text_lines on the photo (a white panel at the bottom): for the small models, which look
    #: at the pixels rather than at the scenario's stubbed answers.
    written: bool = False

    @property
    def body(self) -> bytes:
        original = (PHOTO_DIR / self.file).read_bytes()
        return _written_on(original, self.text_lines) if self.written else original


def _written_on(body: bytes, lines: tuple[str, ...]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(io.BytesIO(body)).convert("RGB")
    width, height = image.size
    size = max(24, width // 12)
    step = size + 12
    top = height - 20 - step * len(lines)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, top - 10, width - 10, height - 10), fill="white")
    font = ImageFont.load_default(size=size)
    for index, line in enumerate(lines):
        draw.text((20, top + step * index), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class ScenarioPost:
    kind: str
    text: str
    sentiment: str
    photo: Photo | None = None


_PERSON_LABELS: Final = (("Person", 99.6, ()), ("Face", 98.1, ("Person",)), ("Head", 97.0, ("Person",)))
_TEXT_LABELS: Final = (("Text", 98.4, ()), ("Poster", 91.0, ("Text",)))

CAT: Final = Photo("chelsea.jpg", (("Cat", 99.2, ("Animal", "Pet")), ("Animal", 99.2, ()), ("Pet", 99.2, ())))
PERSON: Final = Photo("obama2.jpg", (*_PERSON_LABELS, ("Suit", 92.0, ())), celebrities=("Barack Obama",))
WRITING: Final = Photo(
    "coffee.jpg", (("Cup", 97.0, ()), ("Coffee Cup", 96.0, ("Cup",)), *_TEXT_LABELS), text_lines=("GOOD MORNING",)
)
PERSON_AND_WRITING: Final = Photo(
    "obama2.jpg", (*_PERSON_LABELS, *_TEXT_LABELS), celebrities=("Barack Obama",), text_lines=("YES WE CAN",)
)

SCENARIO: Final = (
    ScenarioPost(TEXT, "tell me a joke please", "POSITIVE"),
    ScenarioPost(NEGATIVE_TEXT, "this is the worst bot ever and I hate it", "NEGATIVE"),
    ScenarioPost(PHOTO_NEITHER, "look at my cat", "POSITIVE", CAT),
    ScenarioPost(PHOTO_PERSON, "who is this?", "NEUTRAL", PERSON),
    ScenarioPost(PHOTO_TEXT, "what does it say?", "NEUTRAL", WRITING),
    ScenarioPost(PHOTO_PERSON_TEXT, "who is holding this sign?", "NEUTRAL", PERSON_AND_WRITING),
)
#: The same posts for the small models: the text is written on the photos (the small labels are
#: not stubbed, so what the photo shows decides the paid calls).
ECONOMY_SCENARIO: Final = tuple(
    replace(post, photo=replace(post.photo, written=True)) if post.photo and post.photo.text_lines else post
    for post in SCENARIO
)
SCENARIOS: Final[Mapping[str, tuple[ScenarioPost, ...]]] = {DEFAULT: SCENARIO, ECONOMY: ECONOMY_SCENARIO}


@dataclass
class Call:
    """One AWS API call: `units` is what it is billed by (Comprehend's 100-character units, DynamoDB's
    request units, EventBridge's 64 KB chunks; 1 otherwise)."""

    service: str
    operation: str
    units: float = 1.0
    #: Rekognition calls that read the photo from S3 (one S3 GET each, billed to the bucket's owner).
    reads_s3_object: bool = False


@dataclass
class Invocation:
    """One Lambda invocation: its function, configured memory, CPU time and the calls it waited for."""

    function: str
    memory_mb: int
    cpu_seconds: float = 0.0
    calls: list[Call] = field(default_factory=list)
    #: Time waiting for things that are not AWS calls (X's API, X's media host), by what.
    waits: list[str] = field(default_factory=list)
    log_bytes: int = 0
    nested_cpu_seconds: float = 0.0


@dataclass
class Execution:
    """One Express execution of the analysis state machine: its task invocations, by state."""

    download: Invocation | None = None
    text: Invocation | None = None
    images: list[Invocation] = field(default_factory=list)
    publish: Invocation | None = None
    failure: Invocation | None = None


@dataclass
class PostRun:
    """Everything one post caused, from the webhook to the reply."""

    kind: str
    invocations: list[Invocation] = field(default_factory=list)
    #: Every event put on the bus: (detail-type, size of the envelope EventBridge delivers, bytes).
    events: list[tuple[str, int]] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    api_requests: int = 0
    queue_messages: int = 0
    x_posts_written: int = 0
    x_direct_messages: int = 0

    @property
    def calls(self) -> list[Call]:
        return [call for invocation in self.invocations for call in invocation.calls]


@dataclass
class ScenarioCounts:
    """The measured run: one PostRun per kind, and the memory of every function."""

    posts: dict[str, PostRun]
    memory_mb: dict[str, int]
    profile: str = DEFAULT


# ---------------------------------------------------------------------------------------------
# Recording


class Recorder:
    """Attributes every AWS call, log line and wait to the Lambda invocation running on its thread."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.post: PostRun | None = None
        self.pending: deque[dict[str, Any]] = deque()
        self.answer: Callable[[str, str, dict[str, Any]], dict[str, Any] | None] = lambda *_: None

    # The invocation stack of this thread (Lex calls our fulfilment Lambda while reply_to_text waits).
    def _stack(self) -> list[Invocation]:
        stack: list[Invocation] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = []
            self._local.stack = stack
        return stack

    def current(self) -> Invocation | None:
        stack = self._stack()
        return stack[-1] if stack else None

    @contextmanager
    def invocation(self, function: str, memory_mb: int) -> Iterator[Invocation]:
        record = Invocation(function=function, memory_mb=memory_mb)
        stack = self._stack()
        stack.append(record)
        started = time.thread_time()
        try:
            yield record
        finally:
            spent = time.thread_time() - started
            stack.pop()
            record.cpu_seconds = max(0.0, spent - record.nested_cpu_seconds)
            if stack:
                stack[-1].nested_cpu_seconds += spent
            with self._lock:
                if self.post is not None:
                    self.post.invocations.append(record)

    def wait(self, what: str) -> None:
        current = self.current()
        if current is not None:
            current.waits.append(what)

    def log_bytes(self, count: int) -> None:
        current = self.current()
        if current is not None:
            current.log_bytes += count

    # botocore event handlers
    def before_parameter_build(self, params: Mapping[str, Any], **_: Any) -> None:
        self._local.params = dict(params)

    def before_call(self, model: Any, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        service = model.service_model.service_name
        operation = model.name
        params: dict[str, Any] = getattr(self._local, "params", {})
        call = Call(service, operation, billing_units(service, operation, params), reads_s3_object=_reads_s3(params))
        current = self.current()
        if current is None:
            raise RuntimeError(f"{service}.{operation} called outside a Lambda invocation")
        current.calls.append(call)
        if service == "events" and operation == "PutEvents":
            with self._lock:
                self.pending.extend(params.get("Entries", []))
        answer = self.answer(service, operation, params)
        if answer is None:
            return None
        from botocore.awsrequest import AWSResponse, HTTPHeaders

        metadata = {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
        return AWSResponse(f"https://{service}.{REGION}.amazonaws.com/", 200, HTTPHeaders(), None), {
            **answer,
            "ResponseMetadata": metadata,
        }


def _reads_s3(params: Mapping[str, Any]) -> bool:
    image = params.get("Image")
    return isinstance(image, Mapping) and "S3Object" in image


def billing_units(service: str, operation: str, params: Mapping[str, Any]) -> float:
    """What one call is billed by, from its parameters."""
    if service == "comprehend":
        # 100-character units, at least 3 per request.
        return float(max(3, math.ceil(len(str(params.get("Text", ""))) / 100)))
    if service == "events" and operation == "PutEvents":
        # Each entry is an event, in 64 KB chunks.
        return float(sum(max(1, math.ceil(entry_size(entry) / 65_536)) for entry in params.get("Entries", [])))
    if service == "dynamodb":
        return _dynamodb_units(operation, params)
    return 1.0


#: Items of the bot's table are small (an id, a status, a TTL, a short result): one unit each.
_DYNAMODB_WRITES: Final = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_DYNAMODB_READS: Final = frozenset({"GetItem", "Query"})


def _dynamodb_units(operation: str, params: Mapping[str, Any]) -> float:
    if operation in _DYNAMODB_WRITES:
        return 1.0
    if operation in _DYNAMODB_READS:
        return 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "TransactWriteItems":
        return 2.0 * len(params.get("TransactItems", []))
    return 1.0


def dynamodb_unit_kind(operation: str) -> str:
    """The request unit a DynamoDB operation consumes: "rru" for reads, "wru" for everything else."""
    return "rru" if operation in _DYNAMODB_READS else "wru"


# ---------------------------------------------------------------------------------------------
# The adapters that talk to X, replaced (they count instead)

_ACTIVE: Recorder | None = None
_PHOTOS: dict[str, bytes] = {}


def _recorder() -> Recorder:
    if _ACTIVE is None:
        raise RuntimeError("CountingAdapters are used only inside counting.count_scenario()")
    return _ACTIVE


class ScenarioPhotos:
    """MediaFetcher: the scenario's photos by URL (X's media host is not AWS: a stated wait only)."""

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        _recorder().wait("photo_download")
        body = _PHOTOS[url]
        if len(body) > max_bytes:
            raise ValueError(f"{url} is larger than {max_bytes} bytes")
        return body


class CountingPoster:
    """ReplyPoster: counts what would be posted on X."""

    def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
        recorder = _recorder()
        recorder.wait("x")
        if recorder.post is not None:
            recorder.post.x_posts_written += 1
        return str(uuid.uuid4().int % 10**18)

    def send_direct_message(self, text: str, participant_id: str) -> str:
        recorder = _recorder()
        recorder.wait("x")
        if recorder.post is not None:
            recorder.post.x_direct_messages += 1
        return str(uuid.uuid4().int % 10**18)


class CountingAdapters(AwsAdapters):
    """The AWS adapters, with X's media host and X's API replaced by counting stand-ins."""

    def media_fetcher(self) -> MediaFetcher:
        return ScenarioPhotos()

    def reply_poster(self) -> ReplyPoster:
        return CountingPoster()


class CountingEconomyAdapters(CountingAdapters, EconomyAdapters):
    """The economy adapters (small models, no Comprehend, no Lex, no DetectLabels), with X's media
    host and X's API replaced by the same counting stand-ins (CountingAdapters' two factories come
    first in the method order; everything else is EconomyAdapters', then AwsAdapters')."""


#: The adapters each profile counts with.
ADAPTERS: Final[Mapping[str, str]] = {
    DEFAULT: f"{__name__}:CountingAdapters",
    ECONOMY: f"{__name__}:CountingEconomyAdapters",
}


# ---------------------------------------------------------------------------------------------
# The AI services' answers


class ScenarioAnswers:
    """Rekognition, Comprehend and Lex answers for the scenario's posts."""

    def __init__(self, lex: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.by_tweet: dict[str, ScenarioPost] = {}
        self.by_text: dict[str, ScenarioPost] = {}
        self._lex = lex

    def __call__(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if service == "rekognition":
            return self._rekognition(operation, params)
        if service == "comprehend":
            return self._comprehend(operation, params)
        if service == "lexv2-runtime":
            return self._lex(params)
        return None

    def _photo(self, params: Mapping[str, Any]) -> Photo:
        key = str(params["Image"]["S3Object"]["Name"])
        for tweet_id, post in self.by_tweet.items():
            if tweet_id in key and post.photo is not None:
                return post.photo
        raise KeyError(f"no scenario photo for {key}")

    def _rekognition(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        photo = self._photo(params)
        box = {"Width": 0.3, "Height": 0.4, "Left": 0.35, "Top": 0.1}
        if operation == "DetectLabels":
            labels = [
                {"Name": name, "Confidence": confidence, "Parents": [{"Name": p} for p in parents], "Instances": []}
                for name, confidence, parents in photo.labels
            ]
            return {"Labels": labels, "LabelModelVersion": "3.0"}
        if operation == "RecognizeCelebrities":
            faces = [
                {
                    "Name": name,
                    "Id": f"cost-{index}",
                    "MatchConfidence": 99.0,
                    "Urls": [],
                    "Face": {"BoundingBox": box, "Confidence": 99.9},
                }
                for index, name in enumerate(photo.celebrities)
            ]
            return {"CelebrityFaces": faces, "UnrecognizedFaces": []}
        if operation == "DetectText":
            lines = [
                {
                    "DetectedText": line,
                    "Type": "LINE",
                    "Id": index,
                    "Confidence": 99.0,
                    "Geometry": {"BoundingBox": box},
                }
                for index, line in enumerate(photo.text_lines)
            ]
            return {"TextDetections": lines, "TextModelVersion": "3.0"}
        if operation == "DetectModerationLabels":
            return {"ModerationLabels": [], "ModerationModelVersion": "7.0"}
        raise KeyError(f"the cost scenario has no answer for rekognition.{operation}")

    def _post_of(self, text: str) -> ScenarioPost | None:
        for known, post in self.by_text.items():
            if known in text:
                return post
        return None

    def _comprehend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        post = self._post_of(str(params.get("Text", "")))
        sentiment = post.sentiment if post else "NEUTRAL"
        if operation == "DetectSentiment":
            scores = {"Positive": 0.05, "Negative": 0.05, "Neutral": 0.05, "Mixed": 0.01}
            scores[sentiment.capitalize()] = 0.89
            return {"Sentiment": sentiment, "SentimentScore": scores}
        if operation == "DetectEntities":
            return {"Entities": []}
        if operation == "DetectKeyPhrases":
            return {"KeyPhrases": []}
        if operation == "DetectDominantLanguage":
            return {"Languages": [{"LanguageCode": "en", "Score": 0.99}]}
        raise KeyError(f"the cost scenario has no answer for comprehend.{operation}")


# ---------------------------------------------------------------------------------------------
# The run


def _environment(profile: str = DEFAULT, adapters: str | None = None) -> dict[str, str]:
    """The variables the stack gives every function (infrastructure/stacks/bot_stack.py), pointing
    at moto's resources; the image features and guards keep the runtime's defaults, as the stack's.
    `adapters` replaces the profile's counting adapters (a test's subclass of them)."""
    values = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "BOT_ADAPTERS": adapters or ADAPTERS[profile],
        "EVENT_BUS_NAME": BUS_NAME,
        "OVERSIZE_BUCKET": OVERSIZE_BUCKET,
        "MEDIA_BUCKET": MEDIA_BUCKET,
        "IDEMPOTENCY_TABLE": TABLE,
        "ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}",
        "TWITTER_SECRET_NAME": SECRET_NAME,
        "LEX_BOT_ID": "COSTBOT001",
        "LEX_BOT_ALIAS_ID": "COSTALIAS1",
        "BOT_USER_ID": BOT_USER_ID,
        "BOT_EGRESS": "x",
        "POSTING_SWITCH_PARAMETER": SWITCH_PARAMETER,
        "POWERTOOLS_SERVICE_NAME": "xbot",
    }
    if profile == ECONOMY:
        from botlocal.analysis import MODELS_DIR

        # The layer's /opt/models on Lambda; here the local runtime's folder holds the same files.
        values["SMALL_MODELS_DIR"] = str(MODELS_DIR)
    return values


@contextmanager
def _patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    # The local stage's variables (BOT_LOCAL_DIR, ...) must not leak into the AWS adapters' run.
    for name in ("BOT_ADAPTERS", "CHAT_WEBHOOK_SECRET_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _create_resources() -> None:
    import boto3

    session = boto3.session.Session(region_name=REGION)
    session.client("events").create_event_bus(Name=BUS_NAME)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=MEDIA_BUCKET)
    s3.create_bucket(Bucket=OVERSIZE_BUCKET)
    session.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    session.client("sns").create_topic(Name=TOPIC_NAME)
    credentials = {"ApiKey": "k", "ApiSecret": CONSUMER_SECRET, "AccessToken": "t", "AccessTokenSecret": "s"}
    session.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(credentials))
    session.client("ssm").put_parameter(Name=SWITCH_PARAMETER, Value="on", Type="String")


@contextmanager
def _hooks(recorder: Recorder) -> Iterator[None]:
    """The recorder's botocore handlers on every client made from now on (sessions copy
    BUILTIN_HANDLERS when they are made, as moto's own handler is installed)."""
    import boto3
    from botocore import handlers

    added: list[tuple[str, Any]] = [
        ("before-parameter-build.*.*", recorder.before_parameter_build),
        ("before-call.*.*", recorder.before_call),
    ]
    handlers.BUILTIN_HANDLERS.extend(added)
    boto3.DEFAULT_SESSION = None
    _forget_cached_clients()
    try:
        yield
    finally:
        for handler in added:
            handlers.BUILTIN_HANDLERS.remove(handler)
        boto3.DEFAULT_SESSION = None
        _forget_cached_clients()


def _forget_cached_clients() -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    # Powertools keeps its Secrets Manager client here: a client made before the hooks is not counted.
    DEFAULT_PROVIDERS.clear()
    from chalicelib import wiring

    wiring.reset()


class _CountingStream(io.TextIOBase):
    """The functions' log stream: counts the bytes each invocation writes (CloudWatch Logs ingests them)."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def write(self, text: str) -> int:
        self._recorder.log_bytes(len(text.encode("utf-8")))
        return len(text)


@contextmanager
def _counted_logs(recorder: Recorder) -> Iterator[None]:
    stream = _CountingStream(recorder)
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    # The functions log through Powertools' logger ("xbot"), whose handler writes to stdout: on AWS,
    # to CloudWatch Logs. Other loggers (one module's warnings) are not counted.
    for handler in logging.getLogger("xbot").handlers:
        if isinstance(handler, logging.StreamHandler):
            swapped.append((handler, handler.setStream(stream)))
    try:
        yield
    finally:
        for handler, previous in swapped:
            handler.setStream(previous)


class _Pipeline:
    """The app's handlers as EventBridge, Step Functions, SQS and Lex would invoke them."""

    def __init__(
        self, app: Any, runtime_dir: Path, recorder: Recorder, memory_overrides: Mapping[str, int] | None = None
    ) -> None:
        from chalicelib import wiring

        from botlocal.chalice_app import chalice_targets, function_limits, lambda_invoker
        from botlocal.conversation import LocalConversationBot
        from botlocal.patterns import compile_pattern
        from botlocal.targets import LAMBDA_PREFIX, TargetRegistry
        from botlocal.workflow import LocalAnalysisWorkflow

        self._app = app
        self._runtime_dir = runtime_dir
        self._recorder = recorder
        self.memory_mb: dict[str, int] = {}
        settings = wiring.settings()

        def memory(name: str) -> int:
            if name not in self.memory_mb:
                configured = function_limits(runtime_dir, name)[1]
                self.memory_mb[name] = (memory_overrides or {}).get(name, configured)
            return self.memory_mb[name]

        self._memory = memory
        self.targets = TargetRegistry()
        for target in chalice_targets(app, settings, runtime_dir):
            self.targets.add(_instrumented_target(target, target.name.removeprefix(LAMBDA_PREFIX), recorder, memory))
        self._queue_target = f"{LAMBDA_PREFIX}{_queue_function(app)}"
        self._starts_workflow = compile_pattern(MESSAGE_RECEIVED_PATTERN)

        def task(name: str) -> Callable[[Any], Any]:
            invoke = lambda_invoker(app, name, settings, runtime_dir)

            def run(payload: Any) -> Any:
                with recorder.invocation(name, memory(name)) as record:
                    result = invoke(payload)
                self._note_task(name, record)
                return result

            return run

        self._workflow = LocalAnalysisWorkflow(
            {spec.function: task(spec.function) for spec in workflow.TASKS}, sleep=lambda _seconds: None
        )
        self._execution: Execution | None = None
        self._execution_lock = threading.Lock()

        fulfil = lambda_invoker(app, LEX_FULFILMENT, settings, runtime_dir)
        captured = threading.local()

        def fulfilment(event: dict[str, Any]) -> dict[str, Any]:
            # Lex invokes our fulfilment Lambda itself: an invocation of its own.
            with recorder.invocation(LEX_FULFILMENT, memory(LEX_FULFILMENT)):
                response: dict[str, Any] = fulfil(event)
            captured.response = response
            return response

        bot = LocalConversationBot(fulfilment)

        def recognize_text(params: dict[str, Any]) -> dict[str, Any]:
            answer = bot.respond(str(params["sessionId"]), str(params["text"]), str(params["localeId"]))
            response: dict[str, Any] = getattr(captured, "response", {})
            state = response.get("sessionState") or {}
            return {
                "sessionId": params["sessionId"],
                "messages": response.get("messages", []),
                "sessionState": {
                    "intent": {"name": answer.intent, "state": "Fulfilled", "slots": {}},
                    "sessionAttributes": state.get("sessionAttributes", {}),
                },
                "interpretations": [],
            }

        self.answers = ScenarioAnswers(recognize_text)
        recorder.answer = self.answers

    def _note_task(self, name: str, record: Invocation) -> None:
        execution = self._execution
        if execution is None:
            return
        with self._execution_lock:
            if name == workflow.DOWNLOAD_MEDIA.function:
                execution.download = record
            elif name == workflow.ANALYSE_TEXT.function:
                execution.text = record
            elif name == workflow.ANALYSE_IMAGE.function:
                execution.images.append(record)
            elif name == workflow.PUBLISH_ANALYSIS.function:
                execution.publish = record
            else:
                execution.failure = record

    def deliver(self, post: ScenarioPost, delivery: dict[str, Any]) -> None:
        """POST the delivery to /twitter, then deliver every event until the bus is quiet."""
        from chalice.test import Client
        from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

        body = json.dumps(delivery).encode("utf-8")
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(CONSUMER_SECRET, body)}
        run = self._recorder.post
        assert run is not None
        with Client(self._app) as client, self._recorder.invocation(API_FUNCTION, self._memory(API_FUNCTION)):
            response = client.http.post("/twitter", headers=headers, body=body)
        run.api_requests += 1
        if response.status_code != 200:
            raise RuntimeError(f"the webhook answered {response.status_code} for the {post.kind} post")
        self._drain(run)

    def _drain(self, run: PostRun) -> None:
        pending = self._recorder.pending
        while pending:
            entry = pending.popleft()
            envelope = BusEvent(
                source=entry["Source"], detail_type=entry["DetailType"], detail=json.loads(entry["Detail"])
            ).to_envelope(account=ACCOUNT, region=REGION, event_id=str(uuid.uuid4()), time=datetime.now(UTC))
            envelope["resources"] = list(entry.get("Resources", []))
            run.events.append((entry["DetailType"], len(json.dumps(envelope).encode("utf-8"))))
            for target in self.targets.matching(envelope):
                if target.name == self._queue_target:
                    run.queue_messages += 1
                target.deliver(envelope)
            # The rule that starts the state machine (a CDK target, not one of the app's handlers).
            if self._starts_workflow.matches(envelope):
                self._run_workflow(run, envelope)

    def _run_workflow(self, run: PostRun, envelope: dict[str, Any]) -> None:
        from botlocal.workflow import AnalysisFailedError

        self._execution = Execution()
        try:
            self._workflow.run(envelope)
        except AnalysisFailedError as error:
            raise RuntimeError(f"the analysis failed in the cost scenario: {error}") from error
        finally:
            run.executions.append(self._execution)
            self._execution = None


def _queue_function(app: Any) -> str:
    for source in app.event_sources:
        if getattr(source, "queue", None) == EGRESS_QUEUE:
            return str(source.name)
    raise RuntimeError("the app has no handler on the egress queue")


def _instrumented_target(target: Any, function: str, recorder: Recorder, memory: Callable[[str], int]) -> Any:
    from botlocal.targets import Target

    def deliver(envelope: dict[str, Any]) -> None:
        with recorder.invocation(function, memory(function)):
            target.deliver(envelope)

    return Target(name=target.name, pattern=target.pattern, deliver=deliver)


def count_scenario(
    scenario: tuple[ScenarioPost, ...] | None = None,
    *,
    runs: int = 2,
    profile: str = DEFAULT,
    adapters: str | None = None,
) -> ScenarioCounts:
    """Run the scenario `runs` times (each post from a new author) and keep the last run's counts.

    `profile` chooses the adapters, the environment, the scenario (when none is given) and the
    memory (ECONOMY_MEMORY_MB); `adapters` ("module:Class") replaces the profile's counting adapters."""
    if profile not in PROFILES:
        raise ValueError(f"no {profile!r} profile: one of {', '.join(PROFILES)}")
    if scenario is None:
        scenario = SCENARIOS[profile]
    memory_overrides = ECONOMY_MEMORY_MB if profile == ECONOMY else None
    global _ACTIVE
    from moto import mock_aws

    from botlocal.chalice_app import find_runtime_dir, load_chalice_app
    from botlocal.compose import compose_mention

    runtime_dir = find_runtime_dir()
    recorder = Recorder()
    with _patched_environment({}):
        app = load_chalice_app(runtime_dir)
        with _patched_environment(_environment(profile, adapters)), mock_aws():
            _create_resources()
            with _hooks(recorder), _counted_logs(recorder):
                _ACTIVE = recorder
                try:
                    pipeline = _Pipeline(app, runtime_dir, recorder, memory_overrides)
                    last: dict[str, PostRun] = {}
                    for run_number in range(runs):
                        last = {}
                        for post in scenario:
                            photo_urls = []
                            if post.photo is not None:
                                url = f"https://pbs.twimg.com/media/cost-{run_number}-{post.kind}.jpg"
                                _PHOTOS[url] = post.photo.body
                                photo_urls.append(url)
                            composed = compose_mention(
                                post.text,
                                author=f"cost_{post.kind}_{run_number}",
                                photo_urls=photo_urls,
                                bot_user_id=BOT_USER_ID,
                            )
                            pipeline.answers.by_tweet[composed.tweet_id] = post
                            pipeline.answers.by_text[post.text] = post
                            recorder.post = PostRun(post.kind)
                            pipeline.deliver(post, composed.delivery)
                            last[post.kind] = recorder.post
                            recorder.post = None
                    return ScenarioCounts(posts=last, memory_mb=dict(pipeline.memory_mb), profile=profile)
                finally:
                    _ACTIVE = None
                    _PHOTOS.clear()
