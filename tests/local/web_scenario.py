"""A state folder written by the local runtime's own stores, for the web page's tests
(tests/local/test_web_*.py), and a small HTML reader to check the page's DOM contract.

The scenario has one message of each fate: a photo post answered with an annotated photo, a
negative post that raised an alert, a post skipped by a guard whose author and text try to inject
HTML, a direct message answered (its text is SECRET, which must never be shown), a post whose
analysis failed, the bot's own post, and a dead letter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from botlocal.alerts import LocalAlertSink
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from botlocal.media import LocalMediaStore
from botlocal.outbox import OutboxPoster
from chalicelib.alerting.service import alert_text
from chalicelib.contracts import names
from chalicelib.contracts.analysis import AnalysisFailed, ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import DirectMessageRef, MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import (
    AUTHOR_LIMIT,
    OWN_POST,
    DirectMessagePosted,
    MessageSkipped,
    ReplyPosted,
    ReplySkipped,
)
from chalicelib.contracts.replies import SendTweet
from chalicelib.kernel.media_keys import annotated_key, photo_key

SECRET = "my bank PIN is 4321"
SECRET_ANSWER = "the answer quotes 4321 back"
EVIL_AUTHOR = '<img src=x onerror="alert(1)">'
EVIL_TEXT = "<script>alert('owned')</script> & \"quotes\""
T0 = 1_780_000_000.0  #: when the scenario starts (epoch seconds)

PHOTO_POST = TwitterRef(tweet_id="1790000000000000001", user_id="42")
NEGATIVE_POST = TwitterRef(tweet_id="1790000000000000002", user_id="43")
EVIL_POST = TwitterRef(tweet_id="1790000000000000003", user_id="44")
FAILED_POST = TwitterRef(tweet_id="1790000000000000004", user_id="45")
OWN_POST_REF = TwitterRef(tweet_id="1790000000000000005", user_id="7")
DEAD_POST = TwitterRef(tweet_id="1790000000000000006", user_id="46")
DM_REF = DirectMessageRef(event_id="1790000000000000777", sender_id="47", recipient_id="7", conversation_id="7-47")
DM_KEY = f"dm:{DM_REF.event_id}"


def jpeg(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def envelope(detail_type: str, detail: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return BusEvent(source=names.SOURCE_INGRESS, detail_type=detail_type, detail=detail).to_envelope(
        account="000000000000", region="local", event_id=event_id, time=datetime(2026, 5, 1, 13, 4, 5, tzinfo=UTC)
    )


def append(
    layout: LocalLayout, detail_type: str, detail: dict[str, Any], *, at: float, event_id: str | None = None
) -> str:
    event = envelope(detail_type, detail, event_id)
    with Journal(layout.journal) as journal:
        journal.append([event], now=at)
    return str(event["id"])


@dataclass(frozen=True)
class Scenario:
    layout: LocalLayout
    photo_key: str
    annotated_key: str
    outbox_image: str  #: the file name of the reply's photo in the outbox folder
    posted_id: str


def write_scenario(root: Path) -> Scenario:
    layout = LocalLayout(root)
    media = LocalMediaStore(layout.media)
    # 1. A photo post, analysed, answered with the photo annotated (posted through the outbox).
    received = MessageReceived(
        text="who is this? tell me a joke",
        author="alice",
        lang="en",
        twitter=PHOTO_POST,
        image_urls=["https://pbs.twimg.com/media/a.jpg"],
        received_at_ms=int(T0 * 1000),
    )
    append(layout, names.MESSAGE_RECEIVED, received.to_detail(), at=T0)
    key = photo_key(PHOTO_POST.user_id, PHOTO_POST.tweet_id, "photo-1", "jpg")
    media.put(key, jpeg(), "image/jpeg")
    analysis = ImageAnalysis(
        labels=[{"Name": "Dog", "Confidence": 99.0}, {"Name": "Grass", "Confidence": 90.0}],
        text_detections=[{"DetectedText": "HELLO WORLD", "Type": "LINE"}, {"DetectedText": "HELLO", "Type": "WORD"}],
        celebrity_faces=[{"Name": "Ada Lovelace", "MatchConfidence": 98.0}],
        unrecognized_faces=[{"Confidence": 99.0}],
    )
    analysed = MessageAnalysed(
        message=received,
        text=TextAnalysis(
            sentiment="POSITIVE",
            sentiment_score={"Positive": 0.91, "Negative": 0.01, "Neutral": 0.08, "Mixed": 0.0},
            entities=[
                {"Text": "Grace Hopper", "Type": "PERSON"},
                {"Text": "Paris", "Type": "LOCATION"},
                {"Text": "@xbot", "Type": "OTHER"},
            ],
            key_phrases=[{"Text": "a joke"}],
            language="en",
        ),
        images=[ImageResult(url=received.image_urls[0], key=key, analysis=analysis)],
    )
    append(layout, names.MESSAGE_ANALYSED, analysed.to_detail(), at=T0 + 1)
    annotated = annotated_key(key, "jpg")
    media.put(annotated, jpeg((30, 200, 30)), "image/jpeg")
    reply = SendTweet(
        text="@alice That looks like Ada Lovelace!",
        reply_to_tweet_id=PHOTO_POST.tweet_id,
        reply_to_user_id=PHOTO_POST.user_id,
        image_keys=[annotated],
        received_at_ms=received.received_at_ms,
    )
    append(layout, names.SEND_TWEET, reply.to_detail(), at=T0 + 2)
    poster = OutboxPoster(layout.outbox, layout.outbox_images)
    posted_id = poster.post_reply(reply.text, PHOTO_POST.tweet_id, [(jpeg((30, 200, 30)), "image/jpeg")])
    posted = ReplyPosted(PHOTO_POST.tweet_id, PHOTO_POST.user_id, posted_id, latency_ms=2300)
    append(layout, names.REPLY_POSTED, posted.to_detail(), at=T0 + 2.3)

    # 2. A negative post: an alert, no answer yet.
    negative = MessageReceived(text="you are an awful bot", author="grumpy", lang="en", twitter=NEGATIVE_POST)
    append(layout, names.MESSAGE_RECEIVED, negative.to_detail(), at=T0 + 10)
    negative_analysed = MessageAnalysed(
        message=negative, text=TextAnalysis(sentiment="NEGATIVE", sentiment_score={"Negative": 0.97}, language="en")
    )
    append(layout, names.MESSAGE_ANALYSED, negative_analysed.to_detail(), at=T0 + 11)
    sink = LocalAlertSink(layout.alerts)
    sink.publish(*alert_text(negative_analysed))

    # 3. A post whose author and text try to inject HTML, skipped by a guard.
    evil = MessageReceived(text=EVIL_TEXT, author=EVIL_AUTHOR, lang="en", twitter=EVIL_POST)
    append(layout, names.MESSAGE_RECEIVED, evil.to_detail(), at=T0 + 20)
    append(layout, names.REPLY_SKIPPED, ReplySkipped(EVIL_POST, EVIL_AUTHOR, AUTHOR_LIMIT).to_detail(), at=T0 + 21)

    # 4. A direct message, answered: neither its text nor the answer's is ever shown.
    dm = MessageReceived.direct(
        text=SECRET, author="bob", lang="en", direct_message=DM_REF, received_at_ms=int((T0 + 30) * 1000)
    )
    append(layout, names.MESSAGE_RECEIVED, dm.to_detail(), at=T0 + 30)
    dm_analysed = MessageAnalysed(
        message=dm,
        text=TextAnalysis(
            sentiment="NEGATIVE",
            sentiment_score={"Negative": 0.8},
            entities=[{"Text": "PIN 4321", "Type": "QUANTITY"}],
            key_phrases=[{"Text": "my bank PIN"}],
            language="en",
        ),
    )
    append(layout, names.MESSAGE_ANALYSED, dm_analysed.to_detail(), at=T0 + 31)
    sink.publish(*alert_text(dm_analysed))
    append(layout, names.SEND_DM, SendDirectMessage(text=SECRET_ANSWER, answering=DM_REF).to_detail(), at=T0 + 32)
    dm_posted_id = poster.send_direct_message(SECRET_ANSWER, DM_REF.sender_id)
    append(
        layout,
        names.REPLY_POSTED,
        DirectMessagePosted(answering=DM_REF, posted_dm_event_id=dm_posted_id, latency_ms=3100).to_detail(),
        at=T0 + 33,
    )

    # 5. A post whose analysis failed.
    failed = MessageReceived(text="look at this", author="carol", lang="en", twitter=FAILED_POST)
    append(layout, names.MESSAGE_RECEIVED, failed.to_detail(), at=T0 + 40)
    append(
        layout,
        names.MESSAGE_ANALYSIS_FAILED,
        AnalysisFailed(text="look at this", author="carol", twitter=FAILED_POST, reason="States.Timeout").to_detail(),
        at=T0 + 41,
    )

    # 6. The bot's own post: skipped by Ingress, never received.
    append(layout, names.MESSAGE_SKIPPED, MessageSkipped(OWN_POST_REF, "the_bot", OWN_POST).to_detail(), at=T0 + 50)

    # 7. A post whose reply Egress gave up on: a dead letter.
    dead = MessageReceived(text="hello?", author="dave", lang="en", twitter=DEAD_POST)
    append(layout, names.MESSAGE_RECEIVED, dead.to_detail(), at=T0 + 60)
    dead_reply = SendTweet(text="@dave hello!", reply_to_tweet_id=DEAD_POST.tweet_id, reply_to_user_id="46")
    event_id = append(layout, names.SEND_TWEET, dead_reply.to_detail(), at=T0 + 61)
    with Journal(layout.journal) as journal:
        journal.route(event_id, ["egress_send_tweet"], now=T0 + 61)
        journal.mark_failed(
            event_id, "egress_send_tweet", "ConnectionError: X did not answer", retry_at=None, now=T0 + 62
        )

    return Scenario(
        layout=layout,
        photo_key=key,
        annotated_key=annotated,
        outbox_image=f"{posted_id}-1.jpg",
        posted_id=posted_id,
    )


# --- reading the HTML ---------------------------------------------------------------------------

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element]
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def iter(self) -> list[Element]:
        found = [self]
        for child in self.children:
            found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> list[Element]:
        return [
            element
            for element in self.iter()[1:]
            if (tag is None or element.tag == tag)
            and (cls is None or cls in element.classes)
            and all(element.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items())
        ]

    def one(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, cls=cls, **attrs)
        assert len(found) == 1, f"{len(found)} elements {tag} .{cls} {attrs}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, [])
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, [])
        self._stack[-1].children.append(element)
        if tag not in _VOID:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        assert self._stack[-1].tag == tag, f"</{tag}> closes <{self._stack[-1].tag}>"
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        holder = self._stack[-1]
        if holder.children:
            holder.children.append(Element("#text", {}, [], data))
        else:
            holder.text += data


def parse(markup: str) -> Element:
    """The markup as a tree; fails when an element is closed out of order (the markup is broken)."""
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder._stack == [builder.root], "unclosed elements"
    return builder.root
