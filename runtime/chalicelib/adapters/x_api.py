"""The X API v2 as the ReplyPoster: photos through POST /2/media/upload, then POST /2/tweets.

Why not tweepy: tweepy 4.17 uploads media only through the v1.1 endpoint, which X is retiring. Both
v2 calls are small, so they are made here with requests, signed with OAuth 1.0a user context
(requests-oauthlib) with the app's consumer key and the bot account's access token.

What X documents and this relies on:
- POST /2/media/upload takes multipart/form-data: the raw bytes in the `media` part,
  `media_category=tweet_image`, optionally `media_type`; it answers {"data": {"id": ..., ...}}.
  For multipart bodies OAuth 1.0a signs the URL and oauth_* parameters only, never the body.
- POST /2/tweets takes JSON {"text", "reply": {"in_reply_to_tweet_id"}, "media": {"media_ids"}}
  and answers 201 {"data": {"id", "text"}}.
- Errors carry a problem document ({"title", "detail", "type", "status"}) or, on older paths,
  {"errors": [{"message", "code"}]}. 429 comes with x-rate-limit-reset (epoch seconds).
  Duplicate text is a 403 whose detail says "duplicate content".
- POST /2/dm_conversations/with/:participant_id/messages takes JSON {"text"} and answers 201
  {"data": {"dm_conversation_id", "dm_event_id"}} (the reference page prints the two ids without
  "data": both are read). It needs the app's "Read and write and Direct message" permission and
  access tokens made after that was set: without it X answers 403 with the problem type
  ".../oauth1-permissions" (an operator's fix, raised as EgressError); any other 403 there means
  the person does not take DMs from the bot (DirectMessageNotPermittedError).

No exception or log line carries a credential: messages hold the status and X's title/detail only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import requests
from requests_oauthlib import OAuth1  # type: ignore[import-untyped]  # (no type information shipped)

from chalicelib.kernel.credentials import REQUIRED_KEYS
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import DirectMessageNotPermittedError, DuplicateContentError, EgressError, RateLimitedError

DEFAULT_API_BASE: Final = "https://api.x.com"
#: Keys of the TwitterSecret document this adapter signs with.
CREDENTIAL_KEYS: Final = REQUIRED_KEYS
#: Image types /2/media/upload accepts in `media_type` for tweet_image (others are sniffed by X).
_UPLOAD_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/pjpeg", "image/png", "image/bmp", "image/webp"})
_EXTENSIONS: Final = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
#: How much of X's error text goes into an exception message.
_MAX_DETAIL_CHARS: Final = 300


class XApiTransientError(TransientError):
    """X had a fault of its own (5xx) or could not be reached: the event is worth retrying."""


class UserContextSigner:
    """Signs requests as the bot's account (OAuth 1.0a user context), for every X adapter.

    A callable is read at every request (the secret's cache decides how often it is fetched), so a
    rotated secret takes effect without a new container; the signer is rebuilt only when it changes.
    Missing keys are refused at once, by name only.
    """

    def __init__(self, credentials: Mapping[str, str] | Callable[[], Mapping[str, str]]) -> None:
        self._credentials = credentials if callable(credentials) else (lambda: credentials)
        self._signed_with: tuple[str, ...] = ()
        self.auth()

    def __repr__(self) -> str:
        return "UserContextSigner()"

    def auth(self) -> OAuth1:
        """The OAuth 1.0a signer for the current credentials."""
        credentials = self._credentials()
        missing = [key for key in CREDENTIAL_KEYS if not credentials.get(key)]
        if missing:
            # Names only: the values must never reach a log or a traceback.
            raise ValueError(f"X credentials lack {', '.join(missing)}")
        current = tuple(credentials[key] for key in CREDENTIAL_KEYS)
        if current != self._signed_with:
            self._oauth1 = OAuth1(
                client_key=credentials["ApiKey"],
                client_secret=credentials["ApiSecret"],
                resource_owner_key=credentials["AccessToken"],
                resource_owner_secret=credentials["AccessTokenSecret"],
                signature_type="AUTH_HEADER",
            )
            self._signed_with = current
        return self._oauth1


class UserContextClient:
    """What every X adapter signed as the bot holds: the signer, a session, the API base and a
    timeout. Its repr names the API base only (never a credential)."""

    def __init__(
        self,
        credentials: Mapping[str, str] | Callable[[], Mapping[str, str]],
        *,
        session: requests.Session | None = None,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 10,
    ) -> None:
        self._signer = UserContextSigner(credentials)
        self._session = session or requests.Session()
        self._base = api_base.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:  # the default would not leak either, but say so explicitly
        return f"{type(self).__name__}(api_base={self._base!r})"

    def _request(
        self,
        method: str,
        path: str,
        refusal: Callable[[str, str, requests.Response], Exception] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """The answer when under 400; else raises `refusal`'s exception (by default _error_for's)."""
        url = f"{self._base}{path}"
        try:
            response = self._session.request(method, url, auth=self._signer.auth(), timeout=self._timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            # The type names the failure; str(error) may embed the prepared request, so it is left out.
            raise XApiTransientError(f"{method} {path}: X unreachable ({type(error).__name__})") from None
        if response.status_code < 400:
            return response
        raise (refusal or _error_for)(method, path, response)


class XApiReplyPoster(UserContextClient):
    """chalicelib.ports.ReplyPoster on the X API v2 with OAuth 1.0a user context."""

    def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
        media_ids = [self.upload_image(body, content_type, index) for index, (body, content_type) in enumerate(images)]
        payload: dict[str, Any] = {"text": text, "reply": {"in_reply_to_tweet_id": reply_to_tweet_id}}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        response = self._request("POST", "/2/tweets", json=payload)
        return _data_id(response, "post")

    def send_direct_message(self, text: str, participant_id: str) -> str:
        """chalicelib.ports.DirectMessageSender: one DM to `participant_id`; returns X's DM event id."""
        if not participant_id.isdigit():  # an X user id; anything else must not reach the URL path
            raise EgressError(f"not a user id to send a DM to: {participant_id[:40]!r}")
        path = f"/2/dm_conversations/with/{participant_id}/messages"
        response = self._request("POST", path, json={"text": text}, refusal=_dm_error_for)
        try:
            body = response.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
        event_id = data.get("dm_event_id") if isinstance(data, dict) else None
        if not isinstance(event_id, str) or not event_id:
            raise EgressError(f"DM: X answered {response.status_code} without a dm_event_id")
        return event_id

    def upload_image(self, body: bytes, content_type: str, index: int = 0) -> str:
        """Uploads one photo; returns its media id (valid for a day, enough to attach it)."""
        extension = _EXTENSIONS.get(content_type, "bin")
        form = {"media_category": "tweet_image"}
        if content_type in _UPLOAD_MEDIA_TYPES:
            form["media_type"] = content_type
        response = self._request(
            "POST",
            "/2/media/upload",
            data=form,
            files={"media": (f"photo-{index + 1}.{extension}", body, content_type)},
        )
        return _data_id(response, "media upload")


def _error_for(method: str, path: str, response: requests.Response) -> Exception:
    status = response.status_code
    problem = _problem(response)
    where = f"{method} {path} -> {status}"
    if status == 429:
        return RateLimitedError(f"{where}: rate limited ({problem})", reset_at=_reset_at(response))
    if status == 403 and "duplicate" in problem.lower():
        return DuplicateContentError(f"{where}: {problem}")
    if status >= 500:
        return XApiTransientError(f"{where}: {problem}")
    return EgressError(f"{where}: {problem}")


def _dm_error_for(method: str, path: str, response: requests.Response) -> Exception:
    """As _error_for, but a 403 is the person refusing DMs from the bot, unless X says the app
    itself lacks the DM permission (an operator's fix: new permission, new access tokens)."""
    if response.status_code != 403:
        return _error_for(method, path, response)
    where = f"{method} /2/dm_conversations/with/:participant_id/messages -> 403"
    try:
        body = response.json()
    except ValueError:
        body = None
    kind = body.get("type") if isinstance(body, dict) else None
    problem = _problem(response)
    if isinstance(kind, str) and ("oauth1-permissions" in kind or "client-forbidden" in kind):
        return EgressError(
            f"{where}: {problem} (the app needs the 'Read and write and Direct message' permission, "
            "and access tokens generated after it was set)"
        )
    return DirectMessageNotPermittedError(f"{where}: {problem}")


def _problem(response: requests.Response) -> str:
    """X's own words about the error: title and detail, or the v1-style error messages."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "no details").strip()[:_MAX_DETAIL_CHARS]
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("title", "detail"):
            if isinstance(body.get(key), str) and body[key] not in parts:
                parts.append(body[key])
        errors = body.get("errors")
        # Only a list is X's shape; anything else still gives a message, never a TypeError.
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                message = error.get("message") or error.get("detail")
                if isinstance(message, str) and message not in parts:
                    parts.append(message)
    text = ": ".join(parts) if parts else json.dumps(body)
    return text[:_MAX_DETAIL_CHARS]


#: X's rate-limit windows, by header prefix: the endpoint's 15-minute window, and the 24-hour caps
#: per user and per app that the lower access levels have (on posting, among others). Each has
#: `<prefix>-remaining` and `<prefix>-reset` headers.
_WINDOWS: Final = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


def rate_windows(response: requests.Response) -> list[tuple[int | None, float | None]]:
    """Each window X reported in `response`: (requests remaining, epoch second it resets), either
    None when X did not say it or said something that is not one."""
    return [
        (_header_int(response, f"{prefix}-remaining"), _header_time(response, f"{prefix}-reset")) for prefix in _WINDOWS
    ]


def _reset_at(response: requests.Response) -> float | None:
    """When X will take the next request (epoch seconds), or None when it said no time.

    A 24-hour cap refuses with a 429 while the 15-minute window still has requests: waiting for
    that window's reset would only meet another 429. So the latest reset of the windows that are
    spent counts; when X said none is spent, the 15-minute window's reset."""
    return reset_of(rate_windows(response))


def reset_of(windows: list[tuple[int | None, float | None]]) -> float | None:
    """_reset_at of the windows rate_windows read: the latest reset of those spent, else the
    15-minute window's (the first)."""
    spent = [reset for remaining, reset in windows if reset is not None and remaining is not None and remaining <= 0]
    return max(spent) if spent else windows[0][1]


def _header_int(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _header_time(response: requests.Response, name: str) -> float | None:
    """An epoch second from a header, or None: `nan` would make a caller retry at once into
    another 429, and `inf` would stop a poller for good."""
    value = response.headers.get(name)
    try:
        reset = float(value) if value else None
    except ValueError:
        return None
    return reset if reset is not None and math.isfinite(reset) and reset > 0 else None


def _data_id(response: requests.Response, what: str) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    identifier = data.get("id") if isinstance(data, dict) else None
    if identifier is None and isinstance(body, dict):
        identifier = body.get("media_id_string")  # the v1.1 shape, should X ever answer with it
    if not isinstance(identifier, str | int) or isinstance(identifier, bool) or not str(identifier):
        raise EgressError(f"{what}: X answered {response.status_code} without an id")
    return str(identifier)
