"""The local runtime's conversational bot: one intent matcher per locale (chalicelib.smallmodels.intents,
built from the bot definition's intents of that locale) in front of the same fulfilment function Lex
calls on AWS, given the Lex V2 event chalicelib.smallmodels.conversation makes.

Session attributes are kept per session and locale in memory, as Lex keeps them between turns (a
Lex session belongs to one locale). Unlike Lex's, a local session does not expire when idle: the
least recently used is forgotten past MAX_SESSIONS.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from chalicelib.adapters.lex import lex_text, message_text
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import DEFAULT_LOCALE_ID, NLU_CONFIDENCE_THRESHOLD
from chalicelib.ports import ConversationAnswer
from chalicelib.smallmodels.conversation import fulfilment_event
from chalicelib.smallmodels.intents import IntentMatcher

#: Sessions kept in memory; the least recently used one is forgotten first.
MAX_SESSIONS: Final = 10_000


class LocalConversationBot:
    """chalicelib.ports.ConversationBot for the local runtime: matcher + the Lex fulfilment function.

    `fulfil` receives a Lex V2 code-hook event and answers in Lex V2's response format: the same
    function the Lex bot calls on AWS. Thread-safe: one session's turns run one at a time.
    """

    def __init__(
        self,
        fulfil: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        threshold: float = NLU_CONFIDENCE_THRESHOLD,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._fulfil = fulfil
        # Read at construction, from the module: the definition is the only source of intents.
        self.matchers = {
            locale.locale_id: IntentMatcher(conversation.intents_for(locale.locale_id), threshold=threshold)
            for locale in conversation.LOCALES
        }
        self._max_sessions = max_sessions
        self._attributes: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._session_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def matcher(self) -> IntentMatcher:
        """The default (English) locale's matcher."""
        return self.matchers[DEFAULT_LOCALE_ID]

    def respond(self, session_id: str, text: str, locale: str = DEFAULT_LOCALE_ID) -> ConversationAnswer:
        """The intent matched in `locale` (the default locale's for one the definition lacks) and
        the fulfilment's answer; the locale's fallback message when the fulfilment says nothing."""
        locale_id = conversation.locale(locale).locale_id
        text = lex_text(text)
        match = self.matchers[locale_id].match(text)
        key = (session_id, locale_id)
        with self._session_lock(key):
            with self._lock:
                attributes = dict(self._attributes.get(key, {}))
            response = self._fulfil(fulfilment_event(session_id, locale_id, text, match, attributes))
            state = response.get("sessionState") or {}
            with self._lock:
                self._attributes[key] = dict(state.get("sessionAttributes") or {})
                self._attributes.move_to_end(key)
                while len(self._attributes) > self._max_sessions:
                    forgotten, _ = self._attributes.popitem(last=False)
                    self._session_locks.pop(forgotten, None)
        fallback = conversation.locale(locale_id).fallback_message
        return ConversationAnswer(match.intent, message_text(response.get("messages")) or fallback)

    def _session_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            return self._session_locks.setdefault(key, threading.Lock())
