"""What API Gateway does before the app sees a request, for `chalice local`: refuse a body over its
payload limit from the Content-Length alone, without reading it.

`chalice local` reads the whole body into memory first (Content-Length bytes, whatever they are), so a
client announcing 256 MiB would make the local runtime buffer all of it before the webhook's own
1 MiB check. API Gateway never passes a body over 10 MB to the function; locally the same limit is
applied at the same place, before the body is read.

Kept import-light: it patches chalice.local's request handler when `botctl serve` starts its child.
"""

from __future__ import annotations

import json
from typing import Any, Final

#: The methods chalice local serves (each bound to the same handler).
_METHODS: Final = ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS")
#: API Gateway's payload limit for REST APIs (10 MB).
API_GATEWAY_MAX_BODY_BYTES: Final = 10 * 1024 * 1024


def limit_request_bodies(max_bytes: int = API_GATEWAY_MAX_BODY_BYTES) -> None:
    """Make chalice local answer 413 to a request announcing more than `max_bytes` of body (or a
    Content-Length that is not a number) without reading the body, and close the connection."""
    from chalice.local import ChaliceRequestHandler

    original = ChaliceRequestHandler._generic_handle
    if getattr(original, "_botlocal_limited", False):
        return

    def guarded(handler: Any) -> None:
        announced = handler.headers.get("content-length")
        try:
            length = int(announced) if announced is not None else 0
        except ValueError:
            length = -1
        if 0 <= length <= max_bytes:
            original(handler)
            return
        body = json.dumps({"message": "Request Too Long"}).encode("utf-8")
        handler.send_response(413)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    guarded._botlocal_limited = True  # type: ignore[attr-defined]
    # Chalice binds every do_<METHOD> to _generic_handle when the class is made: replace them all.
    for name in ("_generic_handle", *(f"do_{method}" for method in _METHODS)):
        setattr(ChaliceRequestHandler, name, guarded)
