"""The state folder's layout: the names README.md documents, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
from botlocal.layout import LocalLayout
from chalicelib.contracts.oversized import OVERSIZED_PREFIX


def test_every_store_has_the_name_the_readme_documents(tmp_path: Path) -> None:
    layout = LocalLayout(tmp_path)
    assert {
        "journal": layout.journal,
        "datalake": layout.datalake,
        "media": layout.media,
        "media_inbox": layout.media_inbox,
        "oversized": layout.oversized,
        "alerts": layout.alerts,
        "outbox": layout.outbox,
        "outbox_images": layout.outbox_images,
        "idempotency": layout.idempotency,
        "known_faces": layout.known_faces,
        "face_embeddings": layout.face_embeddings,
        "server": layout.server,
        "serve_lock": layout.serve_lock,
    } == {
        "journal": tmp_path / "bus.sqlite3",
        "datalake": tmp_path / "datalake",
        "media": tmp_path / "media",
        "media_inbox": tmp_path / "media-inbox",
        "oversized": tmp_path / "oversized",
        "alerts": tmp_path / "alerts.jsonl",
        "outbox": tmp_path / "outbox.jsonl",
        "outbox_images": tmp_path / "outbox",
        "idempotency": tmp_path / "idempotency.sqlite3",
        "known_faces": tmp_path / "known-faces",
        "face_embeddings": tmp_path / "cache" / "face-embeddings",
        "server": tmp_path / "server.json",
        "serve_lock": tmp_path / "serve.lock",
    }


def test_oversized_payloads_land_where_the_publisher_keys_point(tmp_path: Path) -> None:
    # The payload store is rooted at the state folder; the publisher's keys carry the folder's name.
    assert LocalLayout(tmp_path).oversized == tmp_path / OVERSIZED_PREFIX.rstrip("/")


def test_the_demo_server_log_sits_beside_the_state_folder(tmp_path: Path) -> None:
    assert LocalLayout(tmp_path / "demo").serve_log() == tmp_path / "demo-serve.log"


def test_the_folder_comes_from_bot_local_dir_or_defaults_to_dot_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalLayout.from_environment({}).root == tmp_path.resolve() / ".local"
    assert LocalLayout.from_environment({"BOT_LOCAL_DIR": "state"}).root == tmp_path.resolve() / "state"
