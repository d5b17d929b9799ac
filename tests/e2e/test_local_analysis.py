"""Issue 3's promise on the local runtime: real local models, through the commands a person types.

`botctl tweet` with a photo of a person in the gallery, a photo of written text and a negative
sentence; `botctl wait`; then the analysis rows in `botctl query` and exactly one alert.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.runtime import LocalRuntime, serving

PHOTOS = Path(__file__).parents[1] / "fixtures" / "photos"
GALLERY = Path(__file__).parents[2] / "local" / "botlocal" / "analysis" / "gallery"


def _other_shot(path: Path) -> Path:
    """Another image of the astronaut: mirrored, cropped and scaled (no second photo of her ships)."""
    from PIL import Image, ImageOps

    image = ImageOps.mirror(Image.open(PHOTOS / "astronaut.jpg").convert("RGB"))
    width, height = image.size
    image.crop((width // 8, 0, width, height * 7 // 8)).resize((width * 2 // 3, height * 7 // 12)).save(path)
    return path


def _written_text_photo(path: Path) -> Path:
    """A real photo with words written on a panel (Pillow's bundled font)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(PHOTOS / "coffee.jpg").convert("RGB")
    draw = ImageDraw.Draw(image)
    # Lines closer than about 1.5 times the font size merge into one box for the OCR's detector.
    draw.rectangle((40, 40, 560, 190), fill="white")
    draw.text((60, 50), "OPEN DAILY", fill="black", font=ImageFont.load_default(size=40))
    draw.text((60, 120), "Fresh coffee", fill="black", font=ImageFont.load_default(size=40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    state = tmp_path_factory.mktemp("analysis")
    # A person the bundled gallery does not know, taught through known-faces/.
    known = state / "bot" / "known-faces" / "Eileen_Collins"
    known.mkdir(parents=True)
    shutil.copy(PHOTOS / "astronaut.jpg", known / "astronaut.jpg")
    with serving(state) as served:
        yield served


def _analysed(runtime: LocalRuntime, tweet_id: str) -> dict[str, Any]:
    rows = runtime.query(
        'SELECT detail FROM "analysed-messages-table" '
        f"WHERE detail_type = 'MESSAGE_ANALYSED' AND detail.twitter.tweetid = '{tweet_id}'"
    )
    assert len(rows) == 1, rows
    detail: dict[str, Any] = rows[0]["detail"]
    return detail


@pytest.mark.slow
def test_photos_text_and_alerts_on_local_models(runtime: LocalRuntime, tmp_path: Path) -> None:
    def tweet(text: str, *images: Path) -> str:
        args = ["tweet", text, "--author", "alice", "--url", runtime.url]
        for image in images:
            args += ["--image", str(image)]
        result = runtime.botctl(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip()

    person = tweet("who is this?", PHOTOS / "obama2.jpg")
    known = tweet("and this one?", _other_shot(tmp_path / "collins.jpg"))
    written = tweet("what does it say?", _written_text_photo(tmp_path / "sign.png"))
    negative = tweet("you are a terrible, useless and awful bot")
    runtime.wait(timeout=240)

    faces = _analysed(runtime, person)["analysis"]["images"][0]["analysis"]
    assert [face["name"] for face in faces["celebrityfaces"]] == ["Barack Obama"]
    assert {"Person", "Face"} <= {label["name"] for label in faces["labels"]}

    known_faces = _analysed(runtime, known)["analysis"]["images"][0]["analysis"]["celebrityfaces"]
    assert [face["name"] for face in known_faces] == ["Eileen Collins"]

    text = _analysed(runtime, written)["analysis"]["images"][0]["analysis"]
    words = " ".join(detection["detectedtext"] for detection in text["textdetections"]).upper()
    assert "OPEN DAILY" in words and "FRESH COFFEE" in words
    assert "Text" in {label["name"] for label in text["labels"]}

    analysed = _analysed(runtime, negative)
    assert analysed["analysis"]["textsentiment"] == "NEGATIVE"
    assert analysed["hasimages"] is False and analysed["analysis"]["images"] == []

    result = runtime.botctl("alerts", "--format", "json")
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)
    assert len(alerts) == 1, alerts
    assert negative in alerts[0]["message"] and "terrible" in alerts[0]["message"]


@pytest.mark.slow
def test_replies_in_the_outbox(runtime: LocalRuntime, tmp_path: Path) -> None:
    """Issue 4's promise: a joke for a joke request, a named and annotated photo, nothing for the bot itself."""
    joke = runtime.botctl("tweet", "tell me a joke", "--author", "frank", "--url", runtime.url).stdout.strip()
    photo = _other_shot(tmp_path / "collins.jpg")
    named = runtime.botctl("tweet", "who?", "--image", str(photo), "--author", "gina", "--url", runtime.url)
    named_id = named.stdout.strip()
    runtime.wait(timeout=240)

    result = runtime.botctl("outbox", "--format", "json")
    assert result.returncode == 0, result.stderr
    outbox = {entry["ReplyToTweetId"]: entry for entry in json.loads(result.stdout)}

    from chalicelib.responding.jokes import JOKES

    joke_reply = outbox[joke]["Text"]
    assert joke_reply.startswith("@frank ")
    assert joke_reply.removeprefix("@frank ") in JOKES

    reply = outbox[named_id]
    assert reply["Text"] == "@gina I recognised: Eileen Collins"
    annotated = Path(reply["Image"])
    assert annotated.is_file()
    assert annotated.read_bytes() != photo.read_bytes()
