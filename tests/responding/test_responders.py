"""The responders: what the bot says back, with fakes behind the ports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.replies import SendTweet
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.conversation import TextResponder
from chalicelib.responding.photos import NOBODY_RECOGNISED, PhotoResponder, recognised_names

from tests.fakes import MemoryMediaStore, RecordingBot, RecordingBus

FACE = {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.0}


def _celebrity(name: str) -> dict[str, Any]:
    return {"Name": name, "Id": name.lower(), "Urls": [], "MatchConfidence": 97.0, "Face": FACE}


def _message(images: list[ImageResult], text: str = "@xbot who is this?") -> MessageAnalysed:
    return MessageAnalysed(
        message=MessageReceived(text, "alice", "en", TwitterRef("1900", "42"), [image.url for image in images]),
        text=TextAnalysis("NEUTRAL", language="en"),
        images=images,
    )


def _publisher(bus: RecordingBus) -> EventPublisher:
    return EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1))


def _answered(reply: object) -> SendTweet:
    assert reply is not None, "the message was skipped"
    assert isinstance(reply, SendTweet), reply  # a post is answered by a post, not a DM
    return reply


def _sent(bus: RecordingBus) -> SendTweet:
    ((entry,),) = bus.calls
    assert (entry["Source"], entry["DetailType"]) == ("xbot.responding", "SEND_TWEET")
    return SendTweet.from_detail(json.loads(entry["Detail"]))


class RecordingAnnotate:
    def __init__(self) -> None:
        self.calls: list[tuple[bytes, ImageAnalysis, dict[str, Any]]] = []

    def __call__(self, image: bytes, analysis: ImageAnalysis, **options: Any) -> tuple[bytes, str]:
        self.calls.append((image, analysis, options))
        return b"annotated:" + image, "image/jpeg"


def _photo_responder(store: MemoryMediaStore, bus: RecordingBus, annotate: RecordingAnnotate) -> PhotoResponder:
    return PhotoResponder(
        media=store, annotate=annotate, publisher=_publisher(bus), blur_unrecognised=True, max_pixels=10
    )


def test_recognised_people_are_named_and_their_photos_annotated_under_new_keys_in_the_posts_folder() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    store.put("users/42/posts/1900/a.jpg", b"photo-a", "image/jpeg")
    store.put("users/42/posts/1900/b.jpg", b"photo-b", "image/jpeg")
    images = [
        ImageResult(
            "u1", "users/42/posts/1900/a.jpg", analysis=ImageAnalysis(celebrity_faces=[_celebrity("Ada Lovelace")])
        ),
        ImageResult(
            "u2",
            "users/42/posts/1900/b.jpg",
            analysis=ImageAnalysis(celebrity_faces=[_celebrity("Alan Turing"), _celebrity("Ada Lovelace")]),
        ),
    ]
    reply = _answered(_photo_responder(store, bus, annotate).respond(_message(images)))
    assert reply.text == "@alice I recognised: Ada Lovelace, Alan Turing"
    assert (reply.reply_to_tweet_id, reply.reply_to_user_id) == ("1900", "42")
    assert len(reply.image_keys) == 2
    assert reply.image_keys == [
        "users/42/posts/1900/annotated/a.jpg",
        "users/42/posts/1900/annotated/b.jpg",
    ]
    for key, original in zip(reply.image_keys, (b"photo-a", b"photo-b"), strict=True):
        assert store.get(key) == b"annotated:" + original
    assert store.get("users/42/posts/1900/a.jpg") == b"photo-a"  # the original is never overwritten
    assert annotate.calls[0][2] == {"blur_unrecognised": True, "max_pixels": 10}
    assert _sent(bus) == reply


def test_nobody_recognised_gets_a_polite_text_only_answer() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    store.put("k.jpg", b"photo", "image/jpeg")
    reply = _answered(
        _photo_responder(store, bus, annotate).respond(_message([ImageResult("u", "k.jpg", analysis=ImageAnalysis())]))
    )
    assert reply.text == f"@alice {NOBODY_RECOGNISED}"
    assert reply.image_keys == []
    assert annotate.calls == []


def test_words_read_in_the_photo_are_quoted_when_nobody_is_recognised() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    detections = [
        {"DetectedText": "OPEN DAILY", "Type": "LINE", "Id": 0, "Confidence": 99.0},
        {"DetectedText": "OPEN", "Type": "WORD", "Id": 2, "ParentId": 0, "Confidence": 99.0},
        {"DetectedText": "Fresh coffee", "Type": "LINE", "Id": 1, "Confidence": 97.0},
    ]
    image = ImageResult("u", "k.jpg", analysis=ImageAnalysis(text_detections=detections))
    reply = _answered(_photo_responder(store, bus, annotate).respond(_message([image])))
    assert reply.text == '@alice Thanks for the photo! It says: "OPEN DAILY / Fresh coffee"'


def test_quoted_text_cannot_make_the_bot_mention_or_link_anyone() -> None:
    from chalicelib.responding.describe import quoted_text

    assert quoted_text(["Follow @victim", "https://spam.example/x now"]) == "Follow / now"
    assert quoted_text(["mail a@b.c"]) == "mail ab.c"
    assert len(quoted_text(["word " * 50])) == 100


def test_only_photos_with_someone_named_come_back() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    store.put("a.jpg", b"a", "image/jpeg")
    store.put("b.jpg", b"b", "image/jpeg")
    images = [
        ImageResult("u1", "a.jpg", analysis=ImageAnalysis(celebrity_faces=[_celebrity("Ada")])),
        ImageResult("u2", "b.jpg", analysis=ImageAnalysis()),
    ]
    reply = _answered(_photo_responder(store, bus, annotate).respond(_message(images)))
    assert reply.image_keys == ["annotated/a.jpg"]


def test_at_most_four_photos_come_back() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    images = []
    for index in range(5):
        store.put(f"{index}.jpg", b"p", "image/jpeg")
        images.append(
            ImageResult(f"u{index}", f"{index}.jpg", analysis=ImageAnalysis(celebrity_faces=[_celebrity("Ada")]))
        )
    assert len(_answered(_photo_responder(store, bus, annotate).respond(_message(images))).image_keys) == 4


def test_a_photo_that_cannot_be_annotated_is_left_out_not_fatal() -> None:
    store, bus, annotate = MemoryMediaStore(), RecordingBus(), RecordingAnnotate()
    images = [ImageResult("u", "missing.jpg", analysis=ImageAnalysis(celebrity_faces=[_celebrity("Ada")]))]
    reply = _answered(_photo_responder(store, bus, annotate).respond(_message(images)))
    assert reply.text == "@alice I recognised: Ada"
    assert reply.image_keys == []


def test_names_are_listed_once_in_order() -> None:
    images = [
        ImageResult("u", "k", analysis=ImageAnalysis(celebrity_faces=[_celebrity("B"), _celebrity("A")])),
        ImageResult("v", error="404"),
        ImageResult("w", "k2", analysis=ImageAnalysis(celebrity_faces=[_celebrity("B")])),
    ]
    assert recognised_names(_message(images)) == ["B", "A"]


@pytest.mark.parametrize(
    ("text", "sent"), [("@xbot tell me a joke https://t.co/x", "tell me a joke"), ("@xbot", "hello")]
)
def test_text_goes_to_the_bot_without_mentions_or_urls_one_session_per_author(text: str, sent: str) -> None:
    bot, bus = RecordingBot(), RecordingBus()
    reply = _answered(TextResponder(bot=bot, publisher=_publisher(bus)).respond(_message([], text=text)))
    assert bot.calls == [("42", sent)]
    assert reply.text.startswith("@alice Why do programmers")
    assert reply.image_keys == []
    assert _sent(bus) == reply
