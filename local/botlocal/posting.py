"""The PostingSwitch port for the local runtime: the BOT_POSTING environment variable ("on", the
default, or "off"), read at each post. A value that is neither is a TransientError: the reply is
not posted and the dispatcher retries it, as Egress does on AWS when its parameter cannot be read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from chalicelib.kernel.errors import TransientError
from chalicelib.kernel.posting import POSTING_ON, posting_enabled

#: The variable, and its value when unset.
POSTING_VARIABLE: Final = "BOT_POSTING"


class EnvironmentPostingSwitch:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def posting_enabled(self) -> bool:
        value = self._environ.get(POSTING_VARIABLE) or POSTING_ON
        try:
            return posting_enabled(value)
        except ValueError as error:
            raise TransientError(f"{POSTING_VARIABLE}: {error}") from error
