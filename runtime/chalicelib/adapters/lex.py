"""Lex V2 behind the ConversationBot port: one RecognizeText call per message, in the message's
locale (each locale of the bot definition is a locale of the Lex bot), answering the intent Lex
recognised and its text.

Errors from Lex propagate unchanged: throttling and server errors fail the invocation, and
EventBridge retries the event.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import DEFAULT_LOCALE_ID, FALLBACK_INTENT
from chalicelib.ports import ConversationAnswer

if TYPE_CHECKING:
    from mypy_boto3_lexv2_runtime import LexRuntimeV2Client

#: RecognizeText's limits on its sessionId (pattern and length) and text (length).
SESSION_ID_PATTERN: Final = re.compile(r"[0-9a-zA-Z._:-]+")
MIN_SESSION_ID: Final = 2
MAX_SESSION_ID: Final = 100
MAX_TEXT_CHARS: Final = 1024

#: Message types whose content is text we can post (image cards and custom payloads are not).
TEXT_CONTENT_TYPES: Final = frozenset({"PlainText", "SSML"})

_NOT_ALLOWED: Final = re.compile(r"[^0-9a-zA-Z._:-]")
_TAG: Final = re.compile(r"<[^>]*>")
_SPACES: Final = re.compile(r"\s+")


def lex_session_id(session_id: str) -> str:
    """A sessionId Lex accepts ([0-9a-zA-Z._:-], 2 to 100 characters) for any session key.

    A key that already fits is used as is (X user ids do). Any other key is cleaned up and given a
    hash of the original, so that two different keys never share a session.
    """
    if MIN_SESSION_ID <= len(session_id) <= MAX_SESSION_ID and SESSION_ID_PATTERN.fullmatch(session_id):
        return session_id
    digest = hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:16]
    cleaned = _NOT_ALLOWED.sub("_", session_id)[: MAX_SESSION_ID - len(digest) - 1]
    return f"{cleaned}-{digest}" if cleaned else digest


def lex_text(text: str) -> str:
    """The text as RecognizeText takes it: at most 1,024 characters."""
    return text[:MAX_TEXT_CHARS]


def message_text(messages: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The text of Lex's messages, joined by a space; None when there is none.

    SSML loses its markup (X posts plain text).
    """
    parts: list[str] = []
    for message in messages or ():
        if message.get("contentType") not in TEXT_CONTENT_TYPES:
            continue
        content = message.get("content")
        if not isinstance(content, str):
            continue
        if message.get("contentType") == "SSML":
            content = html.unescape(_TAG.sub(" ", content))
        content = _SPACES.sub(" ", content).strip()
        if content:
            parts.append(content)
    return " ".join(parts) or None


def recognised_intent(response: Mapping[str, Any]) -> str:
    """The intent Lex closed the turn with (sessionState.intent.name), else its top interpretation's,
    else FALLBACK_INTENT."""
    state = response.get("sessionState")
    intent = state.get("intent") if isinstance(state, Mapping) else None
    name = intent.get("name") if isinstance(intent, Mapping) else None
    if isinstance(name, str) and name:
        return name
    for interpretation in response.get("interpretations") or ():
        candidate = interpretation.get("intent") if isinstance(interpretation, Mapping) else None
        name = candidate.get("name") if isinstance(candidate, Mapping) else None
        if isinstance(name, str) and name:
            return name
    return FALLBACK_INTENT


class LexConversationBot:
    """chalicelib.ports.ConversationBot on a Lex V2 bot alias (lexv2-runtime RecognizeText).

    `locale_id` is the locale used for a locale the bot definition does not have (LEX_LOCALE_ID).
    """

    def __init__(
        self, client: LexRuntimeV2Client, *, bot_id: str, bot_alias_id: str, locale_id: str = DEFAULT_LOCALE_ID
    ) -> None:
        self._client = client
        self._bot_id = bot_id
        self._bot_alias_id = bot_alias_id
        self._default_locale = locale_id

    def respond(self, session_id: str, text: str, locale: str) -> ConversationAnswer:
        """Lex's intent and answer to `text` in the author's session; the locale's fallback message
        when Lex says nothing."""
        locale_id = locale if locale in conversation.LOCALE_IDS else self._default_locale
        fallback = conversation.locale(locale_id).fallback_message
        if not text.strip():
            # RecognizeText rejects empty text; there is nothing to recognise.
            return ConversationAnswer(FALLBACK_INTENT, fallback)
        response = self._client.recognize_text(
            botId=self._bot_id,
            botAliasId=self._bot_alias_id,
            localeId=locale_id,
            sessionId=lex_session_id(session_id),
            text=lex_text(text),
        )
        answer = message_text(response.get("messages")) or fallback
        return ConversationAnswer(recognised_intent(response), answer)
