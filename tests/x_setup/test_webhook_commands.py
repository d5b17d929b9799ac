"""`botctl x webhook register | list | validate | delete` against X's recorded answers.

The answers' shapes are X's (docs.x.com V2 Webhooks quickstart and openapi.json of
github.com/xdevplatform/docs, read 2026-08-22): success `{"data": ...}`, failures a 400 whose
`errors[].message` starts with X's reason (CrcValidationFailed, DuplicateUrlFailed, ...).
"""

from __future__ import annotations

import pytest
import responses

from tests.x_setup.recorded import (
    API,
    APP_BEARER,
    CREDENTIALS,
    GIVEN_BEARER,
    HOOK_URL,
    WEBHOOK_ID,
    assert_app_only,
    assert_no_secret,
    assert_one_line_error,
    basic_credentials,
    botctl,
    header,
    json_body,
    token_exchange,
)

pytestmark = pytest.mark.usefixtures("env")


def invalid_request(reason: str) -> dict[str, object]:
    """X's 400 for the webhook calls, as its guide prints it: the reason leads the message."""
    return {
        "errors": [{"message": reason}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def test_register_gets_an_app_only_token_and_prints_the_new_id(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.post(
        f"{API}/2/webhooks",
        json={"data": {"id": WEBHOOK_ID, "url": HOOK_URL, "valid": True, "created_at": "2026-12-03T03:00:00.000Z"}},
    )
    result = botctl("webhook", "register", HOOK_URL)
    assert result.exit_code == 0, result.stderr
    assert f"registered webhook {WEBHOOK_ID} for {HOOK_URL} (valid: yes)" in result.stdout
    assert f"botctl x subscribe {WEBHOOK_ID}" in result.stdout
    exchange, register = (call.request for call in x.calls)
    # Client credentials: the app's key and secret, Basic, grant_type=client_credentials.
    assert basic_credentials(exchange) == f"{CREDENTIALS['ApiKey']}:{CREDENTIALS['ApiSecret']}"
    assert exchange.body == "grant_type=client_credentials"
    assert_app_only(register)
    assert json_body(register) == {"url": HOOK_URL}
    assert header(register, "Content-Type") == "application/json"
    assert_no_secret(result)


def test_a_given_bearer_token_is_used_as_is(x: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", GIVEN_BEARER)
    x.get(f"{API}/2/webhooks", json={"data": [], "meta": {"result_count": 0}})
    result = botctl("webhook", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "no webhooks registered for this app"
    (only,) = x.calls  # no token exchange
    assert_app_only(only.request, GIVEN_BEARER)
    assert_no_secret(result)


def test_list_shows_each_webhook_and_its_validity(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(
        f"{API}/2/webhooks",
        json={
            "data": [
                {"created_at": "2026-12-01T10:00:00.000Z", "id": WEBHOOK_ID, "url": HOOK_URL, "valid": True},
                {"created_at": "2026-11-01T10:00:00.000Z", "id": "42", "url": "https://old.example/x", "valid": False},
            ],
            "meta": {"result_count": 2},
        },
    )
    result = botctl("webhook", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "url", "valid", "created_at"]
    assert any(WEBHOOK_ID in line and HOOK_URL in line and " yes " in f"{line} " for line in lines)
    assert any(line.split()[:3] == ["42", "https://old.example/x", "no"] for line in lines)


def test_register_when_the_url_fails_the_crc_says_so_with_what_to_check(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.post(f"{API}/2/webhooks", status=400, json=invalid_request("CrcValidationFailed: Invalid response_token"))
    line = assert_one_line_error(botctl("webhook", "register", HOOK_URL))
    assert line.startswith("Error: CRC failed:")
    assert HOOK_URL in line
    assert "deployed" in line and "chalice local" in line
    assert "CrcValidationFailed" in line  # X's own words are kept


def test_register_an_already_registered_url_names_its_id(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.post(f"{API}/2/webhooks", status=400, json=invalid_request("DuplicateUrlFailed: URL is already registered"))
    x.get(
        f"{API}/2/webhooks",
        json={"data": [{"id": WEBHOOK_ID, "url": HOOK_URL, "valid": False, "created_at": "2026-12-01T10:00:00.000Z"}]},
    )
    line = assert_one_line_error(botctl("webhook", "register", HOOK_URL))
    assert f"already registered for this app as webhook {WEBHOOK_ID} (valid: no)" in line
    assert f"botctl x webhook validate {WEBHOOK_ID}" in line


def test_register_a_refused_url_says_what_x_accepts(x: responses.RequestsMock) -> None:
    token_exchange(x)
    # A URL that passes the local checks (https, no port, a public name) and that X still refuses.
    x.post(f"{API}/2/webhooks", status=400, json=invalid_request("UrlValidationFailed: url is not reachable"))
    line = assert_one_line_error(botctl("webhook", "register", "https://example.com/twitter"))
    assert "https, public, with no port" in line


def test_register_beyond_the_webhook_limit_says_to_delete_one(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.post(f"{API}/2/webhooks", status=400, json=invalid_request("WebhookLimitExceeded: too many webhooks"))
    line = assert_one_line_error(botctl("webhook", "register", HOOK_URL))
    assert "limit" in line and "botctl x webhook list" in line


def test_validate_reports_a_passed_crc(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.put(f"{API}/2/webhooks/{WEBHOOK_ID}", json={"data": {"valid": True}})
    result = botctl("webhook", "validate", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"webhook {WEBHOOK_ID} is valid: X's CRC check passed"
    assert_app_only(x.calls[1].request)


def test_validate_when_x_still_finds_it_invalid_fails(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.put(f"{API}/2/webhooks/{WEBHOOK_ID}", json={"data": {"valid": False}})
    line = assert_one_line_error(botctl("webhook", "validate", WEBHOOK_ID))
    assert line.startswith(f"Error: CRC failed: X still finds webhook {WEBHOOK_ID} invalid")


def test_validate_a_failing_crc_is_a_crc_error(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.put(f"{API}/2/webhooks/{WEBHOOK_ID}", status=400, json=invalid_request("CrcValidationFailed: timed out"))
    assert assert_one_line_error(botctl("webhook", "validate", WEBHOOK_ID)).startswith("Error: CRC failed:")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, invalid_request("WebhookIdInvalid: webhook not found")),
        (
            404,
            {
                "title": "Not Found Error",
                "detail": "Could not find webhook with id: [1].",
                "type": "https://api.x.com/2/problems/resource-not-found",
            },
        ),
    ],
    ids=["webhook-id-invalid", "resource-not-found"],
)
def test_delete_an_unknown_id_is_not_found(x: responses.RequestsMock, status: int, body: dict[str, object]) -> None:
    token_exchange(x)
    x.delete(f"{API}/2/webhooks/{WEBHOOK_ID}", status=status, json=body)
    line = assert_one_line_error(botctl("webhook", "delete", WEBHOOK_ID))
    assert line.startswith("Error: not found: delete webhook")
    assert "botctl x webhook list" in line


def test_delete(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.delete(f"{API}/2/webhooks/{WEBHOOK_ID}", json={"data": {"deleted": True}})
    result = botctl("webhook", "delete", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"deleted webhook {WEBHOOK_ID}"
    assert x.calls[1].request.method == "DELETE"


def test_an_id_that_is_not_digits_is_refused_before_any_call(x: responses.RequestsMock) -> None:
    line = assert_one_line_error(botctl("webhook", "delete", "../users/me"))
    assert "not a webhook id" in line
    assert not x.calls


def test_a_refused_token_exchange_is_a_credentials_error(x: responses.RequestsMock) -> None:
    x.post(
        f"{API}/oauth2/token",
        status=403,
        json={
            "errors": [
                {"code": 99, "message": "Unable to verify your credentials", "label": "authenticity_token_error"}
            ]
        },
    )
    line = assert_one_line_error(botctl("webhook", "list"))
    assert line.startswith("Error: invalid or expired credentials: get an app-only bearer token")
    assert "from the environment" in line
    assert "Unable to verify your credentials" in line
    assert APP_BEARER not in line
