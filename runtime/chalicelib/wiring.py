"""Builds the services with the adapters of the runtime in use; every handler gets them from here.

Adapters are built on first use and kept for the life of the container (or local process).
Local adapters come from the `botlocal` package, which is installed by `make setup` and never
rides in the Lambda bundle.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.alerting.service import AlertForwarder, AlertService
from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.analysis.media import MediaDownloadService
from chalicelib.analysis.text import TextAnalysisService
from chalicelib.analysis.workflow import AnalysisSteps
from chalicelib.ingress.service import IngressService
from chalicelib.ports import (
    AlertSink,
    EventBus,
    ImageAnalyser,
    MediaFetcher,
    MediaStore,
    PayloadStore,
    SecretProvider,
    TextAnalyser,
)
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


@cache
def media_store() -> MediaStore:
    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.media import LocalMediaStore

        return LocalMediaStore(current.local_dir / "media")
    from chalicelib.adapters.s3_media import S3MediaStore

    return S3MediaStore(_aws_client("s3"), _required(current.media_bucket, "MEDIA_BUCKET"))


@cache
def media_fetcher() -> MediaFetcher:
    from chalicelib.adapters.http_media import HttpMediaFetcher

    current = settings()
    fetcher = HttpMediaFetcher(allowed_hosts=current.media_hosts)
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.media import InboxMediaFetcher

        return InboxMediaFetcher(current.local_dir / "media-inbox", fallback=fetcher)
    return fetcher


@cache
def image_analyser() -> ImageAnalyser:
    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.analysis import local_image_analyser

        return local_image_analyser(current, media_store())
    from chalicelib.adapters.rekognition import RekognitionImageAnalyser

    return RekognitionImageAnalyser(_aws_client("rekognition"), _required(current.media_bucket, "MEDIA_BUCKET"))


@cache
def text_analyser() -> TextAnalyser:
    if settings().runtime == RUNTIME_LOCAL:
        from botlocal.analysis import local_text_analyser

        return local_text_analyser(settings())
    from chalicelib.adapters.comprehend import ComprehendTextAnalyser

    return ComprehendTextAnalyser(_aws_client("comprehend"))


@cache
def analysis_steps() -> AnalysisSteps:
    current = settings()
    return AnalysisSteps(
        media=MediaDownloadService(
            fetcher=media_fetcher(),
            store=media_store(),
            allowed_hosts=current.media_hosts,
            max_bytes=current.max_media_bytes,
            max_pixels=current.max_image_pixels,
        ),
        images=ImageAnalysisService(analyser=image_analyser(), features=current.image_features),
        text=TextAnalysisService(analyser=text_analyser(), key_phrases=current.key_phrases),
        publisher=publisher(),
    )


@cache
def alert_forwarder() -> AlertForwarder | None:
    """The chat webhook, when one is configured (a secret on AWS, CHAT_WEBHOOK_URL locally)."""
    from chalicelib.adapters.chat_webhook import SlackWebhook, webhook_url_from_secret

    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        url = current.local_chat_webhook_url
    elif current.chat_webhook_secret_name:
        url = webhook_url_from_secret(current.chat_webhook_secret_name, current.secret_cache_seconds)
    else:
        url = None
    return AlertForwarder(webhook=SlackWebhook(url)) if url else None


@cache
def alert_sink() -> AlertSink:
    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.alerts import LocalAlertSink

        forwarder = alert_forwarder()
        return LocalAlertSink(current.local_dir / "alerts.jsonl", forward=forwarder.forward if forwarder else None)
    from chalicelib.adapters.sns_alerts import SnsAlertSink

    return SnsAlertSink(_aws_client("sns"), _required(current.alert_topic_arn, "ALERT_TOPIC_ARN"))


@cache
def alert_service() -> AlertService:
    return AlertService(sink=alert_sink())


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise RuntimeError(f"{variable} is not set: the deployment must configure it")
    return value


def _aws_client(service: str) -> Any:
    """A client that fails fast: the webhook must answer (500 at worst) within API Gateway's 29 s."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(service, config=config)  # type: ignore[call-overload]


_FACTORIES = (
    settings,
    event_bus,
    payload_store,
    x_credentials,
    publisher,
    ingress_service,
    media_store,
    media_fetcher,
    image_analyser,
    text_analyser,
    analysis_steps,
    alert_forwarder,
    alert_sink,
    alert_service,
)


def reset() -> None:
    """Forget every built adapter (tests change the environment between cases)."""
    for factory in _FACTORIES:
        factory.cache_clear()
