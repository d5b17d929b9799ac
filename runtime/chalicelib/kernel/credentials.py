"""The X app's credentials: the keys of the TwitterSecret JSON document (one list for every reader)."""

from __future__ import annotations

from typing import Final

#: What signs requests as the bot (OAuth 1.0a user context): the app's consumer key and secret and
#: the bot account's access token and secret. ApiSecret also signs and checks webhook deliveries.
REQUIRED_KEYS: Final = ("ApiKey", "ApiSecret", "AccessToken", "AccessTokenSecret")
#: Kept when present; no code path requires it.
OPTIONAL_KEYS: Final = ("BearerToken",)
ALL_KEYS: Final = (*REQUIRED_KEYS, *OPTIONAL_KEYS)
#: The key whose value signs webhook deliveries and CRC answers.
CONSUMER_SECRET_KEY: Final = "ApiSecret"  # noqa: S105 (a key name, not a secret)
