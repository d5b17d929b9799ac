"""X webhook signatures: the CRC challenge answer and the check of a delivery's signature.

Both are HMAC-SHA256 with the app's consumer secret, base64-encoded and prefixed "sha256=".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_PREFIX = "sha256="
SIGNATURE_HEADER = "x-twitter-webhooks-signature"


#: X's tokens are base64 or uuid-like. Refusing anything else keeps the CRC endpoint from signing
#: arbitrary bytes for an attacker, which would make it an oracle for forged deliveries. A pattern
#: string: `re` compiles it on the first CRC check (deliveries never use it) and caches it.
_CRC_CHALLENGE_SHAPE = r"[A-Za-z0-9+/=_-]{1,256}"


def sign(secret: str, message: bytes) -> str:
    """`sha256=` + base64(HMAC-SHA256(secret, message))."""
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def is_valid_crc_token(token: str) -> bool:
    return re.fullmatch(_CRC_CHALLENGE_SHAPE, token) is not None


def crc_response(secret: str, crc_token: str) -> dict[str, str]:
    """The body X expects in answer to GET ?crc_token=T. The caller checks the token first."""
    return {"response_token": sign(secret, crc_token.encode("utf-8"))}


def is_valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True only when the header is exactly the signature of these raw bytes (constant time)."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = sign(secret, body).encode("ascii")
    try:
        received = header.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, received)
