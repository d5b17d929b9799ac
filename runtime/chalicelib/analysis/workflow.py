"""The analysis workflow's steps: the Step Functions tasks on AWS, the local runner's steps locally.

MESSAGE_RECEIVED -> download the photos -> (analyse each photo || analyse the text) -> publish
MESSAGE_ANALYSED; any failure that is not retried away -> MESSAGE_ANALYSIS_FAILED.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.analysis.media import MediaDownloadService
from chalicelib.analysis.text import TextAnalysisService
from chalicelib.contracts import names, workflow
from chalicelib.contracts.analysis import AnalysisFailed, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import DM_KEY_PREFIX, MessageReceived, TwitterRef, direct_message_of
from chalicelib.kernel.idempotency import Claims
from chalicelib.publishing import EventPublisher, PayloadError, PayloadResolver

Detail = dict[str, Any]


class AnalysisSteps:
    def __init__(
        self,
        *,
        media: MediaDownloadService,
        images: ImageAnalysisService,
        text: TextAnalysisService,
        publisher: EventPublisher,
        claims: Claims,
        resolver: PayloadResolver | None = None,
    ) -> None:
        """`resolver` reads a claim-checked MESSAGE_RECEIVED: the workflow's state then carries only
        its pointer (a key, not the blob), and each step that needs the message reads it whole."""
        self._resolver = resolver or PayloadResolver(None)
        self._media = media
        self._images = images
        self._text = text
        self._publisher = publisher
        self._claims = claims

    def download(self, message: Detail, arrival: str | None = None) -> list[Detail] | None:
        """The photos, downloaded and stored; None when this post is already analysed, or being
        analysed by another arrival (a redelivery, or the post by a second route): it is claimed
        here, at the start of the workflow, so each post is analysed (and paid for) once.

        `arrival` (the MESSAGE_RECEIVED event's id) owns the claim: the same event run again after a
        crash gets it back, where another arrival of the post is turned away.
        """
        received = MessageReceived.from_detail(self._resolver.resolve(message))
        owner = arrival or f"unnamed-{uuid.uuid4()}"
        if not self._claims.claim(_claim_key(received), owner=owner, hold_seconds=workflow.CLAIM_HOLD_SECONDS):
            return None
        if received.direct_message is not None:
            return []  # a DM is analysed as text: nothing of it is fetched or stored
        twitter = received.twitter
        images = self._media.download_all(received.image_urls, user_id=twitter.user_id, tweet_id=twitter.tweet_id)
        return [image.to_detail() for image in images]

    def analyse_image(self, image: Detail) -> Detail:
        return self._images.analyse(ImageResult.from_detail(image)).to_detail()

    def analyse_text(self, message: Detail) -> Detail:
        received = MessageReceived.from_detail(self._resolver.resolve(message))
        return self._text.analyse(received.text, received.lang).to_detail()

    def publish(self, message: Detail, text: Detail, images: list[Detail]) -> str:
        analysed = MessageAnalysed(
            message=MessageReceived.from_detail(self._resolver.resolve(message)),
            text=TextAnalysis.from_detail(text).capped(),
            images=[_capped(ImageResult.from_detail(image)) for image in images],
        )
        event_id = self._publish(names.MESSAGE_ANALYSED, analysed.to_detail())
        self._claims.complete(_claim_key(analysed.message))
        return event_id

    def publish_failure(self, message: Detail, reason: str) -> str:
        # An unreadable claim-checked message still has its Twitter ids beside the pointer, so the
        # failure names the post (and releases its claim) even then.
        with contextlib.suppress(PayloadError):
            message = self._resolver.resolve(message)
        twitter = message.get("Twitter")
        direct_message = direct_message_of(message)
        failed = AnalysisFailed(
            text=str(message.get("Text", "")),
            author=message.get("Author"),
            twitter=TwitterRef.from_detail(twitter) if isinstance(twitter, dict) else None,
            reason=reason,
            direct_message=direct_message,
        )
        event_id = self._publish(names.MESSAGE_ANALYSIS_FAILED, failed.to_detail())
        if direct_message is not None:
            self._claims.release(_claim_key_of(f"{DM_KEY_PREFIX}{direct_message.event_id}"))
        elif failed.twitter is not None:
            # Give the post back: a later arrival of it is analysed (the failure may have passed).
            self._claims.release(_claim_key_of(failed.twitter.tweet_id))
        return event_id

    def _publish(self, detail_type: str, detail: Detail) -> str:
        (event_id,) = self._publisher.publish([BusEvent(names.SOURCE_ANALYSIS, detail_type, detail)])
        return event_id


def _capped(image: ImageResult) -> ImageResult:
    """The photo with its analysis capped (again: the step's input may come from any caller)."""
    if image.analysis is None:
        return image
    return ImageResult(url=image.url, key=image.key, error=image.error, analysis=image.analysis.capped())


def _claim_key(message: MessageReceived) -> str:
    """analysis:<post id> for a post, analysis:dm:<DM event id> for a direct message (the id of a
    DM's view starts with DM_KEY_PREFIX), so a DM and a post with the same number never share one."""
    return _claim_key_of(message.twitter.tweet_id)


def _claim_key_of(tweet_id: str) -> str:
    return f"analysis:{tweet_id}"
