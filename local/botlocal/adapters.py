"""Factories the composition root (chalicelib/wiring.py) calls when BOT_RUNTIME=local.

Kept import-light: this runs inside `chalice local` on the request path's first call.
"""

from __future__ import annotations

from chalicelib.settings import Settings

from botlocal.bus import LocalEventBus
from botlocal.journal import Journal
from botlocal.payloads import LocalPayloadStore


def local_event_bus(settings: Settings) -> LocalEventBus:
    """The EventBus port: PutEvents into the journal at $BOT_LOCAL_DIR/bus.sqlite3."""
    return LocalEventBus(
        Journal.open(settings.local_dir),
        account=settings.account,
        region=settings.region,
        bus_name=settings.event_bus_name,
    )


def local_payload_store(settings: Settings) -> LocalPayloadStore:
    """The PayloadStore port: files under $BOT_LOCAL_DIR, returned as file:// URIs.

    The publisher's keys already start with "oversized/", so they land in $BOT_LOCAL_DIR/oversized/.
    """
    return LocalPayloadStore(settings.local_dir)
