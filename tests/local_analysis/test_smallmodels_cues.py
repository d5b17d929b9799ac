"""chalicelib.smallmodels.cues: the Person/Face and Text labels ImageNet lacks, from dlib's HOG face
detector and PP-OCRv6's text detection model alone (what the economy profile can carry)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from chalicelib.smallmodels import files
from chalicelib.smallmodels.cues import CROWD_FACES, FaceCue, TextCue, face_labels, text_lines
from chalicelib.smallmodels.faces import FaceBox, HogFaceDetector
from chalicelib.smallmodels.photo import AnalysedImage

from .conftest import PHOTOS, text_photo

DEMO_ASSETS = Path(__file__).resolve().parents[2] / "local" / "botlocal" / "demo_assets"
needs = {
    "dlib": pytest.mark.skipif(importlib.util.find_spec("dlib") is None, reason="dlib not installed"),
    "text": pytest.mark.skipif(
        importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("rapidocr") is None,
        reason="onnxruntime or rapidocr (its model file) not installed",
    ),
}


def _box(score: float, side: float = 100.0) -> FaceBox:
    return FaceBox(left=0.0, top=0.0, right=side, bottom=side, score=score)


def _names(records: list[dict[str, object]]) -> dict[str, float]:
    return {str(record["Name"]): float(str(record["Confidence"])) for record in records}


def test_no_face_no_label() -> None:
    assert face_labels([]) == []


def test_a_face_is_a_person_a_head_and_a_face_at_the_best_faces_confidence() -> None:
    faces = [_box(0.5), _box(1.0, side=50.0)]
    labels = face_labels(faces)

    best = max(face.confidence for face in faces)
    assert _names(labels) == {"Person": best, "Head": best, "Face": best}
    face = next(record for record in labels if record["Name"] == "Face")
    assert face["Parents"] == [{"Name": "Head"}, {"Name": "Person"}]


def test_enough_faces_are_a_crowd() -> None:
    assert "Crowd" not in _names(face_labels([_box(1.0)] * (CROWD_FACES - 1)))
    assert _names(face_labels([_box(1.0)] * CROWD_FACES))["Crowd"] == 90.0


class _Found:
    """What CueLabeller reads of a photo, without models: faces and no text."""

    def __init__(self, faces: list[FaceBox]) -> None:
        self._faces = faces

    def faces(self) -> list[FaceBox]:
        return self._faces

    def text_detections(self) -> list[dict[str, object]]:
        return []


@pytest.mark.parametrize("count", [0, 1, CROWD_FACES])
def test_the_local_cue_labeller_labels_faces_as_the_face_cue_does(count: int) -> None:
    from botlocal.analysis.labels import CueLabeller

    image = _Found([_box(0.2 * index) for index in range(count)])

    assert CueLabeller(cats=False).labels(image) == FaceCue().labels(image)  # type: ignore[arg-type]


def _image(rgb: object) -> AnalysedImage:
    return AnalysedImage(rgb, faces=HogFaceDetector())  # type: ignore[arg-type]


def _rgb(body: bytes) -> object:
    import numpy as np
    from PIL import Image, ImageOps

    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(body))).convert("RGB"))


def test_without_a_text_reader_text_detections_are_refused() -> None:
    import numpy as np

    with pytest.raises(RuntimeError, match="text reader"):
        _image(np.zeros((8, 8, 3), dtype=np.uint8)).text_detections()


@pytest.mark.slow
@needs["dlib"]
@pytest.mark.parametrize(
    ("name", "person"), [("obama2.jpg", True), ("astronaut.jpg", True), ("chelsea.jpg", False), ("coffee.jpg", False)]
)
def test_face_cue_on_real_photos(name: str, person: bool) -> None:
    labels = _names(FaceCue().labels(_image(_rgb((PHOTOS / name).read_bytes()))))

    if person:
        assert set(labels) == {"Person", "Head", "Face"}
        assert labels["Face"] >= 95.0
    else:
        assert labels == {}


def test_text_lines_keeps_line_shaped_regions_only() -> None:
    import numpy as np

    probabilities = np.zeros((200, 400), dtype=np.float32)
    probabilities[20:40, 20:300] = 0.9  # a line: 20 high, 280 wide
    probabilities[100:160, 20:80] = 0.9  # a square blob: not a line
    probabilities[180:184, 20:300] = 0.9  # too thin to be text
    probabilities[60:80, 20:300] = 0.45  # line-shaped, but the model is unsure

    lines = text_lines(probabilities)

    assert [(line.left, line.top, line.right, line.bottom) for line in lines] == [(20, 20, 300, 40)]
    assert lines[0].mean == pytest.approx(0.9)


@pytest.fixture(scope="module")
def text_cue() -> TextCue:
    return TextCue()


@pytest.mark.slow
@needs["text"]
@pytest.mark.parametrize(
    "path",
    [*sorted(PHOTOS.glob("*.jpg")), *sorted(DEMO_ASSETS.glob("*.jpg"))],
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_text_cue_finds_no_text_in_the_plain_photos(text_cue: TextCue, path: Path) -> None:
    assert text_cue.labels(_image(_rgb(path.read_bytes()))) == []


@pytest.mark.slow
@needs["text"]
@pytest.mark.parametrize("lines", [("HELLO WORLD", "Fresh coffee 3 EUR"), ("OPEN DAILY", "Fresh coffee")])
def test_text_cue_finds_words_drawn_on_a_photo(text_cue: TextCue, lines: tuple[str, ...]) -> None:
    rgb = _rgb(text_photo(lines))
    found = text_cue.lines(rgb)  # type: ignore[arg-type]

    assert len(found) == len(lines)
    (label,) = text_cue.labels(_image(rgb))
    assert label["Name"] == "Text"
    assert float(label["Confidence"]) >= 70.0  # kept by the analyser's minimum confidence


def test_text_cue_names_a_missing_model_file_on_first_use(tmp_path: Path) -> None:
    cue = TextCue(models_dir=tmp_path)  # cheap: nothing is read yet

    with pytest.raises(files.ModelFileError, match=r"PP-OCRv6_det_small\.onnx is missing"):
        cue.load()
