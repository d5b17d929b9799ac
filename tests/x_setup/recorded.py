"""What the `botctl x` tests share: fake credentials, X's recorded answers, and the checks on the output."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import unquote

import requests
import responses
from botlocal.cli import main
from click.testing import CliRunner, Result

API = "https://api.x.com"
CREDENTIALS = {
    "ApiKey": "consumer-key-KEY123",
    "ApiSecret": "consumer-secret-SECRET456",
    "AccessToken": "1111-access-token-TOKEN789",
    "AccessTokenSecret": "access-token-secret-SECRET012",
}
ENVIRONMENT = {
    "TWITTER_API_KEY": CREDENTIALS["ApiKey"],
    "TWITTER_API_SECRET": CREDENTIALS["ApiSecret"],
    "TWITTER_ACCESS_TOKEN": CREDENTIALS["AccessToken"],
    "TWITTER_ACCESS_TOKEN_SECRET": CREDENTIALS["AccessTokenSecret"],
}
#: What POST /oauth2/token answers (fake): it must never be printed either.
APP_BEARER = "AAAAAAAAAAAAAAAAAAAAAAppOnlyBearer%2FFAKE999"
GIVEN_BEARER = "AAAAAAAAAAAAAAAAAAAAAGivenBearerFAKE888"
#: Every value whose appearance in the output is a leak.
SECRET_VALUES = (*CREDENTIALS.values(), APP_BEARER, GIVEN_BEARER)
BOT_ID = "1500000000000000001"
WEBHOOK_ID = "1976325569252868099"
HOOK_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/twitter"


def token_exchange(x: responses.RequestsMock) -> None:
    """POST /oauth2/token: the app-only bearer token for the app's key and secret."""
    x.post(f"{API}/oauth2/token", json={"token_type": "bearer", "access_token": APP_BEARER})


def me(x: responses.RequestsMock) -> None:
    x.get(f"{API}/2/users/me", json={"data": {"id": BOT_ID, "name": "Sentiment Bot", "username": "sentiment_bot"}})


def botctl(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["x", *args], input=input)


def header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers[name]
    return value.decode("latin-1") if isinstance(value, bytes) else value


def json_body(request: requests.PreparedRequest) -> Any:
    body = request.body
    assert isinstance(body, bytes | str), body
    return json.loads(body)


def oauth_params(request: requests.PreparedRequest) -> dict[str, str]:
    value = header(request, "Authorization")
    assert value.startswith("OAuth "), value
    return {key: unquote(item) for key, item in re.findall(r'(\w+)="([^"]*)"', value)}


def assert_user_signed(request: requests.PreparedRequest) -> None:
    """Signed as the bot's account (OAuth 1.0a user context) with the app's key and the account's token."""
    params = oauth_params(request)
    assert params["oauth_consumer_key"] == CREDENTIALS["ApiKey"]
    assert params["oauth_token"] == CREDENTIALS["AccessToken"]
    assert params["oauth_signature_method"] == "HMAC-SHA1"


def assert_app_only(request: requests.PreparedRequest, token: str = APP_BEARER) -> None:
    assert header(request, "Authorization") == f"Bearer {token}"


def basic_credentials(request: requests.PreparedRequest) -> str:
    value = header(request, "Authorization")
    assert value.startswith("Basic ")
    return base64.b64decode(value.removeprefix("Basic ")).decode()


def assert_no_secret(result: Result) -> None:
    text = result.stdout + result.stderr + (repr(result.exception) if result.exception else "")
    for value in SECRET_VALUES:
        assert value not in text


def assert_one_line_error(result: Result) -> str:
    """Exit status 1, one `Error:` line on stderr, no traceback; returns the line."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    assert_no_secret(result)
    return lines[0]
