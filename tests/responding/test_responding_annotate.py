"""annotate_photo on real photos: the name is drawn next to the face, strangers are blurred.

The face boxes are the local analyser's, measured once on these photos (botlocal's dlib model via
`local_image_analyser(...).analyse(key, {"celebrities"})`) and hard-coded, so this module needs no
model. Regions are compared with the original photo turned upright: drawn regions change a lot,
far regions only by the JPEG re-encoding.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from chalicelib.contracts.analysis import ImageAnalysis
from chalicelib.responding import annotate
from chalicelib.responding.annotate import annotate_photo
from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "tests" / "fixtures" / "photos"
GALLERY_OBAMA = ROOT / "local" / "botlocal" / "analysis" / "gallery" / "Barack_Obama" / "obama.jpg"

# Measured once with the local analyser (see the module's docstring).
OBAMA2_FACE = {"Width": 0.467066, "Height": 0.24375, "Left": 0.242515, "Top": 0.234375}
GALLERY_OBAMA_FACE = {"Width": 0.304688, "Height": 0.24375, "Left": 0.392578, "Top": 0.126562}
ASTRONAUT_FACE = {"Width": 0.177734, "Height": 0.177734, "Left": 0.341797, "Top": 0.148438}

LIMIT = 50_000_000
Region = tuple[int, int, int, int]


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def celebrity(name: str, box: dict[str, float]) -> dict[str, Any]:
    """A CelebrityFaces record as Rekognition gives it (the fields annotate uses, and a few more)."""
    return {
        "Name": name,
        "Id": "x",
        "MatchConfidence": 99.0,
        "Urls": [],
        "Face": {"BoundingBox": box, "Confidence": 99.9},
    }


def stranger(box: dict[str, float]) -> dict[str, Any]:
    return {"BoundingBox": box, "Confidence": 99.9}


def upright(body: bytes) -> Image.Image:
    with Image.open(io.BytesIO(body)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def decoded(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def pixels(box: dict[str, float], size: tuple[int, int]) -> Region:
    width, height = size
    left, top = round(box["Left"] * width), round(box["Top"] * height)
    return left, top, round((box["Left"] + box["Width"]) * width), round((box["Top"] + box["Height"]) * height)


def change(before: Image.Image, after: Image.Image, region: Region) -> float:
    """Mean absolute difference (0-255) of the two images inside region."""
    difference = ImageChops.difference(before.crop(region), after.convert("RGB").crop(region))
    return sum(ImageStat.Stat(difference).mean) / 3


def detail(image: Image.Image, region: Region) -> float:
    """How much fine structure a region has: the mean of the photo's edge map there (filtered
    before cropping, so that the crop's own border does not count as an edge)."""
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES).crop(region)).mean[0]


def font_size(size: tuple[int, int]) -> int:
    return max(annotate.MIN_FONT_SIZE, round(min(size) * annotate.FONT_SCALE))


def below(face: Region, size: tuple[int, int]) -> Region:
    """Where the label goes when there is room under the face: a band a font's height tall."""
    x0, _, _, y1 = face
    font = font_size(size)
    return x0, y1 + 3, x0 + 4 * font, y1 + font


def above(face: Region, size: tuple[int, int]) -> Region:
    x0, y0, _, _ = face
    font = font_size(size)
    return x0, y0 - font, x0 + 4 * font, y0 - 3


def left_edge(face: Region) -> Region:
    """A strip across the frame's left side, away from the corners."""
    x0, y0, _, y1 = face
    quarter = (y1 - y0) // 4
    return x0 - 2, y0 + quarter, x0 + 2, y1 - quarter


def rgb_pixels(image: Image.Image, region: Region) -> list[tuple[int, int, int]]:
    return cast(list[tuple[int, int, int]], list(image.convert("RGB").crop(region).get_flattened_data()))


def yellow_share(image: Image.Image, region: Region) -> float:
    data = rgb_pixels(image, region)
    return sum(1 for r, g, b in data if r > 200 and g > 160 and b < 100) / len(data)


def dark_share(image: Image.Image, region: Region) -> float:
    data = rgb_pixels(image, region)
    return sum(1 for r, g, b in data if r + g + b < 200) / len(data)


NOISE = 3.0  # the most a region changes through JPEG re-encoding alone
DRAWN = 20.0  # the least a region with a frame or a label drawn on it changes


@pytest.mark.parametrize(
    ("body", "box", "far"),
    [
        (photo("obama2.jpg"), OBAMA2_FACE, (270, 560, 334, 640)),
        (GALLERY_OBAMA.read_bytes(), GALLERY_OBAMA_FACE, (420, 540, 512, 640)),
    ],
    ids=["obama2", "gallery-portrait"],
)
def test_the_name_is_drawn_under_the_face(body: bytes, box: dict[str, float], far: Region) -> None:
    kept = bytes(body)
    out, content_type = annotate_photo(
        body, ImageAnalysis(celebrity_faces=[celebrity("Barack Obama", box)]), blur_unrecognised=True, max_pixels=LIMIT
    )

    assert body == kept
    assert content_type == "image/jpeg"
    result, original = decoded(out), upright(body)
    assert result.format == "JPEG"
    assert result.size == original.size
    assert out != body
    face = pixels(box, original.size)
    label = below(face, original.size)
    assert change(original, result, left_edge(face)) > DRAWN
    assert change(original, result, label) > DRAWN
    # Black letters on a yellow band: both colours are in the label's region.
    assert yellow_share(result, label) > 0.4
    assert dark_share(result, label) > 0.05
    assert change(original, result, far) < NOISE
    # A recognised face is framed, not blurred: its inside keeps its detail.
    inside = (face[0] + 10, face[1] + 10, face[2] - 10, face[3] - 10)
    assert change(original, result, inside) < NOISE
    assert detail(result, inside) > 0.8 * detail(original, inside)


def test_the_name_goes_above_a_face_at_the_bottom_of_the_photo() -> None:
    body = photo("coffee.jpg")  # 600x400; a made-up face box along the bottom edge
    box = {"Width": 0.25, "Height": 0.2, "Left": 0.1, "Top": 0.8}
    out, _ = annotate_photo(
        body, ImageAnalysis(celebrity_faces=[celebrity("Ada Lovelace", box)]), blur_unrecognised=False, max_pixels=LIMIT
    )

    result, original = decoded(out), upright(body)
    face = pixels(box, original.size)
    assert face[3] == original.height
    assert change(original, result, above(face, original.size)) > DRAWN
    assert yellow_share(result, above(face, original.size)) > 0.4
    assert change(original, result, (400, 20, 580, 120)) < NOISE


def test_neighbours_labels_do_not_cover_each_other() -> None:
    body = photo("coffee.jpg")
    first = {"Width": 0.1, "Height": 0.2, "Left": 0.3, "Top": 0.4}
    second = {"Width": 0.1, "Height": 0.2, "Left": 0.42, "Top": 0.4}  # its label would start on the first's
    analysis = ImageAnalysis(celebrity_faces=[celebrity("Barack Obama", first), celebrity("Joe Biden", second)])
    out, _ = annotate_photo(body, analysis, blur_unrecognised=False, max_pixels=LIMIT)

    result, original = decoded(out), upright(body)
    assert change(original, result, below(pixels(first, original.size), original.size)) > DRAWN
    assert change(original, result, above(pixels(second, original.size), original.size)) > DRAWN


def test_unrecognised_faces_are_blurred_when_asked() -> None:
    body = photo("astronaut.jpg")
    analysis = ImageAnalysis(unrecognized_faces=[stranger(ASTRONAUT_FACE)])
    out, _ = annotate_photo(body, analysis, blur_unrecognised=True, max_pixels=LIMIT)

    result, original = decoded(out), upright(body)
    face = pixels(ASTRONAUT_FACE, original.size)
    assert detail(result, face) < 0.25 * detail(original, face)
    before = ImageStat.Stat(original.convert("L").crop(face)).stddev[0]
    assert ImageStat.Stat(result.convert("L").crop(face)).stddev[0] < 0.6 * before
    assert change(original, result, (400, 400, 512, 512)) < NOISE  # far away: untouched
    # The blur reaches a quarter of the face's size beyond it, and no frame or name is drawn.
    margin = (face[3] - face[1]) // 4
    under = (face[0], face[3] + margin + 8, face[2], face[3] + margin + 30)
    assert change(original, result, under) < NOISE
    assert yellow_share(result, (face[0] - margin, face[1] - margin, face[2] + margin, face[3] + margin)) == 0


def test_unrecognised_faces_are_left_alone_otherwise() -> None:
    body = photo("astronaut.jpg")
    analysis = ImageAnalysis(unrecognized_faces=[stranger(ASTRONAUT_FACE)])
    out, _ = annotate_photo(body, analysis, blur_unrecognised=False, max_pixels=LIMIT)

    result, original = decoded(out), upright(body)
    face = pixels(ASTRONAUT_FACE, original.size)
    assert change(original, result, face) < NOISE
    assert detail(result, face) > 0.8 * detail(original, face)


def _with_metadata(image: Image.Image, *, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera maker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)
    gps[3], gps[4] = "E", (2.0, 21.0, 3.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at home", quality=95)
    return out.getvalue()


def test_boxes_are_read_on_the_upright_photo_and_metadata_is_dropped() -> None:
    upright_coffee = upright(photo("coffee.jpg"))  # 600x400 as a viewer shows it
    # Stored sideways with EXIF orientation 6 ("turn 90 degrees clockwise to view"), as phones do.
    body = _with_metadata(upright_coffee.transpose(Image.Transpose.ROTATE_90), orientation=6)
    with Image.open(io.BytesIO(body)) as stored:
        assert stored.size == (400, 600)
        assert stored.getexif().get_ifd(0x8825)
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.1}  # in the upright photo's ratios
    out, content_type = annotate_photo(
        body,
        ImageAnalysis(celebrity_faces=[celebrity("Someone Famous", box)]),
        blur_unrecognised=True,
        max_pixels=LIMIT,
    )

    assert content_type == "image/jpeg"
    result, original = decoded(out), upright(body)
    assert result.size == original.size == (600, 400)
    face = pixels(box, original.size)
    assert change(original, result, left_edge(face)) > DRAWN
    assert change(original, result, below(face, original.size)) > DRAWN
    assert change(original, result, (450, 300, 600, 400)) < NOISE
    assert not result.getexif()
    assert not {"exif", "comment", "xmp", "icc_profile"} & set(result.info)
    assert b"Exif" not in out[:4096]
    assert b"taken at home" not in out


def test_png_stays_png_with_transparency_flattened_and_text_chunks_dropped() -> None:
    from PIL import PngImagePlugin

    image = upright(photo("coffee.jpg")).convert("RGBA")
    image.putalpha(200)
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "my home address")
    source = io.BytesIO()
    image.save(source, format="PNG", pnginfo=info)
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.2}
    out, content_type = annotate_photo(
        source.getvalue(),
        ImageAnalysis(celebrity_faces=[celebrity("Someone Famous", box)]),
        blur_unrecognised=False,
        max_pixels=LIMIT,
    )

    assert content_type == "image/png"
    result = decoded(out)
    assert result.format == "PNG"
    assert result.mode == "RGB"
    assert result.size == image.size
    assert b"my home address" not in out
    assert "Location" not in result.info
    # Flattened onto white: lighter than the photo itself in a far, undrawn corner.
    corner = (500, 300, 600, 400)
    assert ImageStat.Stat(result.crop(corner)).mean[0] > ImageStat.Stat(image.convert("RGB").crop(corner)).mean[0]


def test_a_tiny_photo_still_gets_a_readable_label() -> None:
    small = upright(photo("obama2.jpg")).resize((64, 48))
    source = io.BytesIO()
    small.save(source, format="JPEG", quality=95)
    box = {"Width": 0.4, "Height": 0.4, "Left": 0.3, "Top": 0.1}
    out, _ = annotate_photo(
        source.getvalue(),
        ImageAnalysis(celebrity_faces=[celebrity("Barack Obama", box)]),
        blur_unrecognised=False,
        max_pixels=LIMIT,
    )

    result, original = decoded(out), upright(source.getvalue())
    assert result.size == (64, 48)
    face = pixels(box, original.size)
    # The minimum font size (12 px) still fits under the face; part of the name, then an ellipsis.
    band = (0, face[3] + 3, 64, face[3] + annotate.MIN_FONT_SIZE)
    assert change(original, result, band) > DRAWN
    assert yellow_share(result, band) > 0.3


def test_a_face_filling_the_photo_gets_its_label_inside_the_frame() -> None:
    body = photo("coffee.jpg")
    box = {"Width": 1.2, "Height": 1.1, "Left": -0.1, "Top": -0.05}  # Rekognition boxes may overflow
    out, _ = annotate_photo(
        body,
        ImageAnalysis(celebrity_faces=[celebrity("Someone Famous", box)]),
        blur_unrecognised=False,
        max_pixels=LIMIT,
    )

    result, original = decoded(out), upright(body)
    font = font_size(original.size)
    bottom_left = (0, original.height - font, 4 * font, original.height - 3)
    assert change(original, result, bottom_left) > DRAWN
    assert change(original, result, (200, 100, 400, 250)) < NOISE


def test_malformed_or_outside_boxes_draw_nothing() -> None:
    body = photo("coffee.jpg")
    junk = ImageAnalysis(
        celebrity_faces=[
            {"Name": "No Face"},
            {"Name": "No Box", "Face": {}},
            {"Name": "Text Box", "Face": {"BoundingBox": {"Width": "wide", "Height": 0.1, "Left": 0, "Top": 0}}},
            celebrity("Flat", {"Width": 0.0, "Height": 0.2, "Left": 0.1, "Top": 0.1}),
            celebrity("Outside", {"Width": 0.2, "Height": 0.2, "Left": 1.5, "Top": 0.1}),
            celebrity("Not A Number", {"Width": float("nan"), "Height": 0.2, "Left": 0.1, "Top": 0.1}),
        ],
        unrecognized_faces=[{"BoundingBox": None}, {}],
    )

    out, _ = annotate_photo(body, junk, blur_unrecognised=True, max_pixels=LIMIT)
    plain, _ = annotate_photo(body, ImageAnalysis(), blur_unrecognised=True, max_pixels=LIMIT)

    assert out == plain


def test_a_name_without_drawable_letters_keeps_its_frame() -> None:
    body = photo("obama2.jpg")
    out, _ = annotate_photo(
        body,
        ImageAnalysis(celebrity_faces=[celebrity("奥巴马", OBAMA2_FACE)]),
        blur_unrecognised=False,
        max_pixels=LIMIT,
    )

    result, original = decoded(out), upright(body)
    face = pixels(OBAMA2_FACE, original.size)
    assert change(original, result, left_edge(face)) > DRAWN
    assert change(original, result, below(face, original.size)) < NOISE  # no empty boxes drawn as a label


def test_names_are_reduced_to_the_fonts_letters() -> None:
    assert annotate._drawable("Penélope  Cruz") == "Penelope Cruz"
    assert annotate._drawable("Beyoncé") == "Beyonce"
    assert annotate._drawable("Zhang Ziyi 章子怡") == "Zhang Ziyi"


@pytest.mark.parametrize(
    "body", [b"", b"not an image at all", photo("coffee.jpg")[:600]], ids=["empty", "text", "truncated"]
)
def test_what_is_not_an_image_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a readable image"):
        annotate_photo(body, ImageAnalysis(), blur_unrecognised=True, max_pixels=LIMIT)


def test_photos_with_too_many_pixels_are_refused() -> None:
    with pytest.raises(ValueError, match="600x400 pixels is more than the limit of 239999"):
        annotate_photo(photo("coffee.jpg"), ImageAnalysis(), blur_unrecognised=True, max_pixels=600 * 400 - 1)
    out, _ = annotate_photo(photo("coffee.jpg"), ImageAnalysis(), blur_unrecognised=True, max_pixels=600 * 400)
    assert decoded(out).size == (600, 400)


def test_importing_the_module_does_not_import_pillow() -> None:
    code = "import sys, chalicelib.responding.annotate; assert 'PIL' not in sys.modules, sorted(sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runtime")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_the_colour_profile_is_kept() -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = io.BytesIO()
    upright(photo("coffee.jpg")).save(source, format="JPEG", icc_profile=profile)
    out, _ = annotate_photo(source.getvalue(), ImageAnalysis(), blur_unrecognised=False, max_pixels=LIMIT)

    assert decoded(out).info.get("icc_profile") == profile


def test_a_huge_photo_comes_back_within_x_limits() -> None:
    """Noise does not compress: a large noisy PNG must still fit X's 5 MB photo limit."""
    import os

    from chalicelib.responding.annotate import MAX_BYTES, MAX_SIDE
    from PIL import Image

    noisy = Image.frombytes("RGB", (5000, 3000), os.urandom(5000 * 3000 * 3))
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    assert buffer.tell() > MAX_BYTES
    face = {"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.4, "Top": 0.4}, "Confidence": 99.0}
    analysis = ImageAnalysis(celebrity_faces=[{"Name": "Ada Lovelace", "Face": face}])
    body, content_type = annotate_photo(buffer.getvalue(), analysis, blur_unrecognised=False, max_pixels=10**8)
    assert len(body) <= MAX_BYTES
    with Image.open(io.BytesIO(body)) as result:
        assert max(result.size) <= MAX_SIDE
    assert content_type in ("image/png", "image/jpeg")
