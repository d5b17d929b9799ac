"""Photo replies: what they say (people, things, text read), their length, and the moderation check
before a photo is reposted (chalicelib.responding.photos)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.datalake import DETAIL
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.replies import PhotoModeration, SendTweet
from chalicelib.kernel.x_text import MAX_WEIGHTED_LENGTH, weighted_length
from chalicelib.ports import MediaError, ModerationVerdict
from chalicelib.publishing import EventPublisher, RetryPolicy
from chalicelib.responding.photos import NOBODY_RECOGNISED, UNSAFE_PHOTO_REPLY, PhotoResponder, reply_text

from tests.fakes import UNSAFE, FakePhotoModerator, MemoryIdempotency, MemoryMediaStore, RecordingBus, RecordingSink

FACE = {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.0}
CAT = [
    {"Name": "Animal", "Confidence": 95.7, "Parents": []},
    {"Name": "Mammal", "Confidence": 95.0, "Parents": [{"Name": "Animal"}]},
    {"Name": "Cat", "Confidence": 91.8, "Parents": [{"Name": "Mammal"}, {"Name": "Animal"}]},
]
ESPRESSO = [
    {"Name": "Beverage", "Confidence": 96.7, "Parents": []},
    {"Name": "Espresso", "Confidence": 95.5, "Parents": [{"Name": "Beverage"}]},
]
PERSON = [
    {"Name": "Person", "Confidence": 99.0, "Parents": []},
    {"Name": "Face", "Confidence": 99.0, "Parents": [{"Name": "Head"}, {"Name": "Person"}]},
    {"Name": "Microphone", "Confidence": 93.0, "Parents": [{"Name": "Electronics"}]},
]


def _celebrity(name: str) -> dict[str, Any]:
    return {"Name": name, "Id": name.lower(), "Urls": [], "MatchConfidence": 97.0, "Face": FACE}


def _line(text: str, confidence: float) -> dict[str, Any]:
    return {"DetectedText": text, "Type": "LINE", "Id": 0, "Confidence": confidence}


def _message(images: list[ImageResult], author: str = "alice") -> MessageAnalysed:
    return MessageAnalysed(
        message=MessageReceived("@xbot look", author, "en", TwitterRef("1900", "42"), [image.url for image in images]),
        text=TextAnalysis("NEUTRAL", language="en"),
        images=images,
    )


class Annotate:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image: bytes, analysis: ImageAnalysis, **options: Any) -> tuple[bytes, str]:
        self.calls += 1
        return b"annotated:" + image, "image/jpeg"


class Setup:
    def __init__(
        self, moderator: FakePhotoModerator | None = None, alert_once: MemoryIdempotency | None = None
    ) -> None:
        self.store = MemoryMediaStore()
        self.bus = RecordingBus()
        self.annotate = Annotate()
        self.alerts = RecordingSink()
        self.moderator = moderator
        self.responder = PhotoResponder(
            media=self.store,
            annotate=self.annotate,
            publisher=EventPublisher(bus=self.bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
            blur_unrecognised=False,
            max_pixels=10_000,
            moderator=moderator,
            alerts=self.alerts,
            alert_once=alert_once,
            measure=weighted_length,
        )

    def photo(self, key: str, **analysis: Any) -> ImageResult:
        self.store.put(key, b"photo:" + key.encode(), "image/jpeg")
        return ImageResult(f"https://pbs.twimg.com/{key}", key, analysis=ImageAnalysis(**analysis))

    def reply(self, *images: ImageResult, author: str = "alice") -> SendTweet:
        reply = self.responder.respond(_message(list(images), author))
        assert isinstance(reply, SendTweet)
        return reply

    def detail(self) -> dict[str, Any]:
        ((entry,),) = self.bus.calls
        assert entry["DetailType"] == "SEND_TWEET"
        detail: dict[str, Any] = json.loads(entry["Detail"])
        return detail


def test_a_cat_photo_says_cat() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("cat.jpg", labels=CAT))
    assert reply.text == "@alice Thanks for the photo! I can see a cat."
    assert reply.image_keys == []
    assert "Moderation" not in setup.detail()


def test_a_coffee_photo_says_espresso_and_a_false_ocr_read_is_not_quoted() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("coffee.gif", labels=ESPRESSO, text_detections=[_line("p", 99.0)]))
    assert reply.text == "@alice Thanks for the photo! I can see a cup of espresso."


def test_nothing_found_keeps_the_polite_answer() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("x.gif", text_detections=[_line("8", 96.6), _line("Sale today", 60.0)]))
    assert reply.text == f"@alice {NOBODY_RECOGNISED}"


def test_real_text_is_quoted_after_what_is_seen() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("sign.jpg", labels=ESPRESSO, text_detections=[_line("FRESH COFFEE", 96.4)]))
    assert reply.text == '@alice Thanks for the photo! I can see a cup of espresso. It says: "FRESH COFFEE"'


def test_text_alone_is_quoted() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("sign.jpg", text_detections=[_line("OPEN DAILY", 99.0)]))
    assert reply.text == '@alice Thanks for the photo! It says: "OPEN DAILY"'


def test_people_are_named_first_then_what_else_is_seen_without_the_person_labels() -> None:
    setup = Setup()
    reply = setup.reply(
        setup.photo("a.jpg", celebrity_faces=[_celebrity("Ada Lovelace")], labels=PERSON),
        setup.photo("b.jpg", labels=CAT),
    )
    assert reply.text == "@alice I recognised: Ada Lovelace. I can also see a microphone and a cat."
    assert reply.image_keys == ["annotated/a.jpg"]  # only the photo with someone named comes back


def test_a_stranger_is_seen_and_said_to_be_unknown() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("stranger.jpg", labels=PERSON[:2], unrecognized_faces=[FACE]))
    assert reply.text == "@alice Thanks for the photo! I can see a person. I didn't recognise anyone in it."
    assert reply.image_keys == []


def test_labels_are_merged_across_photos() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("a.jpg", labels=CAT), setup.photo("b.jpg", labels=ESPRESSO))
    assert reply.text == "@alice Thanks for the photo! I can see a cat and a cup of espresso."


@pytest.mark.parametrize("author", ["a", "fifteen_chars_x"])
def test_long_names_labels_and_text_stay_within_xs_280(author: str) -> None:
    setup = Setup()
    names = [_celebrity(f"Celebrity With A Rather Long Name Number {index}") for index in range(12)]
    labels = [{"Name": f"Very Specific Object Kind {index}", "Confidence": 95.0 - index} for index in range(5)]
    text = [_line("日本語のテキスト " * 20, 99.0)]
    reply = setup.reply(setup.photo("a.jpg", celebrity_faces=names, labels=labels, text_detections=text), author=author)
    assert weighted_length(reply.text) <= MAX_WEIGHTED_LENGTH
    assert "I recognised: Celebrity With A Rather Long Name Number 0" in reply.text
    assert reply.text.rstrip(".").endswith("more")  # names left out are counted, not cut mid-word


def test_the_quote_is_shortened_before_the_things_seen() -> None:
    measure_limit = weighted_length
    words = "word " * 60
    text = reply_text([], ["a cat"], [words], prefix="@alice ", measure=measure_limit)
    assert text.startswith("Thanks for the photo! I can see a cat. It says:")
    assert weighted_length("@alice " + text) <= MAX_WEIGHTED_LENGTH
    cjk = reply_text([], ["a cat"], ["日本語" * 60], prefix="@alice ", measure=measure_limit)
    assert "a cat" in cjk and weighted_length("@alice " + cjk) <= MAX_WEIGHTED_LENGTH


def test_things_go_before_names_and_the_first_name_always_stays() -> None:
    long_name = "N" * 300
    text = reply_text([long_name, "Bo"], ["a cat"], [], prefix="@alice ", measure=weighted_length)
    assert text.startswith(f"I recognised: {long_name}")  # Egress cuts what still does not fit


# --- Moderation -----------------------------------------------------------------------------------


def test_a_safe_photo_is_checked_once_and_reposted_with_the_record() -> None:
    setup = Setup(FakePhotoModerator())
    reply = setup.reply(setup.photo("a.jpg", celebrity_faces=[_celebrity("Ada")]), setup.photo("b.jpg", labels=CAT))
    assert setup.moderator is not None and setup.moderator.calls == ["a.jpg"]  # only the photo to repost
    assert reply.image_keys == ["annotated/a.jpg"]
    assert setup.detail()["Moderation"] == {
        "Checked": 1,
        "Unsafe": 0,
        "Failed": 0,
        "Withheld": 0,
        "Categories": [],
        "Checker": "fake",
    }
    assert setup.alerts.alerts == []
    assert reply.text == "@alice I recognised: Ada. I can also see a cat."


def test_no_check_runs_when_no_photo_is_reposted() -> None:
    setup = Setup(FakePhotoModerator(default=UNSAFE))
    reply = setup.reply(setup.photo("cat.jpg", labels=CAT))
    assert setup.moderator is not None and setup.moderator.calls == []
    assert "Moderation" not in setup.detail()
    assert reply.text == "@alice Thanks for the photo! I can see a cat."


def test_an_unsafe_photo_gets_a_text_only_reply_an_alert_and_a_record() -> None:
    setup = Setup(FakePhotoModerator(default=UNSAFE))
    reply = setup.reply(
        setup.photo(
            "users/42/posts/1900/a.jpg",
            celebrity_faces=[_celebrity("Ada")],
            labels=CAT,
            text_detections=[_line("SOME WORDS", 99.0)],
        ),
        setup.photo("users/42/posts/1900/b.jpg", celebrity_faces=[_celebrity("Bo")]),
    )
    assert reply.image_keys == []
    assert reply.text == f"@alice {UNSAFE_PHOTO_REPLY}"  # not who is in it, nor what, nor its words
    assert setup.annotate.calls == 0
    assert not any("annotated" in key for key in setup.store.objects)
    assert setup.moderator is not None and setup.moderator.calls == ["users/42/posts/1900/a.jpg"]
    detail = setup.detail()
    assert detail["ImageKeys"] == [] and detail["ImageKey"] is None
    assert detail["Moderation"] == {
        "Checked": 1,
        "Unsafe": 1,
        "Failed": 0,
        "Withheld": 2,
        "Categories": ["Violence"],
        "Checker": "fake",
    }
    assert SendTweet.from_detail(detail).moderation == PhotoModeration(
        checked=1, unsafe=1, withheld=2, categories=("Violence",), checker="fake"
    )
    ((subject, message, attributes),) = setup.alerts.alerts
    assert "@alice" in subject
    assert "@alice" in message and "Violence" in message and "https://x.com/alice/status/1900" in message
    assert "a.jpg" not in message and "users/42" not in message  # never the photo, nor where it is
    assert attributes["TweetId"] == "1900"


def test_a_redelivered_unsafe_photo_alerts_once() -> None:
    once = MemoryIdempotency()
    setup = Setup(FakePhotoModerator(default=UNSAFE), alert_once=once)
    photo = setup.photo("users/42/posts/1900/a.jpg", celebrity_faces=[_celebrity("Ada")])
    first, again = setup.reply(photo), setup.reply(photo)
    assert first == again and first.image_keys == []
    assert len(setup.alerts.alerts) == 1
    assert once.runs == ["unsafe-photo:1900"]


def test_an_unsafe_second_photo_withholds_the_first_too() -> None:
    verdicts = {"b.jpg": ModerationVerdict(unsafe=True, categories=("Explicit", "Drugs"), checker="rekognition")}
    setup = Setup(FakePhotoModerator(verdicts))
    reply = setup.reply(
        setup.photo("a.jpg", celebrity_faces=[_celebrity("Ada")]),
        setup.photo("b.jpg", celebrity_faces=[_celebrity("Bo")]),
    )
    assert reply.image_keys == []
    assert setup.detail()["Moderation"]["Categories"] == ["Explicit", "Drugs"]
    assert setup.detail()["Moderation"]["Withheld"] == 2
    assert len(setup.alerts.alerts) == 1


def test_a_photo_that_cannot_be_checked_is_withheld_and_the_others_still_go() -> None:
    setup = Setup(FakePhotoModerator({"a.jpg": MediaError("gone")}))
    reply = setup.reply(
        setup.photo("a.jpg", celebrity_faces=[_celebrity("Ada")]),
        setup.photo("b.jpg", celebrity_faces=[_celebrity("Bo")]),
    )
    assert reply.image_keys == ["annotated/b.jpg"]
    assert reply.text == "@alice I recognised: Ada, Bo"
    assert setup.detail()["Moderation"] == {
        "Checked": 2,
        "Unsafe": 0,
        "Failed": 1,
        "Withheld": 1,
        "Categories": [],
        "Checker": "fake",
    }
    assert setup.alerts.alerts == []  # nothing unsafe was found: nobody to warn


def test_without_a_moderator_photos_are_reposted_unchecked() -> None:
    setup = Setup()
    reply = setup.reply(setup.photo("a.jpg", celebrity_faces=[_celebrity("Ada")]))
    assert reply.image_keys == ["annotated/a.jpg"]
    assert "Moderation" not in setup.detail()


def test_the_moderation_record_is_a_lake_column() -> None:
    assert isinstance(DETAIL, dict)
    column = DETAIL["Moderation"]
    assert isinstance(column, dict)
    assert set(column) == set(PhotoModeration(checked=1).to_detail())
