"""The X API calls behind `botctl x`, and X's error answers turned into one line each.

Which credentials each call signs with (X's OpenAPI document, openapi.json of
github.com/xdevplatform/docs, read 2026-08-22, and the quickstarts it links):

    GET    /2/users/me                                                  user context (OAuth 1.0a)
    POST   /2/webhooks                   (CRC check of the URL)         app-only bearer token
    GET    /2/webhooks                                                  app-only bearer token
    PUT    /2/webhooks/:id               (a new CRC check)              app-only bearer token
    DELETE /2/webhooks/:id                                              app-only bearer token
    POST   /2/account_activity/webhooks/:id/subscriptions/all           user context
    GET    /2/account_activity/webhooks/:id/subscriptions/all/list      app-only bearer token
    DELETE /2/account_activity/webhooks/:id/subscriptions/:user_id/all  app-only bearer token
    POST   /2/activity/subscriptions                                    user context
    GET    /2/activity/subscriptions                                    app-only bearer token
    DELETE /2/activity/subscriptions/:id                                app-only bearer token
    POST   /2/tweets                                                    user context

The webhook calls also take user context in the OpenAPI document, but X's guides say app-only for
"all webhook management endpoints", so app-only it is. `post.mention.create` and `post.reply.create`
are private X Activity events, which need a user's consent: their subscription is made in the bot
account's user context (OAuth 1.0a, one of the document's schemes for that call).

The bearer token is the secret's optional BearerToken (TWITTER_BEARER_TOKEN); without one it is
asked of POST /oauth2/token with the app's key and secret (client credentials), so the four keys the
bot already has are enough. No message, repr or exception here carries a credential's value: the
errors hold X's status, its title/detail/reason and the ids the person typed. What the person types
(checked_webhook_url, checked_id, checked_event_type, checked_tag) and the credentials' characters
(XCredentials.check_sendable) are checked before any request is sent.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import requests
from chalicelib.adapters.x_api import DEFAULT_API_BASE, UserContextSigner, _problem, _reset_at
from chalicelib.kernel.credentials import ALL_KEYS, REQUIRED_KEYS
from chalicelib.kernel.x_ids import is_x_id
from requests_oauthlib import OAuth1  # type: ignore[import-untyped]  # (no type information shipped)

#: The X Activity event types the bot turns into messages (chalicelib.ingress.translate): what
#: `botctl x activity subscribe` asks for unless told otherwise. X bills each delivered post event.
BOT_ACTIVITY_EVENT_TYPES: Final = ("post.mention.create", "post.reply.create")
#: The tag `activity subscribe` puts on its subscriptions; X repeats it in every delivery.
DEFAULT_ACTIVITY_TAG: Final = "xbot"
#: What each product needs when X answers "not allowed" (docs.x.com as of 2026-08-22, read 2026-12-03).
ACCESS_NEEDED: Final = {
    "webhooks": "webhook access (V2 Webhooks API: an app on pay-per-use or Enterprise access)",
    "account-activity": "the Account Activity API (X: Enterprise or pay-per-use apps only; X is retiring it for "
    "the X Activity API)",
    "activity": "the X Activity API (pay-per-use or Enterprise access)",
    "users": "an app attached to a Project with X API v2 access",
    "posts": "an app with X API v2 access and 'Read and write' permission",
}
Product = Literal["webhooks", "account-activity", "activity", "users", "posts"]
Auth = Literal["user", "app"]

_TIMEOUT_SECONDS: Final = 20.0
#: What a key or token of X can hold: printable ASCII, no space.
_SENDABLE: Final = re.compile(r"[\x21-\x7e]+")
#: The longest webhook URL X accepts (CreateWebhooksRequest.url, maxLength 200).
_MAX_URL_CHARS: Final = 200
#: An X Activity event type as X spells them (post.mention.create, profile.update.bio, ...).
_EVENT_TYPE: Final = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
#: X's limits on a subscription's tag (CreateActivitySubscriptionRequest.tag).
_MAX_TAG_CHARS: Final = 200
#: A reset time beyond this (the year 3000) is not a time X meant.
_LATEST_RESET: Final = 32_503_680_000.0
#: X's reasons (in its error messages) for the webhook and Account Activity calls.
_CRC_FAILED = "CrcValidationFailed"
_DUPLICATE_URL = "DuplicateUrlFailed"
_NOT_FOUND_REASONS = ("WebhookIdInvalid", "SubscriptionNotFound")
_REASONS = (
    _CRC_FAILED,
    _DUPLICATE_URL,
    *_NOT_FOUND_REASONS,
    "UrlValidationFailed",
    "WebhookLimitExceeded",
    "DuplicateSubscriptionFailed",
    "SubscriptionLimitExceeded",
)


class XSetupError(Exception):
    """A failure told in one line to the person at the terminal; never holds a credential."""


@dataclass(frozen=True, repr=False)
class XCredentials:
    """The keys of the TwitterSecret document that were found, and how to name each for the user."""

    values: Mapping[str, str]
    #: Where they came from ("the environment", "secret 'TwitterSecret'").
    source: str
    #: How to tell the user to set each key (an environment variable, or the secret's key).
    names: Mapping[str, str]
    #: What else the user can do when keys are missing.
    hint: str = ""

    def __repr__(self) -> str:  # the dataclass repr would print the values
        return f"XCredentials(source={self.source!r}, keys={sorted(self.values)})"

    def require(self, keys: tuple[str, ...], purpose: str) -> None:
        """Refuses, naming them, the keys that are missing or that no request could carry."""
        missing = [self.names.get(key, key) for key in keys if not self.values.get(key)]
        if missing:
            raise XSetupError(f"{purpose} needs {', '.join(missing)} (credentials from {self.source}){self.hint}")
        self.check_sendable(keys)

    def check_sendable(self, keys: tuple[str, ...]) -> None:
        """X's keys and tokens are printable ASCII with no space: a value with a line break, a space
        or another character is refused here, by its name only (requests would refuse it later with
        a message that quotes the value, or sign it and X would answer 401)."""
        malformed = [
            self.names.get(key, key)
            for key in keys
            if self.values.get(key) and not _SENDABLE.fullmatch(self.values[key])
        ]
        if malformed:
            raise XSetupError(
                f"{', '.join(malformed)} (credentials from {self.source}) holds a space, a line break or a "
                "character that X's keys never have: copy the value again from the Developer Console"
            )


def credentials_from_environment(environ: Mapping[str, str] | None = None) -> XCredentials:
    from botlocal.config import LOCAL_CREDENTIAL_VARIABLES, X_BEARER_TOKEN_VARIABLE, x_credentials_present

    return XCredentials(
        values=x_credentials_present(environ),
        source="the environment",
        names={**LOCAL_CREDENTIAL_VARIABLES, "BearerToken": X_BEARER_TOKEN_VARIABLE},
        hint=": set them, or read the deployed secret with --secret-name",
    )


def credentials_from_secret(secret_name: str, region: str | None = None, client: Any = None) -> XCredentials:
    """The TwitterSecret JSON document the deployed bot reads (its keys: chalicelib.kernel.credentials)."""
    import boto3
    import botocore.exceptions

    where = f"secret {secret_name!r}"
    try:
        secrets = client or boto3.client("secretsmanager", region_name=region)
        answer = secrets.get_secret_value(SecretId=secret_name)
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise XSetupError(
                f"no {where} in this account and region: create it (`aws secretsmanager create-secret`) or "
                "check AWS_REGION / --region"
            ) from None
        if code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"):
            raise XSetupError(f"AWS refused to read {where} ({code}): check your AWS credentials") from None
        raise XSetupError(f"cannot read {where} ({code or type(error).__name__})") from None
    except botocore.exceptions.NoCredentialsError:
        raise XSetupError(f"no AWS credentials to read {where}: configure the AWS CLI or AWS_PROFILE") from None
    except botocore.exceptions.NoRegionError:
        raise XSetupError(f"no AWS region to read {where} in: set AWS_REGION or pass --region") from None
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as error:
        raise XSetupError(
            f"network error: could not reach AWS Secrets Manager to read {where} ({type(error).__name__}): "
            "check the connection and AWS_REGION / --region"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise XSetupError(f"cannot read {where}: {type(error).__name__}") from None
    try:
        document = json.loads(answer.get("SecretString") or "")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        # Not even a fragment of the value: it may hold a credential.
        raise XSetupError(f"{where} is not a JSON object with the keys {', '.join(REQUIRED_KEYS)}")
    values = {key: str(document[key]) for key in ALL_KEYS if isinstance(document.get(key), str) and document[key]}
    return XCredentials(values=values, source=where, names={key: f"{key} in {where}" for key in ALL_KEYS})


class XSetupClient:
    """The set-up calls, with timeouts, each X error made one XSetupError line."""

    def __init__(
        self,
        credentials: XCredentials,
        *,
        session: requests.Session | None = None,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = _TIMEOUT_SECONDS,
    ) -> None:
        self._credentials = credentials
        self._session = session or requests.Session()
        self._base = api_base.rstrip("/")
        self._timeout = timeout
        self._bearer_token: str | None = None

    def __repr__(self) -> str:
        return f"XSetupClient(api_base={self._base!r}, credentials={self._credentials!r})"

    # --- the account -----------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The authenticated account: {"id", "username", "name"}."""
        data = self._data(self._call("GET", "/2/users/me", "user", "users", "read the account (GET /2/users/me)"))
        if not isinstance(data, dict) or not data.get("id"):
            raise XSetupError("X answered GET /2/users/me without the account's id")
        return data

    def post(self, text: str) -> str:
        """Posts `text` as the account; returns the post's id."""
        body = self._call("POST", "/2/tweets", "user", "posts", "post (POST /2/tweets)", json={"text": text})
        data = self._data(body)
        if not isinstance(data, dict) or not data.get("id"):
            raise XSetupError("X answered POST /2/tweets without the post's id")
        return str(data["id"])

    # --- webhooks --------------------------------------------------------------------------------

    def register_webhook(self, url: str) -> dict[str, Any]:
        url = checked_webhook_url(url)
        what = f"register {url} (POST /2/webhooks)"
        try:
            body = self._call("POST", "/2/webhooks", "app", "webhooks", what, json={"url": url})
        except _DuplicateUrlError:
            known = next((hook for hook in self.webhooks() if hook.get("url") == url), None)
            if known is None:
                # X holds the URL, but not for these credentials' app: another app (or stage) of yours.
                raise XSetupError(
                    f"{url} is already registered with X, but not as one of this app's webhooks "
                    "(`botctl x webhook list`): another app holds it; delete it with that app's credentials, "
                    "or register another URL"
                ) from None
            raise XSetupError(
                f"{url} is already registered for this app as webhook {known.get('id')} "
                f"(valid: {_yes_no(known.get('valid'))}): use it, re-check it with "
                f"`botctl x webhook validate {known.get('id')}`, or delete it first"
            ) from None
        data = self._data(body)
        if not isinstance(data, dict) or not data.get("id"):
            raise XSetupError("X answered POST /2/webhooks without the webhook's id")
        return data

    def webhooks(self) -> list[dict[str, Any]]:
        data = self._data(self._call("GET", "/2/webhooks", "app", "webhooks", "list the webhooks (GET /2/webhooks)"))
        return [hook for hook in _listed(data, "GET /2/webhooks") if isinstance(hook, dict)]

    def validate_webhook(self, webhook_id: str) -> bool:
        """Asks X for a new CRC check; True when X says the webhook is valid after it."""
        path = f"/2/webhooks/{checked_id(webhook_id, 'webhook')}"
        data = self._data(self._call("PUT", path, "app", "webhooks", f"re-check webhook {webhook_id} (PUT {path})"))
        return isinstance(data, dict) and data.get("valid") is True

    def delete_webhook(self, webhook_id: str) -> None:
        path = f"/2/webhooks/{checked_id(webhook_id, 'webhook')}"
        self._call("DELETE", path, "app", "webhooks", f"delete webhook {webhook_id} (DELETE {path})")

    # --- Account Activity ------------------------------------------------------------------------

    def subscribe(self, webhook_id: str) -> bool:
        """Subscribes the account to the webhook; False if it already was."""
        path = f"/2/account_activity/webhooks/{checked_id(webhook_id, 'webhook')}/subscriptions/all"
        try:
            # The OpenAPI document requires a body, an empty object.
            body = self._call("POST", path, "user", "account-activity", f"subscribe the account (POST {path})", json={})
        except _DuplicateSubscriptionError:
            return False
        data = self._data(body)
        if isinstance(data, dict) and data.get("subscribed") is False:
            raise XSetupError(
                f"X answered POST {path} with subscribed: false: the account is not subscribed "
                f"(`botctl x subscriptions {webhook_id}` shows who is)"
            )
        return True

    def subscriptions(self, webhook_id: str) -> dict[str, Any]:
        """{"webhook_url", "subscriptions": [{"user_id"}], ...} of the webhook."""
        path = f"/2/account_activity/webhooks/{checked_id(webhook_id, 'webhook')}/subscriptions/all/list"
        data = self._data(self._call("GET", path, "app", "account-activity", f"list the subscriptions (GET {path})"))
        return data if isinstance(data, dict) else {}

    def unsubscribe(self, webhook_id: str, user_id: str) -> None:
        webhook, user = checked_id(webhook_id, "webhook"), checked_id(user_id, "user")
        path = f"/2/account_activity/webhooks/{webhook}/subscriptions/{user}/all"
        self._call("DELETE", path, "app", "account-activity", f"unsubscribe user {user_id} (DELETE {path})")

    # --- X Activity ------------------------------------------------------------------------------

    def activity_subscribe(self, event_type: str, user_id: str, webhook_id: str, tag: str) -> dict[str, Any]:
        payload = {
            "event_type": checked_event_type(event_type),
            "filter": {"user_id": checked_id(user_id, "user")},
            "webhook_id": checked_id(webhook_id, "webhook"),
            "tag": checked_tag(tag),
        }
        what = f"subscribe to {event_type} (POST /2/activity/subscriptions)"
        data = self._data(self._call("POST", "/2/activity/subscriptions", "user", "activity", what, json=payload))
        # The guide shows the subscription as `data` (once in a list), the OpenAPI document as
        # `data.subscription`: take whichever came.
        if isinstance(data, list):
            data = data[0] if data else None
        if isinstance(data, dict) and isinstance(data.get("subscription"), dict):
            data = data["subscription"]
        if not isinstance(data, dict) or not data.get("subscription_id"):
            raise XSetupError("X answered POST /2/activity/subscriptions without a subscription_id")
        return data

    def activity_subscriptions(self) -> list[dict[str, Any]]:
        """Every X Activity subscription of the app, following X's pages."""
        return list(self._activity_pages())

    def _activity_pages(self) -> Iterator[dict[str, Any]]:
        params: dict[str, str] = {"max_results": "1000"}
        for _ in range(100):  # 100 pages of 1000: far above any tier's subscription limit
            body = self._call(
                "GET",
                "/2/activity/subscriptions",
                "app",
                "activity",
                "list the X Activity subscriptions (GET /2/activity/subscriptions)",
                params=params,
            )
            listed = _listed(self._data(body), "GET /2/activity/subscriptions")
            yield from (item for item in listed if isinstance(item, dict))
            meta = body.get("meta") if isinstance(body, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not token:
                return
            params = {**params, "pagination_token": str(token)}

    def activity_delete(self, subscription_id: str) -> None:
        path = f"/2/activity/subscriptions/{checked_id(subscription_id, 'subscription')}"
        self._call("DELETE", path, "app", "activity", f"delete subscription {subscription_id} (DELETE {path})")

    # --- HTTP ------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        auth: Auth,
        product: Product,
        what: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        headers = {}
        signer = None
        if auth == "user":
            signer = self._user_signer()
        else:
            headers["Authorization"] = f"Bearer {self._bearer()}"
        response = self._send(method, path, what, auth=signer, headers=headers, json=json, params=params)
        if response.status_code >= 400:
            raise _error_for(response, what, product, auth, self._credentials)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise XSetupError(f"{what}: X answered {response.status_code} with a body that is not JSON") from None
        if isinstance(body, dict) and body.get("errors") and "data" not in body:
            # A 200 that carries only errors is X's way of refusing some calls.
            raise _error_for(response, what, product, auth, self._credentials)
        return body

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        url = f"{self._base}{path}"
        try:
            return self._session.request(method, url, timeout=self._timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            # str(error) may hold the prepared request (and its Authorization header): the type only.
            raise XSetupError(
                f"network error: could not reach {self._base} to {what} ({type(error).__name__})"
            ) from None
        except (requests.exceptions.InvalidHeader, UnicodeError) as error:
            # Refused before X answered (a header value with a line break; a character that HTTP
            # headers cannot carry): their messages quote the value, so the type only.
            raise XSetupError(
                f"could not send the request to {what} ({type(error).__name__}): check the credentials "
                "for stray spaces, line breaks or other characters"
            ) from None
        except requests.RequestException as error:
            # X's answer broke off or could not be decoded, or redirected without end: the type only.
            raise XSetupError(
                f"network error: X's answer to {what} could not be read ({type(error).__name__}): try again"
            ) from None

    @staticmethod
    def _data(body: Any) -> Any:
        return body.get("data") if isinstance(body, dict) else None

    def _user_signer(self) -> OAuth1:
        self._credentials.require(REQUIRED_KEYS, "this call, made as the bot's account,")
        # Egress's and the poller's signer: one OAuth 1.0a set-up for every call made as the bot.
        return UserContextSigner(self._credentials.values).auth()

    def _bearer(self) -> str:
        """The app-only bearer token: given, or exchanged once for the app's key and secret."""
        if self._bearer_token:
            return self._bearer_token
        given = self._credentials.values.get("BearerToken")
        if given:
            self._credentials.check_sendable(("BearerToken",))
            self._bearer_token = given
            return given
        self._credentials.require(("ApiKey", "ApiSecret"), "an app-only call (or a bearer token)")
        values = self._credentials.values
        what = "get an app-only bearer token (POST /oauth2/token)"
        response = self._send(
            "POST",
            "/oauth2/token",
            what,
            auth=(values["ApiKey"], values["ApiSecret"]),
            data={"grant_type": "client_credentials"},
        )
        if response.status_code in (401, 403):
            # X answers 403 (code 99) to a key and secret it does not know.
            said = " ".join(_problem(response).split())
            raise XSetupError(
                f"invalid or expired credentials: {what}: X answered {response.status_code} for the ApiKey and "
                f"ApiSecret from {self._credentials.source}: check them. X said: {said}"
            )
        if response.status_code >= 400:
            raise _error_for(response, what, "users", "app", self._credentials)
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or str(body.get("token_type", "")).lower() != "bearer":
            raise XSetupError("X answered POST /oauth2/token without a bearer token")
        self._bearer_token = token
        return token


class _DuplicateUrlError(XSetupError):
    pass


class _DuplicateSubscriptionError(XSetupError):
    pass


def _error_for(
    response: requests.Response, what: str, product: Product, auth: Auth, credentials: XCredentials
) -> XSetupError:
    """X's answer as one line: which case it is, what to do, and X's own words."""
    status = response.status_code
    body = _json(response)
    # X's words on one line: the message that names the reason (CrcValidationFailed: ...) when
    # there is one, else its title, detail and messages.
    said = _reason_message(body) or " ".join(_problem(response).split())
    if said in ("", "{}", "[]"):
        said = "nothing more"
    # The problem's type, reason and title, the document's own or (in a 200 or 400 that lists its
    # problems, as X's lookups do) its errors'.
    problems = [body, *_error_objects(body)]
    kind = " ".join(str(problem.get(key, "")) for problem in problems for key in ("type", "reason", "title")).lower()
    where = f"{what}: X answered {status}"
    if _CRC_FAILED in said:
        return XSetupError(
            f"CRC failed: {what}: the URL did not answer X's challenge (GET ?crc_token=...) signed with this "
            "app's consumer secret. Check that the stack is deployed and its TwitterSecret holds this app's "
            "ApiSecret (the webhook's logs say more), or, for a local `chalice local`/`botctl serve`, that a "
            f"public HTTPS tunnel reaches it. X said: {said}"
        )
    if _DUPLICATE_URL in said:
        return _DuplicateUrlError(f"{where}: the URL is already registered. X said: {said}")
    if "DuplicateSubscriptionFailed" in said:
        return _DuplicateSubscriptionError(f"{where}: already subscribed")
    if "UrlValidationFailed" in said:
        return XSetupError(f"{where}: X refuses this URL (it must be https, public, with no port). X said: {said}")
    if "WebhookLimitExceeded" in said or "SubscriptionLimitExceeded" in said:
        return XSetupError(
            f"{where}: this app has reached X's limit: delete one first (`botctl x webhook list` / "
            f"`botctl x activity list`). X said: {said}"
        )
    if status == 404 or "resource-not-found" in kind or any(reason in said for reason in _NOT_FOUND_REASONS):
        return XSetupError(
            f"not found: {what}: X knows no such id for this app (`botctl x webhook list` and "
            f"`botctl x activity list` show the ids). X said: {said}"
        )
    if status == 401:
        keys: tuple[str, ...] = REQUIRED_KEYS
        if auth == "app":
            keys = ("BearerToken",) if "BearerToken" in credentials.values else ("ApiKey", "ApiSecret")
        hint = f"check {', '.join(credentials.names.get(key, key) for key in keys)}"
        if auth == "user":
            hint += "; regenerate the access token if the app's permissions changed"
        return XSetupError(
            f"invalid or expired credentials: {where} (Unauthorized) for the credentials from "
            f"{credentials.source}: {hint}"
        )
    if status == 429:
        return XSetupError(f"rate limited: {where}: {_reset_text(_reset_at(response))}. X said: {said}")
    if "oauth1-permissions" in kind:
        return XSetupError(
            f"not permitted by the app's permissions: {where}: set 'Read and write' in the app's user "
            f"authentication settings, then regenerate the access token. X said: {said}"
        )
    if status == 402:
        return XSetupError(
            f"payment required: {where}: the app's X API credits may be used up (pay-per-use: see the "
            f"Developer Console). X said: {said}"
        )
    if status == 403 and _is_access_level(kind, said, body):
        required = body.get("required_enrollment")
        needs = f" (X asks for: {required})" if isinstance(required, str) and required else ""
        return XSetupError(
            f"not allowed on this access level: {where}: it needs {ACCESS_NEEDED[product]}{needs}. X said: {said}"
        )
    if status == 403:
        return XSetupError(
            f"forbidden: {where}: X refuses this app or account; most often the call is not allowed on this "
            f"access level (it needs {ACCESS_NEEDED[product]}) or the app's permissions do not cover it. "
            f"X said: {said}"
        )
    if status >= 500:
        return XSetupError(f"X had a fault: {where}: try again in a minute. X said: {said}")
    return XSetupError(f"{where}: {said}")


def _reason_message(body: Mapping[str, Any]) -> str | None:
    """The first of X's error messages that leads with one of its reason codes (`Reason: details`)."""
    for error in _error_objects(body):
        message = error.get("message")
        if isinstance(message, str) and any(message.startswith(reason) for reason in _REASONS):
            return " ".join(message.split())[:300]
    return None


def _is_access_level(kind: str, said: str, body: Mapping[str, Any]) -> bool:
    lowered = said.lower()
    markers = ("client-forbidden", "client-not-enrolled")
    # X's code 453: "You currently have access to a subset of X API V2 endpoints ...".
    codes = {error.get("code") for error in _error_objects(body)}
    return (
        bool(codes & {453, "453"})
        or any(marker in kind for marker in markers)
        or "required_enrollment" in body
        or "not permitted" in lowered
        or "not enrolled" in lowered
        or "access level" in lowered
    )


def _error_objects(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The objects of X's `errors` list; nothing when `errors` is not a list (an answer that is not
    X's shape must still give the one-line error, never a traceback)."""
    errors = body.get("errors")
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reset_text(reset_at: float | None, now: datetime | None = None) -> str:
    # x-rate-limit-reset is epoch seconds: x_api._reset_at gives only finite times after 1970; a
    # far-off one is not a time X meant either, and datetime would raise on it.
    if reset_at is None or reset_at >= _LATEST_RESET:
        return "X did not say when the limit resets: try again in 15 minutes"
    moment = datetime.fromtimestamp(reset_at, UTC)
    wait = max(0, int(reset_at - (now or datetime.now(UTC)).timestamp()))
    hours, rest = divmod(wait, 3600)
    minutes, seconds = divmod(rest, 60)
    left = f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"
    return f"the limit resets at {moment:%Y-%m-%d %H:%M:%S} UTC (in {left})"


def checked_id(value: str, what: str) -> str:
    """An X id (chalicelib.kernel.x_ids); anything else would change the request's path."""
    if not is_x_id(value):
        raise XSetupError(f"not a {what} id: {value!r} (X's ids are up to 19 digits)")
    return value


def checked_event_type(value: str) -> str:
    """An X Activity event type, as X spells them (lower case, dotted)."""
    if not _EVENT_TYPE.fullmatch(value) or len(value) > 100:
        raise XSetupError(
            f"not an X Activity event type: {value!r} (X's look like post.mention.create; the bot answers "
            f"{' and '.join(BOT_ACTIVITY_EVENT_TYPES)})"
        )
    return value


def checked_tag(value: str) -> str:
    """A subscription's tag: 1 to 200 printable characters (X's limits)."""
    if not 0 < len(value) <= _MAX_TAG_CHARS or not value.isprintable():
        raise XSetupError(f"not a tag X accepts: {value!r} (1 to {_MAX_TAG_CHARS} printable characters)")
    return value


def checked_webhook_url(url: str) -> str:
    """A URL X can register: https, a public host, no port, no credentials, at most 200 characters.
    Refused here in one line, before any call (X would refuse it after its CRC check, or not at all
    for a URL only this machine can reach)."""
    refuse = "not a webhook URL X accepts: "
    if any(not character.isprintable() or character.isspace() for character in url):
        raise XSetupError(f"{refuse}{url!r} holds a space or a line break")
    if len(url) > _MAX_URL_CHARS:
        raise XSetupError(f"{refuse}it is {len(url)} characters long; X takes at most {_MAX_URL_CHARS}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise XSetupError(f"{refuse}{url!r} does not parse as a URL") from None
    if parts.username is not None or parts.password is not None:
        # Not echoed: the part before @ may be a password.
        raise XSetupError(f"{refuse}it holds a user name or password before the host: remove them")
    if parts.scheme.lower() != "https":
        raise XSetupError(f"{refuse}{url!r}: X delivers only to https:// URLs (the stack's WebhookUrl output is one)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise XSetupError(f"{refuse}{url!r} names no host")
    if port is not None:
        raise XSetupError(f"{refuse}{url!r} names a port: X delivers to the https default (443) only")
    if parts.fragment:
        raise XSetupError(f"{refuse}{url!r} has a #fragment, which is never sent to the server")
    if not _is_public_host(host):
        raise XSetupError(
            f"{refuse}{url!r}: X must reach it from the internet (for a local `botctl serve`/`chalice local`, "
            "register a public HTTPS tunnel's URL)"
        )
    return url


def _is_public_host(host: str) -> bool:
    lowered = host.lower()
    try:
        return ipaddress.ip_address(lowered).is_global
    except ValueError:
        pass
    try:
        # The forms of an IPv4 address that inet_aton (and so a resolver, a browser, curl) reads and
        # ipaddress does not: 127.1, 127.0.1, 0x7f.1, 017700000001, 2130706433, 0.
        return ipaddress.IPv4Address(socket.inet_aton(lowered)).is_global
    except (OSError, ValueError):
        pass
    # A name: only DNS can tell, but these never reach this machine from the internet.
    return "." in lowered and not lowered.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa"))


def _listed(data: Any, call: str) -> list[Any]:
    """A listing's `data`: X leaves it out when there is nothing; anything but a list is not X's shape."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise XSetupError(f"X answered {call} with data that is not a list (an API change?): nothing is listed")
    return data


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else "unknown"
