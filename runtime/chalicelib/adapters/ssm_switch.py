"""The PostingSwitch port on an SSM parameter (POSTING_SWITCH_PARAMETER: a String, "on" or "off").

Read with ssm:GetParameter at each post, with no cache: Egress posts at most a few hundred times a
day (its posting budget), far under SSM's throughput, and a switch turned off stops the very next
post instead of one a cache's age later. A parameter that cannot be read, or says neither "on" nor
"off", is a TransientError: Egress does not post, and the reply is retried (fail safe).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.kernel.errors import TransientError
from chalicelib.kernel.posting import posting_enabled


class PostingSwitchUnreadableError(TransientError):
    """The kill switch could not be read: nothing is posted until it can."""


class SsmPostingSwitch:
    def __init__(self, client: Any, parameter_name: str) -> None:
        # Any: the SSM client's type stubs (mypy-boto3-ssm) are not among the pinned dependencies.
        self._client = client
        self._name = parameter_name

    def posting_enabled(self) -> bool:
        try:
            value = str(self._client.get_parameter(Name=self._name)["Parameter"]["Value"])
        except (ClientError, BotoCoreError) as error:
            raise PostingSwitchUnreadableError(f"cannot read the posting switch {self._name}: {error}") from error
        try:
            return posting_enabled(value)
        except ValueError as error:
            raise PostingSwitchUnreadableError(f"{self._name}: {error}") from error
