"""The photo responder: photos come back annotated with the people recognised in them."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.replies import MAX_REPLY_IMAGES, SendTweet
from chalicelib.kernel.media_keys import annotated_key
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.observability import logger
from chalicelib.ports import MediaError, MediaStore, OptOuts
from chalicelib.publishing import EventPublisher
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.replies import opt_out_handled, publish_reply, skipped_by_guards

#: Annotates one photo: (photo bytes, its analysis) -> (annotated bytes, content type).
Annotate = Callable[..., tuple[bytes, str]]

NOBODY_RECOGNISED = "Thanks for the photo! I didn't recognise anyone in it."
NO_PHOTO_READABLE = "Thanks for the photo! I couldn't read it, sorry."


def written_lines(message: MessageAnalysed) -> list[str]:
    """The lines of text read in the photos (Rekognition's LINE detections), each once."""
    seen: dict[str, None] = {}
    for image in message.images:
        for detection in image.analysis.text_detections if image.analysis else []:
            if detection.get("Type") == "LINE" and str(detection.get("DetectedText", "")).strip():
                seen.setdefault(str(detection["DetectedText"]).strip(), None)
    return list(seen)


#: How much of the text read in a photo a reply quotes.
MAX_QUOTED_CHARACTERS = 100


def quoted_text(lines: list[str]) -> str:
    """The words read in a photo, safe to post: a photo must not make the bot mention or link
    anyone (that would be a spam vector), so mentions and URLs are dropped; long text is cut."""
    text = without_mentions_and_urls(" / ".join(lines)).replace("@", "")
    return text if len(text) <= MAX_QUOTED_CHARACTERS else text[: MAX_QUOTED_CHARACTERS - 1].rstrip() + "…"


def recognised_names(message: MessageAnalysed) -> list[str]:
    """Celebrities across the photos, in order of appearance, each once."""
    seen: dict[str, None] = {}
    for image in message.images:
        for face in image.analysis.celebrity_faces if image.analysis else []:
            if face.get("Name"):
                seen.setdefault(str(face["Name"]), None)
    return list(seen)


class PhotoResponder:
    """Photos come back annotated with the names of the celebrities found in them."""

    def __init__(
        self,
        *,
        media: MediaStore,
        annotate: Annotate,
        publisher: EventPublisher,
        blur_unrecognised: bool,
        max_pixels: int,
        guards: ReplyGuards | None = None,
        opt_outs: OptOuts | None = None,
    ) -> None:
        self._media = media
        self._annotate = annotate
        self._publisher = publisher
        self._blur = blur_unrecognised
        self._max_pixels = max_pixels
        self._guards = guards
        self._opt_outs = opt_outs

    def respond(self, message: MessageAnalysed) -> SendTweet | None:
        """The reply, published as SEND_TWEET; None when a guard keeps the message from being
        answered (published as REPLY_SKIPPED with the reason instead), or when the message was
        "stop" or "start" (answered with the confirmation, if any, instead)."""
        if opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        if skipped_by_guards(message, self._guards, self._publisher):
            return None
        names_found = recognised_names(message)
        keys: list[str] = []
        if names_found:
            keys = self._annotated_keys(message)
        text = f"I recognised: {', '.join(names_found)}" if names_found else NOBODY_RECOGNISED
        lines = written_lines(message)
        if not names_found and lines:
            text = f'{NOBODY_RECOGNISED} It says: "{quoted_text(lines)}"'
        if not any(image.key for image in message.images):
            text = NO_PHOTO_READABLE
        return publish_reply(message, text, self._publisher, image_keys=keys)

    def _annotated_keys(self, message: MessageAnalysed) -> list[str]:
        keys: list[str] = []
        for image in message.images:
            if len(keys) == MAX_REPLY_IMAGES:
                break
            # Only photos with someone named on them come back; the others would look unchanged.
            if image.key is None or image.analysis is None or not image.analysis.celebrity_faces:
                continue
            try:
                original = self._media.get(image.key)
                annotated, content_type = self._annotate(
                    original, image.analysis, blur_unrecognised=self._blur, max_pixels=self._max_pixels
                )
            except (MediaError, ValueError) as error:
                logger.warning("photo not annotated", extra={"key": image.key, "reason": str(error)})
                continue
            extension = "png" if content_type == "image/png" else "jpg"
            # A new key (the original stays as analysed) in the post's annotated/ folder, derived
            # from the original: a redelivered event writes the same object again instead of
            # leaving an orphan, and deleting the post's prefix deletes the copy too.
            key = annotated_key(image.key, extension)
            self._media.put(key, annotated, content_type)
            keys.append(key)
        return keys
