from __future__ import annotations

from typing import Any

from chalicelib.ingress import signature
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES


def test_crc_vectors(signature_vectors: dict[str, Any]) -> None:
    for vector in signature_vectors["crc"]:
        answer = signature.crc_response(vector["consumer_secret"], vector["crc_token"])
        assert answer == vector["expected_response_body"]


def test_post_signature_vector_over_raw_bytes(signature_vectors: dict[str, Any]) -> None:
    (vector,) = signature_vectors["post_signature"]
    body = (FIXTURES / vector["body_file"]).read_bytes()
    header = vector["header"]["x-twitter-webhooks-signature"]
    assert len(body) == vector["body_length_bytes"]
    assert signature.is_valid_signature(vector["consumer_secret"], body, header)
    # The pretty-printed file holds the same JSON but other bytes: it must not verify.
    pretty = (FIXTURES / "tweet_create_events_own_reply.json").read_bytes()
    assert not signature.is_valid_signature(vector["consumer_secret"], pretty, header)


def test_malformed_headers_are_rejected() -> None:
    body = b"{}"
    good = signature.sign("s", body)
    for header in (None, "", good.removeprefix("sha256="), "sha1=" + good[7:], good[:-2], "sha256=é", good + "x"):
        assert not signature.is_valid_signature("s", body, header)
    assert signature.is_valid_signature("s", body, good)


def test_crc_token_alphabet_and_length() -> None:
    assert signature.is_valid_crc_token("MTYwZjgwNDAtMjI4Ni00MWI2LTk4MTktMjJjZjU4OGYxOTU4")
    assert signature.is_valid_crc_token("9b4507b3-9040-4669-9ca3-6b94edb50553")
    assert signature.is_valid_crc_token("a" * 256)
    for token in ("", "a" * 257, "a b", "a\n", "{}", "é", "a%20"):
        assert not signature.is_valid_crc_token(token)


@given(secret=st.text(min_size=1), body=st.binary(), flip=st.integers(min_value=0))
def test_any_change_to_the_body_breaks_the_signature(secret: str, body: bytes, flip: int) -> None:
    header = signature.sign(secret, body)
    assert signature.is_valid_signature(secret, body, header)
    tampered = (
        body + b"x"
        if not body
        else body[: flip % len(body)] + bytes([body[flip % len(body)] ^ 1]) + body[flip % len(body) + 1 :]
    )
    assert not signature.is_valid_signature(secret, tampered, header)
    assert not signature.is_valid_signature(secret + "x", body, header)
