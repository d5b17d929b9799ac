"""The idempotency port on Powertools for AWS Lambda: DynamoDB on AWS (and SQLite locally, through the
local runtime's persistence layer).

Powertools keeps a record per key: INPROGRESS while the action runs, COMPLETED with its result
after. The caller chooses the key (Egress keys on the post being replied to, so one post gets one
reply however many events ask for it):
- a repeated call finds COMPLETED and gets the recorded result back without running the action;
- a concurrent call finds INPROGRESS and fails with ConcurrentDeliveryError (a TransientError),
  so the invocation fails and is retried later, when the first one has finished;
- an action that raises has its record deleted, so a retry can run it;
- an INPROGRESS record left by a crashed or timed-out invocation lapses when that invocation's
  time would have run out (Powertools' in-progress expiry), so it cannot block the key forever.

The record lives 7 days: far longer than any redelivery (EventBridge retries for 24 hours at most,
Lambda's asynchronous retries for 6).

DynamoDB table (made by the infrastructure): partition key `id` (S), TTL attribute `expiration`;
the other attributes (`status`, `data`, `in_progress_expiration`) are Powertools' defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from chalicelib.kernel.idempotency import EGRESS_NAMESPACE, ConcurrentDeliveryError, IdempotencyUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: How long an action's outcome is remembered.
DEFAULT_EXPIRES_AFTER_SECONDS: Final = 7 * 24 * 60 * 60
#: In-progress lifetime when the caller has no deadline (the local runtime): long enough for an
#: upload and a post with one rate-limit wait, short enough that a crash does not block the key.
DEFAULT_IN_PROGRESS_SECONDS: Final = 300
#: Keys are "<prefix>#<md5 of the caller's key>": stable across function renames and runtimes.
KEY_PREFIX: Final = EGRESS_NAMESPACE


class _Deadline:
    """Powertools reads the time left from a Lambda context; this is the one method it calls."""

    def __init__(self, remaining_ms: Callable[[], int]) -> None:
        self.get_remaining_time_in_millis = remaining_ms


class PowertoolsIdempotency:
    """Idempotency on any Powertools persistence layer."""

    def __init__(
        self,
        persistence: BasePersistenceLayer,
        *,
        expires_after_seconds: int = DEFAULT_EXPIRES_AFTER_SECONDS,
        in_progress_seconds: int = DEFAULT_IN_PROGRESS_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.persistence = persistence
        self._expires_after_seconds = expires_after_seconds
        self._in_progress_ms = in_progress_seconds * 1000
        self._key_prefix = key_prefix

    def run(self, key: str, action: Callable[[], str], remaining_ms: Callable[[], int] | None = None) -> str:
        if not key:
            raise ValueError("an idempotency key is required")
        # A config per call: the Lambda context it carries is per invocation, and the local runtime
        # runs deliveries on threads, so a shared config would mix their deadlines.
        config = IdempotencyConfig(
            event_key_jmespath="key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self._expires_after_seconds,
        )
        default_ms = self._in_progress_ms
        config.register_lambda_context(_Deadline(remaining_ms or (lambda: default_ms)))  # type: ignore[arg-type]

        def once(request: dict[str, Any]) -> str:
            del request  # only its key matters, and only to Powertools
            return action()

        guarded = idempotent_function(
            once,
            data_keyword_argument="request",
            persistence_store=self.persistence,
            config=config,
            key_prefix=self._key_prefix,
        )
        try:
            result = guarded(request={"key": key})
        except IdempotencyAlreadyInProgressError:
            raise ConcurrentDeliveryError(f"{key} is being handled by another invocation") from None
        except IdempotencyPersistenceLayerError as error:
            raise IdempotencyUnavailableError(f"idempotency store unavailable for {key}: {error}") from error
        return str(result)


def dynamodb_idempotency(
    table_name: str, *, client: DynamoDBClient | None = None, key_prefix: str = KEY_PREFIX
) -> PowertoolsIdempotency:
    """Idempotency records in the DynamoDB table `table_name` (AWS runtime), keys under `key_prefix`."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
    return PowertoolsIdempotency(persistence, key_prefix=key_prefix)
