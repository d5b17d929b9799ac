"""The local PayloadStore: files under $BOT_LOCAL_DIR/oversized/, file:// URIs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from botlocal.adapters import LocalAdapters
from chalicelib.ports import PayloadStore
from chalicelib.settings import Settings


def test_a_payload_is_stored_under_its_key_and_readable_from_the_uri(settings: Settings, local_dir: Path) -> None:
    store: PayloadStore = LocalAdapters(settings).payload_store()
    uri = store.put("oversized/2024/05/01/delivery one.json", b'{"big": true}')
    assert uri.startswith("file://")
    path = Path(unquote(urlparse(uri).path))
    assert path == local_dir.resolve() / "oversized" / "2024" / "05" / "01" / "delivery one.json"
    assert path.read_bytes() == b'{"big": true}'
    assert [p.name for p in path.parent.iterdir()] == ["delivery one.json"]  # no temporary files left


def test_putting_a_key_again_replaces_it(settings: Settings) -> None:
    store = LocalAdapters(settings).payload_store()
    store.put("k.json", b"old")
    uri = store.put("k.json", b"new")
    assert Path(unquote(urlparse(uri).path)).read_bytes() == b"new"


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "./a", "a\\b"])
def test_keys_that_could_escape_the_folder_are_refused(settings: Settings, key: str) -> None:
    with pytest.raises(ValueError, match="invalid payload key"):
        LocalAdapters(settings).payload_store().put(key, b"x")
