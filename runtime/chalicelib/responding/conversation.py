"""The text responder: text goes to the conversational bot (Lex V2 on AWS, the local matcher locally)."""

from __future__ import annotations

from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.replies import SendTweet
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.ports import ConversationBot, OptOuts
from chalicelib.publishing import EventPublisher
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.replies import opt_out_handled, publish_reply, skipped_by_guards


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
        if opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        if skipped_by_guards(message, self._guards, self._publisher):
            return None
        text = without_mentions_and_urls(message.message.text)
        session = message.message.twitter.user_id or message.message.author or "anonymous"
        answer = self._bot.respond(session, text or "hello")
        return publish_reply(message, answer, self._publisher)
