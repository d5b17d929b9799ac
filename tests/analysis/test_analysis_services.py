from __future__ import annotations

import io

import pytest
from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.analysis.media import MediaDownloadService, inspect_image
from chalicelib.analysis.text import TextAnalysisService
from chalicelib.contracts.analysis import ImageResult
from chalicelib.kernel.errors import TransientError, is_transient
from chalicelib.kernel.media_policy import check_media_url
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.ports import MediaError

from tests.fakes import FakeFetcher, FakeImageAnalyser, FakeTextAnalyser, MemoryMediaStore, image_bytes

HOSTS = ("pbs.twimg.com",)
PHOTO = "https://pbs.twimg.com/media/a.jpg"
#: The post whose photos are downloaded: its author's id and its id name the folder they go to.
POST = {"user_id": "42", "tweet_id": "1900"}


@pytest.mark.parametrize(
    "url",
    [
        "http://pbs.twimg.com/media/a.jpg",
        "https://evil.example/a.jpg",
        "https://pbs.twimg.com.evil.example/a.jpg",
        "https://user:pw@pbs.twimg.com/a.jpg",
        "https://pbs.twimg.com:8443/a.jpg",
        "file:///etc/passwd",
        "https://[::1/a",
    ],
)
def test_only_https_on_allowed_hosts(url: str) -> None:
    with pytest.raises(MediaError):
        check_media_url(url, HOSTS)


def test_allowed_url_passes() -> None:
    check_media_url("https://PBS.twimg.com/media/a.jpg?format=jpg&name=large", HOSTS)


@pytest.mark.parametrize(("image_format", "expected"), [("JPEG", ("jpg", "image/jpeg")), ("PNG", ("png", "image/png"))])
def test_real_images_are_recognised(image_format: str, expected: tuple[str, str]) -> None:
    assert inspect_image(image_bytes(image_format), max_pixels=10_000) == expected


def test_non_images_truncated_images_and_bombs_are_refused() -> None:
    with pytest.raises(MediaError, match="not a decodable image"):
        inspect_image(b"<html>not an image</html>", max_pixels=10_000)
    with pytest.raises(MediaError, match="not a decodable image"):
        inspect_image(image_bytes("PNG")[:60], max_pixels=10_000)
    with pytest.raises(MediaError, match="pixel limit"):
        inspect_image(image_bytes("PNG", size=(200, 200)), max_pixels=10_000)


def test_unaccepted_formats_are_refused() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    with pytest.raises(MediaError, match="BMP is not accepted"):
        inspect_image(buffer.getvalue(), max_pixels=10_000)


def _downloader(
    bodies: dict[str, bytes | Exception], store: MemoryMediaStore, max_bytes: int = 10_000
) -> MediaDownloadService:
    return MediaDownloadService(
        fetcher=FakeFetcher(bodies),
        store=store,
        allowed_hosts=HOSTS,
        max_bytes=max_bytes,
        max_pixels=1_000_000,
    )


def test_download_stores_each_photo_and_reports_failures_one_by_one() -> None:
    store = MemoryMediaStore()
    good, missing, not_allowed = PHOTO, "https://pbs.twimg.com/media/missing.jpg", "https://evil.example/x.jpg"
    results = _downloader({good: image_bytes("JPEG")}, store).download_all([good, missing, not_allowed], **POST)
    assert results[0].error is None and results[0].key is not None
    assert results[0].key.startswith("users/42/posts/1900/") and results[0].key.endswith(".jpg")
    assert store.objects[results[0].key][1] == "image/jpeg"
    assert (results[1].key, results[1].error) == (None, "404 not found")
    assert results[2].error is not None and "not an allowed media host" in results[2].error
    assert len(store.objects) == 1


def test_download_refuses_what_the_fetcher_returned_over_the_limit() -> None:
    store = MemoryMediaStore()
    (result,) = _downloader({PHOTO: image_bytes("PNG", size=(300, 300))}, store, max_bytes=100).download_all(
        [PHOTO], **POST
    )
    assert result.error == "larger than 100 bytes"
    assert store.objects == {}


def test_mentions_and_urls_are_removed_for_the_emptiness_check() -> None:
    assert without_mentions_and_urls("@bot  https://t.co/x @other") == ""
    assert without_mentions_and_urls("@bot tell me a joke https://t.co/x") == "tell me a joke"
    assert without_mentions_and_urls("mail me: a@b.com") == "mail me: a@b.com"


def test_text_that_is_only_mentions_and_urls_costs_no_call() -> None:
    analyser = FakeTextAnalyser()
    result = TextAnalysisService(analyser=analyser, key_phrases=False).analyse("@bot https://t.co/x", "en")
    assert result.sentiment is None
    assert analyser.calls == []


def test_post_language_is_used_when_supported_and_the_whole_text_is_analysed() -> None:
    analyser = FakeTextAnalyser(detected="fr")
    result = TextAnalysisService(analyser=analyser, key_phrases=True).analyse("@bot this is terrible", "en")
    assert result.sentiment == "NEGATIVE"
    assert analyser.calls == [("analyse", ("@bot this is terrible", "en", True))]


def test_language_is_detected_when_the_post_has_none_or_an_unsupported_one() -> None:
    for lang in (None, "und", "tl"):
        analyser = FakeTextAnalyser(detected="fr")
        result = TextAnalysisService(analyser=analyser, key_phrases=False).analyse("@bot c'est génial", lang)
        assert result.language == "fr"
        assert analyser.calls[0] == ("detect", "c'est génial")


def test_an_unsupported_detected_language_gets_no_sentiment() -> None:
    analyser = FakeTextAnalyser(detected="tl")
    result = TextAnalysisService(analyser=analyser, key_phrases=False).analyse("magandang umaga", None)
    assert (result.sentiment, result.language) == (None, "tl")
    assert [call[0] for call in analyser.calls] == ["detect"]


def test_image_analysis_skips_failed_photos_and_reports_its_own_failures() -> None:
    analyser = FakeImageAnalyser({"bad.png": MediaError("InvalidImageFormatException")})
    service = ImageAnalysisService(analyser=analyser, features=frozenset({"labels"}))
    failed = ImageResult(url=PHOTO, error="404 not found")
    assert service.analyse(failed) == failed
    analysed = service.analyse(ImageResult(url=PHOTO, key="good.png"))
    assert analysed.analysis is not None and analysed.analysis.labels[0]["Name"] == "Cat"
    assert service.analyse(ImageResult(url=PHOTO, key="bad.png")).error == "InvalidImageFormatException"
    assert analyser.calls == [("good.png", frozenset({"labels"})), ("bad.png", frozenset({"labels"}))]


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


def test_transient_errors_are_recognised() -> None:
    assert is_transient(_ClientError("ThrottlingException"))
    assert is_transient(_ClientError("ProvisionedThroughputExceededException"))
    assert is_transient(TimeoutError())
    assert is_transient(TransientError())
    assert not is_transient(_ClientError("AccessDeniedException"))
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    assert is_transient(ReadTimeoutError(endpoint_url="https://rekognition"))
    assert is_transient(EndpointConnectionError(endpoint_url="https://comprehend"))
    assert not is_transient(ValueError("bad"))


def test_a_transient_download_failure_is_retried_photo_by_photo() -> None:
    from chalicelib.ports import TransientMediaError

    unavailable = TransientMediaError("HTTP 503 from pbs.twimg.com")
    fetcher = FakeFetcher({PHOTO: [unavailable, unavailable, image_bytes("PNG")]})
    service = MediaDownloadService(
        fetcher=fetcher,
        store=MemoryMediaStore(),
        allowed_hosts=HOSTS,
        max_bytes=10_000,
        max_pixels=10**6,
        sleep=lambda _: None,
    )
    (result,) = service.download_all([PHOTO], **POST)
    assert result.error is None and len(fetcher.calls) == 3


def test_a_photo_that_keeps_failing_is_reported_with_the_reason() -> None:
    from chalicelib.ports import TransientMediaError

    fetcher = FakeFetcher({PHOTO: TransientMediaError("HTTP 503 from pbs.twimg.com")})
    service = MediaDownloadService(
        fetcher=fetcher,
        store=MemoryMediaStore(),
        allowed_hosts=HOSTS,
        max_bytes=10_000,
        max_pixels=10**6,
        sleep=lambda _: None,
    )
    (result,) = service.download_all([PHOTO], **POST)
    assert result.error == "HTTP 503 from pbs.twimg.com"
    assert len(fetcher.calls) == 3


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_formats_rekognition_cannot_read_are_stored_as_png(image_format: str) -> None:
    from PIL import Image

    store = MemoryMediaStore()
    (result,) = _downloader({PHOTO: image_bytes(image_format)}, store).download_all([PHOTO], **POST)
    assert result.key is not None and result.key.endswith(".png")
    body, content_type = store.objects[result.key]
    assert content_type == "image/png"
    with Image.open(io.BytesIO(body)) as stored:
        assert (stored.format, stored.size) == ("PNG", (64, 48))


def test_photos_past_the_time_budget_are_reported_not_fetched() -> None:
    now = [0.0]

    def take_25_seconds(url: str) -> None:
        now[0] += 25.0  # each photo takes 25 s

    service = MediaDownloadService(
        fetcher=FakeFetcher(default=image_bytes("PNG"), on_fetch=take_25_seconds),
        store=MemoryMediaStore(),
        allowed_hosts=HOSTS,
        max_bytes=10_000,
        max_pixels=10**6,
        budget_seconds=40.0,
        clock=lambda: now[0],
    )
    urls = [f"https://pbs.twimg.com/media/{n}.png" for n in range(3)]
    results = service.download_all(urls, **POST)
    assert [result.error is None for result in results] == [True, True, False]
    assert results[2].error is not None and "ran out" in results[2].error
