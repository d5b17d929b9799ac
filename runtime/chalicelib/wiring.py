"""The composition root: builds the services from the adapters of the runtime in use.

Handlers get their services from here. Which adapters: the factory class named by the BOT_ADAPTERS
setting (chalicelib.adapters.aws.AwsAdapters unless the Chalice stage names another: the local
stage names the local runtime's). This module knows the ports and the services, never a concrete
adapter. Everything is built on first use and kept for the life of the container (or process);
`reset()` forgets it (tests change the environment between cases).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.kernel.errors import ConfigurationError
from chalicelib.settings import Settings, load_settings

if TYPE_CHECKING:
    # Annotations only. Every function imports app.py or its blueprint, and so this module: each
    # service is imported by the factory that builds it, so a function loads only the services it
    # runs. The webhook's cold start stays small (`make bench` measures it; the responders, Egress's
    # text fitting and X client, the analysis and the alerting are never loaded there:
    # tests/composition/test_cold_start_imports.py).
    from chalicelib.alerting.service import AlertForwarder, AlertService
    from chalicelib.analysis.deletion import MediaDeletionService
    from chalicelib.analysis.workflow import AnalysisSteps
    from chalicelib.egress.service import EgressService
    from chalicelib.ingress.poller import MentionsPoller
    from chalicelib.ingress.service import IngressService
    from chalicelib.ports import Adapters, EventBus, MediaStore, OptOuts, PayloadStore, SecretProvider, WindowCounters
    from chalicelib.publishing import EventPublisher, PayloadResolver
    from chalicelib.responding.conversation import TextResponder
    from chalicelib.responding.guards import ReplyGuards
    from chalicelib.responding.photos import PhotoResponder


@cache
def settings() -> Settings:
    return load_settings()


@cache
def adapters() -> Adapters:
    """The configured Adapters factory ("module:Class"), built with the settings."""
    return load_adapters(settings())


def load_adapters(current: Settings) -> Adapters:
    module_name, _, class_name = current.adapters.partition(":")
    if not module_name or not class_name:
        raise ConfigurationError(f"BOT_ADAPTERS must be 'module:Class', not {current.adapters!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(f"BOT_ADAPTERS names {module_name!r}, which cannot be imported: {error}") from error
    factory = getattr(module, class_name, None)
    if not callable(factory):
        raise ConfigurationError(f"BOT_ADAPTERS names {current.adapters!r}, which is not a class")
    built: Adapters = factory(current)
    return built


@cache
def event_bus() -> EventBus:
    return adapters().event_bus()


@cache
def payload_store() -> PayloadStore | None:
    return adapters().payload_store()


@cache
def webhook_secret() -> SecretProvider:
    return adapters().webhook_secret()


@cache
def publisher() -> EventPublisher:
    from chalicelib.publishing import EventPublisher

    current = settings()
    return EventPublisher(
        bus=event_bus(),
        bus_name=current.event_bus_name,
        payload_store=payload_store(),
        max_bytes=current.max_event_bytes,
    )


@cache
def payload_resolver() -> PayloadResolver:
    """What every consumer of a possibly claim-checked event resolves its detail with."""
    from chalicelib.publishing import PayloadResolver

    return PayloadResolver(payload_store())


@cache
def ingress_service() -> IngressService:
    from chalicelib.ingress.service import IngressService

    current = settings()
    return IngressService(
        secrets=webhook_secret(),
        publisher=publisher(),
        bot_user_id=current.bot_user_id,
        max_body_bytes=current.max_body_bytes,
    )


@cache
def mentions_poller() -> MentionsPoller:
    """The mentions poller; ConfigurationError when it cannot run as configured (no BOT_USER_ID or
    one that is not an X numeric id, no checkpoint store, no X credentials)."""
    from chalicelib.ingress.poller import MentionsPoller
    from chalicelib.kernel.x_ids import is_x_id

    current = settings()
    if not current.bot_user_id:
        raise ConfigurationError(
            "BOT_USER_ID is not set: the mentions poller reads the timeline of the bot's numeric X account id"
        )
    if not is_x_id(current.bot_user_id):
        # Else it would reach X's URL path as it is, and X would refuse it at every run.
        raise ConfigurationError(
            f"BOT_USER_ID {current.bot_user_id[:40]!r} is not a numeric X account id "
            "(`botctl x whoami` prints it; the handle is not the id)"
        )
    # The checkpoint first: a deployment without polling fails on its missing table, before any
    # read of the X secret.
    checkpoint = adapters().poll_checkpoint()
    return MentionsPoller(
        reader=adapters().mentions_reader(),
        checkpoint=checkpoint,
        publisher=publisher(),
        bot_user_id=current.bot_user_id,
        max_pages=current.poll_max_pages,
        rate_reserve=current.poll_rate_reserve,
    )


@cache
def media_store() -> MediaStore:
    return adapters().media_store()


@cache
def media_deletion() -> MediaDeletionService:
    """Deletes the stored photos of deleted posts and of users who revoked the app (Analysis owns them)."""
    from chalicelib.analysis.deletion import MediaDeletionService

    return MediaDeletionService(store=media_store(), publisher=publisher())


@cache
def analysis_steps() -> AnalysisSteps:
    from chalicelib.analysis.images import ImageAnalysisService
    from chalicelib.analysis.media import MediaDownloadService
    from chalicelib.analysis.text import TextAnalysisService
    from chalicelib.analysis.workflow import AnalysisSteps

    current = settings()
    return AnalysisSteps(
        media=MediaDownloadService(
            fetcher=adapters().media_fetcher(),
            store=media_store(),
            allowed_hosts=current.media_hosts,
            max_bytes=current.max_media_bytes,
            max_pixels=current.max_image_pixels,
        ),
        images=ImageAnalysisService(
            analyser=adapters().image_analyser(media_store()),
            features=current.image_features,
            celebrities_when=current.celebrities_when,
            text_when=current.text_when,
        ),
        text=TextAnalysisService(analyser=adapters().text_analyser(), key_phrases=current.key_phrases),
        publisher=publisher(),
        claims=adapters().claims(),
        resolver=payload_resolver(),
    )


@cache
def alert_forwarder() -> AlertForwarder | None:
    """The alert topic's subscriber: forwards to the chat webhook, when one is configured."""
    from chalicelib.alerting.service import AlertForwarder

    webhook = adapters().chat_webhook()
    return AlertForwarder(webhook=webhook) if webhook is not None else None


def _forward_alert(subject: str, message: str) -> None:
    forwarder = alert_forwarder()
    if forwarder is not None:
        forwarder.forward(subject, message)


@cache
def alert_service() -> AlertService:
    from chalicelib.alerting.service import AlertService
    from chalicelib.kernel.idempotency import ALERTING_NAMESPACE

    return AlertService(sink=adapters().alert_sink(_forward_alert), once=adapters().idempotency(ALERTING_NAMESPACE))


@cache
def window_counters() -> WindowCounters:
    """One counters store for the Responding guards and Egress's posting budget."""
    return adapters().window_counters()


@cache
def reply_guards() -> ReplyGuards:
    """The loop and abuse guards both responders check (one counters store, one set of limits)."""
    from chalicelib.responding.guards import GuardLimits, ReplyGuards

    current = settings()
    return ReplyGuards(
        counters=window_counters(),
        bot_user_id=current.bot_user_id,
        limits=GuardLimits(
            per_author=current.replies_per_author,
            per_conversation=current.replies_per_conversation,
            window_seconds=current.reply_window_seconds,
            chain_max_depth=current.reply_chain_max_depth,
        ),
    )


@cache
def opt_outs() -> OptOuts:
    """Who said "stop" to the bot: both responders change and check it, Egress checks it at each post."""
    return adapters().opt_outs()


@cache
def photo_responder() -> PhotoResponder:
    from chalicelib.kernel.idempotency import ALERTING_NAMESPACE
    from chalicelib.responding.annotate import annotate_photo
    from chalicelib.responding.photos import PhotoResponder

    current = settings()
    return PhotoResponder(
        media=media_store(),
        annotate=annotate_photo,
        publisher=publisher(),
        blur_unrecognised=current.blur_unrecognised_faces,
        max_pixels=current.max_image_pixels,
        guards=reply_guards(),
        opt_outs=opt_outs(),
        # Each photo about to be reposted is checked first; an unsafe one raises an alert.
        moderator=adapters().photo_moderator(media_store()),
        alerts=adapters().alert_sink(_forward_alert),
        alert_once=adapters().idempotency(ALERTING_NAMESPACE),
    )


@cache
def text_responder() -> TextResponder:
    from chalicelib.responding.conversation import TextResponder
    from chalicelib.responding.fulfilment import fulfil

    # `fulfil` is the Lex bot's code hook: Lex calls its Lambda on AWS, a local bot calls it directly.
    return TextResponder(
        bot=adapters().conversation_bot(fulfil),
        publisher=publisher(),
        guards=reply_guards(),
        opt_outs=opt_outs(),
        negative_replies=settings().negative_replies,
    )


@cache
def egress_service() -> EgressService:
    from chalicelib.egress.service import EgressService, PostBudget
    from chalicelib.kernel.idempotency import EGRESS_NAMESPACE

    current = settings()
    return EgressService(
        poster=adapters().reply_poster(),
        media=media_store(),
        idempotency=adapters().idempotency(EGRESS_NAMESPACE),
        publisher=publisher(),
        budget=PostBudget(
            counters=window_counters(),
            posts=current.post_budget,
            window_seconds=current.post_budget_window_seconds,
        ),
        max_reply_age_seconds=current.max_reply_age_seconds,
        switch=adapters().posting_switch(),
        # A reply still waiting when its person says "stop" is dropped, not posted.
        opt_outs=opt_outs(),
    )


_FACTORIES = (
    settings,
    adapters,
    event_bus,
    payload_store,
    webhook_secret,
    publisher,
    payload_resolver,
    ingress_service,
    mentions_poller,
    media_store,
    media_deletion,
    analysis_steps,
    alert_forwarder,
    alert_service,
    window_counters,
    reply_guards,
    opt_outs,
    photo_responder,
    text_responder,
    egress_service,
)


def reset() -> None:
    """Forget every built service and adapter (tests change the environment between cases)."""
    for factory in _FACTORIES:
        factory.cache_clear()
