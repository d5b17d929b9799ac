"""The local ImageAnalyser on real photos: OCR, faces, the celebrity gallery and labels.

The models load once for the module; the first test pays for it (a second or two).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botlocal.analysis import local_image_analyser
from botlocal.analysis.faces import FaceGallery, FaceModel, person_id
from botlocal.analysis.images import LocalImageAnalyser
from botlocal.layout import LocalLayout
from chalicelib.kernel.features import IMAGE_FEATURES
from chalicelib.ports import MediaError
from chalicelib.settings import load_settings

from tests.fakes import MemoryMediaStore

from .conftest import photo, text_photo

pytestmark = pytest.mark.slow

ALL = IMAGE_FEATURES


@pytest.fixture(scope="module")
def local_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bot-local")


@pytest.fixture(scope="module")
def module_store() -> MemoryMediaStore:
    store = MemoryMediaStore()
    for name in ("obama2.jpg", "astronaut.jpg", "chelsea.jpg", "coffee.jpg"):
        store.put(name, photo(name), "image/jpeg")
    store.put("text.png", text_photo(), "image/png")
    return store


@pytest.fixture(scope="module")
def analyser(local_dir: Path, module_store: MemoryMediaStore) -> Iterator[LocalImageAnalyser]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOT_LOCAL_DIR", str(local_dir))
        built = local_image_analyser(load_settings(), module_store, layout=LocalLayout.from_environment())
    assert isinstance(built, LocalImageAnalyser)
    yield built


def _assert_box(box: dict[str, Any]) -> None:
    assert set(box) == {"Width", "Height", "Left", "Top"}
    assert all(0.0 <= value <= 1.0 for value in box.values())
    assert box["Left"] + box["Width"] <= 1.0 + 1e-6
    assert box["Top"] + box["Height"] <= 1.0 + 1e-6
    assert box["Width"] > 0 and box["Height"] > 0


def test_ocr_finds_the_written_words(analyser: LocalImageAnalyser) -> None:
    detections = analyser.analyse("text.png", frozenset({"text"})).text_detections

    lines = [item for item in detections if item["Type"] == "LINE"]
    words = [item for item in detections if item["Type"] == "WORD"]
    assert [line["DetectedText"] for line in lines] == ["HELLO WORLD", "Fresh coffee 3 EUR"]
    assert [word["DetectedText"] for word in words] == ["HELLO", "WORLD", "Fresh", "coffee", "3", "EUR"]
    assert [item["Id"] for item in detections] == list(range(len(detections)))
    line_ids = {line["DetectedText"]: line["Id"] for line in lines}
    assert {word["ParentId"] for word in words[:2]} == {line_ids["HELLO WORLD"]}
    assert {word["ParentId"] for word in words[2:]} == {line_ids["Fresh coffee 3 EUR"]}
    assert all("ParentId" not in line for line in lines)
    for item in detections:
        assert 70.0 <= item["Confidence"] <= 100.0
        _assert_box(item["Geometry"]["BoundingBox"])
    # Words lie inside their line, left to right.
    hello, world = words[0]["Geometry"]["BoundingBox"], words[1]["Geometry"]["BoundingBox"]
    line = lines[0]["Geometry"]["BoundingBox"]
    assert line["Left"] - 0.01 <= hello["Left"] < world["Left"] <= line["Left"] + line["Width"]


def test_a_second_photo_of_a_gallery_person_is_recognised(analyser: LocalImageAnalyser) -> None:
    result = analyser.analyse("obama2.jpg", frozenset({"celebrities"}))

    assert result.unrecognized_faces == []
    [celebrity] = result.celebrity_faces
    assert celebrity["Name"] == "Barack Obama"
    assert celebrity["Id"] == person_id("Barack Obama")
    assert celebrity["Urls"] == []
    assert 50.0 < celebrity["MatchConfidence"] <= 100.0
    assert celebrity["Face"]["Confidence"] > 90.0
    _assert_box(celebrity["Face"]["BoundingBox"])
    # The face is in the upper middle of this portrait.
    box = celebrity["Face"]["BoundingBox"]
    assert 0.2 < box["Left"] + box["Width"] / 2 < 0.8
    assert box["Top"] < 0.5


def test_a_stranger_is_unrecognised(analyser: LocalImageAnalyser) -> None:
    result = analyser.analyse("astronaut.jpg", frozenset({"celebrities"}))

    assert result.celebrity_faces == []
    [face] = result.unrecognized_faces
    assert set(face) == {"BoundingBox", "Confidence"}
    _assert_box(face["BoundingBox"])


def test_photos_without_people_or_text(analyser: LocalImageAnalyser) -> None:
    for key in ("coffee.jpg", "chelsea.jpg"):
        result = analyser.analyse(key, ALL)
        assert result.celebrity_faces == [] and result.unrecognized_faces == []
        assert [label["Name"] for label in result.labels if label["Name"] in ("Person", "Face", "Text")] == []


def test_labels_have_rekognitions_shape(analyser: LocalImageAnalyser) -> None:
    person = analyser.analyse("obama2.jpg", frozenset({"labels"})).labels
    text = analyser.analyse("text.png", frozenset({"labels"})).labels

    names = {label["Name"]: label for label in person}
    assert {"Person", "Face", "Head"} <= set(names)
    assert names["Face"]["Parents"] == [{"Name": "Head"}, {"Name": "Person"}]
    assert names["Person"]["Parents"] == []
    assert "Text" in {label["Name"] for label in text}
    for label in person + text:
        assert set(label) == {"Name", "Confidence", "Parents"}
        assert 70.0 <= label["Confidence"] <= 100.0
    confidences = [label["Confidence"] for label in person]
    assert confidences == sorted(confidences, reverse=True)


def test_only_the_asked_features_are_returned(analyser: LocalImageAnalyser) -> None:
    result = analyser.analyse("text.png", frozenset({"text"}))

    assert result.text_detections
    assert result.labels == [] and result.celebrity_faces == [] and result.unrecognized_faces == []
    assert analyser.analyse("text.png", frozenset()).to_detail() == {
        "Labels": [],
        "TextDetections": [],
        "CelebrityFaces": [],
        "UnrecognizedFaces": [],
    }
    with pytest.raises(ValueError, match="unknown image features"):
        analyser.analyse("text.png", frozenset({"moderation"}))


def test_unreadable_photos_are_media_errors(analyser: LocalImageAnalyser, module_store: MemoryMediaStore) -> None:
    module_store.put("not-an-image.jpg", b"<html>not a photo</html>", "image/jpeg")

    with pytest.raises(MediaError, match="cannot be analysed"):
        analyser.analyse("not-an-image.jpg", ALL)
    with pytest.raises(MediaError, match=r"no stored photo under missing\.jpg"):
        analyser.analyse("missing.jpg", ALL)


def test_parallel_analyses_agree_with_sequential_ones(analyser: LocalImageAnalyser) -> None:
    keys = ["obama2.jpg", "astronaut.jpg", "text.png", "coffee.jpg"]
    sequential = [analyser.analyse(key, ALL).to_detail() for key in keys]

    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda key: analyser.analyse(key, ALL).to_detail(), keys))

    assert parallel == sequential


def test_user_known_faces_are_recognised_and_cached(tmp_path: Path, store: MemoryMediaStore) -> None:
    from PIL import Image, ImageOps

    # The user's gallery photo: the astronaut's portrait mirrored and cropped (a different image
    # of the same face); the photo analysed is the original.
    person = tmp_path / "known-faces" / "Eileen_Collins"
    person.mkdir(parents=True)
    original = Image.open(io.BytesIO(photo("astronaut.jpg")))
    ImageOps.mirror(original).crop((0, 0, 400, 400)).save(person / "collins.png")
    (tmp_path / "known-faces" / "Nobody").mkdir()
    (tmp_path / "known-faces" / "Nobody" / "coffee.jpg").write_bytes(photo("coffee.jpg"))  # no face: ignored
    store.put("astronaut.jpg", photo("astronaut.jpg"), "image/jpeg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOT_LOCAL_DIR", str(tmp_path))
        analyser = local_image_analyser(load_settings(), store, layout=LocalLayout.from_environment())

    [celebrity] = analyser.analyse("astronaut.jpg", frozenset({"celebrities"})).celebrity_faces
    assert celebrity["Name"] == "Eileen Collins"

    cache = tmp_path / "cache" / "face-embeddings"
    assert len(list(cache.glob("*.json"))) == 4  # two bundled portraits, two of the user's

    class NoFaces(FaceModel):
        def detect(self, rgb: Any) -> list[Any]:
            raise AssertionError("cached embeddings must not be computed again")

    assert isinstance(analyser, LocalImageAnalyser)
    folders = [analyser.gallery.photos()[0][1].parents[1], tmp_path / "known-faces"]
    restarted = FaceGallery(folders, NoFaces(), cache_dir=cache)
    assert sorted({name for name, _ in restarted.embeddings()}) == ["Barack Obama", "Eileen Collins", "Joe Biden"]
