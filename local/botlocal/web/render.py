"""The page's HTML, built with the standard library from a `state.PageView`.

Every value that comes from the state is passed through `_e` (html.escape, quotes included) before
it is placed in the page, text or attribute alike: authors, texts, labels, reasons and errors are
written by whoever posts to the bot. URLs are built from media keys with urllib's quote and escaped
too. There is no inline script or style (the Content-Security-Policy forbids both): the script and
the style sheet are files under /static/, and the chart is SVG with presentation attributes.

The DOM is a contract with the browser test (tests/browser): `section#live` holds everything that
updates; one `article.message[data-message-id][data-status]` per message, with `.author`, `.text`
(never for a DM), `img.photo`, `.analysis`, `.reply` > `.reply-text` and `img.annotated`, `.alert`,
`.skip-reason`; `table#counts` rows `tr[data-type]` > `td.count`; `div#latency` with the SVG and
`.p50`, `.p95`; `section#dead-letters` with one `.dead-letter` each.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from botlocal.journal import DeadLetter
from botlocal.web.state import Conversation, PageView

#: Where the page server serves the media store's files and the outbox's photos.
MEDIA_PATH: Final = "/media/"
OUTBOX_IMAGES_PATH: Final = "/outbox-images/"
#: Photo labels named per photo, and entities and key phrases named per message.
LABELS_SHOWN: Final = 5
TERMS_SHOWN: Final = 8
#: The chart's size (CSS pixels) and its inner margins.
#: Points drawn as dots, with their time and latency as a tooltip (the newest): the line shows all.
CHART_DOTS: Final = 60
CHART_WIDTH: Final = 360
CHART_HEIGHT: Final = 140
_MARGIN_LEFT: Final = 44
_MARGIN_RIGHT: Final = 8
_MARGIN_TOP: Final = 10
_MARGIN_BOTTOM: Final = 22

#: The languages the local model names most often, in words; any other shows its code.
_LANGUAGES: Final = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pt": "Portuguese",
    "ru": "Russian",
    "tr": "Turkish",
    "zh": "Chinese",
}
#: Comprehend's entity types in words.
_ENTITY_TYPES: Final = {
    "LOCATION": "place",
    "ORGANIZATION": "organisation",
    "COMMERCIAL_ITEM": "product",
    "EVENT": "event",
    "DATE": "date",
    "QUANTITY": "quantity",
    "TITLE": "title",
    "OTHER": "other",
}
_STATUS_WORDS: Final = {
    "answered": "answered",
    "skipped": "not answered",
    "failed": "failed",
    "alerted": "alert sent",
    "pending": "in progress",
}


def _e(value: object) -> str:
    """Escaped for HTML text and for an attribute value in double quotes."""
    return html.escape(str(value), quote=True)


# --- the page ----------------------------------------------------------------------------------


def page(live_region: str, *, state_folder: str) -> str:
    """The whole document around the live region (`live(view)`, which page.js replaces every second)."""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>xbot, live (local)</title>"
        '<link rel="stylesheet" href="/static/page.css">'
        '<script src="/static/page.js" defer></script>'
        "</head><body>"
        '<header class="top"><h1>The bot, live</h1>'
        f'<p class="where">Local runtime, state in <code>{_e(state_folder)}</code>. '
        'This page reads it and changes nothing. <span id="connection">Updating every second.</span></p>'
        "</header>"
        f"<main>{live_region}</main>"
        '<noscript><p class="note">Without JavaScript the page does not update: reload it.</p></noscript>'
        "</body></html>\n"
    )


def live(view: PageView) -> str:
    """The live region: the messages, and beside them the counts, the latency and the dead letters."""
    return (
        '<section id="live">'
        f'<div class="messages">{_conversations(view)}</div>'
        f'<aside class="panels">{_counts(view)}{_latency(view)}{_dead_letters(view)}</aside>'
        "</section>"
    )


def _conversations(view: PageView) -> str:
    if not view.conversations:
        hint = (
            "No message yet. Mention the bot: <code>botctl tweet &quot;tell me a joke&quot;</code>"
            if view.journal_exists
            else "No events yet: the bot has not been sent anything (the journal does not exist yet). "
            "Mention it: <code>botctl tweet &quot;tell me a joke&quot;</code>"
        )
        return f'<h2>Messages</h2><p class="empty">{hint}</p>'
    shown = len(view.conversations)
    heading = (
        f"Messages (the latest {shown} of {view.total_conversations})"
        if view.total_conversations > shown
        else f"Messages ({shown})"
    )
    return f"<h2>{_e(heading)}</h2>" + "".join(_article(conversation) for conversation in view.conversations)


def _article(c: Conversation) -> str:
    status = c.status
    parts = [
        '<header class="meta">',
        f'<span class="author">{_e("@" + c.author) if c.author else "(author unknown)"}</span>',
        f'<span class="channel">{"direct message" if c.is_dm else "post"}</span>',
        _time(c.received_at),
        f'<span class="status status-{_e(status)}">{_e(_STATUS_WORDS.get(status, status))}</span>',
        "</header>",
    ]
    # A post deleted on X (or its author's access revoked) is honoured here too: what it said and
    # showed, and what was found in it, are no longer shown (the media store's copies are gone).
    withdrawn = c.photos_deleted is not None and not c.is_dm
    if c.is_dm:
        parts.append('<p class="dm-note">A direct message arrived. Its text is private and not shown.</p>')
    elif withdrawn:
        parts.append(
            f'<p class="text note deleted">Deleted on X ({_e(c.photos_deleted)}): its text, photos and analysis '
            "are no longer shown.</p>"
        )
    elif c.text is not None:
        parts.append(f'<p class="text">{_e(c.text)}</p>')
    elif c.oversized:
        parts.append('<p class="text note">(a long post: its text travelled apart from the event)</p>')
    if not withdrawn:
        parts.append(_photos(c))
        parts.append(_analysis(c))
    if c.replied:
        parts.append(_reply(c, with_photos=not withdrawn))
    if c.alert is not None:
        parts.append(f'<p class="alert">Alert sent: {_e(c.alert)}</p>')
    reason = _no_answer(c)
    if reason is not None:
        parts.append(f'<p class="skip-reason">No answer: {_e(reason)}</p>')
    return (
        f'<article class="message" data-message-id="{_e(c.key)}" data-status="{_e(status)}">'
        + "".join(parts)
        + "</article>"
    )


def _photos(c: Conversation) -> str:
    if c.is_dm:
        return ""
    if c.photos_deleted is not None:
        return f'<p class="photos note">Photos deleted ({_e(c.photos_deleted)}).</p>' if c.photo_count else ""
    images = [
        f'<img class="photo" src="{_e(_media_url(key))}" alt="photo {number} of the post" loading="lazy">'
        for number, key in enumerate(c.photo_keys, start=1)
    ]
    waiting = c.photo_count - len(c.photo_keys) - len(c.photo_errors)
    if c.analysis is None and c.photo_count:
        images.append(f'<span class="note">{c.photo_count} photo(s), being downloaded and analysed</span>')
    elif waiting > 0:
        images.append(f'<span class="note">{waiting} photo(s) not stored</span>')
    return f'<div class="photos">{"".join(images)}</div>' if images else ""


def _analysis(c: Conversation) -> str:
    analysis: Mapping[str, Any] | None = c.analysis
    if analysis is None:
        words = "not analysed yet" if c.failure is None and c.skip_reason is None else "not analysed"
        return f'<div class="analysis"><p class="note">{_e(words)}</p></div>'
    items = [_sentiment(analysis)]
    language = analysis.get("Language")
    if language:
        items.append(f"Written in {_language(str(language))}.")
    # "@handles" are left out: every mention names the bot, and saying so tells nothing.
    entities = [
        entity for entity in _records(analysis.get("TextEntities")) if not str(entity.get("Text")).startswith("@")
    ]
    people = _terms(entity.get("Text") for entity in entities if entity.get("Type") == "PERSON")
    if people:
        items.append(f"People named: {people}.")
    others = _terms(
        f"{entity.get('Text')} ({_ENTITY_TYPES.get(str(entity.get('Type')), str(entity.get('Type')).lower())})"
        for entity in entities
        if entity.get("Text") and entity.get("Type") != "PERSON"
    )
    if others:
        items.append(f"Also mentions: {others}.")
    phrases = _terms(phrase.get("Text") for phrase in _records(analysis.get("KeyPhrases")))
    if phrases:
        items.append(f"Key phrases: {phrases}.")
    images = analysis.get("Images")
    for number, image in enumerate(_records(images), start=1):
        items.append(f"Photo {number}: {_photo_words(image)}")
    return '<div class="analysis"><ul>' + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul></div>"


def _sentiment(analysis: Mapping[str, Any]) -> str:
    sentiment = analysis.get("TextSentiment")
    if not sentiment:
        return "No sentiment (no text to read)."
    words = str(sentiment).lower()
    scores = analysis.get("SentimentScore")
    score = scores.get(str(sentiment).title()) if isinstance(scores, Mapping) else None
    if isinstance(score, int | float) and not isinstance(score, bool):
        return f"The tone is {words} ({round(float(score) * 100)}% sure)."
    return f"The tone is {words}."


def _photo_words(image: Mapping[str, Any]) -> str:
    if image.get("Error"):
        return f"not analysed ({image['Error']})."
    analysis = image.get("Analysis")
    if not isinstance(analysis, Mapping):
        return "not analysed."
    found: list[str] = []
    celebrities = _terms(
        f"{face.get('Name')}" + _percent(face.get("MatchConfidence"))
        for face in _records(analysis.get("CelebrityFaces"))
        if face.get("Name")
    )
    if celebrities:
        found.append(f"recognised {celebrities}")
    labels = _terms(
        (str(label.get("Name")).lower() for label in _records(analysis.get("Labels")) if label.get("Name")),
        limit=LABELS_SHOWN,
    )
    if labels:
        found.append(f"shows {labels}")
    faces = analysis.get("UnrecognizedFaces")
    if isinstance(faces, list) and faces:
        found.append(f"{len(faces)} other face{'s' if len(faces) != 1 else ''}")
    lines = [
        str(text.get("DetectedText"))
        for text in _records(analysis.get("TextDetections"))
        if text.get("Type") == "LINE" and text.get("DetectedText")
    ]
    if lines:
        found.append("text read: " + " / ".join(f"\u201c{line}\u201d" for line in lines[:TERMS_SHOWN]))
    return ("; ".join(found) or "nothing found") + "."


def _reply(c: Conversation, *, with_photos: bool = True) -> str:
    noun = "Answer" if c.is_dm else "Reply"
    if c.posted_id is not None:
        state = f"{noun} sent" if c.is_dm else f"{noun} posted as {c.posted_id}"
    elif _no_answer(c) is not None:
        state = f"{noun} not sent" if c.is_dm else f"{noun} not posted"  # why: the .skip-reason below
    else:
        state = f"{noun} waiting to be sent" if c.is_dm else f"{noun} waiting to be posted"
    if c.is_dm:
        text = "Answered by direct message (its text is private and not shown)."
    else:
        text = c.reply_text if c.reply_text is not None else ""
    after = f", {_duration(c.latency_ms)} after it arrived" if c.latency_ms is not None else ""
    # The photos the outbox "posted"; before that, the annotated copies in the media store.
    if c.outbox_images:
        urls = [OUTBOX_IMAGES_PATH + quote(name, safe="") for name in c.outbox_images]
    else:
        urls = [_media_url(key) for key in c.reply_keys]
    images = "".join(
        f'<img class="annotated" src="{_e(url)}" alt="annotated photo {number} of the reply" loading="lazy">'
        for number, url in enumerate(urls, start=1)
        if with_photos
    )
    withheld = f'<p class="note">{_e(c.withheld)}</p>' if c.withheld else ""
    photos = f'<div class="photos">{images}</div>' if images else ""
    return (
        '<div class="reply">'
        f'<p class="reply-meta">{_e(state)}{_e(after)}:</p>'
        f'<p class="reply-text">{_e(text)}</p>'
        f"{photos}{withheld}"
        "</div>"
    )


def _no_answer(c: Conversation) -> str | None:
    if c.posted_id is not None:
        return None
    if c.skip_reason is not None:
        return str(c.skip_reason)
    if c.failure is not None:
        return str(c.failure)
    if c.dead_letters:
        return "; ".join(c.dead_letters) + " (a dead letter: botctl redrive retries it)"
    return None


# --- the panels ----------------------------------------------------------------------------------


def _counts(view: PageView) -> str:
    rows = "".join(
        f'<tr data-type="{_e(name)}"><td>{_e(name)}</td><td class="count">{count}</td></tr>'
        for name, count in view.counts.items()
    )
    total = sum(view.counts.values())
    body = rows or '<tr class="empty"><td colspan="2">no events yet</td></tr>'
    return (
        '<div class="panel"><h2>Events</h2>'
        '<table id="counts"><thead><tr><th>type</th><th>count</th></tr></thead>'
        f'<tbody>{body}</tbody><tfoot><tr><td>all events</td><td class="total">{total}</td></tr>'
        f'<tr><td>alerts (not bus events)</td><td class="alerts">{view.alert_count}</td></tr></tfoot></table></div>'
    )


def _latency(view: PageView) -> str:
    values = [point.milliseconds for point in view.latencies]
    p50 = _duration(percentile(values, 50)) if values else "\u2013"
    p95 = _duration(percentile(values, 95)) if values else "\u2013"
    return (
        '<div class="panel" id="latency"><h2>From delivery to reply</h2>'
        f'<p>p50 <span class="p50">{_e(p50)}</span> \u00b7 p95 <span class="p95">{_e(p95)}</span>'
        f' <span class="note">({len(values)} repl{"y" if len(values) == 1 else "ies"})</span></p>'
        f"{latency_chart(view)}</div>"
    )


def latency_chart(view: PageView) -> str:
    """The latencies over time as an SVG line chart (x: when the reply was posted, y: seconds)."""
    points = view.latencies
    width, height = CHART_WIDTH, CHART_HEIGHT
    left, right, top, bottom = _MARGIN_LEFT, width - _MARGIN_RIGHT, _MARGIN_TOP, height - _MARGIN_BOTTOM
    frame = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="delivery-to-reply latency over time">'
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888" stroke-width="1"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888" stroke-width="1"/>'
    )
    if not points:
        middle = (top + bottom) // 2
        return (
            frame
            + f'<text x="{(left + right) // 2}" y="{middle}" text-anchor="middle" fill="#666">no reply yet</text></svg>'
        )
    highest = _nice_ceiling(max(point.milliseconds for point in points) / 1000)
    first, last = points[0].at, points[-1].at
    span = last - first

    def x(at: float) -> float:
        return (left + right) / 2 if span <= 0 else left + (at - first) / span * (right - left)

    def y(milliseconds: int) -> float:
        return bottom - (milliseconds / 1000) / highest * (bottom - top)

    coordinates = [(x(point.at), y(point.milliseconds)) for point in points]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
    dots = "".join(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="#1d6fb8">'
        f"<title>{_e(_clock(point.at))}: {_e(_duration(point.milliseconds))}</title></circle>"
        for (px, py), point in list(zip(coordinates, points, strict=True))[-CHART_DOTS:]
    )
    labels = (
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10" fill="#444">{_e(_axis(highest))}</text>'
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" font-size="10" fill="#444">0 s</text>'
        f'<text x="{left}" y="{height - 6}" font-size="10" fill="#444">{_e(_clock(first))}</text>'
        f'<text x="{right}" y="{height - 6}" text-anchor="end" font-size="10" fill="#444">{_e(_clock(last))}</text>'
    )
    polyline = f'<polyline points="{line}" fill="none" stroke="#1d6fb8" stroke-width="1.5"/>' if len(points) > 1 else ""
    return frame + labels + polyline + dots + "</svg>"


def _dead_letters(view: PageView) -> str:
    if not view.dead_letters:
        body = '<p class="empty">None: every delivery went through or is still being tried.</p>'
    else:
        body = "<ul>" + "".join(_dead_letter(letter) for letter in view.dead_letters) + "</ul>"
        if view.dead_letter_count > len(view.dead_letters):
            body += f'<p class="note">The latest {len(view.dead_letters)} of {view.dead_letter_count}.</p>'
    return (
        f'<section id="dead-letters" class="panel"><h2>Dead letters ({view.dead_letter_count})</h2>'
        '<p class="note">Deliveries the bus gave up on. <code>botctl redrive</code> retries them; '
        "<code>botctl deadletters</code> lists them all.</p>"
        f"{body}</section>"
    )


def _dead_letter(letter: DeadLetter) -> str:
    error = letter.last_error or "no error recorded"
    if len(error) > 300:
        error = error[:299] + "\u2026"
    return (
        f'<li class="dead-letter" data-event-id="{_e(letter.event_id)}">'
        f"<strong>{_e(letter.detail_type or '?')}</strong> to <code>{_e(letter.target)}</code>, "
        f"{letter.attempts} attempt(s), {_time(letter.failed_at)}"
        f'<br><span class="error">{_e(error)}</span></li>'
    )


# --- small words ---------------------------------------------------------------------------------


def percentile(values: Sequence[int], rank: float) -> int:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    index = max(math.ceil(rank / 100 * len(ordered)) - 1, 0)
    return ordered[min(index, len(ordered) - 1)]


def _duration(milliseconds: int) -> str:
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _nice_ceiling(seconds: float) -> float:
    """The chart's top: 1, 2 or 5 times a power of ten, at least `seconds`."""
    if seconds <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(seconds))
    for step in (1, 2, 5, 10):
        if step * power >= seconds:
            return float(step * power)
    return float(10 * power)


def _axis(seconds: float) -> str:
    return f"{seconds:g} s"


def _time(at: float | None) -> str:
    if at is None:
        return ""
    moment = datetime.fromtimestamp(at).astimezone()
    return f'<time datetime="{_e(moment.isoformat(timespec="seconds"))}">{_e(moment.strftime("%H:%M:%S"))}</time>'


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at).astimezone().strftime("%H:%M:%S")


def _language(code: str) -> str:
    name = _LANGUAGES.get(code.lower())
    return f"{name} ({code})" if name else code


def _percent(value: Any) -> str:
    return f" ({round(float(value))}%)" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _terms(values: Iterable[Any], *, limit: int = TERMS_SHOWN) -> str:
    """Distinct values, in order, at most `limit` of them, joined with commas."""
    seen: list[str] = []
    for value in values:
        text = str(value).strip()
        if text and text not in seen:
            seen.append(text)
    more = len(seen) - limit
    return ", ".join(seen[:limit]) + (f" and {more} more" if more > 0 else "")


def _media_url(key: str) -> str:
    return MEDIA_PATH + quote(key, safe="/")
