"""The AWS runtime's adapters: one factory per port, each building its boto3 client on first use.

chalicelib.wiring calls each factory once per Lambda container. Clients are made here, not in the
adapters, so every adapter takes its client in the constructor (and tests pass stubbed ones).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from chalicelib.kernel.errors import ConfigurationError
from chalicelib.settings import EGRESS_OUTBOX

if TYPE_CHECKING:
    from chalicelib.adapters.secrets import SecretsManagerCredentials
    from chalicelib.kernel.idempotency import Claims, Idempotency
    from chalicelib.ports import (
        AlertSink,
        AlertSubscriber,
        ChatWebhook,
        ConversationBot,
        EventBus,
        Fulfilment,
        ImageAnalyser,
        MediaFetcher,
        MediaStore,
        MentionsReader,
        OptOuts,
        PayloadStore,
        PhotoModerator,
        PollCheckpoint,
        PostingSwitch,
        ReplyPoster,
        SecretProvider,
        TextAnalyser,
        WindowCounters,
    )
    from chalicelib.settings import Settings

#: Paid AI calls retry throttling call by call, inside botocore, so a throttled call does not make
#: the workflow retry (and pay again for) the calls of the same task that already succeeded.
_PATIENT_SERVICES: Final = frozenset({"rekognition", "comprehend", "lexv2-runtime"})


class AwsAdapters:
    """Adapters on AWS: EventBridge, S3, Secrets Manager, Rekognition, Comprehend, SNS, Lex V2,
    DynamoDB and the X API. Heavy modules (boto3, requests) are imported by the factory that needs
    them, so the webhook's cold start loads only what it uses."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def event_bus(self) -> EventBus:
        from chalicelib.adapters.eventbridge import EventBridgeBus

        # Made on the first PutEvents: the webhook's CRC checks and refused deliveries never load boto3.
        client: Any = _ClientOnFirstUse("events")
        return EventBridgeBus(client)

    def payload_store(self) -> PayloadStore | None:
        if self._settings.oversize_bucket is None:
            return None
        from chalicelib.adapters.s3_store import S3PayloadStore

        # Made on the first oversized event: most invocations never need an S3 client.
        client: Any = _ClientOnFirstUse("s3")
        return S3PayloadStore(client, self._settings.oversize_bucket)

    @cached_property
    def _x_credentials(self) -> SecretsManagerCredentials:
        # One reader for the webhook's consumer secret and Egress's whole document: one cache.
        from chalicelib.adapters.secrets import SecretsManagerCredentials

        return SecretsManagerCredentials(self._settings.twitter_secret_name, self._settings.secret_cache_seconds)

    def webhook_secret(self) -> SecretProvider:
        return self._x_credentials

    def media_store(self) -> MediaStore:
        from chalicelib.adapters.s3_media import S3MediaStore

        return S3MediaStore(aws_client("s3"), required(self._settings.media_bucket, "MEDIA_BUCKET"))

    def media_fetcher(self) -> MediaFetcher:
        from chalicelib.adapters.http_media import HttpMediaFetcher

        return HttpMediaFetcher(allowed_hosts=self._settings.media_hosts)

    def image_analyser(self, media: MediaStore) -> ImageAnalyser:
        # Rekognition reads the photo from the bucket itself: `media` is not needed.
        from chalicelib.adapters.rekognition import RekognitionImageAnalyser

        return RekognitionImageAnalyser(
            aws_client("rekognition"), required(self._settings.media_bucket, "MEDIA_BUCKET")
        )

    def photo_moderator(self, media: MediaStore) -> PhotoModerator:
        # Rekognition reads the photo from the bucket itself, as for the analysis: `media` is not needed.
        from chalicelib.adapters.rekognition_moderation import DEFAULT_CATEGORIES, RekognitionPhotoModerator

        settings = self._settings
        return RekognitionPhotoModerator(
            aws_client("rekognition"),
            required(settings.media_bucket, "MEDIA_BUCKET"),
            min_confidence=settings.moderation_min_confidence,
            categories=settings.moderation_categories or DEFAULT_CATEGORIES,
        )

    def text_analyser(self) -> TextAnalyser:
        from chalicelib.adapters.comprehend import ComprehendTextAnalyser

        return ComprehendTextAnalyser(aws_client("comprehend"))

    def alert_sink(self, subscriber: AlertSubscriber | None) -> AlertSink:
        # SNS invokes the subscriber's Lambda itself: `subscriber` is not called from here.
        from chalicelib.adapters.sns_alerts import SnsAlertSink

        return SnsAlertSink(aws_client("sns"), required(self._settings.alert_topic_arn, "ALERT_TOPIC_ARN"))

    def chat_webhook(self) -> ChatWebhook | None:
        """The chat webhook whose URL is in the CHAT_WEBHOOK_SECRET_NAME secret, when one is configured."""
        if not self._settings.chat_webhook_secret_name:
            return None
        from chalicelib.adapters.chat_webhook import SecretSlackWebhook

        return SecretSlackWebhook(self._settings.chat_webhook_secret_name, self._settings.secret_cache_seconds)

    def conversation_bot(self, fulfilment: Fulfilment) -> ConversationBot:
        # Lex calls the fulfilment Lambda (responding_lex_fulfilment) itself.
        from chalicelib.adapters.lex import LexConversationBot

        settings = self._settings
        return LexConversationBot(
            aws_client("lexv2-runtime"),
            bot_id=required(settings.lex_bot_id, "LEX_BOT_ID"),
            bot_alias_id=required(settings.lex_bot_alias_id, "LEX_BOT_ALIAS_ID"),
            locale_id=settings.lex_locale_id,
        )

    def reply_poster(self) -> ReplyPoster:
        """The X API, signed with the TwitterSecret's document, read at each post through the
        secret's cache (a rotated secret is used without a cold start)."""
        from chalicelib.adapters.x_api import XApiReplyPoster

        if self._settings.egress == EGRESS_OUTBOX:
            # Refused rather than ignored: whoever set it expects a dry run, and would get real posts.
            raise ConfigurationError("BOT_EGRESS=outbox: the dry-run outbox exists only in the local runtime")
        return XApiReplyPoster(self._x_credentials.credentials)

    def claims(self) -> Claims:
        from chalicelib.adapters.dynamodb_claims import DynamoDbClaims

        return DynamoDbClaims(aws_client("dynamodb"), required(self._settings.idempotency_table, "IDEMPOTENCY_TABLE"))

    def window_counters(self) -> WindowCounters:
        from chalicelib.adapters.dynamodb_counters import DynamoDbWindowCounters

        return DynamoDbWindowCounters(
            aws_client("dynamodb"), required(self._settings.idempotency_table, "IDEMPOTENCY_TABLE")
        )

    def mentions_reader(self) -> MentionsReader:
        """X's mentions timeline, signed with the TwitterSecret's document (read through the cache)."""
        from chalicelib.adapters.x_mentions import XApiMentionsReader

        return XApiMentionsReader(self._x_credentials.credentials)

    def poll_checkpoint(self) -> PollCheckpoint:
        from chalicelib.adapters.dynamodb_checkpoint import DynamoDbPollCheckpoint

        return DynamoDbPollCheckpoint(
            aws_client("dynamodb"), required(self._settings.poll_checkpoint_table, "POLL_CHECKPOINT_TABLE")
        )

    def opt_outs(self) -> OptOuts:
        from chalicelib.adapters.dynamodb_optouts import DynamoDbOptOuts

        return DynamoDbOptOuts(aws_client("dynamodb"), required(self._settings.idempotency_table, "IDEMPOTENCY_TABLE"))

    def posting_switch(self) -> PostingSwitch | None:
        if self._settings.posting_switch_parameter is None:
            return None
        from chalicelib.adapters.ssm_switch import SsmPostingSwitch

        return SsmPostingSwitch(aws_client("ssm"), self._settings.posting_switch_parameter)

    def idempotency(self, namespace: str) -> Idempotency:
        from chalicelib.adapters.idempotency import dynamodb_idempotency

        table = required(self._settings.idempotency_table, "IDEMPOTENCY_TABLE")
        return dynamodb_idempotency(table, key_prefix=namespace)


def required(value: str | None, variable: str) -> str:
    if not value:
        raise ConfigurationError(f"{variable} is not set: the deployment must configure it")
    return value


class _ClientOnFirstUse:
    """Stands for `aws_client(service)` and makes it when first used (boto3's import and a
    client's creation are most of a cold start that does not need them)."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only the client's public API is passed on; copy, pickle and the like probe private names.
        if name.startswith("_"):
            raise AttributeError(name)
        if self._client is None:
            self._client = aws_client(self._service)
        return getattr(self._client, name)


def aws_client(service: str) -> Any:
    """A client that fails fast (the webhook must answer, 500 at worst, within API Gateway's 29 s),
    or, for the AI services, one that retries throttling a few times itself."""
    import boto3
    from botocore.config import Config

    if service in _PATIENT_SERVICES:
        config = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 5, "mode": "standard"})
    else:
        config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(service, config=config)  # type: ignore[call-overload]
