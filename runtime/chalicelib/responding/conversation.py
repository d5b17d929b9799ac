"""The text responder: text goes to the conversational bot (Lex V2 on AWS, the local matcher
locally), in the post's language when the bot speaks it (chalicelib.contracts.conversation).

A negative message (the analysis's sentiment) never gets a joke or a fact. It gets a calm answer
in its language (NEGATIVE_REPLIES=calm, the default) or nothing (silent: REPLY_SKIPPED "negative
message"), and it is not sent to the bot at all, which saves a paid Lex call, unless it reads like
"stop": it holds one of the Stop intent's sample phrases of two words or more ("shut up", "leave
me alone please", ...) in its locale or in English. Such a message does go to the bot.

Stop, recognised by the bot in any locale ("could you stop replying to me", "cállate"), is answered
with a question, in the author's language: do you want me to stop? reply "stop" (the whole-message
command of responding/optout.py, which opts out at once). It never opts anyone out by itself: the
intent cannot tell "stop replying to me" from "I can't stop laughing" or "para mí es genial"
reliably enough (measured: a confidence bar separates them in no locale), and a wrong opt-out
silences the bot for that person, where a wrong question costs one reply.
"""

from __future__ import annotations

import hashlib
from typing import Final

from chalicelib.contracts import conversation
from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.contracts.outcomes import NEGATIVE_MESSAGE
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.ports import ConversationBot, OptOuts
from chalicelib.publishing import EventPublisher
from chalicelib.responding.guards import ReplyGuards
from chalicelib.responding.optout import normalised
from chalicelib.responding.replies import Reply, opt_out_handled, publish_reply, publish_skipped, skipped_by_guards
from chalicelib.responding.smalltalk import calm_answers

#: The analysis's sentiment (Comprehend's, or the local model's) that gets the calm treatment.
NEGATIVE: Final = "NEGATIVE"
#: Comprehend's (and the local analysis') "both positive and negative": the bot is asked, but its
#: answer is never a joke or a fact ("your jokes are terrible", "tell me a joke, idiot" read MIXED:
#: "joke" is a happy word). Weighing the two scores was tried: it let "that joke was awful, tell me
#: a better one" through. The price: "tell me a joke, I'm bored" (MIXED too) gets the calm answer.
MIXED: Final = "MIXED"
#: What a message that is not plainly friendly never gets.
FUN_INTENTS: Final = frozenset({conversation.JOKE_NAME, conversation.FACT_NAME})
#: The answer to a DM with no words (a photo alone): English only, like the jokes.
NO_PHOTOS_IN_DMS: Final = (
    "Thanks! I don't look at photos sent by DM. Mention me in a post with the photo and I'll tell you what I see."
)
#: What a negative message gets: a calm answer, or nothing (settings.NEGATIVE_REPLIES).
CALM: Final = "calm"
SILENT: Final = "silent"
#: A Stop sample phrase must have this many words to count inside a longer negative message: one
#: word ("enough", "para", "genug") is too common in ordinary complaints.
MIN_STOP_PHRASE_WORDS: Final = 2


def _stop_phrases() -> dict[str, tuple[str, ...]]:
    """Locale id -> the Stop intent's multi-word sample phrases (its own and English's), normalised
    as the opt-out rule normalises messages."""
    english = _phrases(conversation.EN_US)
    return {locale.locale_id: tuple({*_phrases(locale.locale_id), *english}) for locale in conversation.LOCALES}


def _phrases(locale_id: str) -> tuple[str, ...]:
    found: list[str] = []
    for intent in conversation.intents_for(locale_id):
        if intent.name == conversation.STOP_NAME:
            phrases = (normalised(sample) for sample in intent.sample_utterances)
            found.extend(phrase for phrase in phrases if len(phrase.split()) >= MIN_STOP_PHRASE_WORDS)
    return tuple(found)


def reads_like_stop(text: str, locale_id: str, phrases: dict[str, tuple[str, ...]]) -> bool:
    """True when the normalised text holds one of the locale's Stop phrases, as whole words."""
    padded = f" {normalised(text)} "
    return any(f" {phrase} " in padded for phrase in phrases.get(locale_id, ()))


class TextResponder:
    """Text goes to the conversational bot, one session per author; its answer is the reply."""

    def __init__(
        self,
        *,
        bot: ConversationBot,
        publisher: EventPublisher,
        guards: ReplyGuards | None = None,
        opt_outs: OptOuts | None = None,
        negative_replies: str = CALM,
    ) -> None:
        if negative_replies not in (CALM, SILENT):
            raise ValueError(f"negative_replies must be {CALM!r} or {SILENT!r}, not {negative_replies!r}")
        self._bot = bot
        self._publisher = publisher
        self._guards = guards
        self._opt_outs = opt_outs
        self._negative_replies = negative_replies
        self._stop_phrases = _stop_phrases()
        self._hello = {
            locale.locale_id: next(
                intent.sample_utterances[0]
                for intent in conversation.intents_for(locale.locale_id)
                if intent.name == conversation.GREETING_NAME
            )
            for locale in conversation.LOCALES
        }

    def respond(self, message: MessageAnalysed) -> Reply | None:
        """The reply, published (SEND_TWEET, or SEND_DM for a direct message); None when nothing is
        sent: a guard refused (REPLY_SKIPPED with the reason), the message was negative and the
        setting is silent (REPLY_SKIPPED "negative message"), or the message was "stop" or "start"
        (answered with the confirmation, if any, instead)."""
        if opt_out_handled(message, self._opt_outs, self._guards, self._publisher):
            return None
        text = without_mentions_and_urls(message.message.text)
        locale_id = conversation.locale_for(_language_of(message))
        negative = message.text.sentiment == NEGATIVE
        if negative and not reads_like_stop(text, locale_id, self._stop_phrases):
            return self._negative(message, locale_id)
        if skipped_by_guards(message, self._guards, self._publisher):
            return None
        if not text and message.message.direct_message is not None:
            # A DM with nothing but a photo (its link is dropped at Ingress): photos in DMs are not
            # looked at, and a greeting inviting a photo would be a bad joke.
            return publish_reply(message, NO_PHOTOS_IN_DMS, self._publisher)
        session = message.message.twitter.user_id or message.message.author or "anonymous"
        # A bare mention says hello, in the locale's own words (the bot has nothing else to go on).
        answer = self._bot.respond(session, text or self._hello[locale_id], locale_id)
        if answer.intent == conversation.STOP_NAME:
            return publish_reply(message, answer.text, self._publisher)  # the question, never an opt-out
        if negative or (message.text.sentiment == MIXED and answer.intent in FUN_INTENTS):
            return self._negative(message, locale_id, guarded=True)
        return publish_reply(message, answer.text, self._publisher)

    def _negative(self, message: MessageAnalysed, locale_id: str, *, guarded: bool = False) -> Reply | None:
        """A calm answer (once the guards allow it), or REPLY_SKIPPED when the setting is silent."""
        if self._negative_replies == SILENT:
            publish_skipped(message, NEGATIVE_MESSAGE, self._publisher)
            return None
        if not guarded and skipped_by_guards(message, self._guards, self._publisher):
            return None
        return publish_reply(message, calm_answer(locale_id, message.message.twitter.tweet_id), self._publisher)


def calm_answer(locale_id: str, post_id: str) -> str:
    """One of the locale's calm answers, chosen by the post's id: a retried post gets the same
    words, different posts spread over all of them (no session to remember what was said: the
    bot is not asked)."""
    answers = calm_answers(locale_id)
    digest = hashlib.sha256(post_id.encode("utf-8")).digest()
    return answers[int.from_bytes(digest[:4], "big") % len(answers)]


def _language_of(message: MessageAnalysed) -> str | None:
    """The post's language as X tagged it; for a direct message (X tags none) or a post X tagged as
    no language ("und", "zxx", and its "q" codes: qme media links only, qht hashtags only, qam
    mentions only, ...), the language the analysis detected."""
    tagged = message.message.lang
    if tagged and tagged.casefold() not in ("und", "zxx") and not tagged.casefold().startswith("q"):
        return tagged
    return message.text.language or tagged
