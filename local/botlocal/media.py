"""Local media: a folder as the MediaStore, and an inbox folder consulted before any download.

The local runtime uses the state folder's LocalLayout.media, LocalLayout.deletion_marks and
LocalLayout.media_inbox.
`botctl tweet --image PATH` copies photos into the inbox under the file name of the made-up URL,
so an offline run analyses real photos without reaching X's media hosts.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

from chalicelib.kernel.media_keys import DELETION_MARKS_PREFIX, check_folder_prefix, deletion_mark_key
from chalicelib.ports import MediaError, MediaFetcher

from botlocal.files import write_atomically

logger = logging.getLogger(__name__)


class LocalMediaStore:
    """chalicelib.ports.MediaStore for the local runtime: one file per key under `root`.

    The content type is not kept: keys carry the photo's extension, as they do in the bucket. The
    marks of deleted posts (mark_deleted) are files under `marks` (LocalLayout.deletion_marks), so
    the media folder holds photos only; without `marks` (tests), a folder beside `root`.
    """

    def __init__(self, root: Path, marks: Path | None = None) -> None:
        self.root: Final = root.resolve()
        self.marks: Final = (marks or root.with_name(f"{root.name}-deleted")).resolve()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, body)

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaError(f"no stored photo under {key}") from None

    def delete_prefix(self, prefix: str) -> int:
        """Every file under the prefix's folder, removed with the folder; the count of files."""
        check_folder_prefix(prefix)
        folder = self.path_of(prefix.rstrip("/"))
        if not folder.is_dir():
            return 0
        files = [path for path in folder.rglob("*") if path.is_file() or path.is_symlink()]
        shutil.rmtree(folder)
        return len(files)

    def mark_deleted(self, prefix: str) -> None:
        path = self._mark_of(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, b"")

    def is_deleted(self, prefix: str) -> bool:
        return self._mark_of(prefix).is_file()

    def _mark_of(self, prefix: str) -> Path:
        # deleted/users/1/posts/2.mark -> <marks>/users/1/posts/2.mark, checked as a key is.
        return _file_under(self.marks, deletion_mark_key(prefix).removeprefix(DELETION_MARKS_PREFIX))

    def path_of(self, key: str) -> Path:
        """The file of a key, refusing any key that could leave the folder (keys come from events)."""
        return _file_under(self.root, key)


def _file_under(root: Path, key: str) -> Path:
    """The file of `key` under the resolved folder `root`; MediaError for a key that could leave it."""
    parts = key.split("/")
    if "\\" in key or "\0" in key or any(part in {"", ".", ".."} for part in parts):
        raise MediaError(f"invalid media key {key!r}: use a relative S3-style key without '.' or '..'")
    path = root.joinpath(*parts)
    # A symbolic link inside the folder could still point outside it.
    if not path.resolve().is_relative_to(root):
        raise MediaError(f"invalid media key {key!r}: it resolves outside the media folder")
    return path


def inbox_names(url: str) -> list[str]:
    """The inbox file names that can hold the photo of `url`, most specific first.

    The name is the URL path's last segment; X's newer URLs carry the extension in the query
    (https://pbs.twimg.com/media/ABC?format=jpg&name=large), so "ABC.jpg" is tried before "ABC".
    """
    parts = urlsplit(url)
    segment = unquote(PurePosixPath(parts.path).name)
    if not segment or segment in {".", ".."} or any(ch in segment for ch in "/\\\0"):
        return []
    names: list[str] = []
    for extension in parse_qs(parts.query).get("format", []):
        if extension.isalnum():
            names.append(f"{segment}.{extension}")
    names.append(segment)
    return names


class InboxMediaFetcher:
    """chalicelib.ports.MediaFetcher that serves photos from `inbox` by file name, else asks `fallback`.

    The inbox is looked at before any HTTPS request, so offline runs never touch the network for
    the photos they supplied; `max_bytes` applies to inbox files as it does to downloads.
    """

    def __init__(self, inbox: Path, fallback: MediaFetcher) -> None:
        self.inbox: Final = inbox
        self._fallback = fallback

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        for name in inbox_names(url):
            path = self.inbox / name
            if path.is_file():
                logger.debug("photo served from the media inbox", extra={"file": name})
                return _read_capped(path, max_bytes)
        return self._fallback.fetch(url, max_bytes=max_bytes)


def _read_capped(path: Path, max_bytes: int) -> bytes:
    with path.open("rb") as file:
        # Read one byte more than allowed rather than trust the size (the file may be growing).
        body = file.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise MediaError(f"the photo is larger than {max_bytes} bytes")
    return body
