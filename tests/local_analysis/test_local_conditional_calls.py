"""The local runtime pays only for answers used too, with its own models: the face detector labels
a person (Person, Head, Face) and the OCR labels text (Text), so with the default triggers a cat
photo gets no face recognition, a public figure is still named and written words are still read;
and the second call reuses the photo decoded (and its faces and text found) by the first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botlocal.analysis import local_image_analyser
from botlocal.analysis.images import LocalImageAnalyser
from botlocal.layout import LocalLayout
from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.contracts.analysis import ImageAnalysis, ImageResult
from chalicelib.kernel.features import IMAGE_FEATURES
from chalicelib.settings import load_settings
from chalicelib.smallmodels.decode import decode_image

from tests.fakes import MemoryMediaStore

from .conftest import photo, text_photo

pytestmark = pytest.mark.slow


class CountingAnalyser:
    """The local analyser, with the features of each call recorded."""

    def __init__(self, inner: LocalImageAnalyser) -> None:
        self.inner = inner
        self.calls: list[tuple[str, frozenset[str]]] = []

    def analyse(self, key: str, features: frozenset[str]) -> ImageAnalysis:
        self.calls.append((key, features))
        return self.inner.analyse(key, features)


@pytest.fixture(scope="module")
def store() -> MemoryMediaStore:
    store = MemoryMediaStore()
    for name in ("obama2.jpg", "chelsea.jpg"):
        store.put(name, photo(name), "image/jpeg")
    store.put("text.png", text_photo(("OPEN DAILY", "Fresh coffee")), "image/png")
    store.put("decoded-once.png", text_photo(("DECODED ONCE",)), "image/png")
    return store


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, store: MemoryMediaStore) -> Iterator[LocalImageAnalyser]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOT_LOCAL_DIR", str(tmp_path_factory.mktemp("bot-local")))
        for variable in ("IMAGE_FEATURES", "CELEBRITIES_WHEN_LABELS", "TEXT_WHEN_LABELS"):
            patch.delenv(variable, raising=False)
        built = local_image_analyser(load_settings(), store, layout=LocalLayout.from_environment())
    assert isinstance(built, LocalImageAnalyser)
    yield built


def _service(analyser: CountingAnalyser) -> ImageAnalysisService:
    settings = load_settings()  # the default triggers (the fixture cleared the variables)
    return ImageAnalysisService(
        analyser=analyser,
        features=IMAGE_FEATURES,
        celebrities_when=settings.celebrities_when,
        text_when=settings.text_when,
    )


@pytest.mark.parametrize(
    ("key", "second_call"),
    [
        pytest.param("chelsea.jpg", None, id="cat: labels only"),
        pytest.param("obama2.jpg", frozenset({"celebrities"}), id="public figure: + celebrities"),
        pytest.param("text.png", frozenset({"text"}), id="written words: + text"),
    ],
)
def test_the_local_labels_pull_the_default_triggers(
    monkeypatch: pytest.MonkeyPatch, local: LocalImageAnalyser, key: str, second_call: frozenset[str] | None
) -> None:
    for variable in ("CELEBRITIES_WHEN_LABELS", "TEXT_WHEN_LABELS"):
        monkeypatch.delenv(variable, raising=False)
    counting = CountingAnalyser(local)
    result = _service(counting).analyse(ImageResult(url="https://pbs.twimg.com/media/a.jpg", key=key))

    assert counting.calls[0] == (key, frozenset({"labels"}))
    assert counting.calls[1:] == ([] if second_call is None else [(key, second_call)])
    # The same answer as the one call of every feature, for what the photo shows.
    assert result.analysis is not None
    assert result.analysis.to_detail() == local.analyse(key, IMAGE_FEATURES).capped().to_detail()


def test_the_public_figure_is_still_named(monkeypatch: pytest.MonkeyPatch, local: LocalImageAnalyser) -> None:
    for variable in ("CELEBRITIES_WHEN_LABELS", "TEXT_WHEN_LABELS"):
        monkeypatch.delenv(variable, raising=False)
    result = _service(CountingAnalyser(local)).analyse(ImageResult(url="https://pbs.twimg.com/a.jpg", key="obama2.jpg"))
    assert result.analysis is not None
    assert [face["Name"] for face in result.analysis.celebrity_faces] == ["Barack Obama"]


def test_the_second_call_does_not_decode_the_photo_again(
    monkeypatch: pytest.MonkeyPatch, local: LocalImageAnalyser
) -> None:
    decoded: list[int] = []

    def counting_decode(body: bytes, *, max_pixels: int) -> object:
        decoded.append(len(body))
        return decode_image(body, max_pixels=max_pixels)

    # Where the analyser's decoding (decode_stored_photo) looks it up.
    monkeypatch.setattr("chalicelib.smallmodels.decode.decode_image", counting_decode)
    local.analyse("decoded-once.png", frozenset({"labels"}))
    local.analyse("decoded-once.png", frozenset({"text"}))
    assert len(decoded) == 1
