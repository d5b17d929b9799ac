"""Builds the services with the adapters of the runtime in use; every handler gets them from here.

Adapters are built on first use and kept for the life of the container (or local process).
Local adapters come from the `botlocal` package, which is installed by `make setup` and never
rides in the Lambda bundle.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.alerting.service import AlertForwarder, AlertService
from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.analysis.media import MediaDownloadService
from chalicelib.analysis.text import TextAnalysisService
from chalicelib.analysis.workflow import AnalysisSteps
from chalicelib.ingress.service import IngressService
from chalicelib.ports import (
    AlertSink,
    ConversationBot,
    EventBus,
    ImageAnalyser,
    MediaFetcher,
    MediaStore,
    PayloadStore,
    SecretProvider,
    TextAnalyser,
)
from chalicelib.publishing import EventPublisher
from chalicelib.responding.service import PhotoResponder, TextResponder
from chalicelib.settings import RUNTIME_LOCAL, Settings, load_settings

if TYPE_CHECKING:
    # Egress pulls in the X client (requests, OAuth): imported by its factory, off the webhook's path.
    from chalicelib.egress.service import EgressService


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
    from chalicelib.adapters.chat_webhook import SecretSlackWebhook, SlackWebhook

    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        url = current.local_chat_webhook_url
        return AlertForwarder(webhook=SlackWebhook(url)) if url else None
    if current.chat_webhook_secret_name:
        return AlertForwarder(
            webhook=SecretSlackWebhook(current.chat_webhook_secret_name, current.secret_cache_seconds)
        )
    return None


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


@cache
def photo_responder() -> PhotoResponder:
    from chalicelib.responding.annotate import annotate_photo

    current = settings()
    return PhotoResponder(
        media=media_store(),
        annotate=annotate_photo,
        publisher=publisher(),
        blur_unrecognised=current.blur_unrecognised_faces,
        max_pixels=current.max_image_pixels,
    )


@cache
def conversation_bot() -> ConversationBot:
    current = settings()
    if current.runtime == RUNTIME_LOCAL:
        from botlocal.conversation import LocalConversationBot

        from chalicelib.responding.fulfilment import fulfil

        # The same fulfilment function Lex calls on AWS, behind a matcher built from the same
        # bot definition as the Lex bot.
        return LocalConversationBot(fulfil)
    from chalicelib.adapters.lex import LexConversationBot

    return LexConversationBot(
        _aws_client("lexv2-runtime"),
        bot_id=_required(current.lex_bot_id, "LEX_BOT_ID"),
        bot_alias_id=_required(current.lex_bot_alias_id, "LEX_BOT_ALIAS_ID"),
        locale_id=current.lex_locale_id,
    )


@cache
def text_responder() -> TextResponder:
    return TextResponder(bot=conversation_bot(), publisher=publisher())


@cache
def egress_service() -> EgressService:
    from chalicelib.egress.service import egress_service_for

    return egress_service_for(settings(), media_store(), x_credentials())


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise RuntimeError(f"{variable} is not set: the deployment must configure it")
    return value


#: Paid AI calls retry throttling call by call, inside botocore, so a throttled call does not make
#: the workflow retry (and pay again for) the calls of the same task that already succeeded.
_PATIENT_SERVICES = frozenset({"rekognition", "comprehend", "lexv2-runtime"})


def _aws_client(service: str) -> Any:
    """A client that fails fast (the webhook must answer, 500 at worst, within API Gateway's 29 s),
    or, for the AI services, one that retries throttling a few times itself."""
    import boto3
    from botocore.config import Config

    if service in _PATIENT_SERVICES:
        config = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 5, "mode": "standard"})
    else:
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
    photo_responder,
    conversation_bot,
    text_responder,
    egress_service,
)


def reset() -> None:
    """Forget every built adapter (tests change the environment between cases)."""
    for factory in _FACTORIES:
        factory.cache_clear()
