"""Photo annotation: recognised faces boxed and named, unrecognised faces optionally blurred.

Boxes come from the analysis as ratios of the upright photo (Rekognition's convention, and what
the local analyser measures after turning the photo by its EXIF orientation), so the photo is
turned upright here too before anything is drawn.

Choices, for whoever changes them:
- Output format: PNG when the input was PNG (screenshots, graphics: lossless keeps them crisp),
  JPEG quality 90 otherwise (photos; GIF and WebP input become JPEG, animations keep their first
  frame). Transparency is flattened onto white, as the analyser did, since X shows no alpha.
- Metadata: none is copied. EXIF (GPS, camera serials), XMP, comments and text chunks are dropped;
  the output is already upright, so it needs no orientation tag. Only the ICC colour profile is
  kept, so that wide-gamut phone photos keep their colours.
- Labels: the name in black on a nearly opaque band of the box's colour edged in black, just below the face (above
  it when there is no room below, inside the box when neither fits), clamped inside the photo.
  The font is Pillow's bundled Aileron (`ImageFont.load_default(size=...)`: Lambda has no system
  fonts), sized to 5% of the photo's shorter side, at least 12 px, shrunk to fit the photo's width.
  That font covers Latin letters without accents only: accents are dropped ("Beyoncé" reads
  "Beyonce") and glyphs it lacks are left out rather than drawn as empty boxes.
- Blurring: each unrecognised face, enlarged by a quarter on each side, is reduced to about eight
  blocks across and blurred over, so the face cannot be recovered from the reply, not merely
  softened. Recognised faces are never blurred, even when boxes overlap (they are drawn last).

Importing this module is cheap: Pillow is imported by the function that uses it.
"""

from __future__ import annotations

import io
import math
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.contracts.analysis import ImageAnalysis, Record

if TYPE_CHECKING:
    from PIL import Image, ImageFont

JPEG = "image/jpeg"
PNG = "image/png"
JPEG_QUALITY = 90
#: X refuses photos over 5 MB; larger results are scaled to at most MAX_SIDE pixels a side.
MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096

BOX_COLOUR = (255, 214, 0)  # a warm yellow: visible on skin, sky, foliage and dark suits alike
OUTLINE_COLOUR = (0, 0, 0)
LABEL_FILL = (*BOX_COLOUR, 230)
TEXT_COLOUR = (0, 0, 0)

FONT_SCALE = 0.05  # of the photo's shorter side
MIN_FONT_SIZE = 12
MAX_NAME_CHARS = 60
BLUR_MARGIN = 0.25  # of the face's size, on each side
BLUR_BLOCKS = 8  # blocks across the face before it is smoothed

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels; right and bottom exclusive


def annotate_photo(
    image: bytes, analysis: ImageAnalysis, *, blur_unrecognised: bool, max_pixels: int
) -> tuple[bytes, str]:
    """The photo, upright, with each celebrity's face boxed and named (and, when asked, each
    unrecognised face blurred), as new encoded bytes and their content type.

    Raises ValueError when the bytes are not an image Pillow can read or when the photo has more
    than max_pixels pixels. The input bytes are never modified.
    """
    from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            if opened.width * opened.height > max_pixels:
                raise ValueError(f"{opened.width}x{opened.height} pixels is more than the limit of {max_pixels}")
            source_format = opened.format
            icc_profile = opened.info.get("icc_profile")
            upright = ImageOps.exif_transpose(opened)
            picture = _flattened_rgb(upright)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise ValueError(f"not a readable image: {error}") from error

    if blur_unrecognised:
        for face in analysis.unrecognized_faces:
            box = _pixel_box(face.get("BoundingBox"), picture.size)
            if box is not None:
                _blur(picture, _enlarged(box, BLUR_MARGIN, picture.size))

    celebrities = [
        (box, _name(face)) for face in analysis.celebrity_faces if (box := _pixel_box(_face_box(face), picture.size))
    ]
    if celebrities:
        draw = ImageDraw.Draw(picture, "RGBA")
        line = max(2, round(min(picture.size) / 200))
        for box, _ in celebrities:
            _rectangle(draw, box, line)
        placed: list[Box] = []
        for box, name in celebrities:
            _label(draw, picture.size, box, name, line, placed)

    picture.info.clear()  # nothing of the original's metadata rides along
    return _encoded_within_x_limits(picture, source_format, icc_profile)


def _encoded_within_x_limits(picture: Image.Image, source_format: str | None, icc_profile: Any) -> tuple[bytes, str]:
    """PNG stays PNG and other photos become JPEG, but X refuses photos over 5 MB: a large result
    is scaled down (to MAX_SIDE at most) and, if still too large, re-encoded as ever smaller JPEG."""
    from PIL import Image

    if max(picture.size) > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if source_format == "PNG":
        out = io.BytesIO()
        picture.save(out, format="PNG", optimize=True, icc_profile=icc_profile)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), PNG
    for quality in (JPEG_QUALITY, 80, 70, 60):
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=quality, optimize=True, icc_profile=icc_profile)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), JPEG
    picture = picture.copy()
    picture.thumbnail((MAX_SIDE // 2, MAX_SIDE // 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=60, optimize=True)
    return out.getvalue(), JPEG


def _flattened_rgb(picture: Image.Image) -> Image.Image:
    from PIL import Image

    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(background, picture.convert("RGBA"))
    # convert() always returns a new image: drawing never touches the decoder's buffers.
    return picture.convert("RGB")


def _face_box(face: Record) -> Any:
    inner = face.get("Face")
    return inner.get("BoundingBox") if isinstance(inner, dict) else None


def _pixel_box(ratios: Any, size: tuple[int, int]) -> Box | None:
    """A Rekognition BoundingBox (ratios, possibly partly outside the photo) in pixels, clipped to
    the photo; None when it is malformed or has no area inside the photo."""
    if not isinstance(ratios, dict):
        return None
    try:
        left, top = float(ratios["Left"]), float(ratios["Top"])
        width, height = float(ratios["Width"]), float(ratios["Height"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(value) for value in (left, top, width, height)) or width <= 0 or height <= 0:
        return None
    image_width, image_height = size
    x0 = max(0, min(image_width, round(left * image_width)))
    y0 = max(0, min(image_height, round(top * image_height)))
    x1 = max(0, min(image_width, round((left + width) * image_width)))
    y1 = max(0, min(image_height, round((top + height) * image_height)))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _enlarged(box: Box, margin: float, size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = round((x1 - x0) * margin), round((y1 - y0) * margin)
    return max(0, x0 - dx), max(0, y0 - dy), min(size[0], x1 + dx), min(size[1], y1 + dy)


def _blur(picture: Image.Image, box: Box) -> None:
    """Replaces the region by a coarse, smoothed version of itself: block averages first (that
    throws the detail away for good), then a Gaussian blur so it reads as a blur, not a mosaic."""
    from PIL import Image, ImageFilter

    region = picture.crop(box)
    width, height = region.size
    step = max(1, max(width, height) // BLUR_BLOCKS)
    coarse = region.resize((max(1, width // step), max(1, height // step)), Image.Resampling.BOX)
    smooth = coarse.resize(region.size, Image.Resampling.BICUBIC)
    smooth = smooth.filter(ImageFilter.GaussianBlur(radius=max(2.0, max(width, height) / 12)))
    picture.paste(smooth, box[:2])


def _rectangle(draw: Any, box: Box, line: int) -> None:
    """A yellow frame with a thin dark edge either side, visible on light and dark backgrounds."""
    x0, y0, x1, y1 = box
    draw.rectangle((x0 - line, y0 - line, x1 - 1 + line, y1 - 1 + line), outline=OUTLINE_COLOUR, width=line + 2)
    draw.rectangle((x0 - line + 1, y0 - line + 1, x1 - 2 + line, y1 - 2 + line), outline=BOX_COLOUR, width=line)


def _label(draw: Any, size: tuple[int, int], box: Box, name: str, line: int, placed: list[Box]) -> None:
    """The name on a band of the box's colour next to the face; `placed` collects the bands
    already drawn, so that neighbours' labels do not cover one another when that can be helped."""
    image_width, image_height = size
    font_size = max(MIN_FONT_SIZE, round(min(size) * FONT_SCALE))
    font = _font(font_size)
    text = _drawable(name)
    pad = max(2, font_size // 4)
    while font.getlength(text) + 2 * pad > image_width and font_size > MIN_FONT_SIZE:
        font_size = max(MIN_FONT_SIZE, font_size * 9 // 10)
        font, pad = _font(font_size), max(2, font_size // 4)
    if font.getlength(text) + 2 * pad > image_width:  # still too long at the smallest size
        while text and font.getlength(text + "…") + 2 * pad > image_width:
            text = text[:-1]
        text = text.rstrip() + "…" if text.strip() else ""
    if not text:
        return
    label_width = min(image_width, math.ceil(font.getlength(text)) + 2 * pad)
    label_height = min(image_height, _line_height(font) + 2 * pad)

    x0, y0, _, y1 = box
    left = max(0, min(image_width - label_width, x0 - line))
    below, above, inside = y1 + line, y0 - line - label_height, y1 - label_height
    candidates = [top for top in (below, above) if top >= 0 and top + label_height <= image_height]
    candidates.append(max(0, min(image_height - label_height, inside)))
    bands = [(left, top, left + label_width, top + label_height) for top in candidates]
    band = next((band for band in bands if not any(_overlap(band, other) for other in placed)), bands[0])
    placed.append(band)
    draw.rectangle((band[0], band[1], band[2] - 1, band[3] - 1), fill=LABEL_FILL, outline=OUTLINE_COLOUR, width=1)
    draw.text((band[0] + pad, band[1] + pad), text, font=font, fill=TEXT_COLOUR)


def _line_height(font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    from PIL import ImageFont

    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    return int(font.getbbox("Ay")[3])  # Pillow built without FreeType: its fixed bitmap font


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _name(face: Record) -> str:
    return " ".join(str(face.get("Name") or "").split())[:MAX_NAME_CHARS]


def _drawable(name: str) -> str:
    """The name in the characters the bundled font has: accents dropped, missing glyphs left out."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char) and _has_glyph(char))
    return " ".join(kept.split())


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@cache
def _has_glyph(char: str) -> bool:
    """Whether the bundled font draws `char` as itself rather than as its empty-box glyph."""
    if char.isascii():
        return char.isprintable()
    return _rendered(char) != _rendered("\U000f0000")  # a private-use character no font has


@cache
def _rendered(char: str) -> bytes:
    from PIL import Image, ImageDraw

    probe = Image.new("L", (48, 48))
    ImageDraw.Draw(probe).text((8, 8), char, font=_font(24), fill=255)
    return probe.tobytes()
