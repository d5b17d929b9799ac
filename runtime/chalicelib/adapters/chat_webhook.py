"""A Slack-compatible incoming webhook behind the ChatWebhook port, and its URL from Secrets Manager.

The webhook URL is a credential: whoever has it can post to the channel. It is never logged and
never put in an exception message, including the ones urllib would produce (they are replaced).
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from typing import Any, Final
from urllib.parse import urlsplit

from chalicelib.adapters.secrets import SecretConfigurationError

#: Plain http is only accepted to a webhook on this machine (a local test receiver).
_LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
#: Key of the webhook URL in the JSON secret.
URL_KEY: Final = "Url"
USER_AGENT: Final = "xbot-alerts/1.0"


class ChatWebhookError(RuntimeError):
    """The webhook did not accept the message. The message never contains the URL.

    `retryable` says whether trying again may help (throttled, server error, network failure);
    `retry_after` is the delay the server asked for, in seconds, when it said one.
    """

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise ValueError("the chat webhook URL is not a valid URL") from None
    if not host:
        raise ValueError("the chat webhook URL has no host")
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS):
        return
    # Name the scheme only: the rest of the URL is the secret.
    raise ValueError(f"the chat webhook URL must use https (got {parts.scheme or 'no'} scheme)")


def _default_opener() -> urllib.request.OpenerDirector:
    # No redirect handler: a redirected POST would be replayed as a GET without its body, so a
    # redirect is reported as a failure with its status instead.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPHandler(),  # only ever used for a loopback URL (see _check_url)
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class SlackWebhook:
    """chalicelib.ports.ChatWebhook: POSTs the payload as JSON; any 2xx is success."""

    def __init__(
        self, url: str, timeout_seconds: float = 5, opener: urllib.request.OpenerDirector | None = None
    ) -> None:
        _check_url(url)
        self._url = url
        self._timeout = timeout_seconds
        self._opener = opener or _default_opener()

    def __repr__(self) -> str:
        return "SlackWebhook(url=<redacted>)"  # so a logged adapter cannot leak the URL

    def post(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (scheme checked in the constructor)
            self._url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status = getattr(response, "status", None) or response.getcode()
                response.read()  # drain, so the connection closes cleanly
        except urllib.error.HTTPError as error:
            retry_after = _retry_after(error.headers.get("Retry-After") if error.headers else None)
            error.close()
            raise ChatWebhookError(
                f"the chat webhook answered HTTP {error.code}", status=error.code, retry_after=retry_after
            ) from None
        except urllib.error.URLError as error:
            raise ChatWebhookError(f"cannot reach the chat webhook: {_describe(error.reason)}") from None
        except (OSError, http.client.HTTPException) as error:
            raise ChatWebhookError(f"cannot reach the chat webhook: {_describe(error)}") from None
        if not 200 <= status < 300:
            raise ChatWebhookError(f"the chat webhook answered HTTP {status}", status=status)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # the HTTP-date form: the caller's own backoff applies


def _describe(reason: object) -> str:
    # Only the kind of failure: str() of some socket errors can include the host name.
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return "network error"


def webhook_url_from_secret(secret_name: str, max_age_seconds: int) -> str:
    """The webhook URL from a Secrets Manager JSON secret {"Url": "https://..."}, cached by Powertools.

    Raises SecretConfigurationError naming the secret, never its contents.
    """
    from aws_lambda_powertools.utilities import parameters  # loaded on first use only

    try:
        value = parameters.get_secret(secret_name, transform="json", max_age=max_age_seconds)
    except parameters.exceptions.GetParameterError as error:
        raise SecretConfigurationError(f"cannot read secret {secret_name!r}") from error
    except parameters.exceptions.TransformParameterError:
        raise SecretConfigurationError(f"secret {secret_name!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise SecretConfigurationError(f"secret {secret_name!r} is not a JSON object")
    url = value.get(URL_KEY)
    if not isinstance(url, str) or not url:
        raise SecretConfigurationError(f"secret {secret_name!r} lacks {URL_KEY}")
    try:
        _check_url(url)
    except ValueError as error:
        raise SecretConfigurationError(f"secret {secret_name!r}: {error}") from None
    return url


class SecretSlackWebhook:
    """A SlackWebhook whose URL is read from Secrets Manager at each post.

    Powertools caches the secret for `max_age_seconds`, so a rotated URL is picked up within that
    time instead of at the container's next cold start.
    """

    def __init__(self, secret_name: str, max_age_seconds: int) -> None:
        self._secret_name = secret_name
        self._max_age = max_age_seconds

    def post(self, payload: dict[str, Any]) -> None:
        SlackWebhook(webhook_url_from_secret(self._secret_name, self._max_age)).post(payload)

    def __repr__(self) -> str:
        return f"SecretSlackWebhook(secret_name={self._secret_name!r})"
