"""`botctl x` against what a user mistypes and what a hostile or broken answer holds: every case is one
`Error:` line (exit status 1, no traceback, no credential), and what the user typed is refused before
any credential is read or any call is made."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests
import responses
from botlocal.x_setup import XSetupClient, XSetupError, credentials_from_environment, credentials_from_secret
from botocore.stub import Stubber

from tests.x_setup.recorded import (
    API,
    BOT_ID,
    CREDENTIALS,
    ENVIRONMENT,
    WEBHOOK_ID,
    assert_one_line_error,
    botctl,
    me,
    token_exchange,
)

pytestmark = pytest.mark.usefixtures("env")

#: A marker in each hostile credential: its appearance anywhere in the output is a leak.
LEAK = "LEAKED-VALUE"


# --- X's rate-limit header ----------------------------------------------------------------------


@pytest.mark.parametrize("reset", ["nan", "inf", "-inf", "1e30", "-5", "0"])
def test_429_whose_reset_is_not_a_time_is_one_line(x: responses.RequestsMock, reset: str) -> None:
    # float() reads all of these; datetime raised on nan, inf and 1e30 (a traceback), and printed
    # 1969 for 0 or -5.
    token_exchange(x)
    x.get(f"{API}/2/webhooks", status=429, headers={"x-rate-limit-reset": reset}, json={})
    line = assert_one_line_error(botctl("webhook", "list"))
    assert line.startswith("Error: rate limited: list the webhooks")
    assert "X did not say when the limit resets" in line
    assert "X said: {}" not in line


# --- the URL to register -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://abc.execute-api.eu-west-1.amazonaws.com/api/twitter", "only to https://"),
        ("abc.execute-api.eu-west-1.amazonaws.com/api/twitter", "only to https://"),
        ("https://", "names no host"),
        ("https://example.com:8443/twitter", "names a port"),
        ("https://example.com/twitter#part", "#fragment"),
        ("https://example.com/twit ter", "space or a line break"),
        ("https://example.com/twitter\nsecond line", "space or a line break"),
        ("https://localhost/twitter", "from the internet"),
        ("https://127.0.0.1/twitter", "from the internet"),
        ("https://10.0.0.5/twitter", "from the internet"),
        ("https://[::1]/twitter", "from the internet"),
        ("https://my-laptop.local/twitter", "from the internet"),
        ("https://example.com/" + "a" * 200, "at most 200"),
        ("https://example.com:port/twitter", "does not parse"),
        # The short, octal and hex forms of an IPv4 address that resolvers read (inet_aton).
        ("https://127.1/twitter", "from the internet"),
        ("https://127.0.1/twitter", "from the internet"),
        ("https://0x7f.1/twitter", "from the internet"),
        ("https://0177.0.0.1/twitter", "from the internet"),
        ("https://10.1/twitter", "from the internet"),
        ("https://192.168.1/twitter", "from the internet"),
        ("https://0x7f000001/twitter", "from the internet"),
        ("https://2130706433/twitter", "from the internet"),
    ],
)
def test_register_refuses_a_url_x_cannot_use_before_any_call(
    x: responses.RequestsMock, url: str, expected: str
) -> None:
    line = assert_one_line_error(botctl("webhook", "register", url))
    assert line.startswith("Error: not a webhook URL X accepts:")
    assert expected in line
    assert not x.calls


def test_register_never_echoes_a_password_in_the_url(x: responses.RequestsMock) -> None:
    result = botctl("webhook", "register", f"https://admin:{LEAK}@example.com/twitter")
    line = assert_one_line_error(result)
    assert "user name or password" in line
    assert LEAK not in result.output
    assert not x.calls


def test_register_accepts_a_public_https_url_with_a_path_and_query(x: responses.RequestsMock) -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/twitter?stage=a"
    token_exchange(x)
    x.post(f"{API}/2/webhooks", json={"data": {"id": WEBHOOK_ID, "url": url, "valid": True}})
    result = botctl("webhook", "register", url)
    assert result.exit_code == 0, result.stderr


# --- credentials no request can carry -------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "args"),
    [
        # Not latin-1: requests' Basic auth raised UnicodeEncodeError (a traceback naming the character).
        ("TWITTER_API_SECRET", f"s\u00e9cret\u2713{LEAK}", ("webhook", "list")),
        ("TWITTER_BEARER_TOKEN", f"AAAA\u2713{LEAK}", ("webhook", "list")),
        ("TWITTER_BEARER_TOKEN", f"AAAA-{LEAK}\n", ("webhook", "list")),
        ("TWITTER_ACCESS_TOKEN", f"1111 {LEAK}", ("whoami",)),
        ("TWITTER_API_KEY", f"key\r\n{LEAK}", ("whoami",)),
    ],
    ids=["secret-non-latin-1", "bearer-non-latin-1", "bearer-newline", "token-space", "key-crlf"],
)
def test_a_credential_no_request_can_carry_is_named_never_shown(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv(variable, value)
    result = botctl(*args)
    line = assert_one_line_error(result)
    assert line.startswith(f"Error: {variable} (credentials from the environment) holds a space, a line break")
    assert LEAK not in result.output and LEAK not in repr(result.exception)
    assert not x.calls


def test_a_secret_whose_value_has_a_line_break_names_its_key() -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    document = CREDENTIALS | {"BearerToken": f"AAAA{LEAK}\n"}
    with Stubber(client) as stub:
        stub.add_response("get_secret_value", {"SecretString": json.dumps(document)}, {"SecretId": "TwitterSecret"})
        credentials = credentials_from_secret("TwitterSecret", client=client)
    with pytest.raises(XSetupError) as raised:
        XSetupClient(credentials).webhooks()
    assert str(raised.value).startswith("BearerToken in secret 'TwitterSecret' (credentials from secret")
    assert LEAK not in str(raised.value)


class _Refusing(requests.Session):
    """A session that fails as requests and http.client do, with the header's value in the message."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # http.client encodes headers as latin-1: its error carries the value's text.
        (UnicodeEncodeError("latin-1", f"Bearer {LEAK}\u2713", 19, 20, "ordinal not in range(256)"), "could not send"),
        (requests.exceptions.InvalidHeader(f"Invalid leading whitespace in header value: {LEAK}"), "could not send"),
        (requests.exceptions.ChunkedEncodingError(f"broken {LEAK}"), "could not be read"),
        (requests.exceptions.ContentDecodingError(f"bad gzip {LEAK}"), "could not be read"),
        (requests.exceptions.TooManyRedirects(f"30 redirects {LEAK}"), "could not be read"),
    ],
    ids=["unicode", "invalid-header", "chunked", "decoding", "redirects"],
)
def test_a_request_that_fails_before_an_answer_is_one_line_by_type(error: Exception, expected: str) -> None:
    credentials = credentials_from_environment(ENVIRONMENT | {"TWITTER_BEARER_TOKEN": "AAAA-given"})
    client = XSetupClient(credentials, session=_Refusing(error))
    with pytest.raises(XSetupError) as raised:
        client.webhooks()
    message = str(raised.value)
    assert expected in message and type(error).__name__ in message
    assert LEAK not in message and "\n" not in message
    assert raised.value.__suppress_context__
    # Only a refusal on this side points at the credentials.
    assert ("stray spaces" in message) == (expected == "could not send")


# --- X's refusals ---------------------------------------------------------------------------------


def test_a_bare_403_points_at_the_access_level_and_permissions(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(
        f"{API}/2/webhooks",
        status=403,
        json={"title": "Forbidden", "status": 403, "detail": "Forbidden", "type": "about:blank"},
    )
    line = assert_one_line_error(botctl("webhook", "list"))
    assert line.startswith("Error: forbidden: list the webhooks (GET /2/webhooks): X answered 403")
    assert "access level" in line and "webhook access" in line and "permissions" in line


# X's 403 body for code 453, as captured live and quoted in socioboard/Socioboard-5.0 issue #440
# (2025-08-05) and gregkh/bti issue #57 (2024-12-27): {"errors": [{"message": "...", "code": 453}]}.
@pytest.mark.parametrize(
    "message",
    [
        "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints (e.g. media post, "
        "oauth) only. If you need access to this endpoint, you may need a different access level. You can learn "
        "more here: https://developer.x.com/en/portal/product",
        # The code decides, whatever X's wording becomes.
        "You currently have access to a subset of X API V2 endpoints only.",
    ],
)
def test_453_is_not_allowed_on_this_access_level(x: responses.RequestsMock, message: str) -> None:
    x.get(f"{API}/2/users/me", status=403, json={"errors": [{"message": message, "code": 453}]})
    line = assert_one_line_error(botctl("whoami"))
    assert line.startswith("Error: not allowed on this access level: read the account")


@pytest.mark.parametrize("status", [200, 400])
def test_an_unknown_id_in_x_s_errors_list_is_not_found(x: responses.RequestsMock, status: int) -> None:
    # X's v2 lookups answer an unknown id with the problem inside `errors` (ResourceNotFoundProblem).
    token_exchange(x)
    x.get(
        f"{API}/2/account_activity/webhooks/{WEBHOOK_ID}/subscriptions/all/list",
        status=status,
        json={
            "errors": [
                {
                    "type": "https://api.x.com/2/problems/resource-not-found",
                    "title": "Not Found Error",
                    "detail": f"Could not find webhook with id: [{WEBHOOK_ID}].",
                    "resource_type": "webhook",
                }
            ]
        },
    )
    line = assert_one_line_error(botctl("subscriptions", WEBHOOK_ID))
    assert line.startswith("Error: not found: list the subscriptions")


@pytest.mark.parametrize("errors", [5, 1.5, True, None, "Forbidden", {"message": "m"}])
@pytest.mark.parametrize("status", [200, 403])
def test_an_errors_member_that_is_not_a_list_is_still_one_line(
    x: responses.RequestsMock, errors: Any, status: int
) -> None:
    # `errors` was iterated as it came: an int raised TypeError, a traceback instead of one line.
    x.get(f"{API}/2/users/me", status=status, json={"title": "Forbidden", "errors": errors})
    line = assert_one_line_error(botctl("whoami"))
    assert "account" in line


def test_a_token_refusal_whose_errors_is_not_a_list_is_still_one_line(x: responses.RequestsMock) -> None:
    x.post(f"{API}/oauth2/token", status=403, json={"errors": 99})
    line = assert_one_line_error(botctl("webhook", "list"))
    assert line.startswith("Error: invalid or expired credentials: get an app-only bearer token")


def test_a_listing_in_a_shape_x_does_not_document_is_an_error(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(f"{API}/2/webhooks", json={"data": {"id": WEBHOOK_ID, "url": "https://example.com/x"}})
    line = assert_one_line_error(botctl("webhook", "list"))
    assert "data that is not a list" in line


def test_a_listing_without_data_is_empty(x: responses.RequestsMock) -> None:
    # X leaves `data` out when there is nothing to list.
    token_exchange(x)
    x.get(f"{API}/2/activity/subscriptions", json={"meta": {"result_count": 0}})
    result = botctl("activity", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "no X Activity subscriptions for this app"


def test_a_url_registered_by_another_app_says_so(x: responses.RequestsMock) -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/twitter"
    token_exchange(x)
    x.post(
        f"{API}/2/webhooks",
        status=400,
        json={"errors": [{"message": "DuplicateUrlFailed: URL is already registered"}], "title": "Invalid Request"},
    )
    x.get(f"{API}/2/webhooks", json={"meta": {"result_count": 0}})
    line = assert_one_line_error(botctl("webhook", "register", url))
    assert "not as one of this app's webhooks" in line and "another app" in line


def test_subscribe_answered_not_subscribed_is_an_error(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/account_activity/webhooks/{WEBHOOK_ID}/subscriptions/all", json={"data": {"subscribed": False}})
    line = assert_one_line_error(botctl("subscribe", WEBHOOK_ID))
    assert "not subscribed" in line


# --- what the user typed, checked before any call -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("activity", "subscribe", "../2/users/me"), "not a webhook id: '../2/users/me'"),
        (("activity", "subscribe", WEBHOOK_ID, "--user-id", "@sentiment_bot"), "not a user id: '@sentiment_bot'"),
        (("activity", "subscribe", WEBHOOK_ID, "--tag", ""), "not a tag X accepts: ''"),
        (("activity", "subscribe", WEBHOOK_ID, "--tag", "t" * 201), "1 to 200 printable characters"),
        (("activity", "subscribe", WEBHOOK_ID, "--event-type", "post mention"), "not an X Activity event type"),
        (
            ("activity", "subscribe", WEBHOOK_ID, "--event-type", "post.mention.create", "--event-type", "Mentions"),
            "not an X Activity event type: 'Mentions'",
        ),
        (("activity", "delete", "sub-501"), "not a subscription id: 'sub-501'"),
        (("unsubscribe", "abc"), "not a webhook id: 'abc'"),
        (("unsubscribe", WEBHOOK_ID, "--user-id", "12 34"), "not a user id: '12 34'"),
        (("subscriptions", "1" * 20), "up to 19 digits"),
        # 19 digits, but beyond a 64-bit snowflake; and 0, no X id (chalicelib.kernel.x_ids).
        (("subscriptions", str(2**63)), "up to 19 digits"),
        (("unsubscribe", "0"), "not a webhook id: '0'"),
        (("webhook", "validate", "1e5"), "not a webhook id: '1e5'"),
    ],
)
def test_what_the_user_typed_is_refused_before_any_call(
    x: responses.RequestsMock, args: tuple[str, ...], expected: str
) -> None:
    line = assert_one_line_error(botctl(*args))
    assert expected in line
    assert not x.calls  # neither GET /2/users/me nor a subscription made before the refusal


def test_an_event_type_given_twice_is_subscribed_once(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(f"{API}/2/activity/subscriptions", json={"data": []})
    x.post(f"{API}/2/activity/subscriptions", json={"data": {"subscription_id": "501"}})
    twice = ("--event-type", "post.mention.create") * 2
    result = botctl("activity", "subscribe", WEBHOOK_ID, "--user-id", BOT_ID, *twice)
    assert result.exit_code == 0, result.stderr
    assert [call.request.method for call in x.calls] == ["POST", "GET", "POST"]


# --- where a reader of the issue looks for the Account Activity commands --------------------------


def test_the_account_activity_commands_are_also_under_webhook(x: responses.RequestsMock) -> None:
    aaa = f"{API}/2/account_activity/webhooks/{WEBHOOK_ID}/subscriptions"
    x.post(f"{aaa}/all", json={"data": {"subscribed": True}})
    token_exchange(x)
    x.get(f"{aaa}/all/list", json={"data": {"subscriptions": [{"user_id": BOT_ID}]}})
    me(x)
    x.delete(f"{aaa}/{BOT_ID}/all", json={"data": {"subscribed": False}})
    for args in (("subscribe", WEBHOOK_ID), ("subscriptions", WEBHOOK_ID), ("unsubscribe", WEBHOOK_ID)):
        result = botctl("webhook", *args)
        assert result.exit_code == 0, (args, result.output)
    assert "subscribe" in botctl("webhook", "--help").stdout


# --- secrets that are not what the bot expects ----------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        {"SecretString": json.dumps({"consumer_key": LEAK, "consumer_secret": LEAK, "access_token": LEAK})},
        {
            "SecretString": json.dumps(
                {"ApiKey": 12345, "ApiSecret": None, "AccessToken": [LEAK], "AccessTokenSecret": ""}
            )
        },
        {"SecretBinary": LEAK.encode()},
    ],
    ids=["other-keys", "not-strings", "binary"],
)
def test_a_secret_without_the_bots_keys_names_what_is_missing_never_a_value(secret: dict[str, Any]) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stub, pytest.raises(XSetupError) as raised:
        stub.add_response("get_secret_value", secret, {"SecretId": "TwitterSecret"})
        XSetupClient(credentials_from_secret("TwitterSecret", client=client)).me()
    message = str(raised.value)
    assert LEAK not in message and LEAK not in repr(raised.value)
    assert "ApiKey" in message and "'TwitterSecret'" in message


class _Unreachable:
    """A Secrets Manager client that cannot reach AWS."""

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        raise botocore.exceptions.EndpointConnectionError(
            endpoint_url="https://secretsmanager.eu-west-1.amazonaws.com/"
        )


def test_aws_out_of_reach_is_a_network_error() -> None:
    with pytest.raises(XSetupError) as raised:
        credentials_from_secret("TwitterSecret", client=_Unreachable())
    assert str(raised.value).startswith(
        "network error: could not reach AWS Secrets Manager to read secret 'TwitterSecret' (EndpointConnectionError)"
    )
