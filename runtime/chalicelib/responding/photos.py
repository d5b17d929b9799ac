"""The photo responder: names the people recognised, says what else is in the photos, quotes the
text read in them, and reposts the photos with someone named, annotated, once a moderation check
has found them safe to repost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.contracts.analysis import MessageAnalysed, Record
from chalicelib.contracts.replies import MAX_REPLY_IMAGES, PhotoModeration
from chalicelib.kernel.idempotency import Idempotency
from chalicelib.kernel.media_keys import annotated_key
from chalicelib.kernel.x_text import weighted_length
from chalicelib.observability import logger
from chalicelib.ports import AlertSink, MediaError, MediaStore, OptOuts, PhotoModerator
from chalicelib.publishing import EventPublisher
from chalicelib.responding.describe import (
    MAX_DESCRIBED_LABELS,
    MAX_QUOTED_CHARACTERS,
    Measure,
    described_photos,
    listed,
    quoted_text,
    readable_lines,
)
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.replies import Reply, addressed, opt_out_handled, publish_reply, skipped_by_guards

#: Annotates one photo: (photo bytes, its analysis) -> (annotated bytes, content type).
Annotate = Callable[..., tuple[bytes, str]]

THANKS = "Thanks for the photo!"
NOBODY_RECOGNISED = f"{THANKS} I didn't recognise anyone in it."
#: The whole reply to a post whose photo was found unsafe (the alert tells the operators the rest).
UNSAFE_PHOTO_REPLY = f"{THANKS} I'd rather not comment on this one."
NO_PHOTO_READABLE = f"{THANKS} I couldn't read it, sorry."
#: X's limit for one post, in weighted characters (twitter-text v3).
MAX_REPLY_WEIGHT = 280
#: Quotes are shortened to these lengths, in turn, before anything else is left out.
QUOTE_LENGTHS = (MAX_QUOTED_CHARACTERS, 60, 30)


def written_lines(message: MessageAnalysed) -> list[str]:
    """The lines of text read in the photos that are real text (describe.readable_lines), each once."""
    seen: dict[str, None] = {}
    for image in message.images:
        for line in readable_lines(image.analysis.text_detections if image.analysis else []):
            seen.setdefault(line, None)
    return list(seen)


def photo_labels(message: MessageAnalysed) -> list[list[Record]]:
    """Each analysed photo's labels, in the photos' order."""
    return [image.analysis.labels for image in message.images if image.analysis]


def recognised_names(message: MessageAnalysed) -> list[str]:
    """Celebrities across the photos, in order of appearance, each once."""
    seen: dict[str, None] = {}
    for image in message.images:
        for face in image.analysis.celebrity_faces if image.analysis else []:
            if face.get("Name"):
                seen.setdefault(str(face["Name"]), None)
    return list(seen)


def names_part(names_found: list[str], shown: int) -> str:
    """ "I recognised: A, B" with at most `shown` names, the rest counted ("and 3 more")."""
    kept = names_found[:shown]
    rest = len(names_found) - len(kept)
    return f"I recognised: {', '.join(kept)}" + (f" and {rest} more" if rest else "")


def reply_text(
    names_found: list[str],
    things: list[str],
    lines: list[str],
    *,
    prefix: str,
    measure: Measure,
    unnamed_faces: bool = False,
) -> str:
    """The reply's words, within MAX_REPLY_WEIGHT once `prefix` (the "@author ") is put before them.
    Shortened in this order until it fits: the quote (cut, then left out), the things seen (fewer,
    then none), the names (fewer, the rest counted; the first always stays). `unnamed_faces`: faces
    were found but nobody named, which the reply says when it names nobody."""
    quotes = [quoted_text(lines, length) for length in QUOTE_LENGTHS] + [""] if lines else [""]
    name_counts = list(range(len(names_found), 0, -1)) or [0]
    candidates = (
        _compose(names_found, shown, things[:count], quote, unnamed_faces)
        for shown in name_counts
        for count in range(len(things), -1, -1)
        for quote in quotes
    )
    last = ""
    for last in candidates:
        if measure(prefix + last) <= MAX_REPLY_WEIGHT:
            return last
    # Only a single name longer than a post is left; Egress's fit_reply cuts it cleanly.
    return last


def _compose(names_found: list[str], shown: int, things: list[str], quote: str, unnamed_faces: bool) -> str:
    said = f'It says: "{quote}"' if quote else ""
    if names_found:
        named = names_part(names_found, shown)
        if not things and not said:
            return named
        seen = f"I can also see {listed(things)}." if things else ""
        return " ".join(part for part in (f"{named}.", seen, said) if part)
    if not things and not said:
        return NOBODY_RECOGNISED
    seen = f"I can see {listed(things)}." if things else ""
    # Someone asking "who is this?" about a stranger hears that the bot did not know them.
    nobody = NOBODY_RECOGNISED.removeprefix(THANKS).strip() if unnamed_faces else ""
    return " ".join(part for part in (THANKS, seen, nobody, said) if part)


@dataclass
class _Checked:
    """What the moderation check decided for the photos about to be reposted."""

    safe: list[int]
    record: PhotoModeration | None


class PhotoResponder:
    """Photos come back annotated with the names of the celebrities found in them, once checked."""

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
        moderator: PhotoModerator | None = None,
        alerts: AlertSink | None = None,
        alert_once: Idempotency | None = None,
        measure: Measure | None = None,
    ) -> None:
        """`alert_once` keeps a redelivered MESSAGE_ANALYSED from alerting twice for one post."""
        self._media = media
        self._annotate = annotate
        self._publisher = publisher
        self._blur = blur_unrecognised
        self._max_pixels = max_pixels
        self._guards = guards
        self._opt_outs = opt_outs
        self._moderator = moderator
        self._alerts = alerts
        self._alert_once = alert_once
        self._measure = measure or weighted_length

    def respond(self, message: MessageAnalysed) -> Reply | None:
        """The reply, published as SEND_TWEET (SEND_DM for a direct message); None when a guard
        keeps the message from being answered (published as REPLY_SKIPPED with the reason
        instead), or when the message was "stop" or "start" (answered with the confirmation, if
        any, instead)."""
        if opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        if skipped_by_guards(message, self._guards, self._publisher):
            return None
        if not any(image.key for image in message.images):
            return publish_reply(message, NO_PHOTO_READABLE, self._publisher)
        names_found = recognised_names(message)
        # A direct message is answered by DM, text only (replies.publish_reply): nothing to repost.
        reposts = bool(names_found) and message.message.direct_message is None
        checked = self._checked(message) if reposts else _Checked([], None)
        if checked.record is not None and checked.record.unsafe > 0:
            # Nothing of the photo comes back: not the photo, not what is in it, not who (naming
            # the person in an explicit fake would confirm it for everyone who reads the reply).
            return publish_reply(message, UNSAFE_PHOTO_REPLY, self._publisher, moderation=checked.record)
        things = described_photos(photo_labels(message), person_named=bool(names_found), limit=MAX_DESCRIBED_LABELS)
        lines = written_lines(message)
        prefix = addressed(message, "")
        unnamed_faces = any(image.analysis.unrecognized_faces for image in message.images if image.analysis)
        text = reply_text(names_found, things, lines, prefix=prefix, measure=self._measure, unnamed_faces=unnamed_faces)
        keys = self._annotated_keys(message, checked.safe)
        return publish_reply(message, text, self._publisher, image_keys=keys, moderation=checked.record)

    def _candidates(self, message: MessageAnalysed) -> list[int]:
        """The photos about to be reposted (indices): those with someone named on them (the others
        would come back unchanged), at most the four a post holds."""
        found = [
            index
            for index, image in enumerate(message.images)
            if image.key is not None and image.analysis is not None and image.analysis.celebrity_faces
        ]
        return found[:MAX_REPLY_IMAGES]

    def _checked(self, message: MessageAnalysed) -> _Checked:
        """The candidates, each checked once when there is a moderator. One unsafe photo makes the
        whole reply text only (the remaining photos are then not checked: none will be posted); a
        photo that cannot be checked is withheld (fail closed), the others still go."""
        candidates = self._candidates(message)
        if self._moderator is None or not candidates:
            return _Checked(candidates, None)
        safe: list[int] = []
        checked = failed = unsafe = 0
        unsafe_categories: dict[str, None] = {}
        checker = ""
        for index in candidates:
            key = message.images[index].key
            assert key is not None  # _candidates keeps photos with a key only
            checked += 1
            try:
                verdict = self._moderator.check(key)
            except MediaError as error:
                failed += 1
                logger.warning("photo withheld: moderation check failed", extra={"key": key, "reason": str(error)})
                continue
            checker = checker or verdict.checker
            if verdict.unsafe:
                unsafe += 1
                for category in verdict.categories:
                    unsafe_categories.setdefault(category, None)
                safe = []
                break
            safe.append(index)
        record = PhotoModeration(
            checked=checked,
            unsafe=unsafe,
            failed=failed,
            withheld=len(candidates) - len(safe),
            categories=tuple(unsafe_categories),
            checker=checker,
        )
        if unsafe:
            self._alert(message, record)
        return _Checked(safe, record)

    def _alert(self, message: MessageAnalysed, record: PhotoModeration) -> None:
        """A human hears of the withheld photo: who posted it and what was found, never the photo."""
        author = f"@{message.message.author}" if message.message.author else "someone"
        tweet_id = message.message.twitter.tweet_id
        categories = ", ".join(record.categories) or "unsafe content"
        logger.warning("photo withheld: unsafe", extra={"tweet_id": tweet_id, "categories": list(record.categories)})
        if self._alerts is None:
            return
        body = "\n".join(
            (
                f"A photo posted by {author} was not reposted: {categories}"
                + (f" (checked by {record.checker})." if record.checker else "."),
                "The reply was sent as text only.",
                f"https://x.com/{message.message.author or 'i'}/status/{tweet_id}",
            )
        )
        attributes = {"TweetId": tweet_id, "Author": message.message.author or "", "Moderation": categories}
        alerts = self._alerts

        def publish() -> str:
            alerts.publish(f"Unsafe photo withheld from {author}", body, attributes)
            return "alerted"

        if self._alert_once is None:
            publish()
        else:
            self._alert_once.run(f"unsafe-photo:{tweet_id}", publish)

    def _annotated_keys(self, message: MessageAnalysed, indices: list[int]) -> list[str]:
        keys: list[str] = []
        for index in indices:
            image = message.images[index]
            if image.key is None or image.analysis is None:
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
