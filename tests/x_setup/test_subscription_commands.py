"""`botctl x subscribe | subscriptions | unsubscribe` (Account Activity) and `botctl x activity ...`
(X Activity API) against X's recorded answers (docs.x.com quickstarts and openapi.json of
github.com/xdevplatform/docs, read 2026-08-22)."""

from __future__ import annotations

import pytest
import responses
from botlocal.x_setup import BOT_ACTIVITY_EVENT_TYPES
from chalicelib.contracts import names
from chalicelib.ingress import translate

from tests.x_setup.recorded import (
    API,
    BOT_ID,
    HOOK_URL,
    WEBHOOK_ID,
    assert_app_only,
    assert_no_secret,
    assert_one_line_error,
    assert_user_signed,
    botctl,
    json_body,
    me,
    token_exchange,
)

pytestmark = pytest.mark.usefixtures("env")

AAA = f"{API}/2/account_activity/webhooks/{WEBHOOK_ID}/subscriptions"


# --- Account Activity ---------------------------------------------------------------------------


def test_subscribe_is_signed_as_the_account(x: responses.RequestsMock) -> None:
    x.post(f"{AAA}/all", json={"data": {"subscribed": True}})
    result = botctl("subscribe", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"subscribed: the account's Account Activity events go to webhook {WEBHOOK_ID}"
    (call,) = x.calls
    assert_user_signed(call.request)
    assert json_body(call.request) == {}
    assert_no_secret(result)


def test_subscribe_again_is_not_an_error(x: responses.RequestsMock) -> None:
    x.post(
        f"{AAA}/all",
        status=400,
        json={
            "errors": [{"message": "DuplicateSubscriptionFailed: subscription already exists"}],
            "title": "Invalid Request",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    result = botctl("subscribe", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"already subscribed to webhook {WEBHOOK_ID}"


def test_subscribe_without_account_activity_access_names_the_access_needed(x: responses.RequestsMock) -> None:
    # X's answer to an app without the product (a real body, as captured by many; ids changed).
    x.post(
        f"{AAA}/all",
        status=403,
        json={
            "client_id": "12345678",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
            "from a Twitter developer App that is attached to a Project. You can create a project via the "
            "developer portal.",
            "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
        },
    )
    line = assert_one_line_error(botctl("subscribe", WEBHOOK_ID))
    assert line.startswith("Error: not allowed on this access level:")
    assert "Account Activity API" in line and "Enterprise" in line
    assert "(X asks for: Appropriate Level of API Access)" in line


def test_subscriptions_lists_the_subscribed_accounts(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(
        f"{AAA}/all/list",
        json={
            "data": {
                "application_id": "29000000",
                "webhook_id": WEBHOOK_ID,
                "webhook_url": HOOK_URL,
                "subscriptions": [{"user_id": BOT_ID}],
            }
        },
    )
    result = botctl("subscriptions", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"subscribed to {HOOK_URL}:", f"  user {BOT_ID}"]
    assert_app_only(x.calls[1].request)


def test_subscriptions_when_none(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(f"{AAA}/all/list", json={"data": {"webhook_id": WEBHOOK_ID, "subscriptions": []}})
    result = botctl("subscriptions", WEBHOOK_ID)
    assert result.stdout.strip() == f"no account is subscribed to webhook {WEBHOOK_ID}"


def test_unsubscribe_finds_the_account_then_deletes_app_only(x: responses.RequestsMock) -> None:
    me(x)
    token_exchange(x)
    x.delete(f"{AAA}/{BOT_ID}/all", json={"data": {"subscribed": False}})
    result = botctl("unsubscribe", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"unsubscribed user {BOT_ID} from webhook {WEBHOOK_ID}"
    whoami, _, delete = (call.request for call in x.calls)
    assert_user_signed(whoami)
    assert_app_only(delete)


def test_unsubscribe_another_account_by_id(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.delete(
        f"{AAA}/777/all",
        status=400,
        json={"errors": [{"message": "SubscriptionNotFound: no subscription"}], "title": "Invalid Request"},
    )
    line = assert_one_line_error(botctl("unsubscribe", WEBHOOK_ID, "--user-id", "777"))
    assert line.startswith("Error: not found: unsubscribe user 777")


# --- X Activity ---------------------------------------------------------------------------------


def test_the_default_event_types_are_the_ones_the_bot_answers() -> None:
    assert set(BOT_ACTIVITY_EVENT_TYPES) == set(translate._X_ACTIVITY_MESSAGE_TYPES)
    assert set(BOT_ACTIVITY_EVENT_TYPES) <= set(names.KNOWN_X_ACTIVITY_EVENT_TYPES)


def no_activity_subscriptions(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(f"{API}/2/activity/subscriptions", json={"data": [], "meta": {"total_subscriptions": 0}})


def test_activity_subscribe_asks_for_each_event_type_of_the_account(x: responses.RequestsMock) -> None:
    me(x)
    no_activity_subscriptions(x)
    # The guide's shape (the subscription as `data`) and the OpenAPI document's (`data.subscription`).
    x.post(
        f"{API}/2/activity/subscriptions",
        json={"data": {"subscription_id": "501", "event_type": "post.mention.create", "webhook_id": WEBHOOK_ID}},
    )
    x.post(
        f"{API}/2/activity/subscriptions",
        json={"data": {"subscription": {"subscription_id": "502", "event_type": "post.reply.create"}}},
    )
    result = botctl("activity", "subscribe", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"subscribed post.mention.create of user {BOT_ID} to webhook {WEBHOOK_ID}: subscription 501",
        f"subscribed post.reply.create of user {BOT_ID} to webhook {WEBHOOK_ID}: subscription 502",
    ]
    bodies = []
    for call in x.calls[3:]:
        # Mentions and replies are private events: made in the account's user context.
        assert_user_signed(call.request)
        bodies.append(json_body(call.request))
    assert bodies == [
        {"event_type": event_type, "filter": {"user_id": BOT_ID}, "webhook_id": WEBHOOK_ID, "tag": "xbot"}
        for event_type in ("post.mention.create", "post.reply.create")
    ]
    assert_no_secret(result)


def test_activity_subscribe_chosen_types_for_a_given_user(x: responses.RequestsMock) -> None:
    no_activity_subscriptions(x)
    x.post(f"{API}/2/activity/subscriptions", json={"data": [{"subscription_id": "503"}], "meta": {"total": 1}})
    result = botctl(
        "activity", "subscribe", WEBHOOK_ID, "--event-type", "post.quote.create", "--user-id", "99", "--tag", "stage-a"
    )
    assert result.exit_code == 0, result.stderr
    assert [call.request.method for call in x.calls] == ["POST", "GET", "POST"]  # no GET /2/users/me
    assert json_body(x.calls[2].request) == {
        "event_type": "post.quote.create",
        "filter": {"user_id": "99"},
        "webhook_id": WEBHOOK_ID,
        "tag": "stage-a",
    }


def test_activity_subscribe_again_makes_only_what_is_missing(x: responses.RequestsMock) -> None:
    me(x)
    token_exchange(x)
    mention = {"subscription_id": "501", "event_type": "post.mention.create", "webhook_id": WEBHOOK_ID}
    x.get(
        f"{API}/2/activity/subscriptions",
        json={
            "data": [
                mention | {"filter": {"user_id": BOT_ID}},
                # Same type, another account or another webhook: not the one asked for.
                mention | {"subscription_id": "601", "event_type": "post.reply.create", "filter": {"user_id": "5"}},
                mention | {"subscription_id": "602", "event_type": "post.reply.create", "webhook_id": "7"},
            ]
        },
    )
    x.post(f"{API}/2/activity/subscriptions", json={"data": {"subscription_id": "502"}})
    result = botctl("activity", "subscribe", WEBHOOK_ID)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"already subscribed post.mention.create of user {BOT_ID} to webhook {WEBHOOK_ID}: subscription 501",
        f"subscribed post.reply.create of user {BOT_ID} to webhook {WEBHOOK_ID}: subscription 502",
    ]
    assert json_body(x.calls[-1].request)["event_type"] == "post.reply.create"


def test_activity_subscribe_without_x_activity_access(x: responses.RequestsMock) -> None:
    me(x)
    no_activity_subscriptions(x)
    x.post(
        f"{API}/2/activity/subscriptions",
        status=403,
        json={"title": "Forbidden", "detail": "You are not permitted to perform this action.", "type": "about:blank"},
    )
    line = assert_one_line_error(botctl("activity", "subscribe", WEBHOOK_ID))
    assert line.startswith("Error: not allowed on this access level:")
    assert "X Activity API" in line


def test_activity_list_follows_the_pages(x: responses.RequestsMock) -> None:
    token_exchange(x)
    first = {
        "data": [
            {
                "subscription_id": "501",
                "event_type": "post.mention.create",
                "filter": {"user_id": BOT_ID},
                "webhook_id": WEBHOOK_ID,
                "tag": "xbot",
            }
        ],
        "meta": {"next_token": "PAGE2TOKEN0000000"},
    }
    second = {
        "data": [{"subscription_id": "502", "event_type": "post.reply.create", "filter": {"user_id": BOT_ID}}],
        "meta": {},
    }
    x.get(
        f"{API}/2/activity/subscriptions",
        match=[responses.matchers.query_param_matcher({"max_results": "1000"})],
        json=first,
    )
    x.get(
        f"{API}/2/activity/subscriptions",
        match=[
            responses.matchers.query_param_matcher({"max_results": "1000", "pagination_token": "PAGE2TOKEN0000000"})
        ],
        json=second,
    )
    result = botctl("activity", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["subscription_id", "event_type", "user_id", "webhook_id", "tag"]
    assert lines[2].split() == ["501", "post.mention.create", BOT_ID, WEBHOOK_ID, "xbot"]
    assert lines[3].split()[:3] == ["502", "post.reply.create", BOT_ID]
    for call in x.calls[1:]:
        assert_app_only(call.request)


def test_activity_list_when_none(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.get(f"{API}/2/activity/subscriptions", json={"data": [], "meta": {"total_subscriptions": 0}})
    assert botctl("activity", "list").stdout.strip() == "no X Activity subscriptions for this app"


def test_activity_delete(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.delete(
        f"{API}/2/activity/subscriptions/501", json={"data": {"deleted": True}, "meta": {"total_subscriptions": 0}}
    )
    result = botctl("activity", "delete", "501")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "deleted X Activity subscription 501"
    assert_app_only(x.calls[1].request)


def test_activity_delete_an_unknown_id(x: responses.RequestsMock) -> None:
    token_exchange(x)
    x.delete(
        f"{API}/2/activity/subscriptions/501",
        status=404,
        json={"title": "Not Found Error", "detail": "Subscription not found", "type": "about:blank"},
    )
    assert assert_one_line_error(botctl("activity", "delete", "501")).startswith(
        "Error: not found: delete subscription"
    )
