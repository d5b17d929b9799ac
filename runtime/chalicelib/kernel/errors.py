"""Errors every layer uses: which failures are worth retrying, and configuration errors.

The workflow retries TransientError with backoff and reports the rest; the dispatcher and
Lambda's asynchronous retries treat it the same way.
"""

from __future__ import annotations

from typing import Any

#: AWS error codes that mean "try again later" (throttling, a service's own hiccup).
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalException",  # EventBridge
        "InternalFailure",
        "SlowDown",  # S3
        "InternalError",  # S3
    }
)
#: botocore's network failures: not subclasses of the built-in TimeoutError or ConnectionError.
TRANSIENT_ERROR_CLASSES = frozenset(
    {
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "EndpointConnectionError",
        "ConnectionClosedError",
        "HTTPClientError",
    }
)


class TransientError(Exception):
    """A step failed for a reason that may pass; Step Functions retries errors of this name."""


class RetryLaterError(TransientError):
    """Not now, but later: the work is due again in `retry_after_seconds` (a budget's window resets).

    It is not a failure of the work, so a retry policy that can wait that long should not count it
    as an attempt (the local dispatcher does not); SQS brings the message back after its visibility
    timeout.
    """

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(0.0, retry_after_seconds)


def is_transient(error: BaseException) -> bool:
    """True for AWS throttling and service errors and for network timeouts.

    Duck-typed on botocore's ClientError (`response["Error"]["Code"]`) so services need no botocore.
    """
    if isinstance(error, TransientError | TimeoutError | ConnectionError):
        return True
    if any(cls.__name__ in TRANSIENT_ERROR_CLASSES for cls in type(error).__mro__):
        return True
    response: Any = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in TRANSIENT_ERROR_CODES


class ConfigurationError(RuntimeError):
    """The deployment or the environment is set up wrongly (a missing variable, an unreadable secret,
    an unknown adapter class). The message names settings, variables and secrets, never their values."""


class MediaError(Exception):
    """A photo that could not be fetched or is not an acceptable image; the message is the reason."""


class TransientMediaError(MediaError):
    """A download that may work if tried again (timeout, dropped connection, 429, 5xx)."""
