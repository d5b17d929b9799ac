"""One honest in-memory fake per port: the only test doubles of chalicelib.ports (and Idempotency).

Each fake does what the real adapters do where a service can tell (a missing photo is a MediaError
naming the key, a failed PutEvents entry comes back as a result with an error code, ...), records
what it was asked, and can be scripted to fail. A fake that answers a sequence of outcomes gives
them in order and repeats the last one; an outcome that is an exception is raised.

tests/test_fakes.py checks the fakes against the ports (mypy) and the real local adapters (pytest).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.analysis import ImageAnalysis, TextAnalysis
from chalicelib.contracts.oversized import OVERSIZED_PREFIX
from chalicelib.kernel.idempotency import Claims, Idempotency, window_key
from chalicelib.kernel.media_keys import check_folder_prefix
from chalicelib.kernel.opt_out_order import is_older
from chalicelib.ports import (
    AlertSink,
    AlertSubscriber,
    ChatWebhook,
    ConversationAnswer,
    ConversationBot,
    EntryResult,
    EventBus,
    Fulfilment,
    ImageAnalyser,
    MediaError,
    MediaFetcher,
    MediaStore,
    MentionsPage,
    MentionsReader,
    ModerationVerdict,
    OptOuts,
    PayloadStore,
    PhotoModerator,
    PollCheckpoint,
    PollState,
    PostingSwitch,
    RateLimit,
    ReplyPoster,
    SecretProvider,
    TextAnalyser,
    WindowCounters,
)

if TYPE_CHECKING:
    import pytest
    from chalicelib.settings import Settings


def image_bytes(
    image_format: str = "PNG", size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    """A real, decodable photo of one colour: what a MediaFetcher brings back from X's media host."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=image_format)
    return buffer.getvalue()


class Script[T]:
    """Outcomes given in order, the last one repeated; an outcome that is an exception is raised."""

    def __init__(self, outcomes: Sequence[T | BaseException]) -> None:
        if not outcomes:
            raise ValueError("a script needs at least one outcome")
        self._outcomes = list(outcomes)
        self._lock = threading.Lock()

    def next(self) -> T:
        with self._lock:
            outcome = self._outcomes.pop(0) if len(self._outcomes) > 1 else self._outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


# --- Ingress --------------------------------------------------------------------------------------


class RecordingBus:
    """EventBus: records every PutEvents call and gives each entry an id ("id-1", "id-2", ...).

    `failures` scripts the calls, one item per call, then every call succeeds: None (all entries
    accepted), a set of entry indexes (those come back with ThrottlingException, as PutEvents
    reports a partial failure) or an exception (the whole call fails).
    """

    def __init__(self, failures: Sequence[set[int] | Exception | None] | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._failures = list(failures or [])
        self._next_id = 0
        self._lock = threading.Lock()

    def put_entries(self, entries: list[dict[str, Any]]) -> list[EntryResult]:
        with self._lock:
            self.calls.append(entries)
            failure = self._failures.pop(0) if self._failures else None
            if isinstance(failure, Exception):
                raise failure
            results = []
            for index, _ in enumerate(entries):
                if failure is not None and index in failure:
                    results.append(EntryResult(error_code="ThrottlingException", error_message="slow down"))
                else:
                    self._next_id += 1
                    results.append(EntryResult(event_id=f"id-{self._next_id}"))
            return results

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Every entry of every call, in order (retries included)."""
        return [entry for call in self.calls for entry in call]

    def details(self, detail_type: str) -> list[dict[str, Any]]:
        """The details of the entries of one type, in order (retries included)."""
        return [json.loads(entry["Detail"]) for entry in self.entries if entry["DetailType"] == detail_type]


class MemoryPayloadStore:
    """PayloadStore: bodies in a dict, each at the URI memory://<key>."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes) -> str:
        self.objects[key] = body
        return f"memory://{key}"

    def get(self, uri: str) -> bytes:
        key = uri.removeprefix("memory://")
        if not uri.startswith("memory://") or not key.startswith(OVERSIZED_PREFIX):
            raise ValueError(f"not a claim-check object of this store: {uri!r}")
        return self.objects[key]


class StaticSecret:
    """SecretProvider: the consumer secret it was given."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def consumer_secret(self) -> str:
        return self.secret


# --- Analysis -------------------------------------------------------------------------------------

FetchOutcome = bytes | Exception


class FakeFetcher:
    """MediaFetcher: scripted answers per URL (bytes, an exception, or a sequence of them).

    A URL without an answer gets `default`: by default the MediaError a 404 from the host causes.
    `on_fetch` runs before each answer (to advance a test clock, say). Calls are (url, max_bytes).
    """

    NOT_FOUND: Final = "404 not found"

    def __init__(
        self,
        answers: Mapping[str, FetchOutcome | Sequence[FetchOutcome]] | None = None,
        *,
        default: FetchOutcome | None = None,
        on_fetch: Callable[[str], object] | None = None,
    ) -> None:
        self._scripts: dict[str, Script[bytes]] = {
            url: Script([answer] if isinstance(answer, bytes | Exception) else answer)
            for url, answer in (answers or {}).items()
        }
        self._default = Script([default if default is not None else MediaError(self.NOT_FOUND)])
        self._on_fetch = on_fetch
        self.calls: list[tuple[str, int]] = []

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        self.calls.append((url, max_bytes))
        if self._on_fetch is not None:
            self._on_fetch(url)
        return self._scripts.get(url, self._default).next()


class MemoryMediaStore:
    """MediaStore: (body, content type) per key; a missing key is a MediaError, as on S3 or disk."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        #: The folders marked deleted (mark_deleted), apart from the photos.
        self.deleted_marks: set[str] = set()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise MediaError(f"no stored photo under {key}")
        return self.objects[key][0]

    def delete_prefix(self, prefix: str) -> int:
        check_folder_prefix(prefix)
        doomed = [key for key in self.objects if key.startswith(prefix)]
        for key in doomed:
            del self.objects[key]
        return len(doomed)

    def mark_deleted(self, prefix: str) -> None:
        self.deleted_marks.add(check_folder_prefix(prefix))

    def is_deleted(self, prefix: str) -> bool:
        return check_folder_prefix(prefix) in self.deleted_marks


#: What FakeImageAnalyser finds in a photo unless told otherwise.
CAT: Final = ImageAnalysis(labels=[{"Name": "Cat", "Confidence": 91.5, "Parents": [{"Name": "Animal"}]}])

ImageOutcome = ImageAnalysis | Exception


class FakeImageAnalyser:
    """ImageAnalyser: a scripted analysis (or exception) per key, else `default` (a cat).

    With a `store`, it first reads the photo back, as Rekognition reads S3 (a missing photo raises
    the store's MediaError), and `default` may be a function of the photo's bytes.
    """

    def __init__(
        self,
        answers: Mapping[str, ImageOutcome] | None = None,
        *,
        default: ImageOutcome | Callable[[bytes], ImageAnalysis] = CAT,
        store: MediaStore | None = None,
    ) -> None:
        if callable(default) and store is None:
            raise ValueError("an analysis computed from the photo needs the store to read it from")
        self.answers = dict(answers or {})
        self.default = default
        self.store = store
        self.calls: list[tuple[str, frozenset[str]]] = []
        self._lock = threading.Lock()

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        with self._lock:
            self.calls.append((key, features))
        body = self.store.get(key) if self.store is not None else b""
        outcome = self.answers.get(key, self.default)
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, ImageAnalysis):
            return outcome
        return outcome(body)


class FakeTextAnalyser:
    """TextAnalyser: detects `detected`, supports `supported`; "terrible" in a text is NEGATIVE,
    anything else POSITIVE.

    `errors` are raised by the first analyses, one each (a throttled call, say); `error`, if set,
    by every later one. Calls are ("detect", text) and ("analyse", (text, language, key_phrases)).
    """

    def __init__(
        self,
        detected: str | None = "en",
        *,
        supported: frozenset[str] = frozenset({"en", "fr"}),
        errors: Sequence[Exception] = (),
        error: Exception | None = None,
    ) -> None:
        self.detected = detected
        self.supported = supported
        self.errors = list(errors)
        self.error = error
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def detect_language(self, text: str) -> str | None:
        with self._lock:
            self.calls.append(("detect", text))
        return self.detected

    def supports(self, language: str) -> bool:
        return language in self.supported

    def analyse(self, text: str, language: str, *, key_phrases: bool) -> TextAnalysis:
        with self._lock:
            self.calls.append(("analyse", (text, language, key_phrases)))
            failure = self.errors.pop(0) if self.errors else self.error
        if failure is not None:
            raise failure
        negative = "terrible" in text
        return TextAnalysis(
            sentiment="NEGATIVE" if negative else "POSITIVE",
            sentiment_score={
                "Positive": 0.01 if negative else 0.97,
                "Negative": 0.97 if negative else 0.01,
                "Neutral": 0.02,
                "Mixed": 0.0,
            },
            language=language,
        )

    @property
    def analysed(self) -> list[tuple[str, str, bool]]:
        """The (text, language, key_phrases) of every analysis asked for, failed ones included."""
        return [call[1] for call in self.calls if call[0] == "analyse"]


# --- Alerting -------------------------------------------------------------------------------------


class RecordingSink:
    """AlertSink: every alert as (subject, message, attributes), then to the subscriber, if any
    (as SNS delivers to the topic's subscriber)."""

    def __init__(self, subscriber: AlertSubscriber | None = None) -> None:
        self.alerts: list[tuple[str, str, dict[str, str]]] = []
        self.subscriber = subscriber

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
        self.alerts.append((subject, message, attributes))
        if self.subscriber is not None:
            self.subscriber(subject, message)


#: What FakePhotoModerator answers unless told otherwise: nothing found.
SAFE: Final = ModerationVerdict(unsafe=False, categories=(), checker="fake")
#: A verdict a test scripts for the refusal path.
UNSAFE: Final = ModerationVerdict(unsafe=True, categories=("Violence",), checker="fake")

ModerationOutcome = ModerationVerdict | Exception


class FakePhotoModerator:
    """PhotoModerator: a scripted verdict (or exception) per key, else `default` (safe); `calls`
    are the keys checked, in order.

    With a `store`, it first reads the photo back, as Rekognition reads S3 (a missing photo raises
    the store's MediaError, which the responder must handle as an unreadable photo).
    """

    def __init__(
        self,
        answers: Mapping[str, ModerationOutcome] | None = None,
        *,
        default: ModerationOutcome = SAFE,
        store: MediaStore | None = None,
    ) -> None:
        self.answers = dict(answers or {})
        self.default = default
        self.store = store
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def check(self, key: str) -> ModerationVerdict:
        with self._lock:
            self.calls.append(key)
        if self.store is not None:
            self.store.get(key)
        outcome = self.answers.get(key, self.default)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class FakeChatWebhook:
    """ChatWebhook: records every payload; answers the scripted outcomes (None is a 2xx)."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self._script: Script[None] = Script(outcomes or [None])
        self.payloads: list[dict[str, Any]] = []

    def post(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)
        self._script.next()


# --- Responding and Egress ------------------------------------------------------------------------

JOKE: Final = "Why do programmers prefer dark mode? Because light attracts bugs."


class RecordingBot:
    """ConversationBot: answers `answer` (as the intent `intent`) to everything; calls are
    (session_id, text), and `locales` the locale of each call."""

    def __init__(self, answer: str = JOKE, *, intent: str = "Joke") -> None:
        self.answer = answer
        self.intent = intent
        self.calls: list[tuple[str, str]] = []
        self.locales: list[str] = []

    def respond(self, session_id: str, text: str, locale: str = "en_US") -> ConversationAnswer:
        self.calls.append((session_id, text))
        self.locales.append(locale)
        return ConversationAnswer(self.intent, self.answer)


class FakePoster:
    """ReplyPoster and DirectMessageSender: answers the scripted post (or DM event) ids, or raises the
    scripted errors; records every call."""

    def __init__(self, *outcomes: str | Exception) -> None:
        self._script: Script[str] = Script(outcomes or ["1880028106020515999"])
        self.calls: list[tuple[str, str, list[tuple[bytes, str]]]] = []
        self.dm_calls: list[tuple[str, str]] = []

    def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
        self.calls.append((text, reply_to_tweet_id, images))
        return self._script.next()

    def send_direct_message(self, text: str, participant_id: str) -> str:
        """DirectMessageSender: the same script (a DM event id, or an error); calls go to dm_calls."""
        self.dm_calls.append((text, participant_id))
        return self._script.next()


class MemoryIdempotency:
    """Idempotency: each key's first successful result, kept in a dict; a failed action leaves no
    record, so a retry runs it again (as Powertools deletes the record)."""

    def __init__(self) -> None:
        self.results: dict[str, str] = {}
        self.runs: list[str] = []

    def run(self, key: str, action: Callable[[], str], remaining_ms: Callable[[], int] | None = None) -> str:
        if not key:
            raise ValueError("an idempotency key is required")
        if key not in self.results:
            self.runs.append(key)
            self.results[key] = action()
        return self.results[key]


class MemoryWindowCounters:
    """WindowCounters: counts per (key, window) in a dict, on a clock a test may move (`now`)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.counts: dict[str, int] = {}

    def take(self, key: str, *, limit: int, window_seconds: int) -> bool:
        record, _ends = window_key(key, window_seconds, self.now)
        if self.counts.get(record, 0) >= limit:
            return False
        self.counts[record] = self.counts.get(record, 0) + 1
        return True


class MemoryOptOuts:
    """OptOuts: user id -> (opted out?, the post that made the last change), in a dict."""

    def __init__(self) -> None:
        self.states: dict[str, tuple[bool, str]] = {}

    @property
    def users(self) -> set[str]:
        """Who is opted out now."""
        return {user for user, (opted_out, _post) in self.states.items() if opted_out}

    def is_opted_out(self, user_id: str) -> bool:
        return user_id in self.users

    def opt_out(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=True)

    def opt_in(self, user_id: str, *, post_id: str) -> bool:
        return self._change(user_id, post_id, opted_out=False)

    def opted_out_by(self, user_id: str) -> str | None:
        opted_out, post = self.states.get(user_id, (False, None))
        return post if opted_out else None

    def _change(self, user_id: str, post_id: str, *, opted_out: bool) -> bool:
        current, post = self.states.get(user_id, (False, None))
        if current == opted_out and post != post_id:
            return False
        if post is not None and is_older(post_id, post):
            return False  # as the adapters: a late "stop" never undoes a newer "start"
        self.states[user_id] = (opted_out, post_id)
        return True


class FakePostingSwitch:
    """PostingSwitch: answers the scripted states (True: on, False: off) or raises the scripted
    errors; counts the reads."""

    def __init__(self, *states: bool | Exception) -> None:
        self._script: Script[bool] = Script(states or [True])
        self.reads = 0

    def posting_enabled(self) -> bool:
        self.reads += 1
        return self._script.next()


# --- A runtime made of fakes ------------------------------------------------------------------


class MemoryClaims:
    """Claims: a dict of key -> state ("claimed by <owner>" or "completed"); `hold_seconds` is not modelled."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    def claim(self, key: str, *, owner: str, hold_seconds: int) -> bool:
        held = self.states.get(key)
        if held is not None and held != f"claimed by {owner}":
            return False
        self.states[key] = f"claimed by {owner}"
        return True

    def complete(self, key: str) -> None:
        self.states[key] = "completed"

    def release(self, key: str) -> None:
        self.states.pop(key, None)


class FakeMentionsReader:
    """MentionsReader: answers a script of pages (or exceptions: RateLimitedError, XReadError, ...)
    and records every call's arguments."""

    def __init__(self, pages: Sequence[MentionsPage | BaseException] | None = None) -> None:
        self.script: Script[MentionsPage] = Script(
            list(pages) if pages else [MentionsPage(posts=[], includes={}, next_token=None, rate_limit=RateLimit())]
        )
        self.calls: list[dict[str, Any]] = []

    def mentions_page(
        self,
        user_id: str,
        *,
        since_id: str | None,
        start_time: float | None,
        pagination_token: str | None,
        max_results: int,
    ) -> MentionsPage:
        self.calls.append(
            {
                "user_id": user_id,
                "since_id": since_id,
                "start_time": start_time,
                "pagination_token": pagination_token,
                "max_results": max_results,
            }
        )
        return self.script.next()


class MemoryPollCheckpoint:
    """PollCheckpoint: the states in a dict, saved only over the version before (as the real ones)."""

    def __init__(self) -> None:
        self.states: dict[str, PollState] = {}
        self.saves = 0
        self._lock = threading.Lock()

    def load(self, key: str) -> PollState | None:
        return self.states.get(key)

    def save(self, key: str, state: PollState) -> bool:
        with self._lock:
            stored = self.states.get(key)
            if (stored.version if stored else 0) != state.version - 1:
                return False
            self.states[key] = state
            self.saves += 1
        return True


class FakeAdapters:
    """Adapters: the fakes above, one per port, as attributes a test may replace or script before
    the services are first built (chalicelib.wiring caches them until `wiring.reset()`)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.bus = RecordingBus()
        self.payloads: MemoryPayloadStore | None = MemoryPayloadStore()
        self.secret = StaticSecret("test-consumer-secret")
        self.media = MemoryMediaStore()
        self.fetcher = FakeFetcher()
        self.images = FakeImageAnalyser()
        self.moderator = FakePhotoModerator()
        self.text = FakeTextAnalyser()
        self.alerts = RecordingSink()
        self.webhook: FakeChatWebhook | None = None
        self.bot = RecordingBot()
        self.fulfilment: Fulfilment | None = None
        self.poster = FakePoster()
        self.once = MemoryIdempotency()
        self.claimed = MemoryClaims()
        self.counters = MemoryWindowCounters()
        self.opted_out = MemoryOptOuts()
        self.switch: FakePostingSwitch | None = None
        self.mentions = FakeMentionsReader()
        self.checkpoint = MemoryPollCheckpoint()

    def event_bus(self) -> EventBus:
        return self.bus

    def payload_store(self) -> PayloadStore | None:
        return self.payloads

    def webhook_secret(self) -> SecretProvider:
        return self.secret

    def media_store(self) -> MediaStore:
        return self.media

    def media_fetcher(self) -> MediaFetcher:
        return self.fetcher

    def image_analyser(self, media: MediaStore) -> ImageAnalyser:
        return self.images

    def text_analyser(self) -> TextAnalyser:
        return self.text

    def photo_moderator(self, media: MediaStore) -> PhotoModerator:
        return self.moderator

    def alert_sink(self, subscriber: AlertSubscriber | None) -> AlertSink:
        self.alerts.subscriber = subscriber
        return self.alerts

    def chat_webhook(self) -> ChatWebhook | None:
        return self.webhook

    def conversation_bot(self, fulfilment: Fulfilment) -> ConversationBot:
        self.fulfilment = fulfilment
        return self.bot

    def reply_poster(self) -> ReplyPoster:
        return self.poster

    def claims(self) -> Claims:
        return self.claimed

    def window_counters(self) -> WindowCounters:
        return self.counters

    def opt_outs(self) -> OptOuts:
        return self.opted_out

    def posting_switch(self) -> PostingSwitch | None:
        return self.switch

    def mentions_reader(self) -> MentionsReader:
        return self.mentions

    def poll_checkpoint(self) -> PollCheckpoint:
        return self.checkpoint

    def idempotency(self, namespace: str) -> Idempotency:
        # One store for every namespace: the services' keys differ anyway ("alert:...", "reply-to:...").
        return self.once


def use_fake_adapters(monkeypatch: pytest.MonkeyPatch, adapters: FakeAdapters | None = None) -> FakeAdapters:
    """Make chalicelib.wiring build every service on `adapters` (new fakes by default), from now on."""
    from chalicelib import wiring

    fakes = adapters or FakeAdapters()
    wiring.reset()
    monkeypatch.setattr(wiring, "adapters", lambda: fakes)
    return fakes


if TYPE_CHECKING:  # mypy checks that every fake implements its port.
    from chalicelib.ports import Adapters

    _EVENT_BUS: EventBus = RecordingBus()
    _PAYLOAD_STORE: PayloadStore = MemoryPayloadStore()
    _SECRET_PROVIDER: SecretProvider = StaticSecret("s")
    _MEDIA_FETCHER: MediaFetcher = FakeFetcher()
    _MEDIA_STORE: MediaStore = MemoryMediaStore()
    _IMAGE_ANALYSER: ImageAnalyser = FakeImageAnalyser()
    _TEXT_ANALYSER: TextAnalyser = FakeTextAnalyser()
    _ALERT_SINK: AlertSink = RecordingSink()
    _PHOTO_MODERATOR: PhotoModerator = FakePhotoModerator()
    _CHAT_WEBHOOK: ChatWebhook = FakeChatWebhook()
    _CONVERSATION_BOT: ConversationBot = RecordingBot()
    _REPLY_POSTER: ReplyPoster = FakePoster()
    _IDEMPOTENCY: Idempotency = MemoryIdempotency()
    _CLAIMS: Claims = MemoryClaims()
    _WINDOW_COUNTERS: WindowCounters = MemoryWindowCounters()
    _OPT_OUTS: OptOuts = MemoryOptOuts()
    _POSTING_SWITCH: PostingSwitch = FakePostingSwitch()
    _MENTIONS_READER: MentionsReader = FakeMentionsReader()
    _POLL_CHECKPOINT: PollCheckpoint = MemoryPollCheckpoint()
    _ADAPTERS: Adapters = FakeAdapters()


# --- Events for the handlers ------------------------------------------------------------------


def queued_event(client: Any, *, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The Lambda event of an SQS-fed handler (Egress's post_reply) for one bus event: the rule's
    SQS target puts the whole EventBridge event in the message body."""
    import json

    envelope = client.events.generate_cw_event(source=source, detail_type=detail_type, detail=detail, resources=[])
    event: dict[str, Any] = client.events.generate_sqs_event(
        message_bodies=[json.dumps(envelope)], queue_name="egress-replies"
    )
    return event


# --- The economy profile's conversation sessions -------------------------------------------------


class MemoryConversationSessions:
    """ConversationSessions in a dict, recording each load and save as (operation, session, locale).
    `expire(session_id, locale_id)` forgets a session, as an idle session's time to live does."""

    def __init__(self) -> None:
        self.attributes: dict[tuple[str, str], dict[str, str]] = {}
        self.calls: list[tuple[str, str, str]] = []

    def load(self, session_id: str, locale_id: str) -> dict[str, str]:
        self.calls.append(("load", session_id, locale_id))
        return dict(self.attributes.get((session_id, locale_id), {}))

    def save(self, session_id: str, locale_id: str, attributes: dict[str, str]) -> None:
        self.calls.append(("save", session_id, locale_id))
        self.attributes[(session_id, locale_id)] = dict(attributes)

    def expire(self, session_id: str, locale_id: str) -> None:
        self.attributes.pop((session_id, locale_id), None)


if TYPE_CHECKING:  # mypy checks that the fake implements its port.
    from chalicelib.ports import ConversationSessions

    _CONVERSATION_SESSIONS: ConversationSessions = MemoryConversationSessions()
