"""The page's read model: what happened to each message, built from the state folder, read-only.

`StateReader` follows what `botctl serve` writes, as `botctl tail` does (botlocal.tail): the journal
opened read-only (`mode=ro`) and read by `seq` (every event once, in commit order), and the
append-only alerts and outbox files by byte offset. Each `refresh()` reads only what is new, so a
journal of 20,000 events is parsed once, and the page's one-second polls cost a query that returns
nothing. Nothing here writes: the reader takes no write lock and never creates a file (the journal
may not exist yet; it is picked up when it does).

Memory is bounded: the conversations kept (KEPT_CONVERSATIONS, the newest), the latency points
(KEPT_LATENCIES) and the outbox and alert records waiting for their message (KEPT_RECORDS).

Direct messages: their text is never kept (so it cannot be shown), nor the parts of their analysis
that quote it (entities, key phrases), nor the text of the bot's answer (as in `botctl tail`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts import names
from chalicelib.contracts.messages import DM, DM_KEY_PREFIX, POST, is_direct_message
from chalicelib.contracts.oversized import OVERSIZED_KEY

from botlocal.files import new_json_lines
from botlocal.journal import DEAD, DeadLetter, JournalReader, json_object, read_dead_letters, rows_after
from botlocal.layout import LocalLayout

#: Conversations kept in memory (the page shows the newest SHOWN_CONVERSATIONS of them).
KEPT_CONVERSATIONS: Final = 500
#: Conversations the page shows, newest first.
SHOWN_CONVERSATIONS: Final = 100
#: Delivery-to-reply latencies kept for the chart and the percentiles (the newest).
KEPT_LATENCIES: Final = 500
#: Outbox lines and alerts kept until their message is shown (they may be read before its events).
KEPT_RECORDS: Final = 2000
#: Dead letters shown (the newest); `botctl deadletters` lists them all.
SHOWN_DEAD_LETTERS: Final = 50
#: Events read per query while catching up.
_BATCH: Final = 1000
#: The longest text kept of a post (X allows 25,000 characters); the rest is cut with "…".
MAX_TEXT_CHARS: Final = 2000

ANSWERED: Final = "answered"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"
ALERTED: Final = "alerted"
PENDING: Final = "pending"


@dataclass
class Conversation:
    """One message the bot received (a post, or a direct message) and what became of it."""

    key: str  #: the post's TweetId, or "dm:" + the direct message's EventId (the page's data-message-id)
    channel: str = POST
    author: str | None = None
    user_id: str | None = None
    #: The post's text; always None for a direct message.
    text: str | None = None
    #: The detail was claim-checked (too large for the bus): its text is in the payload store.
    oversized: bool = False
    received_at: float | None = None  #: epoch seconds, when the journal recorded MESSAGE_RECEIVED
    photo_count: int = 0
    #: MESSAGE_ANALYSED's analysis (Analysis); for a DM only its sentiment and language.
    analysis: dict[str, Any] | None = None
    #: The original photos' media-store keys, and the photos that could not be analysed and why.
    photo_keys: list[str] = field(default_factory=list)
    photo_errors: list[str] = field(default_factory=list)
    photos_deleted: str | None = None  #: MEDIA_DELETED's reason: the photos are gone
    #: The reply: SEND_TWEET's text (None for a DM answer, whose text is not shown) and photos.
    replied: bool = False
    reply_text: str | None = None
    reply_keys: list[str] = field(default_factory=list)
    withheld: str | None = None  #: what the photo check kept from being reposted
    posted_id: str | None = None  #: REPLY_POSTED's PostedTweetId or PostedDmEventId
    latency_ms: int | None = None
    skip_reason: str | None = None
    failure: str | None = None
    #: Filled in by the snapshot: the outbox's photos of the reply (file names in the outbox
    #: folder), the alert raised for the message, the deliveries given up on.
    outbox_images: list[str] = field(default_factory=list)
    alert: str | None = None
    dead_letters: list[str] = field(default_factory=list)

    @property
    def is_dm(self) -> bool:
        return self.channel == DM

    @property
    def status(self) -> str:
        """What became of the message, the most final first: answered (the reply is posted), skipped
        (a guard or Egress said no), failed (its analysis, or a delivery given up on), alerted (an
        alert went out, nothing else yet) or pending."""
        if self.posted_id is not None:
            return ANSWERED
        if self.skip_reason is not None:
            return SKIPPED
        if self.failure is not None or self.dead_letters:
            return FAILED
        if self.alert is not None:
            return ALERTED
        return PENDING


@dataclass(frozen=True)
class LatencyPoint:
    at: float  #: when the reply was posted (epoch seconds)
    milliseconds: int


@dataclass(frozen=True)
class PageView:
    """What the page shows, at one moment: copies, safe to render while the reader goes on."""

    conversations: list[Conversation]  #: newest first, at most SHOWN_CONVERSATIONS
    total_conversations: int  #: conversations seen since the journal began (kept or not)
    counts: dict[str, int]  #: events per detail-type
    latencies: list[LatencyPoint]  #: oldest first
    dead_letters: list[DeadLetter]  #: newest first, at most SHOWN_DEAD_LETTERS
    dead_letter_count: int
    alert_count: int
    journal_exists: bool


class StateReader:
    """Follows a state folder's journal, alerts and outbox; `view()` is what the page shows.

    Not thread-safe: the page server calls it under its lock."""

    def __init__(
        self, layout: LocalLayout, *, kept: int = KEPT_CONVERSATIONS, shown: int = SHOWN_CONVERSATIONS
    ) -> None:
        self._layout = layout
        self._kept = kept
        self._shown = shown
        self._journal = JournalReader(self._layout.journal)
        self._last_seq = 0
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()
        self._total = 0
        self._counts: Counter[str] = Counter()
        self._latencies: list[LatencyPoint] = []
        self._alerts_offset = 0
        self._alert_count = 0
        self._alerts: OrderedDict[str, str] = OrderedDict()  #: message key -> what the alert said
        self._outbox_offset = 0
        #: The outbox's photo file names by the post each reply answers.
        self._outbox: OrderedDict[str, list[str]] = OrderedDict()
        self._dead: list[DeadLetter] = []
        self._dead_signature: tuple[object, ...] | None = None
        #: Grows whenever something shown may have changed: the page re-renders only then.
        self.version = 0

    # --- following ------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read what is new in the journal, the alerts and the outbox; True when anything was."""
        changed = self._read_events()
        changed = self._read_alerts() or changed
        changed = self._read_outbox() or changed
        changed = self._read_dead_letters() or changed
        if changed:
            self.version += 1
        return changed

    def close(self) -> None:
        self._journal.close()

    def _read_events(self) -> bool:
        connection = self._journal.connection()
        if connection is None:
            return False
        changed = False
        # SQLite reads every event's type; only the events the page shows are parsed here (the raw
        # webhook bodies, the largest, are only counted).
        wanted = ", ".join("?" * len(_SHOWN_TYPES))
        # Placeholders only are formatted in: the types are parameters.
        query = (
            "SELECT seq, json_extract(envelope, '$.\"detail-type\"') AS type, "  # noqa: S608
            f"CASE WHEN json_extract(envelope, '$.\"detail-type\"') IN ({wanted}) THEN envelope END, recorded_at "
            "FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        for seq, detail_type, text, recorded_at in rows_after(
            connection, query, _SHOWN_TYPES, self._last_seq, batch=_BATCH
        ):
            self._last_seq = seq
            changed = True
            self._counts[str(detail_type or "?")] += 1
            if text is None:
                continue
            envelope = json_object(text)
            if envelope is not None:
                self._apply(envelope, float(recorded_at))
        return changed

    def _read_dead_letters(self) -> bool:
        connection = self._journal.connection()
        if connection is None:
            return False
        try:
            # Dead letters can be many and large: they are read again only when a cheap signature
            # of them changed (one died, or was redriven), not at every refresh.
            signature = tuple(
                connection.execute(
                    "SELECT count(*), max(updated_at), total(updated_at) FROM deliveries WHERE state = ?", (DEAD,)
                ).fetchone()
            )
            if signature == self._dead_signature:
                return False
            self._dead_signature = signature
            letters = read_dead_letters(connection)
        except sqlite3.OperationalError:
            return False
        if [_letter_id(letter) for letter in letters] == [_letter_id(letter) for letter in self._dead]:
            return False
        self._dead = letters
        return True

    def _read_alerts(self) -> bool:
        records, self._alerts_offset = new_json_lines(self._layout.alerts, self._alerts_offset)
        for record in records:
            self._alert_count += 1
            attributes = record.get("attributes")
            if not isinstance(attributes, Mapping):
                continue
            key = _alert_key(attributes)
            if key is not None:
                sentiment = attributes.get("Sentiment")
                subject = str(record.get("subject") or "alert")
                # The subject and sentiment only: a post's alert body quotes the post (shown already).
                _remember(self._alerts, key, f"{subject} ({sentiment})" if sentiment else subject)
        return bool(records)

    def _read_outbox(self) -> bool:
        records, self._outbox_offset = new_json_lines(self._layout.outbox, self._outbox_offset)
        for record in records:
            key = record.get("ReplyToTweetId")
            images = record.get("Images")
            # A DM answer is text only (and its text private): only replies to posts are kept.
            if record.get("Channel") != DM and key and isinstance(images, list):
                _remember(self._outbox, str(key), [Path(str(path)).name for path in images])
        return bool(records)

    # --- events ---------------------------------------------------------------------------------

    def _apply(self, envelope: Mapping[str, Any], recorded_at: float) -> None:
        detail_type = str(envelope.get("detail-type") or "?")
        detail = _detail_of(envelope)
        if OVERSIZED_KEY in detail:
            detail = self._resolved(detail)
        if detail_type == names.MEDIA_DELETED:
            self._media_deleted(detail)
            return
        key = message_key(detail)
        if key is None:
            return
        if detail_type in (names.MESSAGE_RECEIVED, names.MESSAGE_SKIPPED):
            conversation = self._conversation(key, create=True)
        else:
            conversation = self._conversation(key, create=False)
        if conversation is None:
            return  # a message older than the ones kept
        if is_direct_message(detail):
            conversation.channel = DM
        if detail.get("Author") and conversation.author is None:
            conversation.author = str(detail["Author"])
        if OVERSIZED_KEY in detail and detail_type in (names.MESSAGE_RECEIVED, names.MESSAGE_ANALYSED):
            conversation.oversized = True  # and its payload could not be read: only the ids are known
        handler = _HANDLERS.get(detail_type)
        if handler is not None:
            handler(self, conversation, detail, recorded_at)

    def _resolved(self, detail: Mapping[str, Any]) -> Mapping[str, Any]:
        """A claim-checked detail, whole again: read (never written) from the state folder's
        oversized/ folder and checked against the pointer, as every consumer of the bus does; the
        pointer and the fields kept beside it when that fails."""
        from chalicelib.publishing import PayloadResolver

        from botlocal.payloads import LocalPayloadStore

        try:
            return PayloadResolver(LocalPayloadStore(self._layout.root)).resolve(dict(detail))
        except Exception:  # a payload deleted or damaged: show what the bus kept
            return detail

    def _conversation(self, key: str, *, create: bool) -> Conversation | None:
        conversation = self._conversations.get(key)
        if conversation is None and create:
            conversation = self._conversations[key] = Conversation(key=key)
            self._total += 1
            while len(self._conversations) > self._kept:
                self._conversations.popitem(last=False)
        return conversation

    def _received(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        conversation.received_at = recorded_at
        twitter = detail.get("Twitter")
        if isinstance(twitter, Mapping) and twitter.get("UserId"):
            conversation.user_id = str(twitter["UserId"])
        if not conversation.is_dm:
            text = detail.get("Text")
            conversation.text = _clip(str(text)) if isinstance(text, str) else None
            photos = detail.get("ImageUrls")
            conversation.photo_count = len(photos) if isinstance(photos, list) else 0

    def _skipped(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        if conversation.received_at is None:
            conversation.received_at = recorded_at  # the bot's own post: no MESSAGE_RECEIVED before it
        conversation.skip_reason = str(detail.get("Reason") or "no reason given")

    def _analysed(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        analysis = detail.get("Analysis")
        if not isinstance(analysis, Mapping):
            return
        if conversation.is_dm:
            # Entities and key phrases quote the DM's text: only what says nothing of it is kept.
            conversation.analysis = {key: analysis.get(key) for key in ("TextSentiment", "SentimentScore", "Language")}
            return
        conversation.analysis = dict(analysis)
        images = analysis.get("Images")
        conversation.photo_keys = []
        conversation.photo_errors = []
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, Mapping):
                continue
            if image.get("Key") and not image.get("Error"):
                conversation.photo_keys.append(str(image["Key"]))
            elif image.get("Error"):
                conversation.photo_errors.append(str(image["Error"]))

    def _failed(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        # Its Reason only: the detail also carries the message's text.
        conversation.failure = f"analysis failed: {detail.get('Reason') or 'no reason given'}"

    def _send_tweet(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        conversation.replied = True
        text = detail.get("Text")
        conversation.reply_text = _clip(str(text)) if text is not None else None
        keys = detail.get("ImageKeys")
        if keys is None and detail.get("ImageKey"):
            keys = [detail["ImageKey"]]
        conversation.reply_keys = [str(key) for key in keys] if isinstance(keys, list) else []
        moderation = detail.get("Moderation")
        if isinstance(moderation, Mapping) and moderation.get("Withheld"):
            categories = moderation.get("Categories")
            named = ", ".join(str(c) for c in categories) if isinstance(categories, list) and categories else ""
            withheld = f"{moderation['Withheld']} photo(s) not reposted by the photo check"
            conversation.withheld = f"{withheld}: {named}" if named else withheld

    def _send_dm(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        conversation.replied = True  # the answer's text stays private, as in `botctl tail`
        conversation.reply_text = None

    def _posted(self, conversation: Conversation, detail: Mapping[str, Any], recorded_at: float) -> None:
        posted = detail.get("PostedDmEventId") if conversation.is_dm else detail.get("PostedTweetId")
        conversation.posted_id = str(posted or "?")
        conversation.replied = True
        latency = detail.get("LatencyMs")
        if not isinstance(latency, int) or isinstance(latency, bool):
            # Older events carry no LatencyMs: the journal's own times stand in for Ingress's.
            latency = (
                round((recorded_at - conversation.received_at) * 1000) if conversation.received_at is not None else None
            )
        conversation.latency_ms = latency
        if latency is not None and latency >= 0:
            self._latencies.append(LatencyPoint(recorded_at, latency))
            del self._latencies[:-KEPT_LATENCIES]

    def _media_deleted(self, detail: Mapping[str, Any]) -> None:
        twitter = detail.get("Twitter")
        if not isinstance(twitter, Mapping):
            return
        reason = str(detail.get("Reason") or "deleted")
        tweet_id, user_id = twitter.get("TweetId"), twitter.get("UserId")
        for conversation in self._conversations.values():
            if (tweet_id and conversation.key == str(tweet_id)) or (
                not tweet_id and user_id and conversation.user_id == str(user_id)
            ):
                conversation.photos_deleted = reason

    # --- the view -------------------------------------------------------------------------------

    def view(self) -> PageView:
        dead_by_key: dict[str, list[str]] = {}
        for letter in self._dead:
            key = message_key(_detail_of(letter.envelope))
            if key is not None:
                dead_by_key.setdefault(key, []).append(
                    f"{letter.detail_type} to {letter.target} given up after {letter.attempts} attempt(s)"
                )
        shown: list[Conversation] = []
        for conversation in _newest(self._conversations, self._shown):
            images = [] if conversation.is_dm else self._outbox.get(conversation.key, [])
            shown.append(
                replace(
                    conversation,
                    analysis=dict(conversation.analysis) if conversation.analysis is not None else None,
                    photo_keys=list(conversation.photo_keys),
                    photo_errors=list(conversation.photo_errors),
                    reply_keys=list(conversation.reply_keys),
                    outbox_images=list(images),
                    alert=self._alerts.get(conversation.key),
                    dead_letters=dead_by_key.get(conversation.key, []),
                )
            )
        return PageView(
            conversations=shown,
            total_conversations=self._total,
            counts=dict(sorted(self._counts.items())),
            latencies=list(self._latencies),
            dead_letters=list(reversed(self._dead[-SHOWN_DEAD_LETTERS:])),
            dead_letter_count=len(self._dead),
            alert_count=self._alert_count,
            journal_exists=self._layout.journal.exists(),
        )


#: The events that change what the page shows of a message (the others are counted only).
_SHOWN_TYPES: Final = (
    names.MESSAGE_RECEIVED,
    names.MESSAGE_SKIPPED,
    names.REPLY_SKIPPED,
    names.MESSAGE_ANALYSED,
    names.MESSAGE_ANALYSIS_FAILED,
    names.SEND_TWEET,
    names.SEND_DM,
    names.REPLY_POSTED,
    names.MEDIA_DELETED,
)
_Handler = Callable[[StateReader, Conversation, Mapping[str, Any], float], None]
_HANDLERS: Final[dict[str, _Handler]] = {
    names.MESSAGE_RECEIVED: StateReader._received,
    names.MESSAGE_SKIPPED: StateReader._skipped,
    names.REPLY_SKIPPED: StateReader._skipped,
    names.MESSAGE_ANALYSED: StateReader._analysed,
    names.MESSAGE_ANALYSIS_FAILED: StateReader._failed,
    names.SEND_TWEET: StateReader._send_tweet,
    names.SEND_DM: StateReader._send_dm,
    names.REPLY_POSTED: StateReader._posted,
}


def message_key(detail: Mapping[str, Any]) -> str | None:
    """The message an event is about: "dm:" + the DM's EventId, the post's TweetId, or the post a
    reply answers (SEND_TWEET, REPLY_POSTED); None for an event about no message."""
    if is_direct_message(detail):
        direct_message = detail.get("DirectMessage")
        if isinstance(direct_message, Mapping) and direct_message.get("EventId"):
            return f"{DM_KEY_PREFIX}{direct_message['EventId']}"
        return None
    twitter = detail.get("Twitter")
    if isinstance(twitter, Mapping) and twitter.get("TweetId"):
        return str(twitter["TweetId"])
    if detail.get("ReplyToTweetId"):
        return str(detail["ReplyToTweetId"])
    return None


def _alert_key(attributes: Mapping[str, Any]) -> str | None:
    if attributes.get("DmEventId"):
        return f"{DM_KEY_PREFIX}{attributes['DmEventId']}"
    if attributes.get("TweetId"):
        return str(attributes["TweetId"])
    return None


def _detail_of(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    detail = envelope.get("detail")
    return detail if isinstance(detail, Mapping) else {}


def _letter_id(letter: DeadLetter) -> tuple[str, str, float]:
    return (letter.event_id, letter.target, letter.failed_at)


def _newest(conversations: OrderedDict[str, Conversation], count: int) -> Iterator[Conversation]:
    for index, conversation in enumerate(reversed(conversations.values())):
        if index >= count:
            return
        yield conversation


def _remember(records: OrderedDict[str, Any], key: str, value: Any) -> None:
    records[key] = value
    records.move_to_end(key)
    while len(records) > KEPT_RECORDS:
        records.popitem(last=False)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "\u2026"
