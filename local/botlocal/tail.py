"""`botctl tail`: the local bus, live, one readable line per event (and per alert).

Reads what `botctl serve` writes and changes nothing: the journal (LocalLayout.journal) opened
read-only and polled by `seq` (its AUTOINCREMENT key: SQLite has one writer at a time, so events
commit in seq order and "seq > the last seen" never misses one), and the alerts file
(LocalLayout.alerts: alerts are not bus events) followed by its byte offset, as `tail -f` does.

summarise() and summarise_alert() are pure functions of an envelope or an alert record, render()
and to_json() of their result; follow() takes its stop condition and sleep, so all of it is
testable without a terminal or a server. Nothing here ever prints a direct message's text: the
summaries are built from chosen fields, never from a whole detail.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import click
from chalicelib.contracts import names
from chalicelib.contracts.messages import is_direct_message
from chalicelib.contracts.oversized import OVERSIZED_KEY

from botlocal.files import new_json_lines
from botlocal.journal import JournalReader, json_object, rows_after
from botlocal.layout import LocalLayout

#: The pseudo detail-type of an alert (there is no alert event on the bus: see module docstring).
ALERT: Final = "ALERT"
#: Lines shown before following when neither -n nor --since says otherwise (as `tail`).
DEFAULT_LINES: Final = 10
#: How often the journal and the alerts file are looked at while following.
POLL_SECONDS: Final = 0.3
#: Line width when stdout is not a terminal.
PIPE_WIDTH: Final = 160
#: What a direct message shows instead of its text, and the answer to one instead of its text.
DM_TEXT: Final = "(direct message)"
DM_ANSWER: Final = "(DM answer)"
#: The longest summary (--json included): a post may be 25,000 characters.
MAX_SUMMARY_CHARS: Final = 500
#: Labels named per photo (the most confident first, as the analysis orders them).
LABELS_SHOWN: Final = 3
#: Authors remembered to name whom a reply answers (about 100 bytes each).
_AUTHORS_REMEMBERED: Final = 10_000
#: Events read from the journal per query while catching up.
_BATCH: Final = 500

#: One short word per raw event type: what happened on X, not its contents.
_RAW_WORDS: Final[dict[str, str]] = {
    names.TWITTER_TWEETED: "post",
    names.TWITTER_FAVOURITED: "like",
    names.TWITTER_FOLLOWED: "follow",
    names.TWITTER_UNFOLLOWED: "unfollow",
    names.TWITTER_BLOCKED: "block",
    names.TWITTER_UNBLOCKED: "unblock",
    names.TWITTER_MUTED: "mute",
    names.TWITTER_UNMUTED: "unmute",
    names.TWITTER_PERMISSION_REVOKED: "revoked",
    names.TWITTER_DM_RECEIVED: "DM",
    names.TWITTER_DM_TYPING: "typing",
    names.TWITTER_DM_MARKED_READ: "read",
    names.TWITTER_DELETED: "deleted",
    names.TWITTER_REPLAY_JOB_STATUS: "replay",
    names.TWITTER_UNKNOWN: "unknown",
    names.TWITTER_MENTION_POLLED: "mention",
}

#: Colours by what an event means (click.style names): the eye finds failures and alerts first.
_COLOURS: Final[dict[str, dict[str, Any]]] = {
    names.MESSAGE_RECEIVED: {"fg": "cyan"},
    names.MESSAGE_ANALYSED: {"fg": "blue"},
    names.SEND_TWEET: {"fg": "green"},
    names.SEND_DM: {"fg": "green"},
    names.REPLY_POSTED: {"fg": "green", "bold": True},
    names.REPLY_SKIPPED: {"fg": "yellow"},
    names.MESSAGE_SKIPPED: {"fg": "yellow"},
    names.MESSAGE_ANALYSIS_FAILED: {"fg": "red", "bold": True},
    names.DELIVERY_REJECTED: {"fg": "red"},
    ALERT: {"fg": "magenta", "bold": True},
}
_RAW_COLOUR: Final[dict[str, Any]] = {"dim": True}

#: The column where the time, the type and the author end (the summary starts after the last).
_FIELD_ENDS: Final = (8, 8 + 1 + 16, 8 + 1 + 16 + 1 + 14)

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Entry:
    """One line of the tail: an event or an alert, summarised."""

    at: float  #: epoch seconds (when the bus recorded the event; when the alert was written)
    type: str  #: the detail-type, or ALERT
    author: str | None
    summary: str
    ids: dict[str, str] = field(default_factory=dict)


# --- summaries: pure functions of an envelope or an alert ---------------------------------------


def summarise(envelope: Mapping[str, Any], recorded_at: float | None = None) -> Entry:
    """The line for one bus envelope (`recorded_at`: when the journal stored it; else its time)."""
    detail_type = str(envelope.get("detail-type") or "?")
    raw_detail = envelope.get("detail")
    detail: Mapping[str, Any] = raw_detail if isinstance(raw_detail, Mapping) else {}
    at = recorded_at if recorded_at is not None else _epoch(envelope.get("time"))
    ids = {"event_id": str(envelope.get("id", ""))} | _ids(detail)
    summariser = _SUMMARISERS.get(detail_type)
    if summariser is not None:
        summary = summariser(detail)
    elif detail_type in _RAW_WORDS or detail_type.startswith(names.X_ACTIVITY_PREFIX):
        summary = _RAW_WORDS.get(detail_type) or detail_type.removeprefix(names.X_ACTIVITY_PREFIX).lower()
    else:
        summary = ""
    pointer = detail.get(OVERSIZED_KEY)
    if isinstance(pointer, Mapping):
        # A claim-checked detail carries its routing fields only: say so, beside what they show.
        summary = f"{summary} [claim-checked, {pointer.get('Bytes', '?')} bytes]".strip()
    author = detail.get("Author") if detail_type in _AUTHORED else None
    return Entry(at, detail_type, str(author) if author else None, _clip_chars(summary), ids)


def summarise_alert(record: Mapping[str, Any]) -> Entry:
    """The line for one record of the alerts file (botlocal.alerts): its subject and sentiment.

    The message body is left out: a post's alert quotes the post (shown by MESSAGE_RECEIVED
    already), and it is the only free text an alert has."""
    raw_attributes = record.get("attributes")
    attributes: Mapping[str, Any] = raw_attributes if isinstance(raw_attributes, Mapping) else {}
    summary = str(record.get("subject") or "alert")
    if attributes.get("Sentiment"):
        summary += f" ({attributes['Sentiment']})"
    ids = {key: str(attributes[key]) for key in ("TweetId", "DmEventId") if attributes.get(key)}
    author = attributes.get("Author")
    return Entry(_epoch(record.get("time")), ALERT, str(author) if author else None, _clip_chars(summary), ids)


def _ids(detail: Mapping[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    twitter = detail.get("Twitter")
    if isinstance(twitter, Mapping) and twitter.get("TweetId"):
        ids["TweetId"] = str(twitter["TweetId"])
    direct_message = detail.get("DirectMessage")
    if isinstance(direct_message, Mapping) and direct_message.get("EventId"):
        ids["DmEventId"] = str(direct_message["EventId"])
    for key in ("ReplyToTweetId", "PostedTweetId", "PostedDmEventId"):
        if detail.get(key):
            ids[key] = str(detail[key])
    return ids


def _received(detail: Mapping[str, Any]) -> str:
    if is_direct_message(detail):
        return f"DM {DM_TEXT}"
    text = _quoted(detail.get("Text"))
    photos = detail.get("ImageUrls")
    return f"{text} +{_count(photos, 'photo')}" if isinstance(photos, list) and photos else text


def _analysed(detail: Mapping[str, Any]) -> str:
    raw_analysis = detail.get("Analysis")
    analysis: Mapping[str, Any] = raw_analysis if isinstance(raw_analysis, Mapping) else {}
    parts = [str(analysis.get("TextSentiment") or "no sentiment")]
    images = analysis.get("Images")
    for number, image in enumerate(images if isinstance(images, list) else [], start=1):
        if isinstance(image, Mapping):
            parts.append(f"photo {number}: {_found(image)}")
    if is_direct_message(detail):
        return "DM " + "; ".join(parts)
    return "; ".join(parts)


def _found(image: Mapping[str, Any]) -> str:
    """What a photo's analysis found: people recognised, the top labels, other faces."""
    if image.get("Error"):
        return f"not analysed: {image['Error']}"
    analysis = image.get("Analysis")
    if not isinstance(analysis, Mapping):
        return "not analysed"
    found = _names(analysis.get("CelebrityFaces"))
    found += _names(analysis.get("Labels"))[:LABELS_SHOWN]
    faces = analysis.get("UnrecognizedFaces")
    if isinstance(faces, list) and faces:
        found.append(_count(faces, "face"))
    return ", ".join(found) or "nothing found"


def _names(records: Any) -> list[str]:
    if not isinstance(records, list):
        return []
    return [str(record["Name"]) for record in records if isinstance(record, Mapping) and record.get("Name")]


def _send_tweet(detail: Mapping[str, Any]) -> str:
    summary = f"reply {_quoted(detail.get('Text'))}"
    keys = detail.get("ImageKeys")
    if isinstance(keys, list) and keys:
        summary += f" +{_count(keys, 'photo')}"
    moderation = detail.get("Moderation")
    if isinstance(moderation, Mapping) and moderation.get("Withheld"):
        withheld = f"{moderation['Withheld']} withheld by moderation"
        categories = moderation.get("Categories")
        if isinstance(categories, list) and categories:
            withheld += f": {', '.join(str(category) for category in categories)}"
        summary += f" ({withheld})"
    return summary


def _reply_posted(detail: Mapping[str, Any]) -> str:
    latency = detail.get("LatencyMs")
    after = f" after {latency / 1000:.1f} s" if isinstance(latency, int) and not isinstance(latency, bool) else ""
    if is_direct_message(detail):
        return f"DM answer sent{after}"
    return f"posted {detail.get('PostedTweetId', '?')} in reply to {detail.get('ReplyToTweetId', '?')}{after}"


def _reason(prefix: str) -> Callable[[Mapping[str, Any]], str]:
    def summary(detail: Mapping[str, Any]) -> str:
        channel = "DM " if is_direct_message(detail) else ""
        return f"{channel}{prefix}: {detail.get('Reason') or 'no reason given'}"

    return summary


def _rejected(detail: Mapping[str, Any]) -> str:
    where = f" ({detail['key']})" if detail.get("key") else ""
    return f"{detail.get('Reason') or 'rejected'}{where}"


def _media_deleted(detail: Mapping[str, Any]) -> str:
    count = detail.get("DeletedCount")
    return f"{count if isinstance(count, int) else '?'} objects deleted: {detail.get('Reason') or '?'}"


_SUMMARISERS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    names.MESSAGE_RECEIVED: _received,
    names.MESSAGE_ANALYSED: _analysed,
    names.SEND_TWEET: _send_tweet,
    names.SEND_DM: lambda detail: DM_ANSWER,
    names.REPLY_POSTED: _reply_posted,
    names.REPLY_SKIPPED: _reason("skipped"),
    names.MESSAGE_SKIPPED: _reason("skipped"),
    names.MESSAGE_ANALYSIS_FAILED: _reason("failed"),
    names.DELIVERY_REJECTED: _rejected,
    names.MEDIA_DELETED: _media_deleted,
}
#: The events whose detail names the message's author (Author).
_AUTHORED: Final = frozenset(
    {
        names.MESSAGE_RECEIVED,
        names.MESSAGE_ANALYSED,
        names.REPLY_SKIPPED,
        names.MESSAGE_SKIPPED,
        names.MESSAGE_ANALYSIS_FAILED,
    }
)


def _quoted(text: Any) -> str:
    return f'"{_one_line(str(text or ""))}"'


def _count(items: Any, noun: str) -> str:
    number = len(items) if isinstance(items, list) else 0
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _one_line(text: str) -> str:
    """The text on one line, with no control character (a post could carry terminal escapes)."""
    cleaned = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in text)
    return " ".join(cleaned.split())


def _clip_chars(text: str) -> str:
    return text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 1] + "\u2026"


# --- output -------------------------------------------------------------------------------------


def render(entry: Entry, *, colour: bool, width: int, local_time: bool = True) -> str:
    """One line: time, type, author, summary; cut to `width` columns, never inside a character."""
    when = datetime.fromtimestamp(entry.at, UTC)
    stamp = (when.astimezone() if local_time else when).strftime("%H:%M:%S")
    fields: list[tuple[str, dict[str, Any]]] = [
        (stamp, {"dim": True}),
        (entry.type, _COLOURS.get(entry.type, _RAW_COLOUR)),
        (f"@{_one_line(entry.author)}" if entry.author else "-", {"bold": True}),
    ]
    if entry.summary:
        fields.append((_one_line(entry.summary), {}))
    out: list[str] = []
    remaining = width
    for index, (text, style) in enumerate(fields):
        if index and remaining > 0:
            out.append(" ")
            remaining -= 1
        if index + 1 < len(fields):
            # Pad to the field's column; a long type or name takes from the next field's padding,
            # so the summaries still start in one column.
            text = text.ljust(_FIELD_ENDS[index] - (width - remaining))
        cut = _clip_width(text, remaining)
        remaining -= _width(cut)
        if cut:
            out.append(click.style(cut, **style) if colour and style else cut)
        if cut != text or remaining <= 0:
            break
    return "".join(out).rstrip()


def use_colour(*, terminal: bool, no_color: bool, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal that has it, and never with --no-color or NO_COLOR set
    (https://no-color.org: any non-empty value)."""
    return terminal and not no_color and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def to_json(entry: Entry) -> str:
    """The entry as one JSON object (--json): time (ISO, UTC), type, author, summary, ids."""
    return json.dumps(
        {
            "time": datetime.fromtimestamp(entry.at, UTC).isoformat(timespec="milliseconds"),
            "type": entry.type,
            "author": entry.author,
            "summary": entry.summary,
            "ids": entry.ids,
        },
        ensure_ascii=False,
    )


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_char_width(char) for char in text)


def _clip_width(text: str, columns: int) -> str:
    """`text` cut to `columns` display columns with "…" at the end when cut; a wide character or a
    letter with its combining marks is kept whole or left out whole."""
    if _width(text) <= columns:
        return text
    if columns <= 0:
        return ""
    used, end = 0, 0
    for index, char in enumerate(text):
        char_width = _char_width(char)
        if char_width and used + char_width > columns - 1:  # room for the ellipsis
            break
        used += char_width
        end = index + 1
    return text[:end] + "\u2026"


# --- time ---------------------------------------------------------------------------------------


def parse_since(value: str, *, now: datetime | None = None) -> float:
    """--since: a duration back from now (`90s`, `10m`, `2h`, `1d`) or an ISO time (a time without
    a zone is local time). Epoch seconds; ValueError when it is neither."""
    match = _SINCE.match(value)
    if match:
        current = now or datetime.now(UTC)
        return (current - timedelta(seconds=float(match[1]) * _UNITS[match[2]])).timestamp()
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration (10m, 2h, 1d) nor an ISO time") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as a person types it
    return moment.timestamp()


def _epoch(value: Any) -> float:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return 0.0
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return 0.0


# --- reading the state --------------------------------------------------------------------------


class TailSource:
    """What `botctl serve` left in a state folder, read without writing: the journal by seq and
    the alerts file by offset. Either may not exist yet (a tail started before the server)."""

    def __init__(self, layout: LocalLayout, *, types: Iterable[str] = (), since: float | None = None) -> None:
        self._layout = layout
        self._types = frozenset(types)
        self._since = since
        self._journal = JournalReader(self._layout.journal)
        #: Who wrote each message seen (its TweetId or DmEventId), so a reply's line names whom it
        #: answers: the SEND_TWEET and REPLY_POSTED details carry only ids. Bounded: it follows for days.
        self._authors: OrderedDict[str, str] = OrderedDict()
        self._last_seq = 0
        self._alerts_offset = 0

    def _wanted(self, entry_type: str, at: float) -> bool:
        return (not self._types or entry_type in self._types) and (self._since is None or at >= self._since)

    def backlog(self, lines: int | None) -> list[Entry]:
        """What is already there (the last `lines` entries, all when None), oldest first; following
        continues after it. Only the entries shown are summarised: a journal of 20,000 events
        starts in well under a second."""
        events = self._new_events()
        alerts = self._new_alerts()
        if lines is not None:
            # The last `lines` of the merge are among the last `lines` of each.
            events, alerts = (events[-lines:], alerts[-lines:]) if lines > 0 else ([], [])
        entries = sorted([self._entry(*event) for event in events] + alerts, key=lambda entry: entry.at)
        return entries if lines is None else entries[max(len(entries) - lines, 0) :]

    def poll(self) -> list[Entry]:
        """The entries written since the last call, oldest first."""
        entries = [self._entry(*event) for event in self._new_events()] + self._new_alerts()
        return sorted(entries, key=lambda entry: entry.at)

    def close(self) -> None:
        self._journal.close()

    def _new_events(self) -> list[tuple[dict[str, Any], float]]:
        """The envelopes appended since the last call that pass the filters, with when each was
        recorded; every MESSAGE_RECEIVED's author is learned on the way, filtered out or not."""
        connection = self._journal.connection()
        if connection is None:
            return []
        events: list[tuple[dict[str, Any], float]] = []
        query = "SELECT seq, envelope, recorded_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        for seq, text, recorded_at in rows_after(connection, query, (), self._last_seq, batch=_BATCH):
            self._last_seq = seq
            envelope = json_object(text)
            if envelope is None:
                continue
            self._learn_author(envelope)
            if self._wanted(str(envelope.get("detail-type")), recorded_at):
                events.append((envelope, recorded_at))
        return events

    def _learn_author(self, envelope: Mapping[str, Any]) -> None:
        detail = envelope.get("detail")
        if envelope.get("detail-type") != names.MESSAGE_RECEIVED or not isinstance(detail, Mapping):
            return
        author = detail.get("Author")
        ids = _ids(detail)
        key = ids.get("TweetId") or ids.get("DmEventId")
        if author and key:
            self._authors[key] = str(author)
            if len(self._authors) > _AUTHORS_REMEMBERED:
                self._authors.popitem(last=False)

    def _entry(self, envelope: Mapping[str, Any], recorded_at: float) -> Entry:
        """The summary, with the author of the message a reply answers when the detail names none."""
        entry = summarise(envelope, recorded_at)
        if entry.author is not None:
            return entry
        answered = entry.ids.get("ReplyToTweetId") or entry.ids.get("DmEventId")
        author = self._authors.get(answered) if answered else None
        return replace(entry, author=author) if author else entry

    def _new_alerts(self) -> list[Entry]:
        records, self._alerts_offset = new_json_lines(self._layout.alerts, self._alerts_offset)
        entries = [summarise_alert(record) for record in records]
        return [entry for entry in entries if self._wanted(entry.type, entry.at)]


def follow(
    source: TailSource,
    emit: Callable[[Entry], None],
    *,
    lines: int | None,
    follow: bool = True,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_SECONDS,
) -> None:
    """Emit the backlog, then (when `follow`) every new entry until `stop()` says so."""
    for entry in source.backlog(lines):
        emit(entry)
    while follow and not stop():
        sleep(interval)
        for entry in source.poll():
            emit(entry)


def known_types() -> Sequence[str]:
    """The detail-types --type accepts without a warning: every one the bot knows, and ALERT."""
    return (*names.ALL_DETAIL_TYPES, ALERT)
