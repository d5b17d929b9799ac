"""The local PayloadStore: payloads as files under a folder that stands for the bucket.

The local runtime roots it at the state folder: the publisher's keys start with
chalicelib.contracts.oversized.OVERSIZED_PREFIX, so the files land in LocalLayout.oversized, as the objects
land under that prefix in the data lake bucket on AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlparse

from chalicelib.contracts.oversized import OVERSIZED_PREFIX

from botlocal.files import write_atomically


class LocalPayloadStore:
    """chalicelib.ports.PayloadStore for the local runtime: one file per key, file:// URIs."""

    def __init__(self, root: Path) -> None:
        self.root: Final = root.resolve()

    def put(self, key: str, body: bytes) -> str:
        path = self._path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, body)
        return path.as_uri()

    def get(self, uri: str) -> bytes:
        """The file at a file:// URI `put` returned, under the oversized folder only."""
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ValueError(f"not a claim-check object of this store: {uri!r}")
        path = Path(unquote(parsed.path))
        try:
            key = path.relative_to(self.root).as_posix()
        except ValueError:
            raise ValueError(f"not a claim-check object of this store: {uri!r}") from None
        if not key.startswith(OVERSIZED_PREFIX):
            raise ValueError(f"not a claim-check object of this store: {uri!r}")
        return self._path_of(key).read_bytes()

    def _path_of(self, key: str) -> Path:
        # Keys look like S3 keys ("2024/05/01/<id>.json"); refuse any that would escape the folder.
        parts = key.split("/")
        if "\\" in key or "\0" in key or any(part in {"", ".", ".."} for part in parts):
            raise ValueError(f"invalid payload key {key!r}: use a relative S3-style key without '.' or '..'")
        return self.root.joinpath(*parts)
