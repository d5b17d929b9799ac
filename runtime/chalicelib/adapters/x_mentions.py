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

from chalicelib.adapters.x_api import UserContextClient, XApiTransientError, _problem, _reset_at
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
        response = self._request("GET", path, params=params, refusal=_read_error)
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
    try:
        body = response.json()
    except ValueError:
        raise XApiTransientError(f"{where}: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise XApiTransientError(f"{where}: the answer is not a JSON object")
    data = body.get("data") or []
    includes = body.get("includes") or {}
    meta = body.get("meta") or {}
    return MentionsPage(
        posts=[post for post in data if isinstance(post, dict)] if isinstance(data, list) else [],
        includes=includes if isinstance(includes, dict) else {},
        newest_id=_text(meta, "newest_id"),
        next_token=_text(meta, "next_token"),
        rate_limit=rate_limit,
    )


def _text(meta: Any, key: str) -> str | None:
    value = meta.get(key) if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _rate_limit(response: requests.Response) -> RateLimit:
    remaining = response.headers.get("x-rate-limit-remaining")
    try:
        count = int(remaining) if remaining is not None else None
    except ValueError:
        count = None
    return RateLimit(remaining=count, reset_at=_reset_at(response))
