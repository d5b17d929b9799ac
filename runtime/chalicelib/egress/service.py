"""Egress: a SEND_TWEET becomes a reply on X (or a line in the local dry-run outbox), one per post answered.

Failure policy, and why. "Retried" below means the invocation fails and the event comes back: on
AWS through the Lambda's asynchronous retries (EventBridge invokes it asynchronously) and then its
failure destination or dead-letter queue; locally through the dispatcher's retries and dead letters.
- a post already answered gets the recorded reply id back without posting again (idempotency on
  the post replied to, whichever event asks: a redelivery, or a second analysis of the same post);
- the same post being answered right now by another invocation -> TransientError: retried, and by
  then the record says it was posted;
- a photo missing from the media store -> the reply goes without it (a late answer without the
  picture beats no answer; the log says which photo);
- X's 429 -> wait for the window to reset and try once more, when that fits in the function's time
  left; otherwise TransientError, retried later;
- X's 403 for duplicate content -> the reply is already on X: recorded as "duplicate", no retry;
- any other refusal (EgressError) is raised: retrying will not change X's mind, but the retry
  policy and the dead-letter queue, not this code, decide what becomes of the event;
- a reply to a post received longer ago than `max_reply_age_seconds` (SEND_TWEET's ReceivedAtMs) is
  not posted: REPLY_SKIPPED with the reason "too old" is published instead, and recorded as the
  post's answer (TOO_OLD), so a later redelivery does not post it either;
- the posting budget (`budget`: at most `posts` per window, counted in WindowCounters across every
  invocation, so X's own limit is not reached in a burst) is full -> PostBudgetExhaustedError, a
  RetryLaterError that says when the window resets: the reply is delayed, never dropped (on AWS the
  egress queue brings the message back; locally the dispatcher waits without counting an attempt).
  The age is checked first, so a reply kept waiting long enough ends as "too old", not as a dead letter;
- the operator's kill switch (`switch`: an SSM parameter on AWS, BOT_POSTING locally) is read at each
  post, before anything but the deletion check below: "off" -> REPLY_SKIPPED with the reason
  "posting paused", recorded as the post's answer (SKIPPED_PAUSED). The reply is dropped, not
  held: turning posting back on must not flood X with replies composed while it was off (they
  would be stale, and a burst), so only posts answered after that are posted. A switch that
  cannot be read -> TransientError: nothing is posted, the reply is retried (fail safe), and ends
  as "too old" if the switch stays unreadable.
- a reply to a post deleted on X (its mark in the media store: analysis/deletion.py) is not posted:
  REPLY_SKIPPED "post deleted", recorded as the post's answer (SKIPPED_POST_DELETED). The deletion
  may have come while the post was being analysed, or before it: what Analysis and Responding stored
  for it since (the photos, the annotated copies) is deleted here, and MEDIA_DELETED says how many.
  That clean-up is best effort (logged when it fails: the lifecycle rule is the last resort); the
  skip is not. Checked first, before the kill switch: honouring a deletion is not posting;
- a reply (or DM answer) to a person who said "stop" (`opt_outs`, read at each post) is not posted:
  REPLY_SKIPPED "opted out", recorded as the post's answer (SKIPPED_OPTED_OUT). Responding already
  stops answering them, but a reply composed just before their "stop" may still be waiting here
  (the posting budget, X's rate limit, a retry): it is dropped, not posted after the "stop". The
  confirmation of the "stop" itself is the one reply they still get (it answers the very post that
  opted them out).

Direct messages (SEND_DM, send_direct_message) go through the same steps, with the same budget
(one budget for the account: a DM counts as a post), kill switch, age limit and rate-limit wait;
their exactly-once key is the DM answered ("dm-reply-to:<DM event id>", never a post's key). X's
403 on a DM (the person does not take DMs from the bot) is final: REPLY_SKIPPED "DM not permitted",
recorded as the DM's answer. Their outcome events say Channel "DM" and never carry the text.

A reply posted is recorded as REPLY_POSTED (the post id X returned, the delivery-to-reply latency),
once, inside the idempotent action. Publishing it must not undo the post: if the bus refuses it,
the reply stays posted and recorded, and the loss of the outcome event is logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from chalicelib.contracts import names
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import TwitterRef
from chalicelib.contracts.outcomes import (
    DM_NOT_PERMITTED,
    OPTED_OUT,
    POST_DELETED,
    POSTING_PAUSED,
    TOO_OLD,
    DirectMessagePosted,
    MediaDeleted,
    ReplyPosted,
    ReplySkipped,
)
from chalicelib.contracts.replies import SendTweet
from chalicelib.kernel.errors import RetryLaterError, TransientError
from chalicelib.kernel.idempotency import Idempotency, window_key
from chalicelib.kernel.media_keys import post_prefix
from chalicelib.kernel.x_text import fit_reply
from chalicelib.observability import logger
from chalicelib.ports import (
    DirectMessageNotPermittedError,
    DirectMessageSender,
    DuplicateContentError,
    EgressError,
    MediaError,
    MediaStore,
    OptOuts,
    PostingSwitch,
    RateLimitedError,
    ReplyPoster,
    WindowCounters,
)
from chalicelib.publishing import EventPublisher

#: What send() returns (and records) when X says the reply is already there.
DUPLICATE: Final = "duplicate"
#: What send() returns (and records) for a reply skipped because its post is too old.
SKIPPED_TOO_OLD: Final = "skipped: too old"
#: What send() returns (and records) for a reply skipped because the kill switch is off.
SKIPPED_PAUSED: Final = "skipped: posting paused"
#: What send() returns (and records) for a reply to a post deleted on X.
SKIPPED_POST_DELETED: Final = "skipped: post deleted"
#: What send() returns (and records) for a reply to someone who said "stop" since it was composed.
SKIPPED_OPTED_OUT: Final = "skipped: opted out"
#: What send_direct_message() returns (and records) when X will not deliver the DM to the person.
SKIPPED_DM_NOT_PERMITTED: Final = "skipped: DM not permitted"
#: The WindowCounters key of the posting budget: one budget for the account, whoever is answered.
BUDGET_KEY: Final = "egress:posts"
#: Time kept back from the function's budget when deciding to wait for a rate-limit reset: the
#: second attempt (uploads and the post, 10 s timeout each) and recording the outcome need it.
DEFAULT_SAFETY_MARGIN_MS: Final = 15_000
#: With no deadline (the local runtime), wait at most this long for a rate-limit reset.
DEFAULT_BUDGET_WITHOUT_DEADLINE_MS: Final = 60_000
#: X counts a rate-limit window's reset in whole seconds: wait one more to be past it.
_RESET_SLACK_SECONDS: Final = 1.0


class RateLimitedTransientError(TransientError):
    """X's rate limit does not reset within this invocation's time: retry the event later."""


class PostBudgetExhaustedError(RetryLaterError):
    """The posting budget's window is full: post this reply after the window resets."""


@dataclass(frozen=True)
class PostBudget:
    """At most `posts` posts in each fixed window of `window_seconds` (WindowCounters' windows)."""

    counters: WindowCounters
    posts: int
    window_seconds: int


class EgressService:
    def __init__(
        self,
        *,
        poster: ReplyPoster,
        media: MediaStore,
        idempotency: Idempotency,
        publisher: EventPublisher | None = None,
        budget: PostBudget | None = None,
        max_reply_age_seconds: int | None = None,
        switch: PostingSwitch | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        safety_margin_ms: int = DEFAULT_SAFETY_MARGIN_MS,
        budget_without_deadline_ms: int = DEFAULT_BUDGET_WITHOUT_DEADLINE_MS,
        dm_sender: DirectMessageSender | None = None,
        opt_outs: OptOuts | None = None,
    ) -> None:
        """`dm_sender` sends the DM answers; by default the poster, when it can (both adapters can).
        `opt_outs`: who said "stop"; their replies still waiting here are skipped."""
        self._poster = poster
        self._dm_sender = dm_sender or (poster if isinstance(poster, DirectMessageSender) else None)
        self._media = media
        self._idempotency = idempotency
        self._publisher = publisher
        self._sleep = sleep
        self._now = now
        self._safety_margin_ms = safety_margin_ms
        self._budget_without_deadline_ms = budget_without_deadline_ms
        self._budget = budget
        self._max_reply_age_seconds = max_reply_age_seconds
        self._switch = switch
        self._opt_outs = opt_outs

    def send(self, reply: SendTweet, remaining_ms: Callable[[], int] | None = None) -> str:
        """Posts `reply` once per post it answers; returns the post id (or DUPLICATE).

        The key is the post replied to, not the event: a MESSAGE_ANALYSED handled twice makes two
        SEND_TWEET events (with two ids, and for a joke two different texts), yet the author must
        get one reply.
        """
        key = f"reply-to:{reply.reply_to_tweet_id}"
        return self._idempotency.run(key, lambda: self._post_and_record(reply, remaining_ms), remaining_ms)

    def _post_and_record(self, reply: SendTweet, remaining_ms: Callable[[], int] | None) -> str:
        # Inside the idempotent action: a post already answered neither ages nor uses the budget.
        deleted_folder = self._deleted_folder(reply)
        if deleted_folder is not None:
            self._delete_stored_since(reply, deleted_folder)
            return self._skip(reply, POST_DELETED, SKIPPED_POST_DELETED)
        if self._switch is not None and not self._switch.posting_enabled():
            return self._skip(reply, POSTING_PAUSED, SKIPPED_PAUSED)
        if self._opted_out_by_another_post(reply.reply_to_user_id, reply.reply_to_tweet_id):
            return self._skip(reply, OPTED_OUT, SKIPPED_OPTED_OUT)
        if self._too_old(reply):
            return self._skip_too_old(reply)
        self._take_from_budget(reply)
        posted = self._post(reply, remaining_ms)
        if posted != DUPLICATE and self._publisher is not None:
            self._record_posted(self._publisher, reply, posted)
        return posted

    def send_direct_message(self, answer: SendDirectMessage, remaining_ms: Callable[[], int] | None = None) -> str:
        """Sends `answer` once per DM it answers; returns the DM event id X created (or a SKIPPED_*
        result). Keyed on the DM answered, apart from every post's key."""
        key = f"dm-reply-to:{answer.reply_to_dm_event_id}"
        return self._idempotency.run(key, lambda: self._send_dm_and_record(answer, remaining_ms), remaining_ms)

    def _send_dm_and_record(self, answer: SendDirectMessage, remaining_ms: Callable[[], int] | None) -> str:
        if self._switch is not None and not self._switch.posting_enabled():
            return self._skip_dm(answer, POSTING_PAUSED, SKIPPED_PAUSED)
        if self._opted_out_by_another_post(answer.participant_id, answer.answering.as_twitter().tweet_id):
            return self._skip_dm(answer, OPTED_OUT, SKIPPED_OPTED_OUT)
        if self._too_old(answer):
            return self._skip_dm(answer, TOO_OLD, SKIPPED_TOO_OLD)
        self._take_from_budget(answer)
        try:
            sent = self._send_dm(answer, remaining_ms)
        except DirectMessageNotPermittedError:
            return self._skip_dm(answer, DM_NOT_PERMITTED, SKIPPED_DM_NOT_PERMITTED)
        if sent != DUPLICATE and self._publisher is not None:
            outcome = DirectMessagePosted(
                answering=answer.answering, posted_dm_event_id=sent, latency_ms=self._latency_ms(answer)
            )
            self._publish_best_effort(
                self._publisher, outcome.to_detail(), "REPLY_POSTED not published for a DM", extra={"dm_event_id": sent}
            )
        return sent

    def _send_dm(self, answer: SendDirectMessage, remaining_ms: Callable[[], int] | None) -> str:
        sender = self._dm_sender
        if sender is None:
            raise EgressError("no DirectMessageSender configured: DM answers cannot be sent")
        # X counts a DM's text up to 10,000 characters; fit_reply keeps it within a post's 280, which
        # suits a chat answer and keeps one rule for both channels.
        text = fit_reply(answer.text)
        return self._send_once_more_after_reset(
            lambda: sender.send_direct_message(text, answer.participant_id),
            remaining_ms,
            retrying="retrying the DM after X's rate-limit reset",
            duplicate="the DM answer is already there; counted as sent",
        )

    def _skip_dm(self, answer: SendDirectMessage, reason: str, result: str) -> str:
        # Ids only: a DM's text never reaches a log line.
        logger.warning("DM answer skipped", extra={"reason": reason, "dm_event_id": answer.reply_to_dm_event_id})
        self._publish_skipped(
            ReplySkipped(
                twitter=answer.answering.as_twitter(), author=None, reason=reason, direct_message=answer.answering
            )
        )
        return result

    def _deleted_folder(self, reply: SendTweet) -> str | None:
        """The post's media folder when the post was deleted on X (marked by analysis/deletion.py)."""
        try:
            folder = post_prefix(reply.reply_to_user_id, reply.reply_to_tweet_id)
        except ValueError:  # not X's numeric ids: nothing of it can be stored or marked
            return None
        return folder if self._media.is_deleted(folder) else None

    def _delete_stored_since(self, reply: SendTweet, folder: str) -> None:
        """What was stored for the deleted post after its deletion was honoured (best effort)."""
        try:
            count = self._media.delete_prefix(folder)
        except Exception:  # the skip must still be recorded: a retry would not post either
            logger.exception(
                "photos of a deleted post not deleted: left to the lifecycle rule",
                extra={"in_reply_to": reply.reply_to_tweet_id},
            )
            return
        # Unlike the deletion itself (analysis/deletion.py: always recorded, a bus failure retried),
        # this clean-up is recorded only when it found something, and best effort: the deletion
        # already has its MEDIA_DELETED, and the skip must not fail for a lost second one.
        if count and self._publisher is not None:
            deleted = MediaDeleted(reply.reply_to_user_id, reply.reply_to_tweet_id, POST_DELETED, count)
            logger.info("photos stored after the post's deletion deleted", extra={"count": count})
            self._publish_best_effort(
                self._publisher,
                deleted.to_detail(),
                "MEDIA_DELETED not published",
                extra={"tweet_id": reply.reply_to_tweet_id},
                detail_type=names.MEDIA_DELETED,
            )

    def _opted_out_by_another_post(self, user_id: str, answered: str) -> bool:
        """True when `user_id` is opted out by another post than `answered` (the confirmation of
        their "stop" answers the post that opted them out, and is posted)."""
        if self._opt_outs is None:
            return False
        by = self._opt_outs.opted_out_by(user_id)
        return by is not None and by != answered

    def _too_old(self, reply: SendTweet | SendDirectMessage) -> bool:
        if self._max_reply_age_seconds is None or reply.received_at_ms is None:
            return False
        return self._now() * 1000 - reply.received_at_ms > self._max_reply_age_seconds * 1000

    def _skip_too_old(self, reply: SendTweet) -> str:
        assert reply.received_at_ms is not None  # _too_old said so
        age_seconds = round(self._now() - reply.received_at_ms / 1000)
        logger.warning(
            "reply skipped: too old",
            extra={"in_reply_to": reply.reply_to_tweet_id, "age_seconds": age_seconds},
        )
        return self._skip(reply, TOO_OLD, SKIPPED_TOO_OLD)

    def _skip(self, reply: SendTweet, reason: str, result: str) -> str:
        """REPLY_SKIPPED with the reason; `result` is what send() returns and records."""
        if reason != TOO_OLD:
            logger.warning("reply skipped", extra={"reason": reason, "in_reply_to": reply.reply_to_tweet_id})
        self._publish_skipped(
            ReplySkipped(
                twitter=TwitterRef(tweet_id=reply.reply_to_tweet_id, user_id=reply.reply_to_user_id),
                author=None,
                reason=reason,
            )
        )
        return result

    def _publish_skipped(self, skipped: ReplySkipped) -> None:
        if self._publisher is not None:
            # Raised if the bus refuses it: nothing was sent, so the retry may safely try again.
            self._publisher.publish([BusEvent(names.SOURCE_EGRESS, names.REPLY_SKIPPED, skipped.to_detail())])

    def _take_from_budget(self, reply: SendTweet | SendDirectMessage) -> None:
        budget = self._budget
        if budget is None:
            return
        if budget.counters.take(BUDGET_KEY, limit=budget.posts, window_seconds=budget.window_seconds):
            return
        now = self._now()
        _record, window_ends = window_key(BUDGET_KEY, budget.window_seconds, now)
        retry_after = window_ends - now
        logger.info(
            "posting budget full: reply delayed",
            extra={"in_reply_to": _answered(reply), "retry_after_seconds": round(retry_after)},
        )
        raise PostBudgetExhaustedError(
            f"posting budget of {budget.posts} per {budget.window_seconds}s used; "
            f"the window resets in {retry_after:.0f}s",
            retry_after_seconds=retry_after,
        )

    def _record_posted(self, publisher: EventPublisher, reply: SendTweet, posted: str) -> None:
        outcome = ReplyPosted(
            reply_to_tweet_id=reply.reply_to_tweet_id,
            reply_to_user_id=reply.reply_to_user_id,
            posted_tweet_id=posted,
            latency_ms=self._latency_ms(reply),
        )
        self._publish_best_effort(
            publisher, outcome.to_detail(), "REPLY_POSTED not published", extra={"tweet_id": posted}
        )

    def _latency_ms(self, reply: SendTweet | SendDirectMessage) -> int | None:
        """From X's delivery to now, when the delivery's time is known."""
        if reply.received_at_ms is None:
            return None
        return max(0, int(self._now() * 1000) - reply.received_at_ms)

    @staticmethod
    def _publish_best_effort(
        publisher: EventPublisher,
        detail: dict[str, Any],
        failure: str,
        *,
        extra: dict[str, str],
        detail_type: str = names.REPLY_POSTED,
    ) -> None:
        """Publish an outcome that must not fail what it reports; a bus refusal is logged (`failure`).
        REPLY_POSTED: the answer is on X, and a retry would post it again. MEDIA_DELETED (a deleted
        post's late photos): the reply's skip must still be recorded, and the photos are gone anyway."""
        try:
            publisher.publish([BusEvent(names.SOURCE_EGRESS, detail_type, detail)])
        except Exception:
            logger.exception(failure, extra=extra)

    def _post(self, reply: SendTweet, remaining_ms: Callable[[], int] | None) -> str:
        images = self._load_images(reply)
        text = fit_reply(reply.text)
        if text != reply.text:
            logger.info("reply text shortened to fit X", extra={"chars": len(reply.text), "kept": len(text)})
        # X keeps one copy of a text per account: a duplicate means the reply (or one like it) is on X.
        return self._send_once_more_after_reset(
            lambda: self._poster.post_reply(text, reply.reply_to_tweet_id, images),
            remaining_ms,
            retrying="retrying the reply after X's rate-limit reset",
            duplicate="X refused the reply as a duplicate; counted as posted",
        )

    def _send_once_more_after_reset(
        self, send: Callable[[], str], remaining_ms: Callable[[], int] | None, *, retrying: str, duplicate: str
    ) -> str:
        """`send()`; on a 429, once more after X's reset when that fits the time left. A second
        429 is transient (the event is retried later); a duplicate counts as sent (DUPLICATE)."""
        try:
            try:
                return send()
            except RateLimitedError as error:
                self._wait_for_reset(error, remaining_ms)
                logger.info(retrying)
                return send()
        except RateLimitedError as error:
            raise RateLimitedTransientError(f"still rate limited after waiting: {error}") from error
        except DuplicateContentError:
            logger.info(duplicate)
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


def _answered(reply: SendTweet | SendDirectMessage) -> str:
    """The id answered, for log lines: the post, or "dm:<event id>" for a DM."""
    return reply.reply_to_tweet_id if isinstance(reply, SendTweet) else f"dm:{reply.reply_to_dm_event_id}"


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
