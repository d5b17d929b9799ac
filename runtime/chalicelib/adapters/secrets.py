"""The X app's credentials from Secrets Manager, cached in the container."""

from __future__ import annotations

from typing import Any

from chalicelib.kernel.credentials import ALL_KEYS, CONSUMER_SECRET_KEY, REQUIRED_KEYS
from chalicelib.kernel.errors import ConfigurationError


class SecretConfigurationError(ConfigurationError):
    """The secret is missing or lacks a key. The message names the secret, never its values."""


class SecretsManagerCredentials:
    """Reads the JSON secret through Powertools, which caches it for `max_age` seconds."""

    def __init__(self, secret_name: str, max_age_seconds: int) -> None:
        self._secret_name = secret_name
        self._max_age = max_age_seconds

    def _document(self) -> dict[str, Any]:
        from aws_lambda_powertools.utilities import parameters  # loaded on first use only

        try:
            value = parameters.get_secret(self._secret_name, transform="json", max_age=self._max_age)
        except parameters.exceptions.GetParameterError as error:
            raise SecretConfigurationError(f"cannot read secret {self._secret_name!r}") from error
        except parameters.exceptions.TransformParameterError as error:
            raise SecretConfigurationError(f"secret {self._secret_name!r} is not a JSON object") from error
        if not isinstance(value, dict):
            raise SecretConfigurationError(f"secret {self._secret_name!r} is not a JSON object")
        missing = [key for key in REQUIRED_KEYS if not value.get(key)]
        if missing:
            raise SecretConfigurationError(f"secret {self._secret_name!r} lacks {', '.join(missing)}")
        return value

    def consumer_secret(self) -> str:
        return str(self._document()[CONSUMER_SECRET_KEY])

    def credentials(self) -> dict[str, str]:
        """The whole document (the four required keys, and BearerToken when present), for Egress.

        Read through the same cache as consumer_secret, so a rotated secret is picked up within
        `max_age` seconds by both.
        """
        document = self._document()
        return {key: str(document[key]) for key in ALL_KEYS if document.get(key)}
