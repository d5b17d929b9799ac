"""Events over the size limit: the pointer keeps what the rules match on, and the resolver reads it back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from botlocal.patterns import matches
from chalicelib.contracts import names
from chalicelib.contracts.analysis import ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.oversized import OVERSIZED_KEY, routing_paths
from chalicelib.contracts.replies import SendTweet
from chalicelib.publishing import EventPublisher, PayloadError, PayloadResolver, PublishError

from tests.fakes import MemoryPayloadStore, RecordingBus

LIMIT = 2048
LONG = "much text in the photos " * 200


def analysed(sentiment: str, *, photos: bool) -> MessageAnalysed:
    urls = ["https://pbs.twimg.com/media/a.jpg", "https://pbs.twimg.com/media/b.jpg"] if photos else []
    text_detections = [{"DetectedText": LONG[:100], "Type": "LINE", "Id": i} for i in range(40)]
    return MessageAnalysed(
        message=MessageReceived("@xbot look " + LONG, "alice", "en", TwitterRef("1900", "42", "1899"), urls),
        text=TextAnalysis(sentiment, {"Negative": 0.9}, language="en"),
        images=[ImageResult(url=url, key=f"k/{i}.jpg") for i, url in enumerate(urls)]
        if not photos
        else [
            ImageResult.from_detail({"Url": url, "Key": f"k/{i}.jpg", "Analysis": {"TextDetections": text_detections}})
            for i, url in enumerate(urls)
        ],
    )


def published(event: BusEvent, store: MemoryPayloadStore | None) -> tuple[dict[str, Any], RecordingBus]:
    """The envelope the bus would deliver for `event`, published with a low size limit."""
    bus = RecordingBus()
    EventPublisher(bus=bus, bus_name="b", payload_store=store, max_bytes=LIMIT).publish([event])
    (entry,) = bus.entries
    envelope = {"source": entry["Source"], "detail-type": entry["DetailType"], "detail": json.loads(entry["Detail"])}
    return envelope, bus


def test_the_routing_paths_come_from_the_rules_patterns() -> None:
    paths = routing_paths()
    assert ("HasImages",) in paths
    assert ("Analysis", "TextSentiment") in paths
    assert ("Twitter",) in paths


@pytest.mark.parametrize(
    ("message", "pattern", "expected"),
    [
        (analysed("NEGATIVE", photos=True), names.NEGATIVE_MESSAGE_PATTERN, True),
        (analysed("POSITIVE", photos=True), names.NEGATIVE_MESSAGE_PATTERN, False),
        (analysed("NEGATIVE", photos=True), names.ANALYSED_WITH_IMAGES_PATTERN, True),
        (analysed("NEGATIVE", photos=True), names.ANALYSED_TEXT_ONLY_PATTERN, False),
        (analysed("NEGATIVE", photos=False), names.ANALYSED_TEXT_ONLY_PATTERN, True),
        (analysed("NEGATIVE", photos=False), names.ANALYSED_WITH_IMAGES_PATTERN, False),
    ],
)
def test_a_pointer_event_matches_the_rules_the_whole_event_matches(
    message: MessageAnalysed, pattern: dict[str, Any], expected: bool
) -> None:
    detail = message.to_detail()
    event = BusEvent(names.SOURCE_ANALYSIS, names.MESSAGE_ANALYSED, detail)
    envelope, _ = published(event, MemoryPayloadStore())
    assert OVERSIZED_KEY in envelope["detail"], "the event is over the limit: claim-checked"
    assert set(envelope["detail"]) == {OVERSIZED_KEY, "Twitter", "HasImages", "Analysis"}
    assert envelope["detail"]["Twitter"] == detail["Twitter"]
    whole = {**envelope, "detail": detail}
    assert matches(pattern, whole) is expected
    assert matches(pattern, envelope) is expected


def test_the_other_consumers_patterns_match_their_pointer_events() -> None:
    received = MessageReceived(LONG, "alice", "en", TwitterRef("1900", "42"))
    envelope, _ = published(
        BusEvent(names.SOURCE_INGRESS, names.MESSAGE_RECEIVED, received.to_detail()), MemoryPayloadStore()
    )
    assert OVERSIZED_KEY in envelope["detail"] and matches(names.MESSAGE_RECEIVED_PATTERN, envelope)
    reply = SendTweet(LONG, "1900", "42", [])
    envelope, _ = published(
        BusEvent(names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail()), MemoryPayloadStore()
    )
    assert OVERSIZED_KEY in envelope["detail"] and matches(names.SEND_TWEET_PATTERN, envelope)


def test_the_resolver_reads_back_the_whole_detail() -> None:
    store = MemoryPayloadStore()
    detail = analysed("NEGATIVE", photos=True).to_detail()
    envelope, _ = published(BusEvent(names.SOURCE_ANALYSIS, names.MESSAGE_ANALYSED, detail), store)
    assert PayloadResolver(store).resolve(envelope["detail"]) == detail
    small = {"Text": "hi"}
    assert PayloadResolver(None).resolve(small) is small  # an ordinary event is passed through


def test_the_resolver_refuses_an_altered_or_missing_object_and_a_missing_store() -> None:
    store = MemoryPayloadStore()
    detail = analysed("NEGATIVE", photos=True).to_detail()
    envelope, _ = published(BusEvent(names.SOURCE_ANALYSIS, names.MESSAGE_ANALYSED, detail), store)
    (key,) = store.objects
    body = store.objects[key]
    store.objects[key] = body.replace(b"alice", b"mally")
    assert hashlib.sha256(store.objects[key]).hexdigest() != envelope["detail"][OVERSIZED_KEY]["Sha256"]
    with pytest.raises(PayloadError, match="SHA-256"):
        PayloadResolver(store).resolve(envelope["detail"])
    del store.objects[key]
    with pytest.raises(PayloadError, match="cannot be read: KeyError"):
        PayloadResolver(store).resolve(envelope["detail"])
    with pytest.raises(PayloadError, match="no payload store"):
        PayloadResolver(None).resolve(envelope["detail"])


def test_an_event_over_the_limit_without_a_store_is_refused_with_its_size() -> None:
    detail = analysed("NEGATIVE", photos=True).to_detail()
    with pytest.raises(PublishError, match=f"exceeds {LIMIT} bytes and no payload store"):
        published(BusEvent(names.SOURCE_ANALYSIS, names.MESSAGE_ANALYSED, detail), None)
