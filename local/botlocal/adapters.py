"""The local runtime's adapters: chalicelib.ports.Adapters on one machine, with no cloud account.

The local stage of runtime/.chalice/config.json names this class in BOT_ADAPTERS, so the runtime's
composition root (chalicelib.wiring) builds it without importing this package by name. Every store
lives under the state folder (botlocal.layout). Models and stores are imported by the factory that
needs them: this module runs inside `chalice local`, on the webhook's first request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from chalicelib.kernel.errors import ConfigurationError
from chalicelib.settings import EGRESS_X

from botlocal.config import LocalConfig

if TYPE_CHECKING:
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

#: What the local stage's BOT_ADAPTERS says (checked against .chalice/config.json by a test).
LOCAL_ADAPTERS: Final = "botlocal.adapters:LocalAdapters"


class LocalAdapters:
    """The journal as the bus, folders as buckets, local models as Rekognition and Comprehend, the
    local intent matcher as Lex, alerts.jsonl as the topic, the dry-run outbox (or, with
    BOT_EGRESS=x, the real X API) for replies, SQLite for idempotency."""

    def __init__(self, settings: Settings, config: LocalConfig | None = None) -> None:
        if settings.on_lambda:
            # A stage deployed with the local stage's BOT_ADAPTERS: fail loudly, not on a laptop's folders.
            raise ConfigurationError(
                "BOT_ADAPTERS names the local runtime's adapters inside AWS Lambda: deploy a stage without it"
            )
        self._settings = settings
        self._config = config if config is not None else LocalConfig.from_environment()
        self.layout = self._config.layout

    def event_bus(self) -> EventBus:
        from botlocal.bus import LocalEventBus
        from botlocal.journal import Journal

        return LocalEventBus(
            Journal(self.layout.journal),
            account=self._config.account,
            region=self._config.region,
            bus_name=self._settings.event_bus_name,
        )

    def payload_store(self) -> PayloadStore:
        # The publisher's keys start with "oversized/": they land in the layout's oversized folder.
        from botlocal.payloads import LocalPayloadStore

        return LocalPayloadStore(self.layout.root)

    def webhook_secret(self) -> SecretProvider:
        from botlocal.config import StaticConsumerSecret

        return StaticConsumerSecret(self._config.consumer_secret)

    def media_store(self) -> MediaStore:
        from botlocal.media import LocalMediaStore

        return LocalMediaStore(self.layout.media, marks=self.layout.deletion_marks)

    def media_fetcher(self) -> MediaFetcher:
        # Photos `botctl tweet --image` left in the inbox first; X's hosts (allow-listed) otherwise.
        from chalicelib.adapters.http_media import HttpMediaFetcher

        from botlocal.media import InboxMediaFetcher

        return InboxMediaFetcher(
            self.layout.media_inbox, fallback=HttpMediaFetcher(allowed_hosts=self._settings.media_hosts)
        )

    def image_analyser(self, media: MediaStore) -> ImageAnalyser:
        from botlocal.analysis import local_image_analyser

        return local_image_analyser(self._settings, media, layout=self.layout)

    def photo_moderator(self, media: MediaStore) -> PhotoModerator:
        # open_nsfw (nudity) and the ImageNet labeller (firearms) in place of Rekognition's
        # moderation labels (botlocal.moderation says what they cannot see), or the verdict
        # BOT_MODERATION forces.
        from botlocal.moderation import LocalPhotoModerator

        return LocalPhotoModerator(media, max_pixels=self._settings.max_image_pixels, mode=self._config.moderation)

    def text_analyser(self) -> TextAnalyser:
        from botlocal.analysis import local_text_analyser

        return local_text_analyser(self._settings)

    def alert_sink(self, subscriber: AlertSubscriber | None) -> AlertSink:
        # As SNS does for its subscribers, the sink hands each alert on after recording it.
        from botlocal.alerts import LocalAlertSink

        return LocalAlertSink(self.layout.alerts, forward=subscriber)

    def chat_webhook(self) -> ChatWebhook | None:
        """CHAT_WEBHOOK_URL, when set (locally there is no Secrets Manager to keep it in)."""
        if not self._config.chat_webhook_url:
            return None
        from chalicelib.adapters.chat_webhook import SlackWebhook

        return SlackWebhook(self._config.chat_webhook_url)

    def conversation_bot(self, fulfilment: Fulfilment) -> ConversationBot:
        # The same fulfilment function Lex calls on AWS, behind a matcher built from the same bot
        # definition as the Lex bot.
        from botlocal.conversation import LocalConversationBot

        return LocalConversationBot(fulfilment)

    def reply_poster(self) -> ReplyPoster:
        if self._settings.egress == EGRESS_X:
            from chalicelib.adapters.x_api import XApiReplyPoster

            from botlocal.config import x_credentials

            return XApiReplyPoster(x_credentials())
        from botlocal.outbox import OutboxPoster

        return OutboxPoster(self.layout.outbox, self.layout.outbox_images)

    def claims(self) -> Claims:
        from botlocal.idempotency import SqliteClaims

        return SqliteClaims(self.layout.idempotency)

    def window_counters(self) -> WindowCounters:
        from botlocal.idempotency import SqliteWindowCounters

        return SqliteWindowCounters(self.layout.idempotency)

    def mentions_reader(self) -> MentionsReader:
        """The real X mentions timeline (`botctl serve --poll`), with the credentials from the environment."""
        from chalicelib.adapters.x_mentions import XApiMentionsReader

        from botlocal.config import x_api_base, x_credentials
        from botlocal.polling import POLL_PURPOSE

        return XApiMentionsReader(x_credentials(purpose=POLL_PURPOSE), api_base=x_api_base())

    def poll_checkpoint(self) -> PollCheckpoint:
        from botlocal.checkpoint import SqlitePollCheckpoint

        return SqlitePollCheckpoint(self.layout.poll_checkpoint)

    def opt_outs(self) -> OptOuts:
        from botlocal.optouts import SqliteOptOuts

        return SqliteOptOuts(self.layout.idempotency)

    def posting_switch(self) -> PostingSwitch:
        # BOT_POSTING, read at each post (the SSM parameter's stand-in).
        from botlocal.posting import EnvironmentPostingSwitch

        return EnvironmentPostingSwitch()

    def idempotency(self, namespace: str) -> Idempotency:
        from botlocal.idempotency import local_idempotency

        return local_idempotency(self.layout.idempotency, key_prefix=namespace)
