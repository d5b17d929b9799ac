"""EgressService: idempotent posting, photos, shortening, rate limits, duplicates and refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from botlocal.media import LocalMediaStore
from botlocal.outbox import OutboxPoster, read_outbox
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import DUPLICATE, EgressService, content_type_of
from chalicelib.kernel.errors import TransientError
from chalicelib.kernel.idempotency import ConcurrentDeliveryError
from chalicelib.kernel.x_text import ELLIPSIS, fits
from chalicelib.ports import DuplicateContentError, EgressError, RateLimitedError

from tests.fakes import FakePoster, MemoryMediaStore

JPEG = b"\xff\xd8\xff\xe0photo"
PNG = b"\x89PNG\r\n\x1a\nphoto"
NOW = 1_767_225_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def idempotency(tmp_path: Path) -> PowertoolsIdempotency:
    return local_idempotency(LocalLayout(tmp_path).idempotency)


def service(
    poster: FakePoster,
    idempotency: PowertoolsIdempotency,
    media: MemoryMediaStore | None = None,
    clock: Clock | None = None,
) -> EgressService:
    clock = clock or Clock()
    return EgressService(
        poster=poster, media=media or MemoryMediaStore(), idempotency=idempotency, sleep=clock.sleep, now=clock.time
    )


def reply(
    text: str = "Here's a joke for you", keys: list[str] | None = None, to: str = "1879000000000000001"
) -> SendTweet:
    return SendTweet(text=text, reply_to_tweet_id=to, reply_to_user_id="42", image_keys=keys or [])


def test_posts_the_reply_with_its_photos(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster("1880028106020515999")
    media = MemoryMediaStore()
    media.put("annotated/a.jpg", JPEG, "image/jpeg")
    media.put("annotated/b.png", PNG, "image/png")
    result = service(poster, idempotency, media).send(reply("I recognised: A", ["annotated/a.jpg", "annotated/b.png"]))
    assert result == "1880028106020515999"
    assert poster.calls == [("I recognised: A", "1879000000000000001", [(JPEG, "image/jpeg"), (PNG, "image/png")])]


def test_a_redelivered_event_does_not_post_again(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster("1880028106020515999", "should-not-happen")
    egress = service(poster, idempotency)
    assert egress.send(reply()) == "1880028106020515999"
    assert egress.send(reply()) == "1880028106020515999"
    assert len(poster.calls) == 1
    # Another SEND_TWEET for the same post (MESSAGE_ANALYSED handled twice): still one reply.
    assert egress.send(reply("Another joke")) == "1880028106020515999"
    assert len(poster.calls) == 1
    assert egress.send(reply(to="1879000000000000002")) == "should-not-happen"


def test_a_concurrent_duplicate_is_retried_later(idempotency: PowertoolsIdempotency) -> None:
    errors: list[BaseException] = []

    class Reentrant(FakePoster):
        def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
            try:
                egress.send(reply())
            except BaseException as error:
                errors.append(error)
            return super().post_reply(text, reply_to_tweet_id, images)

    poster = Reentrant("1")
    egress = service(poster, idempotency)
    assert egress.send(reply(), remaining_ms=lambda: 60_000) == "1"
    assert len(poster.calls) == 1
    assert [type(error) for error in errors] == [ConcurrentDeliveryError]
    assert isinstance(errors[0], TransientError)


def test_a_missing_photo_is_left_out_and_logged(
    idempotency: PowertoolsIdempotency, caplog: pytest.LogCaptureFixture
) -> None:
    poster = FakePoster()
    media = MemoryMediaStore()
    media.put("annotated/a.jpg", JPEG, "image/jpeg")
    with caplog.at_level(logging.WARNING):
        service(poster, idempotency, media).send(reply("hi", ["gone/x.jpg", "annotated/a.jpg"]))
    assert poster.calls[0][2] == [(JPEG, "image/jpeg")]
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert [getattr(record, "image_key", None) for record in warnings] == ["gone/x.jpg"]


def test_long_text_is_shortened_to_fit(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster()
    service(poster, idempotency).send(reply("word " * 100))
    text = poster.calls[0][0]
    assert text.endswith(ELLIPSIS)
    assert fits(text)


def test_rate_limit_waits_for_the_reset_when_time_allows(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=NOW + 20), "1880028106020515999")
    clock = Clock()
    result = service(poster, idempotency, clock=clock).send(reply(), remaining_ms=lambda: 60_000)
    assert result == "1880028106020515999"
    assert clock.slept == [21.0]  # to the reset, plus a second
    assert len(poster.calls) == 2


def test_rate_limit_beyond_the_time_left_is_transient_and_the_event_can_be_retried(
    idempotency: PowertoolsIdempotency,
) -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=NOW + 50), "1880028106020515999")
    clock = Clock()
    egress = service(poster, idempotency, clock=clock)
    # 51 s to wait + 15 s margin > 60 s left.
    with pytest.raises(TransientError, match="rate limited"):
        egress.send(reply(), remaining_ms=lambda: 60_000)
    assert clock.slept == []
    # EventBridge's retry of the same event posts (the failed attempt left no record).
    assert egress.send(reply(), remaining_ms=lambda: 60_000) == "1880028106020515999"


def test_rate_limited_twice_is_transient(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=NOW + 5), RateLimitedError("429", reset_at=NOW + 900))
    clock = Clock()
    with pytest.raises(TransientError, match="still rate limited"):
        service(poster, idempotency, clock=clock).send(reply(), remaining_ms=lambda: 60_000)
    assert clock.slept == [6.0]
    assert len(poster.calls) == 2


def test_rate_limit_without_reset_time_is_transient(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=None))
    with pytest.raises(TransientError, match="no reset"):
        service(poster, idempotency).send(reply(), remaining_ms=lambda: 600_000)


def test_rate_limit_without_deadline_uses_the_default_budget(idempotency: PowertoolsIdempotency) -> None:
    clock = Clock()
    short = FakePoster(RateLimitedError("429", reset_at=NOW + 30), "ok")
    assert service(short, idempotency, clock=clock).send(reply()) == "ok"
    long = FakePoster(RateLimitedError("429", reset_at=clock.now + 300))
    with pytest.raises(TransientError):
        service(long, idempotency, clock=clock).send(reply(to="1879000000000000002"))


def test_a_reset_in_the_past_retries_at_once(idempotency: PowertoolsIdempotency) -> None:
    clock = Clock()
    poster = FakePoster(RateLimitedError("429", reset_at=NOW - 10), "ok")
    assert service(poster, idempotency, clock=clock).send(reply(), remaining_ms=lambda: 30_000) == "ok"
    assert clock.slept == [0.0]


def test_duplicate_content_counts_as_posted(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(DuplicateContentError("403 duplicate content"), "never")
    egress = service(poster, idempotency)
    assert egress.send(reply()) == DUPLICATE
    assert egress.send(reply()) == DUPLICATE
    assert len(poster.calls) == 1


def test_a_refusal_is_raised_and_not_transient(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(EgressError("POST /2/tweets -> 403: not mentioned"), "1")
    egress = service(poster, idempotency)
    with pytest.raises(EgressError, match="not mentioned") as caught:
        egress.send(reply())
    assert not isinstance(caught.value, TransientError)
    # No record is kept: EventBridge's own retry (then its DLQ) decides, as for any failed delivery.
    assert egress.send(reply()) == "1"


def test_transient_poster_errors_propagate(idempotency: PowertoolsIdempotency) -> None:
    poster = FakePoster(TransientError("503"), "1")
    egress = service(poster, idempotency)
    with pytest.raises(TransientError):
        egress.send(reply())
    assert egress.send(reply()) == "1"


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        (JPEG, "x.bin", "image/jpeg"),
        (PNG, "x.jpg", "image/png"),
        (b"GIF89a...", "x", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "x", "image/webp"),
        (b"????", "photo.JPG", "image/jpeg"),
        (b"????", "photo", "application/octet-stream"),
    ],
)
def test_content_type_of(body: bytes, key: str, expected: str) -> None:
    assert content_type_of(body, key) == expected


def test_local_end_to_end_one_line_per_event(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    media = LocalMediaStore(layout.media)
    media.put("annotated/2024/a.jpg", JPEG, "image/jpeg")
    egress = EgressService(
        poster=OutboxPoster(layout.outbox, layout.outbox_images),
        media=media,
        idempotency=local_idempotency(layout.idempotency),
        sleep=lambda _: None,
    )
    message = reply("I recognised: A", ["annotated/2024/a.jpg"])
    first = egress.send(message)
    assert egress.send(message) == first
    records = read_outbox(layout.outbox)
    assert len(records) == 1
    assert records[0]["PostId"] == first
    assert Path(records[0]["Image"]).read_bytes() == JPEG
