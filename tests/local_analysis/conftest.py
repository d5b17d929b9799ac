"""Shared pieces for the local analysers' tests: real photos, and an in-memory media store per test."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.fakes import MemoryMediaStore

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def text_photo(lines: tuple[str, ...] = ("HELLO WORLD", "Fresh coffee 3 EUR")) -> bytes:
    """A real photo (coffee.jpg) with words written on a white panel by Pillow's bundled font."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(PHOTOS / "coffee.jpg").convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    draw.rectangle((40, 40, 560, 60 + 50 * len(lines)), fill="white")
    for index, line in enumerate(lines):
        draw.text((60, 50 + 50 * index), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def store() -> MemoryMediaStore:
    return MemoryMediaStore()
