"""The X API v2 mentions timeline (GET /2/users/:id/mentions) as the MentionsReader port.

Signed like Egress's calls (OAuth 1.0a user context, the same TwitterSecret document, through
chalicelib.adapters.x_api's signer) so the rate limit that applies is the bot account's per-user
one, and X's errors are read by the same helpers.

What X documents and this relies on (docs.x.com, "User mention timeline"):
- query parameters since_id (exclusive), start_time (ISO 8601, second granularity; since_id takes
  precedence), pagination_token, max_results (5 to 100), tweet.fields, expansions, user.fields,
  media.fields; the answer is {"data": [...newest first], "includes": {...}, "meta": {"newest_id",
  "oldest_id", "result_count", "next_token"}}, without "data" when nothing matched;
- every answer carries x-rate-limit-limit, x-rate-limit-remaining and x-rate-limit-reset (epoch
  seconds); a spent window answers 429 until the reset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import requests

from chalicelib.adapters.x_api import UserContextClient, XApiTransientError, _problem, rate_windows, reset_of
from chalicelib.kernel.delivery_json import NotAnObjectError, RejectedError, parse_delivery
from chalicelib.ports import MentionsPage, RateLimit, RateLimitedError, XReadError

#: What the translation reads (chalicelib/ingress/translate.py, _message_from_v2_post): the text
#: (note_tweet for long posts), language, conversation and reply ids, mentions, the author's
#: username and the photos' URLs, and the posts referred to.
TWEET_FIELDS: Final = (
    "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,note_tweet,referenced_tweets,attachments"
)
EXPANSIONS: Final = (
    "author_id,attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id"
)
USER_FIELDS: Final = "username,name"
MEDIA_FIELDS: Final = "media_key,type,url"
#: X's page tokens are about 40 characters (post ids: chalicelib.kernel.x_ids). Anything longer is
#: not X's, and a token that long would not fit the checkpoint's item.
MAX_TOKEN_CHARS: Final = 512


class XApiMentionsReader(UserContextClient):
    """chalicelib.ports.MentionsReader on the X API v2 with OAuth 1.0a user context."""

    def mentions_page(
        self,
        user_id: str,
        *,
        since_id: str | None,
        start_time: float | None,
        pagination_token: str | None,
        max_results: int,
    ) -> MentionsPage:
        params: dict[str, str] = {
            "max_results": str(max_results),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        elif start_time is not None:
            params["start_time"] = datetime.fromtimestamp(int(start_time), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if pagination_token:
            params["pagination_token"] = pagination_token
        path = f"/2/users/{user_id}/mentions"
        try:
            response = self._request("GET", path, params=params, refusal=_read_error)
        except requests.RequestException as error:
            # What _request leaves (a broken chunked answer, a decoding fault...): X's failure, retried.
            # The type only: the message may hold the request's URL.
            raise XApiTransientError(f"GET {path}: X's answer could not be read ({type(error).__name__})") from None
        rate_limit = _rate_limit(response)
        where = f"GET {path} -> {response.status_code}"
        return _page(response, where, rate_limit)


def _read_error(method: str, path: str, response: requests.Response) -> Exception:
    """A refused read: 429 waits for the reset, 5xx is retried, anything else is the caller's."""
    where = f"{method} {path} -> {response.status_code}"
    if response.status_code == 429:
        return RateLimitedError(
            f"{where}: rate limited ({_problem(response)})", reset_at=_rate_limit(response).reset_at
        )
    if response.status_code >= 500:
        return XApiTransientError(f"{where}: {_problem(response)}")
    return XReadError(f"{where}: {_problem(response)}", status=response.status_code)


def _page(response: requests.Response, where: str, rate_limit: RateLimit) -> MentionsPage:
    """The page, or an error that leaves the checkpoint where it is: an answer that is not a page
    (not JSON, no `data` and no `meta`, `data` not a list, an unusable next_token) is X's fault and
    retried (XApiTransientError); a 200 that holds only `errors` is a refusal (XReadError), never
    an empty page, which would let the poller close a range it has not read."""
    # The webhook's parser: no NaN or Infinity (EventBridge takes only valid JSON), lone surrogates
    # replaced (valid UTF-8 only), no nesting deeper than real posts have.
    try:
        body = parse_delivery(response.content)
    except NotAnObjectError as error:
        # "body is not JSON" / "body is not a JSON object": the reason, about the answer.
        raise XApiTransientError(f"{where}: the answer {str(error).removeprefix('body ')}") from None
    except RejectedError as error:
        raise XApiTransientError(f"{where}: the answer cannot be read ({error})") from None
    data = body.get("data")
    meta = body.get("meta")
    if data is None and body.get("errors"):
        raise XReadError(f"{where}: {_problem(response)}", status=response.status_code)
    if data is None and not isinstance(meta, dict):
        raise XApiTransientError(f"{where}: the answer has neither data nor meta")
    if data is not None and not isinstance(data, list):
        raise XApiTransientError(f"{where}: data is {type(data).__name__}, not a list")
    next_token = _text(meta, "next_token")
    if next_token is not None and not _is_token(next_token):
        raise XApiTransientError(f"{where}: meta.next_token is not a page token")
    includes = body.get("includes")
    return MentionsPage(
        # Every item, objects or not: the translation records what it cannot read (DELIVERY_REJECTED).
        posts=list(data or []),
        includes=includes if isinstance(includes, dict) else {},
        next_token=next_token,
        rate_limit=rate_limit,
    )


def _is_token(value: str) -> bool:
    return len(value) <= MAX_TOKEN_CHARS and value.isascii() and value.isprintable()


def _text(meta: Any, key: str) -> str | None:
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _rate_limit(response: requests.Response) -> RateLimit:
    """The tightest window X reported (the 15-minute one, or a 24-hour cap with fewer requests
    left), so that the poller stops before any of them answers 429."""
    windows = rate_windows(response)
    counted = [(remaining, reset) for remaining, reset in windows if remaining is not None]
    if not counted:
        return RateLimit(remaining=None, reset_at=reset_of(windows))
    remaining, reset = min(counted, key=lambda window: window[0])
    return RateLimit(remaining=remaining, reset_at=reset_of(windows) if remaining <= 0 else reset)
