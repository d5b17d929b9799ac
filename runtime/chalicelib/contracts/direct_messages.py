"""SEND_DM: the answer to a direct message, for Egress to send as a DM. Written by the responders
(through responding/replies.publish_reply), read by Egress.

    {"Text", "Channel": "DM", "DirectMessage": {"EventId", "SenderId", "RecipientId",
     "ConversationId"}, "ReceivedAtMs"}

DirectMessage is the DM answered, as MESSAGE_RECEIVED wrote it: the answer goes to its sender (the
participant of POST /2/dm_conversations/with/:participant_id/messages), and its EventId is Egress's
exactly-once key, so the lake follows a DM from MESSAGE_RECEIVED to REPLY_POSTED by one column.
A DM answer is text only: the bot never sends photos by DM. SEND_TWEET stays the command for
replies to posts (contracts/replies.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.contracts.messages import DM, DirectMessageRef, received_at_ms


@dataclass(frozen=True)
class SendDirectMessage:
    """A DM to send to the sender of `answering`, the direct message it answers."""

    text: str
    answering: DirectMessageRef
    #: When Ingress accepted the DM answered (epoch ms), for the "too old" check and the latency.
    received_at_ms: int | None = None

    @property
    def participant_id(self) -> str:
        """Whom the answer goes to: the person who wrote to the bot."""
        return self.answering.sender_id

    @property
    def reply_to_dm_event_id(self) -> str:
        return self.answering.event_id

    def to_detail(self) -> dict[str, Any]:
        return {"Text": self.text, "Channel": DM, "DirectMessage": self.answering.to_detail()} | (
            {"ReceivedAtMs": self.received_at_ms} if self.received_at_ms is not None else {}
        )

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> SendDirectMessage:
        return cls(
            text=str(detail["Text"]),
            answering=DirectMessageRef.from_detail(detail["DirectMessage"]),
            received_at_ms=received_at_ms(detail),
        )
