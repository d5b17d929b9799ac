"""Responders: what the bot says back, as SEND_TWEET events for Egress."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.contracts import names
from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.outcomes import OPTED_OUT, ReplySkipped
from chalicelib.contracts.replies import MAX_REPLY_IMAGES, SendTweet
from chalicelib.kernel.media_keys import annotated_key
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.observability import logger
from chalicelib.ports import ConversationBot, MediaError, MediaStore, OptOuts
from chalicelib.publishing import EventPublisher
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.optout import STARTED_CONFIRMATION, STOPPED_CONFIRMATION, Command, command_in

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
        if _opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        if _skipped(message, self._guards, self._publisher):
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
        reply = SendTweet(
            text=_addressed(message, text),
            reply_to_tweet_id=message.message.twitter.tweet_id,
            reply_to_user_id=message.message.twitter.user_id,
            image_keys=keys,
            received_at_ms=message.message.received_at_ms,
        )
        self._publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail())])
        return reply

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


class TextResponder:
    """Text goes to the conversational bot, one session per author; its answer is the reply."""

    def __init__(
        self,
        *,
        bot: ConversationBot,
        publisher: EventPublisher,
        guards: ReplyGuards | None = None,
        opt_outs: OptOuts | None = None,
    ) -> None:
        self._bot = bot
        self._publisher = publisher
        self._guards = guards
        self._opt_outs = opt_outs

    def respond(self, message: MessageAnalysed) -> SendTweet | None:
        """The reply, published as SEND_TWEET; None when a guard keeps the message from being
        answered (published as REPLY_SKIPPED with the reason instead), or when the message was
        "stop" or "start" (answered with the confirmation, if any, instead)."""
        if _opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        if _skipped(message, self._guards, self._publisher):
            return None
        text = without_mentions_and_urls(message.message.text)
        session = message.message.twitter.user_id or message.message.author or "anonymous"
        answer = self._bot.respond(session, text or "hello")
        reply = SendTweet(
            text=_addressed(message, answer),
            reply_to_tweet_id=message.message.twitter.tweet_id,
            reply_to_user_id=message.message.twitter.user_id,
            received_at_ms=message.message.received_at_ms,
        )
        self._publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail())])
        return reply


def _opt_out_handled(
    message: MessageAnalysed, opt_outs: OptOuts | None, guards: ReplyGuards | None, publisher: EventPublisher
) -> bool:
    """True when the message is settled by the author's opt-out (responding/optout.py): a "stop" or
    "start" that changed it (confirmed, once), or anything from someone opted out (skipped)."""
    if opt_outs is None:
        return False
    user_id, post_id = message.message.twitter.user_id, message.message.twitter.tweet_id
    command = command_in(message.message.text)
    if command is Command.STOP:
        if opt_outs.opt_out(user_id, post_id=post_id):
            _confirm(message, STOPPED_CONFIRMATION, guards, publisher)
        else:
            _publish_skipped(message, OPTED_OUT, publisher)
        return True
    if command is Command.START and opt_outs.opt_in(user_id, post_id=post_id):
        _confirm(message, STARTED_CONFIRMATION, guards, publisher)
        return True
    if opt_outs.is_opted_out(user_id):
        _publish_skipped(message, OPTED_OUT, publisher)
        return True
    return False


def _confirm(message: MessageAnalysed, text: str, guards: ReplyGuards | None, publisher: EventPublisher) -> None:
    """The confirmation of a "stop" or "start", as a reply that the guards may still refuse."""
    if _skipped(message, guards, publisher):
        return
    reply = SendTweet(
        text=_addressed(message, text),
        reply_to_tweet_id=message.message.twitter.tweet_id,
        reply_to_user_id=message.message.twitter.user_id,
        received_at_ms=message.message.received_at_ms,
    )
    publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail())])


def _skipped(message: MessageAnalysed, guards: ReplyGuards | None, publisher: EventPublisher) -> bool:
    """True (and REPLY_SKIPPED published) when a guard refuses to answer the message."""
    reason = guards.refusal(message.message) if guards is not None else None
    if reason is None:
        return False
    _publish_skipped(message, reason, publisher)
    return True


def _publish_skipped(message: MessageAnalysed, reason: str, publisher: EventPublisher) -> None:
    twitter = message.message.twitter
    logger.info("reply skipped", extra={"reason": reason, "tweet_id": twitter.tweet_id, "user_id": twitter.user_id})
    skipped = ReplySkipped(twitter=twitter, author=message.message.author, reason=reason)
    publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.REPLY_SKIPPED, skipped.to_detail())])


def _addressed(message: MessageAnalysed, text: str) -> str:
    """Replies start with the author's handle, as people expect on X."""
    author = message.message.author
    return f"@{author} {text}" if author else text
