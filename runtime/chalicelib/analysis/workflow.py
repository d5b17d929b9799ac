"""The analysis workflow's steps: the Step Functions tasks on AWS, the local runner's steps locally.

MESSAGE_RECEIVED -> download the photos -> (analyse each photo || analyse the text) -> publish
MESSAGE_ANALYSED; any failure that is not retried away -> MESSAGE_ANALYSIS_FAILED.
"""

from __future__ import annotations

from typing import Any

from chalicelib.analysis.images import ImageAnalysisService
from chalicelib.analysis.media import MediaDownloadService
from chalicelib.analysis.text import TextAnalysisService
from chalicelib.contracts import names
from chalicelib.contracts.analysis import AnalysisFailed, ImageResult, MessageAnalysed, TextAnalysis
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.publishing import EventPublisher

Detail = dict[str, Any]


class AnalysisSteps:
    def __init__(
        self,
        *,
        media: MediaDownloadService,
        images: ImageAnalysisService,
        text: TextAnalysisService,
        publisher: EventPublisher,
    ) -> None:
        self._media = media
        self._images = images
        self._text = text
        self._publisher = publisher

    def download(self, message: Detail) -> list[Detail]:
        received = MessageReceived.from_detail(message)
        return [image.to_detail() for image in self._media.download_all(received.image_urls)]

    def analyse_image(self, image: Detail) -> Detail:
        return self._images.analyse(ImageResult.from_detail(image)).to_detail()

    def analyse_text(self, message: Detail) -> Detail:
        received = MessageReceived.from_detail(message)
        return self._text.analyse(received.text, received.lang).to_detail()

    def publish(self, message: Detail, text: Detail, images: list[Detail]) -> str:
        analysed = MessageAnalysed(
            message=MessageReceived.from_detail(message),
            text=TextAnalysis.from_detail(text),
            images=[ImageResult.from_detail(image) for image in images],
        )
        return self._publish(names.MESSAGE_ANALYSED, analysed.to_detail())

    def publish_failure(self, message: Detail, reason: str) -> str:
        twitter = message.get("Twitter")
        failed = AnalysisFailed(
            text=str(message.get("Text", "")),
            author=message.get("Author"),
            twitter=TwitterRef.from_detail(twitter) if isinstance(twitter, dict) else None,
            reason=reason,
        )
        return self._publish(names.MESSAGE_ANALYSIS_FAILED, failed.to_detail())

    def _publish(self, detail_type: str, detail: Detail) -> str:
        (event_id,) = self._publisher.publish([BusEvent(names.SOURCE_ANALYSIS, detail_type, detail)])
        return event_id
