"""`botctl x whoami` and `post-test`, where the credentials come from, and X's general refusals
(401, 429, 5xx, the network) as one line each that never shows a credential."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
import requests
import responses
from botlocal.x_setup import (
    XCredentials,
    XSetupClient,
    XSetupError,
    credentials_from_environment,
    credentials_from_secret,
)
from botocore.stub import Stubber
from moto import mock_aws

from tests.x_setup.recorded import (
    API,
    BOT_ID,
    CREDENTIALS,
    ENVIRONMENT,
    GIVEN_BEARER,
    SECRET_VALUES,
    WEBHOOK_ID,
    assert_no_secret,
    assert_one_line_error,
    assert_user_signed,
    botctl,
    json_body,
    me,
    token_exchange,
)

REGION = "eu-west-1"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENVIRONMENT, "TWITTER_BEARER_TOKEN", "TWITTER_SECRET_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, no_env: None) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


# --- whoami -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_whoami_prints_the_id_to_deploy_with(x: responses.RequestsMock) -> None:
    me(x)
    result = botctl("whoami")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"id        {BOT_ID}",
        "username  @sentiment_bot",
        "name      Sentiment Bot",
        f"deploy with: make deploy BOT_USER_ID={BOT_ID} (CDK: -c botUserId={BOT_ID}; locally: BOT_USER_ID={BOT_ID})",
    ]
    assert_user_signed(x.calls[0].request)
    assert_no_secret(result)


@pytest.mark.usefixtures("no_env")
def test_without_credentials_the_missing_variables_are_named(x: responses.RequestsMock) -> None:
    line = assert_one_line_error(botctl("whoami"))
    for variable in ENVIRONMENT:
        assert variable in line
    assert "--secret-name" in line
    assert not x.calls


@pytest.mark.usefixtures("no_env")
def test_app_only_calls_need_only_the_apps_key_and_secret_or_a_bearer_token(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWITTER_API_KEY", CREDENTIALS["ApiKey"])
    line = assert_one_line_error(botctl("webhook", "list"))
    assert "TWITTER_API_SECRET" in line and "TWITTER_ACCESS_TOKEN" not in line
    monkeypatch.delenv("TWITTER_API_KEY")
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", GIVEN_BEARER)
    x.get(f"{API}/2/webhooks", json={"data": []})
    assert botctl("webhook", "list").exit_code == 0


def test_help_says_where_credentials_come_from() -> None:
    for args in (["--help"], ["whoami", "--help"], ["webhook", "register", "--help"]):
        text = botctl(*args).stdout
        assert "--secret-name" in text or "TWITTER_API_KEY" in text
    text = botctl("--help").stdout
    for variable in (*ENVIRONMENT, "TWITTER_BEARER_TOKEN", "--secret-name"):
        assert variable in text


def test_credentials_never_show_in_a_repr() -> None:
    credentials = credentials_from_environment(ENVIRONMENT | {"TWITTER_BEARER_TOKEN": GIVEN_BEARER})
    client = XSetupClient(credentials)
    for text in (repr(credentials), str(credentials), repr(client)):
        for value in SECRET_VALUES:
            assert value not in text
    assert "the environment" in repr(credentials)


# --- the deployed secret ------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_credentials_from_the_deployed_secret(x: responses.RequestsMock) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="TwitterSecret", SecretString=json.dumps(CREDENTIALS | {"BearerToken": GIVEN_BEARER})
    )
    me(x)
    x.get(f"{API}/2/webhooks", json={"data": []})
    result = botctl("whoami", "--secret-name", "TwitterSecret")
    assert result.exit_code == 0, result.stderr
    assert f"id        {BOT_ID}" in result.stdout
    assert_user_signed(x.calls[0].request)
    result = botctl("webhook", "list", "--secret-name", "TwitterSecret", "--region", REGION)
    assert result.exit_code == 0, result.stderr
    # The secret's BearerToken, as is: no token exchange.
    assert x.calls[1].request.headers["Authorization"] == f"Bearer {GIVEN_BEARER}"
    assert_no_secret(result)


@pytest.mark.usefixtures("aws")
def test_the_secret_name_can_come_from_the_environment(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="TwitterSecret-dev", SecretString=json.dumps(CREDENTIALS)
    )
    monkeypatch.setenv("TWITTER_SECRET_NAME", "TwitterSecret-dev")
    me(x)
    assert botctl("whoami").exit_code == 0


@pytest.mark.usefixtures("aws")
def test_a_missing_secret_is_one_line(x: responses.RequestsMock) -> None:
    line = assert_one_line_error(botctl("whoami", "--secret-name", "NoSuchSecret"))
    assert "no secret 'NoSuchSecret'" in line and "create-secret" in line
    assert not x.calls


@pytest.mark.usefixtures("aws")
def test_a_secret_lacking_keys_names_them_not_their_values(x: responses.RequestsMock) -> None:
    partial = {"ApiKey": CREDENTIALS["ApiKey"], "ApiSecret": CREDENTIALS["ApiSecret"]}
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name="Half", SecretString=json.dumps(partial))
    line = assert_one_line_error(botctl("whoami", "--secret-name", "Half"))
    assert "AccessToken in secret 'Half'" in line and "AccessTokenSecret in secret 'Half'" in line
    assert not x.calls


@pytest.mark.usefixtures("aws")
def test_a_secret_that_is_not_json_is_refused_without_its_value(x: responses.RequestsMock) -> None:
    value = f"ApiKey={CREDENTIALS['ApiKey']} ApiSecret={CREDENTIALS['ApiSecret']}"
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name="Plain", SecretString=value)
    line = assert_one_line_error(botctl("whoami", "--secret-name", "Plain"))
    assert "is not a JSON object" in line


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "AWS refused to read secret 'TwitterSecret' (AccessDeniedException)"),
        ("ExpiredTokenException", "check your AWS credentials"),
        ("InternalServiceError", "cannot read secret 'TwitterSecret' (InternalServiceError)"),
    ],
)
def test_aws_refusals_are_one_line(code: str, expected: str) -> None:
    client = boto3.client("secretsmanager", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", service_error_code=code, service_message="denied")
        with pytest.raises(XSetupError) as raised:
            credentials_from_secret("TwitterSecret", client=client)
    assert expected in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_the_secrets_keys_are_read_and_nothing_else() -> None:
    client = boto3.client("secretsmanager", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    document = CREDENTIALS | {"BearerToken": GIVEN_BEARER, "Other": "x", "ApiKey": CREDENTIALS["ApiKey"]}
    with Stubber(client) as stub:
        stub.add_response(
            "get_secret_value",
            {"Name": "TwitterSecret", "SecretString": json.dumps(document)},
            {"SecretId": "TwitterSecret"},
        )
        credentials = credentials_from_secret("TwitterSecret", client=client)
    assert dict(credentials.values) == CREDENTIALS | {"BearerToken": GIVEN_BEARER}
    assert credentials.source == "secret 'TwitterSecret'"


# --- post-test ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_post_test_asks_first_and_posts_nothing_when_refused(x: responses.RequestsMock) -> None:
    result = botctl("post-test", input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.stderr
    assert not x.calls


@pytest.mark.usefixtures("env")
def test_post_test_posts_once_when_confirmed(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "1900000000000000001", "text": "..."}})
    result = botctl("post-test", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "posted 1900000000000000001: https://x.com/i/status/1900000000000000001"
    (call,) = x.calls
    assert_user_signed(call.request)
    text = json_body(call.request)["text"]
    assert text.startswith("Test post from botctl, ") and f"{datetime.now(UTC):%Y-%m-%d}" in text
    assert_no_secret(result)


@pytest.mark.usefixtures("env")
def test_post_test_with_yes_and_a_text(x: responses.RequestsMock) -> None:
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "19", "text": "hello"}})
    result = botctl("post-test", "--yes", "--text", "hello")
    assert result.exit_code == 0, result.stderr
    assert json_body(x.calls[0].request) == {"text": "hello"}


@pytest.mark.parametrize(
    ("text", "weight"),
    [("a" * 281, 281), ("😀" * 141, 282), ("漢" * 141, 282), ("a" * 258 + " https://example.com/" + "p" * 30, 282)],
)
def test_post_test_refuses_a_text_over_xs_weighted_280_before_reading_any_credential(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, text: str, weight: int
) -> None:
    # No credential at all in the environment: the refusal comes before they are read.
    for name in (*ENVIRONMENT, "TWITTER_BEARER_TOKEN", "TWITTER_SECRET_NAME", "BOT_POSTING"):
        monkeypatch.delenv(name, raising=False)
    line = assert_one_line_error(botctl("post-test", "--yes", "--text", text))
    assert line == (
        f"Error: nothing posted: the text weighs {weight} of X's 280 (a URL counts 23, an emoji or a CJK character 2)"
    )
    assert not x.calls


@pytest.mark.usefixtures("env")
def test_post_test_takes_a_text_of_exactly_280_by_weight(x: responses.RequestsMock) -> None:
    text = "漢" * 140  # 140 characters, weight 280
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "19", "text": text}})
    result = botctl("post-test", "--yes", "--text", text)
    assert result.exit_code == 0, result.stderr
    assert json_body(x.calls[0].request) == {"text": text}


@pytest.mark.usefixtures("env")
def test_post_test_on_a_read_only_app_says_which_permission(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/2/tweets",
        status=403,
        json={
            "title": "Forbidden",
            "status": 403,
            "detail": "Your client app is not configured with the appropriate oauth1 app permissions for this "
            "endpoint.",
            "type": "https://api.twitter.com/2/problems/oauth1-permissions",
        },
    )
    line = assert_one_line_error(botctl("post-test", "--yes"))
    assert "'Read and write'" in line and "regenerate the access token" in line


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("value", ["off", "OFF", "false", "garbage"])
def test_post_test_posts_nothing_while_the_kill_switch_is_off_or_unreadable(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BOT_POSTING", value)
    line = assert_one_line_error(botctl("post-test", "--yes"))
    assert line.startswith("Error: nothing posted: BOT_POSTING") and "--ignore-kill-switch" in line
    assert not x.calls


@pytest.mark.usefixtures("env")
def test_post_test_may_ignore_the_kill_switch_when_told(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_POSTING", "off")
    x.post(f"{API}/2/tweets", status=201, json={"data": {"id": "19", "text": "hello"}})
    result = botctl("post-test", "--yes", "--ignore-kill-switch", "--text", "hello")
    assert result.exit_code == 0, result.stderr
    assert len(x.calls) == 1


# --- X's general refusals -----------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_401_is_invalid_credentials_with_their_source(x: responses.RequestsMock) -> None:
    x.get(
        f"{API}/2/users/me",
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    line = assert_one_line_error(botctl("whoami"))
    assert line.startswith("Error: invalid or expired credentials:")
    assert "from the environment" in line and "regenerate the access token" in line
    assert "check TWITTER_API_KEY, TWITTER_API_SECRET, TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_TOKEN_SECRET" in line


@pytest.mark.usefixtures("aws")
def test_401_on_an_app_only_call_names_the_secrets_bearer_token(x: responses.RequestsMock) -> None:
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="TwitterSecret", SecretString=json.dumps(CREDENTIALS | {"BearerToken": GIVEN_BEARER})
    )
    x.get(f"{API}/2/webhooks", status=401, json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
    line = assert_one_line_error(botctl("webhook", "list", "--secret-name", "TwitterSecret"))
    assert line.endswith("for the credentials from secret 'TwitterSecret': check BearerToken in secret 'TwitterSecret'")


@pytest.mark.usefixtures("env")
def test_429_says_when_the_limit_resets(x: responses.RequestsMock) -> None:
    reset = 1_800_000_000  # 2027-01-15 08:00:00 UTC
    token_exchange(x)
    x.get(
        f"{API}/2/webhooks",
        status=429,
        headers={"x-rate-limit-limit": "15", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
    )
    line = assert_one_line_error(botctl("webhook", "list"))
    assert line.startswith("Error: rate limited: list the webhooks")
    assert "the limit resets at 2027-01-15 08:00:00 UTC" in line


@pytest.mark.usefixtures("env")
def test_429_without_a_reset_header(x: responses.RequestsMock) -> None:
    me(x)
    x.get(f"{API}/2/users/me", status=429, json={"title": "Too Many Requests"})
    assert botctl("whoami").exit_code == 0
    assert "try again in 15 minutes" in assert_one_line_error(botctl("whoami"))


@pytest.mark.usefixtures("env")
def test_a_fault_of_x_says_to_try_again(x: responses.RequestsMock) -> None:
    x.get(f"{API}/2/users/me", status=503, body="<html>Over capacity</html>")
    line = assert_one_line_error(botctl("whoami"))
    assert line.startswith("Error: X had a fault:") and "503" in line


@pytest.mark.usefixtures("env")
def test_a_network_error_is_one_line_without_the_request(x: responses.RequestsMock) -> None:
    # requests' message may embed the prepared request (headers included): only its type is shown.
    x.get(f"{API}/2/users/me", body=requests.ConnectionError(f"boom Authorization: {CREDENTIALS['ApiKey']}"))
    line = assert_one_line_error(botctl("whoami"))
    assert line == (
        "Error: network error: could not reach https://api.x.com to read the account (GET /2/users/me) "
        "(ConnectionError)"
    )


@pytest.mark.usefixtures("env")
def test_a_timeout_is_a_network_error(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.put(f"{API}/2/webhooks/{WEBHOOK_ID}", body=requests.ReadTimeout("read timed out"))
    assert "network error" in assert_one_line_error(botctl("webhook", "validate", WEBHOOK_ID))


@pytest.mark.usefixtures("env")
def test_a_200_that_carries_only_errors_is_an_error(x: responses.RequestsMock) -> None:
    x.get(f"{API}/2/users/me", json={"errors": [{"message": "nothing", "title": "Odd"}]})
    assert "nothing" in assert_one_line_error(botctl("whoami"))


def test_the_credentials_object_lists_key_names_only() -> None:
    credentials = XCredentials(values=CREDENTIALS, source="secret 'X'", names={})
    assert (
        repr(credentials)
        == "XCredentials(source=\"secret 'X'\", keys=['AccessToken', 'AccessTokenSecret', 'ApiKey', 'ApiSecret'])"
    )


@pytest.mark.usefixtures("env")
def test_a_token_requests_refuses_to_send_is_not_quoted(
    x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests refuses a header value with a line break (InvalidHeader) and quotes the value in its
    # message: the bearer token would reach the terminal in a traceback. It is refused, by name, first.
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "AAAA-bearer-SECRET\n")
    result = botctl("webhook", "list")
    line = assert_one_line_error(result)
    assert line.startswith("Error: TWITTER_BEARER_TOKEN (credentials from the environment) holds a space, a line")
    assert "bearer-SECRET" not in result.output
    assert not x.calls
