"""Ports: what the services need from the outside world. Adapters implement them per runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

# The media port's errors live in the kernel (the URL policy raises them too); named here for the port's users.
from chalicelib.kernel.errors import MediaError as MediaError
from chalicelib.kernel.errors import TransientMediaError as TransientMediaError
from chalicelib.kernel.idempotency import Claims, Idempotency

if TYPE_CHECKING:
    # Annotations only: the analysis contract stays off the webhook's cold start.
    from chalicelib.contracts.analysis import ImageAnalysis, TextAnalysis
    from chalicelib.kernel.port_values import ConversationAnswer as ConversationAnswer  # see __getattr__
    from chalicelib.kernel.port_values import MentionsPage as MentionsPage
    from chalicelib.kernel.port_values import ModerationVerdict as ModerationVerdict
    from chalicelib.kernel.port_values import PollState as PollState
    from chalicelib.kernel.port_values import RateLimit as RateLimit
    from chalicelib.settings import Settings
else:

    def __getattr__(name: str) -> Any:
        """The port values (chalicelib.kernel.port_values), loaded the first time one is named: the
        webhook imports this module through the bus publisher and never uses them."""
        # Any other name (a probe for __path__, __wrapped__, ...) must not load them.
        if name not in ("ConversationAnswer", "MentionsPage", "ModerationVerdict", "PollState", "RateLimit"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from chalicelib.kernel import port_values

        value = getattr(port_values, name)
        globals()[name] = value  # the next lookup is an ordinary one
        return value


@dataclass(frozen=True)
class EntryResult:
    """The outcome of one PutEvents entry: an event id, or an error code and message."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.event_id is not None


class EventBus(Protocol):
    """The PutEvents call of a bus: entries in EventBridge's request shape, one result per entry.

    Entries carry Source, DetailType and Detail (a JSON string). Raising means the whole call
    failed; per-entry failures come back as results with an error code.
    """

    def put_entries(self, entries: list[dict[str, Any]]) -> list[EntryResult]: ...


class PayloadStore(Protocol):
    """Somewhere to keep a payload too large for the bus (the claim-check pattern)."""

    def put(self, key: str, body: bytes) -> str:
        """Store the body under the key; return a URI a reader can fetch it from."""
        ...

    def get(self, uri: str) -> bytes:
        """The body at a URI `put` returned. Only claim-check objects (keys under
        chalicelib.contracts.oversized.OVERSIZED_PREFIX) of this store are read: any other URI
        raises ValueError. The caller checks the body against the pointer's size and SHA-256."""
        ...


class SecretProvider(Protocol):
    def consumer_secret(self) -> str: ...


# --- Analysis -------------------------------------------------------------------------------------


class MediaFetcher(Protocol):
    """Gets a photo's bytes from its URL (the caller has checked the URL against the allow-list).

    Raises MediaError with a reason a person can read (not found, too large, redirected off the
    allow-list, timeout, ...).
    """

    def fetch(self, url: str, *, max_bytes: int) -> bytes: ...


class MediaStore(Protocol):
    """Where photos live between download, analysis and reply (S3 bucket, or a local folder)."""

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix` (a folder: it must end with "/");
        return how many were deleted (0 when none were there). Raises ValueError for an empty
        prefix or one without the trailing "/" (a whole bucket, or "users/1" matching "users/12")."""
        ...

    def mark_deleted(self, prefix: str) -> None:
        """Record that everything under the folder `prefix` was deleted for good (a post deleted on
        X), in a mark kept apart from the folder (chalicelib.kernel.media_keys.deletion_mark_key),
        so that what is stored there afterwards can be recognised (`is_deleted`) and deleted too."""
        ...

    def is_deleted(self, prefix: str) -> bool:
        """True when `mark_deleted(prefix)` was called (and its mark has not expired)."""
        ...


class ImageAnalyser(Protocol):
    """Rekognition's view of a stored photo (labels, text, celebrities, other faces).

    `features` says which analyses to run (a subset of chalicelib.kernel.features.IMAGE_FEATURES).
    """

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis: ...


class TextAnalyser(Protocol):
    """Comprehend's view of a text in a language it supports.

    `language` is an ISO code the caller already resolved (see `detect_language`); key phrases
    are extracted only when asked, since each call is paid on AWS.
    """

    def detect_language(self, text: str) -> str | None: ...

    def supports(self, language: str) -> bool: ...

    def analyse(self, text: str, language: str, *, key_phrases: bool) -> TextAnalysis: ...


# --- Alerting -------------------------------------------------------------------------------------


class PhotoModerator(Protocol):
    """Checks a stored photo before the bot reposts it (Rekognition DetectModerationLabels on AWS,
    the local stand-in locally). Raises MediaError when the photo cannot be read; transient
    errors propagate, and the event is retried."""

    def check(self, key: str) -> ModerationVerdict: ...


class AlertSink(Protocol):
    """Where a negative-message alert goes: the SNS topic on AWS, alerts.jsonl locally."""

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None: ...


class ChatWebhook(Protocol):
    """A Slack-compatible incoming webhook. Raises on failure; the caller retries."""

    def post(self, payload: dict[str, Any]) -> None: ...


# --- Responding and Egress -----------------------------------------------------------------------


class ConversationBot(Protocol):
    """The conversational bot (Lex V2 on AWS, the local intent matcher locally).

    `session_id` keeps one conversation per author; `locale` is one of the bot definition's locale
    ids (chalicelib.contracts.conversation.LOCALE_IDS), which the answer is written in.
    """

    def respond(self, session_id: str, text: str, locale: str) -> ConversationAnswer: ...


class WindowCounters(Protocol):
    """Counters in fixed time windows, whose records expire (the Responding guards' budgets).

    `take` counts one more for `key` in the current window of `window_seconds` (windows start at
    multiples of it, in epoch seconds) unless `limit` is already reached, in one atomic step across
    invocations: True when counted, False when the window is full. A window's record expires after
    the window ends. Raises IdempotencyUnavailableError (transient) when the store cannot answer.
    """

    def take(self, key: str, *, limit: int, window_seconds: int) -> bool: ...


class OptOuts(Protocol):
    """Who said "stop" to the bot (and has not said "start" since), by X user id: kept until they
    opt back in, never expired. Each change answers whether it changed anything, in one atomic step
    across invocations, so a person is told once however many of their "stop"s arrive together.
    The post that made the change is kept with it: the same post again (a retry after a failure, a
    redelivery) still answers True, so its confirmation is not lost (Egress posts one reply per
    post). A post older than that one (post ids are snowflakes: chalicelib.kernel.opt_out_order)
    changes nothing and answers False: a late "stop" never undoes a newer "start", nor the reverse.
    Raises IdempotencyUnavailableError (transient) when the store cannot answer."""

    def is_opted_out(self, user_id: str) -> bool: ...

    def opt_out(self, user_id: str, *, post_id: str) -> bool:
        """Record the opt-out; True when the user was not opted out, or was opted out by this post."""
        ...

    def opt_in(self, user_id: str, *, post_id: str) -> bool:
        """Forget the opt-out; True when the user was opted out, or was opted back in by this post."""
        ...

    def opted_out_by(self, user_id: str) -> str | None:
        """The post (or "dm:<event id>") that opted the user out, None when they are not opted out:
        Egress skips every reply to them but the confirmation of that very post."""
        ...


class PostingSwitch(Protocol):
    """The operator's kill switch for posting (an SSM parameter on AWS, BOT_POSTING locally), read
    at each post. Raises TransientError when it cannot be read: the caller must not post then."""

    def posting_enabled(self) -> bool: ...


class EgressError(Exception):
    """X refused the post for a reason retrying will not fix (the message says which)."""


class RateLimitedError(Exception):
    """X answered 429; `reset_at` is the epoch second its window resets (None if not said)."""

    def __init__(self, message: str, reset_at: float | None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class DuplicateContentError(Exception):
    """X refused the post as a duplicate (403): it was already posted."""


class ReplyPoster(Protocol):
    """Posts a reply on X (or into the local outbox): photos first, then the post.

    `images` are (bytes, content type) pairs, at most four. Returns the new post's id. Raises
    RateLimitedError, DuplicateContentError or EgressError; anything else is a transient failure.
    """

    def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str: ...


class DirectMessageNotPermittedError(EgressError):
    """X refused to deliver a DM to this person (403): they do not take DMs from the bot (or no
    longer follow it). Retrying will not change that."""


@runtime_checkable
class DirectMessageSender(Protocol):
    """Sends a one-to-one direct message (X API v2 POST /2/dm_conversations/with/:participant_id/
    messages, or the local outbox, marked as a DM), text only. Returns the new DM event's id.
    Raises RateLimitedError, DirectMessageNotPermittedError, DuplicateContentError or EgressError;
    anything else is a transient failure. Both ReplyPoster adapters are DirectMessageSenders too."""

    def send_direct_message(self, text: str, participant_id: str) -> str: ...


# --- Ingress: the mentions poller ----------------------------------------------------------------


class XReadError(Exception):
    """X refused a read for a reason retrying will not fix (401, 403, 400...): the message says which
    (status and X's own words, never a credential)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MentionsReader(Protocol):
    """Reads the user's mentions timeline, one page per call (the X API v2, OAuth 1.0a user context).

    `since_id` (exclusive) or, without it, `start_time` (epoch seconds) bound the range;
    `pagination_token` continues it. Raises RateLimitedError (429, with the reset time),
    XReadError for a refusal, a TransientError when X failed or could not be reached.
    """

    def mentions_page(
        self,
        user_id: str,
        *,
        since_id: str | None,
        start_time: float | None,
        pagination_token: str | None,
        max_results: int,
    ) -> MentionsPage: ...


class PollCheckpoint(Protocol):
    """The poller's PollState, one record per key (the bot's account id).

    `save` writes `state` only if the stored version is still `state.version - 1` (none stored when
    it is 1), in one atomic step (DynamoDB's conditional put, SQLite's IMMEDIATE transaction), and
    returns False when another run saved first: two overlapping runs cannot move it backwards.
    """

    def load(self, key: str) -> PollState | None: ...

    def save(self, key: str, state: PollState) -> bool: ...


# --- The adapters of a runtime --------------------------------------------------------------------

#: The Lex code hook's function (event in Lex V2's fulfilment format -> its response). On AWS, Lex
#: calls it as a Lambda; the local conversation bot calls it in-process.
Fulfilment = Callable[[dict[str, Any]], dict[str, Any]]
#: A subscriber of the alert topic: (subject, message). On AWS, SNS invokes it as a Lambda; the
#: local alert sink calls it after recording the alert.
AlertSubscriber = Callable[[str, str], None]


class Adapters(Protocol):
    """One factory per port: everything a runtime plugs into the services.

    The AWS implementation is chalicelib.adapters.aws.AwsAdapters; another runtime names its own in
    the BOT_ADAPTERS setting ("module:Class", see chalicelib.settings). It is built once per process
    with the settings, and each factory is called once (chalicelib.wiring caches the results), so a
    factory may build its clients on the spot. A factory for something the configuration leaves out
    returns None; one that cannot be built as configured raises ConfigurationError.
    """

    def __init__(self, settings: Settings) -> None: ...

    def event_bus(self) -> EventBus: ...

    def payload_store(self) -> PayloadStore | None: ...

    def webhook_secret(self) -> SecretProvider: ...

    def media_store(self) -> MediaStore: ...

    def media_fetcher(self) -> MediaFetcher: ...

    def image_analyser(self, media: MediaStore) -> ImageAnalyser: ...

    def text_analyser(self) -> TextAnalyser: ...

    def alert_sink(self, subscriber: AlertSubscriber | None) -> AlertSink: ...

    def chat_webhook(self) -> ChatWebhook | None: ...

    def conversation_bot(self, fulfilment: Fulfilment) -> ConversationBot: ...

    def reply_poster(self) -> ReplyPoster: ...

    def photo_moderator(self, media: MediaStore) -> PhotoModerator: ...

    def idempotency(self, namespace: str) -> Idempotency: ...

    def claims(self) -> Claims: ...

    def window_counters(self) -> WindowCounters: ...

    def opt_outs(self) -> OptOuts: ...

    def posting_switch(self) -> PostingSwitch | None:
        """None when the configuration has no switch (posting is then always on)."""
        ...

    def mentions_reader(self) -> MentionsReader: ...

    def poll_checkpoint(self) -> PollCheckpoint: ...


class ConversationSessions(Protocol):
    """The session attributes of a conversational bot that runs in process (the economy profile's
    intent matcher), kept per session and locale between turns as Lex keeps them: the fulfilment's
    "recent<Intent>" attributes make the next answer differ from the last ones, and X refuses a
    post identical to a recent one. A session idle for longer than the store's time to live starts
    empty again, as Lex's does."""

    def load(self, session_id: str, locale_id: str) -> dict[str, str]:
        """The session's attributes; empty for a new or expired session."""
        ...

    def save(self, session_id: str, locale_id: str, attributes: dict[str, str]) -> None: ...
