"""Egress: one SEND_TWEET becomes one reply on X (or one line in the local dry-run outbox).

Failure policy, and why. "Retried" below means the invocation fails and the event comes back: on
AWS through the Lambda's asynchronous retries (EventBridge invokes it asynchronously) and then its
failure destination or dead-letter queue; locally through the dispatcher's retries and dead letters.
- a redelivered event returns the recorded post id without posting (idempotency on the event id);
- the same event being posted right now by another invocation -> TransientError: retried, and by
  then the record says it was posted;
- a photo missing from the media store -> the reply goes without it (a late answer without the
  picture beats no answer; the log says which photo);
- X's 429 -> wait for the window to reset and try once more, when that fits in the function's time
  left; otherwise TransientError, retried later;
- X's 403 for duplicate content -> the reply is already on X: recorded as "duplicate", no retry;
- any other refusal (EgressError) is raised: retrying will not change X's mind, but the retry
  policy and the dead-letter queue, not this code, decide what becomes of the event.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from chalicelib.analysis.errors import TransientError
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.idempotency import Idempotency
from chalicelib.egress.text import fit_reply
from chalicelib.observability import logger
from chalicelib.ports import DuplicateContentError, MediaError, MediaStore, RateLimitedError, ReplyPoster

if TYPE_CHECKING:
    from chalicelib.settings import Settings

#: What send() returns (and records) when X says the reply is already there.
DUPLICATE: Final = "duplicate"
#: Time kept back from the function's budget when deciding to wait for a rate-limit reset: the
#: second attempt (uploads and the post, 10 s timeout each) and recording the outcome need it.
DEFAULT_SAFETY_MARGIN_MS: Final = 15_000
#: With no deadline (the local runtime), wait at most this long for a rate-limit reset.
DEFAULT_BUDGET_WITHOUT_DEADLINE_MS: Final = 60_000
#: X counts a rate-limit window's reset in whole seconds: wait one more to be past it.
_RESET_SLACK_SECONDS: Final = 1.0

#: Locally, `BOT_EGRESS=x` posts for real with these variables (the values of the TwitterSecret keys).
LOCAL_CREDENTIAL_VARIABLES: Final = {
    "ApiKey": "TWITTER_API_KEY",
    "ApiSecret": "TWITTER_API_SECRET",
    "AccessToken": "TWITTER_ACCESS_TOKEN",
    "AccessTokenSecret": "TWITTER_ACCESS_TOKEN_SECRET",
}


class RateLimitedTransientError(TransientError):
    """X's rate limit does not reset within this invocation's time: retry the event later."""


class EgressService:
    def __init__(
        self,
        *,
        poster: ReplyPoster,
        media: MediaStore,
        idempotency: Idempotency,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        safety_margin_ms: int = DEFAULT_SAFETY_MARGIN_MS,
        budget_without_deadline_ms: int = DEFAULT_BUDGET_WITHOUT_DEADLINE_MS,
    ) -> None:
        self._poster = poster
        self._media = media
        self._idempotency = idempotency
        self._sleep = sleep
        self._now = now
        self._safety_margin_ms = safety_margin_ms
        self._budget_without_deadline_ms = budget_without_deadline_ms

    def send(self, reply: SendTweet, event_id: str, remaining_ms: Callable[[], int] | None = None) -> str:
        """Posts `reply` once per post it answers; returns the post id (or DUPLICATE).

        The key is the post replied to, not the event: a MESSAGE_ANALYSED handled twice makes two
        SEND_TWEET events (with two ids, and for a joke two different texts), yet the author must
        get one reply. `event_id` is kept for the logs.
        """
        key = f"reply-to:{reply.reply_to_tweet_id}"
        return self._idempotency.run(key, lambda: self._post(reply, remaining_ms), remaining_ms)

    def _post(self, reply: SendTweet, remaining_ms: Callable[[], int] | None) -> str:
        images = self._load_images(reply)
        text = fit_reply(reply.text)
        if text != reply.text:
            logger.info("reply text shortened to fit X", extra={"chars": len(reply.text), "kept": len(text)})
        try:
            try:
                return self._poster.post_reply(text, reply.reply_to_tweet_id, images)
            except RateLimitedError as error:
                self._wait_for_reset(error, remaining_ms)
                logger.info("retrying the reply after X's rate-limit reset")
                return self._poster.post_reply(text, reply.reply_to_tweet_id, images)
        except RateLimitedError as error:
            raise RateLimitedTransientError(f"still rate limited after waiting: {error}") from error
        except DuplicateContentError:
            # X keeps one copy of a text per account: the reply (or one just like it) is on X.
            logger.info("X refused the reply as a duplicate; counted as posted")
            return DUPLICATE

    def _wait_for_reset(self, error: RateLimitedError, remaining_ms: Callable[[], int] | None) -> None:
        if error.reset_at is None:
            raise RateLimitedTransientError(f"rate limited with no reset time: {error}") from error
        wait_seconds = max(0.0, error.reset_at - self._now() + _RESET_SLACK_SECONDS)
        budget_ms = remaining_ms() if remaining_ms is not None else self._budget_without_deadline_ms
        if wait_seconds * 1000 + self._safety_margin_ms > budget_ms:
            raise RateLimitedTransientError(
                f"rate limited for {wait_seconds:.0f}s more, beyond this invocation's time: {error}"
            ) from error
        logger.warning("rate limited by X; waiting for the reset", extra={"wait_seconds": round(wait_seconds, 1)})
        self._sleep(wait_seconds)

    def _load_images(self, reply: SendTweet) -> list[tuple[bytes, str]]:
        images: list[tuple[bytes, str]] = []
        for key in reply.image_keys:
            try:
                body = self._media.get(key)
            except MediaError as error:
                logger.warning("photo missing: replying without it", extra={"image_key": key, "reason": str(error)})
                continue
            images.append((body, content_type_of(body, key)))
        return images


def content_type_of(body: bytes, key: str) -> str:
    """The photo's type from its first bytes (the media store keeps none), else from the key."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    return {
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
        "gif": "image/gif",
        "webp": "image/webp",
    }.get(extension, "application/octet-stream")


# --- Factory --------------------------------------------------------------------------------------


@runtime_checkable
class CredentialsDocument(Protocol):
    """A source of the whole TwitterSecret document (SecretsManagerCredentials.credentials)."""

    def credentials(self) -> Mapping[str, str]: ...


class EgressConfigurationError(RuntimeError):
    """Egress cannot be built as configured. Names settings and variables, never their values."""


def egress_service_for(settings: Settings, media_store: MediaStore, credentials_provider: object) -> EgressService:
    """Egress with the adapters of the runtime in use.

    Poster: the X API when settings.egress == "x" (credentials from `credentials_provider`, the
    TwitterSecret, on AWS; from TWITTER_API_KEY, TWITTER_API_SECRET, TWITTER_ACCESS_TOKEN and
    TWITTER_ACCESS_TOKEN_SECRET locally), else the dry-run outbox in $BOT_LOCAL_DIR.
    Idempotency: the DynamoDB table settings.idempotency_table on AWS, SQLite in $BOT_LOCAL_DIR locally.
    Local modules are imported only for the local runtime: they are not in the Lambda bundle.
    """
    from chalicelib.settings import EGRESS_X, RUNTIME_LOCAL

    local = settings.runtime == RUNTIME_LOCAL
    poster: ReplyPoster
    if settings.egress == EGRESS_X:
        from chalicelib.adapters.x_api import XApiReplyPoster

        poster = XApiReplyPoster(_local_credentials() if local else _secret_credentials(credentials_provider))
    elif local:
        from botlocal.outbox import OutboxPoster

        poster = OutboxPoster(settings.local_dir)
    else:
        raise EgressConfigurationError(f"BOT_EGRESS={settings.egress!r} is only possible in the local runtime")

    idempotency: Idempotency
    if local:
        from botlocal.idempotency import local_idempotency

        idempotency = local_idempotency(settings.local_dir)
    else:
        if not settings.idempotency_table:
            raise EgressConfigurationError("IDEMPOTENCY_TABLE is not set: the deployment must configure it")
        from chalicelib.egress.idempotency import dynamodb_idempotency

        idempotency = dynamodb_idempotency(settings.idempotency_table)
    return EgressService(poster=poster, media=media_store, idempotency=idempotency)


def _secret_credentials(provider: object) -> Callable[[], Mapping[str, str]]:
    """The secret's reader itself: the poster reads it at each post, through the secret's cache."""
    if not isinstance(provider, CredentialsDocument):
        raise EgressConfigurationError(f"{type(provider).__name__} does not provide the X credentials document")
    return provider.credentials


def _local_credentials() -> dict[str, str]:
    values = {key: os.environ.get(variable, "") for key, variable in LOCAL_CREDENTIAL_VARIABLES.items()}
    missing = [LOCAL_CREDENTIAL_VARIABLES[key] for key, value in values.items() if not value]
    if missing:
        raise EgressConfigurationError(f"BOT_EGRESS=x needs {', '.join(missing)} (or unset BOT_EGRESS for the outbox)")
    return values
