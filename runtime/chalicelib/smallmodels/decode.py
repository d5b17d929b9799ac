"""Photo bytes to pixels: the one decoder the analysis, the photo check and the face gallery share."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from chalicelib.kernel.errors import MediaError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    RGB = npt.NDArray[np.uint8]


def decode_image(body: bytes, *, max_pixels: int) -> RGB:
    """The photo as an RGB array, turned upright by its EXIF orientation (as a viewer shows it).

    Raises ValueError when it is not an image Pillow can read or has more than max_pixels pixels.
    """
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as image:
            if image.width * image.height > max_pixels:
                raise ValueError(f"{image.width}x{image.height} pixels is more than the limit of {max_pixels}")
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                background = Image.new("RGBA", upright.size, (255, 255, 255, 255))
                upright = Image.alpha_composite(background, upright.convert("RGBA"))
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise ValueError(f"not a readable image: {error}") from error
    return np.asarray(rgb, dtype=np.uint8)


def decode_stored_photo(key: str, body: bytes, *, max_pixels: int) -> RGB:
    """decode_image for a photo the media store holds under `key`: a photo that cannot be decoded is
    a MediaError (the post's analysis goes on without it), not a retried failure."""
    try:
        return decode_image(body, max_pixels=max_pixels)
    except ValueError as error:
        raise MediaError(f"the stored photo {key} cannot be analysed: {error}") from error
