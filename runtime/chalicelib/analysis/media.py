"""Media download: only X's photo hosts, bounded size, real images only, stored for later steps.

Each photo is stored under its post and author (chalicelib.kernel.media_keys), so that a deleted
post or a revoked authorisation can have its photos deleted by prefix (analysis/deletion.py). A post
deleted on X (its folder marked deleted) has no photo downloaded, and a photo stored while its post
was being deleted is deleted again at once: it is reported as not stored.
"""

from __future__ import annotations

import io
import random
import time
import uuid
import warnings
from collections.abc import Callable, Sequence

from chalicelib.contracts.analysis import ImageResult
from chalicelib.kernel.media_keys import photo_key, post_prefix
from chalicelib.kernel.media_policy import check_media_url
from chalicelib.ports import MediaError, MediaFetcher, MediaStore, TransientMediaError

#: Formats X serves for photos, with the extension and content type they are stored under.
ACCEPTED_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}


#: The error of a photo of a post deleted on X (its folder marked: analysis/deletion.py).
NOT_STORED_POST_DELETED = "not stored: the post was deleted on X"


#: What Rekognition reads; other accepted formats are stored as PNG (a GIF's first frame).
STORED_AS_IS = frozenset({"image/jpeg", "image/png"})


def as_png(body: bytes) -> bytes:
    """A checked image (see inspect_image) re-encoded as PNG."""
    from PIL import Image

    with Image.open(io.BytesIO(body)) as image:
        image.seek(0)
        converted = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue()


def inspect_image(body: bytes, max_pixels: int) -> tuple[str, str]:
    """(extension, content type) of a photo that decodes; MediaError for anything else."""
    from PIL import Image  # heavy: only the download step needs it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise MediaError(f"image of {width}x{height} pixels exceeds the {max_pixels}-pixel limit")
                image_format = image.format or ""
                image.verify()  # walks the whole file: a truncated or corrupt image fails here
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise MediaError(f"decompression bomb refused: {error}") from None
    except Exception as error:  # Pillow raises many types for a file that is not an image
        raise MediaError(f"not a decodable image: {type(error).__name__}") from None
    if image_format not in ACCEPTED_FORMATS:
        raise MediaError(f"image format {image_format or 'unknown'} is not accepted")
    return ACCEPTED_FORMATS[image_format]


class MediaDownloadService:
    def __init__(
        self,
        *,
        fetcher: MediaFetcher,
        store: MediaStore,
        allowed_hosts: Sequence[str],
        max_bytes: int,
        max_pixels: int,
        attempts: int = 3,
        base_delay_seconds: float = 0.5,
        budget_seconds: float = 40.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._store = store
        self._allowed_hosts = tuple(allowed_hosts)
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels
        self._attempts = attempts
        self._base_delay = base_delay_seconds
        self._sleep = sleep
        self._budget = budget_seconds
        self._clock = clock

    def download(self, url: str, deadline: float | None = None, *, user_id: str, tweet_id: str) -> ImageResult:
        """Fetch, check and store one photo of the post `tweet_id` by `user_id`; a photo that fails
        carries the reason instead of a key."""
        deadline = self._clock() + self._budget if deadline is None else deadline
        try:
            folder = post_prefix(user_id, tweet_id)
        except ValueError as error:  # Ingress lets only X's numeric ids through: not expected
            return ImageResult(url=url, error=f"not stored: {error}")
        try:
            check_media_url(url, self._allowed_hosts)
            if self._clock() >= deadline:
                raise MediaError("not downloaded: the time for downloading this message's photos ran out")
            body = self._fetch_with_retries(url, deadline)
            if len(body) > self._max_bytes:
                raise MediaError(f"larger than {self._max_bytes} bytes")
            extension, content_type = inspect_image(body, self._max_pixels)
            if content_type not in STORED_AS_IS:
                body, extension, content_type = as_png(body), "png", "image/png"
        except MediaError as error:
            return ImageResult(url=url, error=str(error))
        key = photo_key(user_id, tweet_id, str(uuid.uuid4()), extension)
        self._store.put(key, body, content_type)
        # Store then check (analysis/deletion.py marks then deletes): a deletion that came during
        # the download finds no photo yet, so the photo is deleted here, with the rest of its folder.
        if self._store.is_deleted(folder):
            self._store.delete_prefix(folder)
            return ImageResult(url=url, error=NOT_STORED_POST_DELETED)
        return ImageResult(url=url, key=key)

    def _fetch_with_retries(self, url: str, deadline: float) -> bytes:
        """A photo that fails for a passing reason is tried again here, photo by photo, so one slow
        photo neither fails the message nor makes the others download twice."""
        for attempt in range(1, self._attempts + 1):
            try:
                return self._fetcher.fetch(url, max_bytes=self._max_bytes)
            except TransientMediaError:
                delay = random.uniform(0, self._base_delay * 2**attempt)  # noqa: S311 (jitter)
                if attempt == self._attempts or self._clock() + delay >= deadline:
                    raise
                self._sleep(delay)
        raise AssertionError("unreachable")

    def download_all(self, urls: Sequence[str], *, user_id: str, tweet_id: str) -> list[ImageResult]:
        """Every photo, within one time budget for the message: the task must end (with the slow
        photos reported) well before its Lambda timeout, or the whole message would fail."""
        deadline = self._clock() + self._budget
        try:  # one look per post, not per photo; download() looks again after it stores each one
            deleted = bool(urls) and self._store.is_deleted(post_prefix(user_id, tweet_id))
        except ValueError:  # not X's ids: download() says so for each photo
            deleted = False
        if deleted:  # deleted on X before it was analysed: not even downloaded
            return [ImageResult(url=url, error=NOT_STORED_POST_DELETED) for url in urls]
        return [self.download(url, deadline, user_id=user_id, tweet_id=tweet_id) for url in urls]
