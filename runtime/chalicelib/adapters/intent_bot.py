"""A conversational bot without Lex: one intent matcher per locale (chalicelib.smallmodels.intents,
built from the bot definition's intents of that locale) in front of the same fulfilment function
Lex calls on AWS, given the Lex V2 event chalicelib.smallmodels.conversation makes.

Used by the economy profile (chalicelib.adapters.economy, sessions in DynamoDB) and by the local
runtime (its conversation module, sessions in memory). Session attributes are kept per session and
locale through the ConversationSessions port, as Lex keeps them between turns (a Lex session
belongs to one locale).
"""

from __future__ import annotations

import threading
import zlib
from typing import TYPE_CHECKING, Final

from chalicelib.adapters.lex import lex_text, message_text
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import DEFAULT_LOCALE_ID, NLU_CONFIDENCE_THRESHOLD
from chalicelib.ports import ConversationAnswer
from chalicelib.smallmodels.conversation import fulfilment_event
from chalicelib.smallmodels.intents import IntentMatcher

if TYPE_CHECKING:
    from chalicelib.ports import ConversationSessions, Fulfilment

#: Turns of one session run one at a time (read, fulfil, write): a bounded set of locks, picked by
#: the session's hash, so memory does not grow with the number of sessions ever seen.
SESSION_LOCKS: Final = 64


class IntentMatcherBot:
    """chalicelib.ports.ConversationBot: matcher + the Lex fulfilment function, sessions in `sessions`.

    `fulfil` receives a Lex V2 code-hook event and answers in Lex V2's response format: the same
    function the Lex bot calls on AWS. Thread-safe: one session's turns run one at a time within a
    process (across processes the store's last write wins, as two Lex turns at once would).
    """

    def __init__(
        self, fulfil: Fulfilment, sessions: ConversationSessions, *, threshold: float = NLU_CONFIDENCE_THRESHOLD
    ) -> None:
        self._fulfil = fulfil
        self._sessions = sessions
        # Read at construction, from the module: the definition is the only source of intents.
        self.matchers = {
            locale.locale_id: IntentMatcher(conversation.intents_for(locale.locale_id), threshold=threshold)
            for locale in conversation.LOCALES
        }
        self._locks = tuple(threading.Lock() for _ in range(SESSION_LOCKS))

    @property
    def matcher(self) -> IntentMatcher:
        """The default (English) locale's matcher."""
        return self.matchers[DEFAULT_LOCALE_ID]

    def respond(self, session_id: str, text: str, locale: str = DEFAULT_LOCALE_ID) -> ConversationAnswer:
        """The intent matched in `locale` (the default locale's for one the definition lacks) and
        the fulfilment's answer; the locale's fallback message when the fulfilment says nothing."""
        spec = conversation.locale(locale)
        locale_id = spec.locale_id
        text = lex_text(text)
        match = self.matchers[locale_id].match(text)
        with self._lock_of(session_id, locale_id):
            attributes = dict(self._sessions.load(session_id, locale_id))
            response = self._fulfil(fulfilment_event(session_id, locale_id, text, match, attributes))
            state = response.get("sessionState") or {}
            self._sessions.save(session_id, locale_id, dict(state.get("sessionAttributes") or {}))
        return ConversationAnswer(match.intent, message_text(response.get("messages")) or spec.fallback_message)

    def _lock_of(self, session_id: str, locale_id: str) -> threading.Lock:
        key = f"{locale_id}\x00{session_id}".encode()
        return self._locks[zlib.crc32(key) % len(self._locks)]
