"""Ingress: check a webhook call, turn the delivery into events and put them on the bus."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.contracts import names
from chalicelib.contracts.envelope import BusEvent
from chalicelib.ingress import signature
from chalicelib.ingress.translate import rejection, translate_delivery
from chalicelib.kernel.delivery_json import NotAnObjectError, RejectedError, parse_delivery
from chalicelib.publishing import EventPublisher

if TYPE_CHECKING:
    # An annotation only: importing chalicelib.ports (its Protocols) would cost the webhook's import.
    from chalicelib.ports import SecretProvider


class IngressError(Exception):
    """A webhook call the service refuses; `status` is the HTTP answer."""

    status = 400


class InvalidCrcTokenError(IngressError):
    status = 400


class PayloadTooLargeError(IngressError):
    status = 413


class BadSignatureError(IngressError):
    status = 401


class InvalidDeliveryError(IngressError):
    status = 400


@dataclass(frozen=True)
class DeliveryReceipt:
    """What an accepted delivery put on the bus: each event's id and detail-type, in order."""

    event_ids: list[str]
    detail_types: list[str]

    @property
    def rejected(self) -> int:
        """How many DELIVERY_REJECTED events record parts of the delivery that were not processed."""
        return self.detail_types.count(names.DELIVERY_REJECTED)


class IngressService:
    def __init__(
        self,
        *,
        secrets: SecretProvider,
        publisher: EventPublisher,
        bot_user_id: str | None,
        max_body_bytes: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._publisher = publisher
        self._bot_user_id = bot_user_id
        self._max_body_bytes = max_body_bytes
        self._now = now

    def answer_crc(self, crc_token: str | None) -> dict[str, str]:
        if not crc_token:
            raise InvalidCrcTokenError("crc_token is required")
        if not signature.is_valid_crc_token(crc_token):
            raise InvalidCrcTokenError("crc_token must be 1 to 256 characters of A-Z a-z 0-9 + / = _ -")
        return signature.crc_response(self._secrets.consumer_secret(), crc_token)

    def receive(self, body: bytes, signature_header: str | None) -> DeliveryReceipt:
        """Accept a delivery once every event it stands for is on the bus.

        A signed delivery is always accepted: what in it cannot be processed is published as a
        DELIVERY_REJECTED event with its reason instead. Raises an IngressError for a call to
        refuse (unsigned, too large, not a JSON object), PublishError when the bus did not take it.
        """
        if len(body) > self._max_body_bytes:
            raise PayloadTooLargeError(f"body over {self._max_body_bytes} bytes")
        if not signature.is_valid_signature(self._secrets.consumer_secret(), body, signature_header):
            raise BadSignatureError("missing or invalid x-twitter-webhooks-signature")
        events = _stamped(self._events_of(body), received_at_ms=int(self._now() * 1000))
        event_ids = self._publisher.publish(events)
        return DeliveryReceipt(event_ids=event_ids, detail_types=[event.detail_type for event in events])

    def _events_of(self, body: bytes) -> list[BusEvent]:
        try:
            delivery = parse_delivery(body)
        except NotAnObjectError as error:
            raise InvalidDeliveryError(str(error)) from error
        except RejectedError as error:
            return [rejection(f"delivery refused: {error}", key="body", excerpt=_excerpt_of_body(body))]
        try:
            return translate_delivery(delivery, self._bot_user_id)
        except Exception as error:  # a signed delivery is recorded, never answered 5xx
            reason = f"delivery not translated: internal error {type(error).__name__}"
            return [rejection(reason, key="body", excerpt=_excerpt_of_body(body))]


def _stamped(events: list[BusEvent], *, received_at_ms: int) -> list[BusEvent]:
    """MESSAGE_RECEIVED events carry when the delivery was accepted (ReceivedAtMs), for the
    delivery-to-reply latency Egress reports in REPLY_POSTED."""
    return [
        replace(event, detail={**event.detail, "ReceivedAtMs": received_at_ms})
        if event.detail_type == names.MESSAGE_RECEIVED
        else event
        for event in events
    ]


def _excerpt_of_body(body: bytes) -> str:
    return body[:1024].decode("utf-8", errors="replace")
