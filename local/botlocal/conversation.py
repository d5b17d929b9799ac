"""The local runtime's conversational bot: the runtime's IntentMatcherBot (chalicelib.adapters.intent_bot,
which the economy profile also runs on Lambda) with its sessions in memory.

Unlike Lex's (and the economy profile's DynamoDB sessions), a local session does not expire when
idle: the least recently used is forgotten past MAX_SESSIONS.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from chalicelib.adapters.intent_bot import IntentMatcherBot
from chalicelib.contracts.conversation import NLU_CONFIDENCE_THRESHOLD

#: Sessions kept in memory; the least recently used one is forgotten first.
MAX_SESSIONS: Final = 10_000


class MemoryConversationSessions:
    """chalicelib.ports.ConversationSessions in memory, the least recently used forgotten first."""

    def __init__(self, *, max_sessions: int = MAX_SESSIONS) -> None:
        self._max_sessions = max_sessions
        #: The attributes by (session, locale), least recently used first.
        self.remembered: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, session_id: str, locale_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self.remembered.get((session_id, locale_id), {}))

    def save(self, session_id: str, locale_id: str, attributes: dict[str, str]) -> None:
        key = (session_id, locale_id)
        with self._lock:
            self.remembered[key] = dict(attributes)
            self.remembered.move_to_end(key)
            while len(self.remembered) > self._max_sessions:
                self.remembered.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self.remembered)


class LocalConversationBot(IntentMatcherBot):
    """chalicelib.ports.ConversationBot for the local runtime: matcher + the Lex fulfilment function,
    sessions in memory (see IntentMatcherBot)."""

    def __init__(
        self,
        fulfil: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        threshold: float = NLU_CONFIDENCE_THRESHOLD,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.sessions = MemoryConversationSessions(max_sessions=max_sessions)
        super().__init__(fulfil, self.sessions, threshold=threshold)

    @property
    def _attributes(self) -> OrderedDict[tuple[str, str], dict[str, str]]:
        # What tests/conversation/test_locales.py reads from before the sessions became a port
        # (the remembered attributes by (session, locale)); new code reads `sessions`.
        return self.sessions.remembered
