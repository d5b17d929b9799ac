"""What both responders share: the opt-out commands, the guards, and how a reply is addressed and
published (SEND_TWEET for Egress, or SEND_DM for a direct message; REPLY_SKIPPED with the reason
when nothing is sent).

A direct message is answered by DM, through the same calls: publish_reply sees the message's
channel, so a responder needs no code of its own for DMs. A DM answer is text only (photos are
never sent by DM) and is not addressed with "@author" (a DM has one reader).
"""

from __future__ import annotations

from chalicelib.contracts import names
from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.outcomes import OPTED_OUT, ReplySkipped
from chalicelib.contracts.replies import PhotoModeration, SendTweet
from chalicelib.observability import logger
from chalicelib.ports import OptOuts
from chalicelib.publishing import EventPublisher
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.optout import STARTED_CONFIRMATION, STOPPED_CONFIRMATION, Command, command_in

#: What publish_reply publishes: a reply to a post, or the answer to a direct message.
type Reply = SendTweet | SendDirectMessage


def publish_reply(
    message: MessageAnalysed,
    text: str,
    publisher: EventPublisher,
    *,
    image_keys: list[str] | None = None,
    moderation: PhotoModeration | None = None,
) -> Reply:
    """The reply to `message` (addressed to its author), published for Egress: SEND_TWEET for a
    post; SEND_DM for a direct message (text only: `image_keys` are not sent by DM). `moderation`
    records the check of the photos about to be reposted, when one ran."""
    direct_message = message.message.direct_message
    if direct_message is not None:
        answer = SendDirectMessage(text=text, answering=direct_message, received_at_ms=message.message.received_at_ms)
        publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.SEND_DM, answer.to_detail())])
        return answer
    reply = SendTweet(
        text=addressed(message, text),
        reply_to_tweet_id=message.message.twitter.tweet_id,
        reply_to_user_id=message.message.twitter.user_id,
        image_keys=list(image_keys or []),
        received_at_ms=message.message.received_at_ms,
        moderation=moderation,
    )
    publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.SEND_TWEET, reply.to_detail())])
    return reply


def opt_out_handled(
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
            confirm(message, STOPPED_CONFIRMATION, guards, publisher)
        else:
            publish_skipped(message, OPTED_OUT, publisher)
        return True
    if command is Command.START and opt_outs.opt_in(user_id, post_id=post_id):
        confirm(message, STARTED_CONFIRMATION, guards, publisher)
        return True
    if opt_outs.is_opted_out(user_id):
        publish_skipped(message, OPTED_OUT, publisher)
        return True
    return False


def confirm(message: MessageAnalysed, text: str, guards: ReplyGuards | None, publisher: EventPublisher) -> None:
    """The confirmation of a "stop" or "start", as a reply that the guards may still refuse."""
    if skipped_by_guards(message, guards, publisher):
        return
    publish_reply(message, text, publisher)


def skipped_by_guards(message: MessageAnalysed, guards: ReplyGuards | None, publisher: EventPublisher) -> bool:
    """True (and REPLY_SKIPPED published) when a guard refuses to answer the message."""
    reason = guards.refusal(message.message) if guards is not None else None
    if reason is None:
        return False
    publish_skipped(message, reason, publisher)
    return True


def publish_skipped(message: MessageAnalysed, reason: str, publisher: EventPublisher) -> None:
    """REPLY_SKIPPED for `message` with `reason` (for a DM: Channel DM and its DirectMessage)."""
    twitter = message.message.twitter
    # For a DM the logged ids are its view's ("dm:<event id>" and the sender): never its text.
    logger.info("reply skipped", extra={"reason": reason, "tweet_id": twitter.tweet_id, "user_id": twitter.user_id})
    skipped = ReplySkipped(
        twitter=twitter, author=message.message.author, reason=reason, direct_message=message.message.direct_message
    )
    publisher.publish([BusEvent(names.SOURCE_RESPONDING, names.REPLY_SKIPPED, skipped.to_detail())])


def addressed(message: MessageAnalysed, text: str) -> str:
    """Replies start with the author's handle, as people expect on X; a DM's answer does not (it
    has one reader)."""
    author = message.message.author
    return f"@{author} {text}" if author and message.message.direct_message is None else text
