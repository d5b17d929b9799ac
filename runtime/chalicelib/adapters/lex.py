"""Lex V2 behind the ConversationBot port: one RecognizeText call per message.

Errors from Lex propagate unchanged: throttling and server errors fail the invocation, and
EventBridge retries the event.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from chalicelib.contracts.conversation import FALLBACK_MESSAGE

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


class LexConversationBot:
    """chalicelib.ports.ConversationBot on a Lex V2 bot alias (lexv2-runtime RecognizeText)."""

    def __init__(self, client: LexRuntimeV2Client, *, bot_id: str, bot_alias_id: str, locale_id: str) -> None:
        self._client = client
        self._bot_id = bot_id
        self._bot_alias_id = bot_alias_id
        self._locale_id = locale_id

    def respond(self, session_id: str, text: str) -> str:
        """Lex's answer to `text` in the author's session, or FALLBACK_MESSAGE when it says nothing."""
        if not text.strip():
            return FALLBACK_MESSAGE  # RecognizeText rejects empty text; there is nothing to recognise
        response = self._client.recognize_text(
            botId=self._bot_id,
            botAliasId=self._bot_alias_id,
            localeId=self._locale_id,
            sessionId=lex_session_id(session_id),
            text=lex_text(text),
        )
        return message_text(response.get("messages")) or FALLBACK_MESSAGE
