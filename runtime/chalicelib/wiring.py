"""Builds the services with the adapters of the runtime in use; every handler gets them from here.

Adapters are built on first use and kept for the life of the container (or local process).
Local adapters come from the `botlocal` package, which is installed by `make setup` and never
rides in the Lambda bundle.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.ingress.service import IngressService
from chalicelib.ports import EventBus, PayloadStore, SecretProvider
from chalicelib.publishing import EventPublisher
from chalicelib.settings import RUNTIME_LOCAL, Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


@cache
def event_bus() -> EventBus:
    if settings().runtime == RUNTIME_LOCAL:
        from botlocal.adapters import local_event_bus

        return local_event_bus(settings())
    from chalicelib.adapters.eventbridge import EventBridgeBus

    return EventBridgeBus(_aws_client("events"))


@cache
def payload_store() -> PayloadStore | None:
    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.adapters import local_payload_store

        return local_payload_store(current)
    if current.oversize_bucket is None:
        return None
    from chalicelib.adapters.s3_store import S3PayloadStore

    return S3PayloadStore(_aws_client("s3"), current.oversize_bucket)


@cache
def x_credentials() -> SecretProvider:
    from chalicelib.adapters.secrets import SecretsManagerCredentials, StaticConsumerSecret

    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        return StaticConsumerSecret(current.local_consumer_secret)
    return SecretsManagerCredentials(current.twitter_secret_name, current.secret_cache_seconds)


@cache
def publisher() -> EventPublisher:
    return EventPublisher(bus=event_bus(), bus_name=settings().event_bus_name, payload_store=payload_store())


@cache
def ingress_service() -> IngressService:
    current = settings()
    return IngressService(
        secrets=x_credentials(),
        publisher=publisher(),
        bot_user_id=current.bot_user_id,
        max_body_bytes=current.max_body_bytes,
    )


def _aws_client(service: str) -> Any:
    """A client that fails fast: the webhook must answer (500 at worst) within API Gateway's 29 s."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(service, config=config)  # type: ignore[call-overload]


_FACTORIES = (settings, event_bus, payload_store, x_credentials, publisher, ingress_service)


def reset() -> None:
    """Forget every built adapter (tests change the environment between cases)."""
    for factory in _FACTORIES:
        factory.cache_clear()
