"""SNS behind the AlertSink port: negative-message alerts go to one (encrypted) topic."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

#: SNS refuses a Subject longer than 100 characters, or one with control characters or line
#: breaks; it must start with a letter, number or punctuation mark. It is shown as an e-mail subject.
MAX_SUBJECT_CHARS: Final = 100
#: SNS's limit for one message (256 KiB, UTF-8), less room for the attributes.
MAX_MESSAGE_BYTES: Final = 256 * 1024 - 8 * 1024
#: SNS allows at most 10 message attributes on a message.
MAX_ATTRIBUTES: Final = 10
_ELLIPSIS: Final = "..."


def sanitize_subject(subject: str) -> str:
    """A Subject SNS accepts: printable ASCII on one line, at most 100 characters, never empty.

    Accents are folded ("Café" -> "Cafe") and other characters dropped, since the subject of a post
    can hold anything (emoji, right-to-left marks, new lines) and a refused Subject loses the alert.
    """
    folded = unicodedata.normalize("NFKD", subject).encode("ascii", errors="ignore").decode("ascii")
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in folded).split())
    if not cleaned:
        cleaned = "Alert"
    if len(cleaned) > MAX_SUBJECT_CHARS:
        cleaned = cleaned[: MAX_SUBJECT_CHARS - len(_ELLIPSIS)].rstrip() + _ELLIPSIS
    return cleaned


def _truncate_message(message: str) -> str:
    encoded = message.encode("utf-8")
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return message
    return encoded[: MAX_MESSAGE_BYTES - len(_ELLIPSIS)].decode("utf-8", errors="ignore") + _ELLIPSIS


class SnsAlertSink:
    """chalicelib.ports.AlertSink on an SNS topic. Errors propagate: the caller's retry decides."""

    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
        if len(attributes) > MAX_ATTRIBUTES:
            raise ValueError(f"SNS allows at most {MAX_ATTRIBUTES} message attributes, got {len(attributes)}")
        # SNS refuses attributes with an empty value, so those are left out rather than sent.
        message_attributes: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items() if value
        }
        self._client.publish(
            TopicArn=self._topic_arn,
            Subject=sanitize_subject(subject),
            Message=_truncate_message(message),
            MessageAttributes=message_attributes,
        )
