"""LocalMediaStore and InboxMediaFetcher: files under $BOT_LOCAL_DIR, the inbox before any download."""

from __future__ import annotations

from pathlib import Path

import pytest
from botlocal.media import InboxMediaFetcher, LocalMediaStore, inbox_names
from chalicelib.ports import MediaError

from tests.fakes import FakeFetcher


def downloader() -> FakeFetcher:
    """The download behind the inbox: every URL answers b"downloaded"."""
    return FakeFetcher(default=b"downloaded")


def test_store_round_trip_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    store.put("2024/05/01/abc.jpg", b"photo", "image/jpeg")
    store.put("2024/05/01/abc.jpg", b"photo v2", "image/jpeg")  # an overwrite replaces atomically
    assert store.get("2024/05/01/abc.jpg") == b"photo v2"
    assert (tmp_path / "media" / "2024" / "05" / "01" / "abc.jpg").read_bytes() == b"photo v2"
    assert [p.name for p in (tmp_path / "media" / "2024" / "05" / "01").iterdir()] == ["abc.jpg"]


def test_store_missing_key_is_a_media_error(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    with pytest.raises(MediaError, match=r"no stored photo under 2024/x\.jpg"):
        store.get("2024/x.jpg")
    (tmp_path / "2024").mkdir()
    with pytest.raises(MediaError, match="no stored photo"):
        store.get("2024")  # a folder is not a photo


@pytest.mark.parametrize(
    "key", ["../escape.jpg", "a/../../b.jpg", "/etc/passwd", "a//b.jpg", "a/./b.jpg", "a\\b.jpg", "a\0.jpg", ""]
)
def test_store_refuses_keys_that_could_leave_the_folder(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path / "media")
    with pytest.raises(MediaError, match="invalid media key"):
        store.put(key, b"x", "image/jpeg")
    with pytest.raises(MediaError, match="invalid media key"):
        store.get(key)
    assert not (tmp_path / "escape.jpg").exists()


def test_store_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"secret")
    root = tmp_path / "media"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(MediaError, match="outside the media folder"):
        LocalMediaStore(root).get("link/secret.jpg")


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("https://pbs.twimg.com/media/ABC.jpg", ["ABC.jpg"]),
        ("https://pbs.twimg.com/media/ABC.jpg:large", ["ABC.jpg:large"]),
        ("https://pbs.twimg.com/media/ABC?format=jpg&name=large", ["ABC.jpg", "ABC"]),
        ("https://pbs.twimg.com/media/ABC?format=../x&name=large", ["ABC"]),
        ("https://pbs.twimg.com/media/my%20photo.png", ["my photo.png"]),
        ("https://pbs.twimg.com/media/..%2F..%2Fetc", []),
        ("https://pbs.twimg.com/", []),
    ],
)
def test_inbox_names(url: str, names: list[str]) -> None:
    assert inbox_names(url) == names


def test_inbox_is_consulted_before_any_download(tmp_path: Path) -> None:
    (tmp_path / "ABC.jpg").write_bytes(b"from inbox")
    fallback = downloader()
    fetcher = InboxMediaFetcher(tmp_path, fallback)
    assert fetcher.fetch("https://pbs.twimg.com/media/ABC.jpg", max_bytes=100) == b"from inbox"
    assert fetcher.fetch("https://pbs.twimg.com/media/ABC?format=jpg&name=large", max_bytes=100) == b"from inbox"
    assert fallback.calls == []


def test_inbox_accepts_a_file_named_without_extension(tmp_path: Path) -> None:
    (tmp_path / "XYZ").write_bytes(b"bare name")
    fetcher = InboxMediaFetcher(tmp_path, downloader())
    assert fetcher.fetch("https://pbs.twimg.com/media/XYZ?format=png&name=small", max_bytes=100) == b"bare name"


def test_missing_from_the_inbox_falls_back_to_download(tmp_path: Path) -> None:
    fallback = downloader()
    fetcher = InboxMediaFetcher(tmp_path / "no-inbox-yet", fallback)
    assert fetcher.fetch("https://pbs.twimg.com/media/NEW.jpg", max_bytes=123) == b"downloaded"
    assert fallback.calls == [("https://pbs.twimg.com/media/NEW.jpg", 123)]


def test_inbox_files_obey_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.jpg").write_bytes(b"x" * 101)
    fallback = downloader()
    fetcher = InboxMediaFetcher(tmp_path, fallback)
    with pytest.raises(MediaError, match="larger than 100 bytes"):
        fetcher.fetch("https://pbs.twimg.com/media/big.jpg", max_bytes=100)
    assert fetcher.fetch("https://pbs.twimg.com/media/big.jpg", max_bytes=101) == b"x" * 101
    assert fallback.calls == []
