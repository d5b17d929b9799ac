"""XApiReplyPoster: the exact HTTP requests to X's v2 endpoints, and how X's answers map to errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import quote, unquote

import pytest
import requests
import responses
from chalicelib.adapters.x_api import XApiReplyPoster, XApiTransientError
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import DuplicateContentError, EgressError, RateLimitedError
from oauthlib.oauth1.rfc5849 import signature  # type: ignore[import-untyped]

API = "https://api.x.test"
CREDENTIALS = {
    "ApiKey": "consumer-key-123",
    "ApiSecret": "consumer-secret-SECRET",
    "AccessToken": "1234-access-token",
    "AccessTokenSecret": "access-token-secret-SECRET",
}
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 20


@pytest.fixture
def x() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def poster() -> XApiReplyPoster:
    return XApiReplyPoster(CREDENTIALS, api_base=API)


def oauth_params(value: str) -> dict[str, str]:
    assert value.startswith("OAuth ")
    return {key: unquote(item) for key, item in re.findall(r'(\w+)="([^"]*)"', value)}


def header(request: requests.PreparedRequest, name: str) -> str:
    # requests-oauthlib re-sets the headers as bytes; they go on the wire the same.
    value = request.headers[name]
    return value.decode("latin-1") if isinstance(value, bytes) else value


def body_of(request: requests.PreparedRequest) -> bytes:
    assert isinstance(request.body, bytes | str)
    return request.body.encode() if isinstance(request.body, str) else request.body


def multipart_fields(request: requests.PreparedRequest) -> dict[str, tuple[bytes, str | None, str | None]]:
    """name -> (content, filename, content type) of each part of a multipart/form-data body."""
    content_type = header(request, "Content-Type")
    body = request.body
    assert isinstance(body, bytes)
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    assert message.is_multipart()
    fields: dict[str, tuple[bytes, str | None, str | None]] = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        fields[name] = (
            payload,
            part.get_filename(),
            part.get_content_type() if part.get("Content-Type") else None,
        )
    return fields


def test_reply_with_photos_uploads_each_then_posts(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/media/upload", json={"data": {"id": "1880028106020515840", "media_key": "3_188"}})
    x.post(f"{API}/2/media/upload", json={"data": {"id": "1880028106020515841", "media_key": "3_189"}})
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "1880028106020515999", "text": "I recognised: A"}})

    post_id = poster().post_reply("I recognised: A", "1879000000000000001", [(JPEG, "image/jpeg"), (PNG, "image/png")])

    assert post_id == "1880028106020515999"
    assert [call.request.url for call in x.calls] == [
        f"{API}/2/media/upload",
        f"{API}/2/media/upload",
        f"{API}/2/tweets",
    ]
    first, second, post = (call.request for call in x.calls)
    assert header(first, "Content-Type").startswith("multipart/form-data; boundary=")
    fields = multipart_fields(first)
    assert fields["media"][0] == JPEG
    assert fields["media"][2] == "image/jpeg"
    assert fields["media_category"][0] == b"tweet_image"
    assert fields["media_type"][0] == b"image/jpeg"
    assert multipart_fields(second)["media"][0] == PNG

    assert header(post, "Content-Type") == "application/json"
    assert json.loads(body_of(post)) == {
        "text": "I recognised: A",
        "reply": {"in_reply_to_tweet_id": "1879000000000000001"},
        "media": {"media_ids": ["1880028106020515840", "1880028106020515841"]},
    }


def test_every_request_is_signed_with_oauth1_user_context(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/media/upload", json={"data": {"id": "11"}})
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "22", "text": "hi"}})

    poster().post_reply("hi", "1", [(JPEG, "image/jpeg")])

    nonces = set()
    for call in x.calls:
        params = oauth_params(header(call.request, "Authorization"))
        assert params["oauth_consumer_key"] == CREDENTIALS["ApiKey"]
        assert params["oauth_token"] == CREDENTIALS["AccessToken"]
        assert params["oauth_signature_method"] == "HMAC-SHA1"
        assert params["oauth_version"] == "1.0"
        assert params["oauth_signature"]
        # The secrets sign; they are never sent.
        assert "SECRET" not in header(call.request, "Authorization")
        # A multipart body is not part of the signature (no oauth_body_hash either).
        assert "oauth_body_hash" not in params
        nonces.add(params["oauth_nonce"])
    assert len(nonces) == 2


def test_signatures_verify_with_the_secrets(x: responses.RequestsMock) -> None:
    """X recomputes the HMAC-SHA1 over method, URL and oauth_* parameters (not a multipart or JSON body)."""
    x.post(f"{API}/2/media/upload", json={"data": {"id": "11"}})
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "22", "text": "hi"}})

    poster().post_reply("hi", "1", [(JPEG, "image/jpeg")])

    for call in x.calls:
        params = oauth_params(header(call.request, "Authorization"))
        sent = params.pop("oauth_signature")
        base = signature.signature_base_string(
            "POST", signature.base_string_uri(call.request.url), signature.normalize_parameters(list(params.items()))
        )
        key = f"{quote(CREDENTIALS['ApiSecret'], safe='')}&{quote(CREDENTIALS['AccessTokenSecret'], safe='')}"
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        assert sent == base64.b64encode(digest).decode()


def test_text_only_reply_has_no_media(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "22", "text": "a joke"}})
    assert poster().post_reply("a joke", "99", []) == "22"
    assert len(x.calls) == 1
    assert json.loads(body_of(x.calls[0].request)) == {"text": "a joke", "reply": {"in_reply_to_tweet_id": "99"}}


def test_429_is_rate_limited_with_the_reset_time(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/2/tweets",
        status=429,
        headers={"x-rate-limit-reset": "1767225600", "x-rate-limit-remaining": "0"},
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
    )
    with pytest.raises(RateLimitedError) as caught:
        poster().post_reply("hi", "1", [])
    assert caught.value.reset_at == 1767225600.0


def test_429_without_reset_header(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/media/upload", status=429, body="Too Many Requests")
    with pytest.raises(RateLimitedError) as caught:
        poster().post_reply("hi", "1", [(JPEG, "image/jpeg")])
    assert caught.value.reset_at is None


@pytest.mark.parametrize("reset", ["nan", "inf", "-inf", "0", "-5", "soon"])
def test_429_with_a_reset_that_is_no_time_has_none(x: responses.RequestsMock, reset: str) -> None:
    x.post(f"{API}/2/tweets", status=429, headers={"x-rate-limit-reset": reset}, body="Too Many Requests")
    with pytest.raises(RateLimitedError) as caught:
        poster().post_reply("hi", "1", [])
    assert caught.value.reset_at is None


def test_403_duplicate_content(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/2/tweets",
        status=403,
        json={
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )
    with pytest.raises(DuplicateContentError):
        poster().post_reply("hi", "1", [])


def test_other_403_is_an_egress_error(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/2/tweets",
        status=403,
        json={
            "title": "Forbidden",
            "detail": "Reply to this conversation is not allowed because you have not been mentioned.",
            "status": 403,
        },
    )
    with pytest.raises(EgressError, match="not been mentioned"):
        poster().post_reply("hi", "1", [])


def test_400_carries_x_words_and_no_credentials(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/2/tweets",
        status=400,
        json={
            "errors": [{"message": "Your Tweet text is too long."}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    with pytest.raises(EgressError) as caught:
        poster().post_reply("hi", "1", [])
    message = str(caught.value)
    assert "400" in message
    assert "Invalid Request" in message
    assert "too long" in message
    for value in CREDENTIALS.values():
        assert value not in message
    assert not isinstance(caught.value, TransientError)


def test_401_is_an_egress_error(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/media/upload", status=401, json={"title": "Unauthorized", "detail": "Unauthorized"})
    with pytest.raises(EgressError, match="Unauthorized"):
        poster().post_reply("hi", "1", [(JPEG, "image/jpeg")])


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(x: responses.RequestsMock, status: int) -> None:
    x.post(f"{API}/2/tweets", status=status, json={"title": "Service Unavailable", "detail": "Service Unavailable"})
    with pytest.raises(XApiTransientError, match=str(status)) as caught:
        poster().post_reply("hi", "1", [])
    assert isinstance(caught.value, TransientError)


def test_connection_errors_are_transient_and_quiet(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", body=requests.ConnectionError("boom with consumer-secret-SECRET"))
    with pytest.raises(TransientError) as caught:
        poster().post_reply("hi", "1", [])
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_timeouts_are_transient(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", body=requests.Timeout("read timed out"))
    with pytest.raises(TransientError):
        poster().post_reply("hi", "1", [])


def test_success_without_an_id_is_an_egress_error(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/media/upload", json={"data": {}})
    with pytest.raises(EgressError, match="without an id"):
        poster().post_reply("hi", "1", [(JPEG, "image/jpeg")])


def test_missing_credentials_are_named_not_shown() -> None:
    with pytest.raises(ValueError, match="AccessTokenSecret") as caught:
        XApiReplyPoster({**CREDENTIALS, "AccessTokenSecret": ""})
    assert "SECRET" not in str(caught.value)


def test_repr_holds_no_secret() -> None:
    assert "SECRET" not in repr(poster())
    assert "consumer-key" not in repr(poster())


def test_default_base_is_api_x_com(x: responses.RequestsMock) -> None:
    x.post("https://api.x.com/2/tweets", status=201, json={"data": {"id": "5", "text": "t"}})
    assert XApiReplyPoster(CREDENTIALS).post_reply("t", "1", []) == "5"


def test_rotated_credentials_are_used_at_the_next_post(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "22", "text": "a joke"}})
    current = dict(CREDENTIALS)
    rotating = XApiReplyPoster(lambda: current, api_base=API)
    rotating.post_reply("first", "99", [])
    current["AccessToken"] = "5678-rotated-token"
    rotating.post_reply("second", "99", [])
    tokens = [oauth_params(header(call.request, "Authorization"))["oauth_token"] for call in x.calls]
    assert tokens == ["1234-access-token", "5678-rotated-token"]


@pytest.mark.parametrize("errors", [5, 1.5, True, "boom", {"message": "x"}])
def test_an_error_answer_whose_errors_is_not_a_list_is_still_an_egress_error(
    x: responses.RequestsMock, errors: object
) -> None:
    x.post(f"{API}/2/tweets", status=400, json={"title": "Invalid Request", "errors": errors})
    with pytest.raises(EgressError, match="Invalid Request"):
        poster().post_reply("hi", "1", [])


def test_429_from_a_spent_24_hour_cap_resets_when_the_cap_does(x: responses.RequestsMock) -> None:
    # The 15-minute window still has requests: retrying at its reset would meet another 429.
    x.post(
        f"{API}/2/tweets",
        status=429,
        headers={
            "x-rate-limit-remaining": "290",
            "x-rate-limit-reset": "1767225600",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": "1767300000",
            "x-app-limit-24hour-remaining": "1200",
            "x-app-limit-24hour-reset": "1767290000",
        },
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
    )
    with pytest.raises(RateLimitedError) as caught:
        poster().post_reply("hi", "1", [])
    assert caught.value.reset_at == 1767300000.0
