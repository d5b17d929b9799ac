"""What a conversational bot made of intent matchers needs besides the matchers: the Lex V2
fulfilment code-hook event for a matched message, so the same fulfilment function Lex calls on AWS
answers it. The local runtime's bot keeps its sessions in memory; the
economy profile's will keep them in a store that outlives a Lambda container.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.contracts.conversation import BOT_NAME, FALLBACK_INTENT
from chalicelib.smallmodels.intents import Match


def fulfilment_event(
    session_id: str, locale_id: str, text: str, match: Match, attributes: dict[str, str]
) -> dict[str, Any]:
    """A Lex V2 fulfilment code-hook event, as Lex sends it to the Lambda function."""
    interpretations: list[dict[str, Any]] = [
        {
            "intent": _intent(name, "ReadyForFulfillment" if name == match.intent else "InProgress"),
            "nluConfidence": round(score, 2),
            "interpretationSource": "Lex",
        }
        for name, score in sorted(match.scores.items(), key=lambda item: item[1], reverse=True)
    ]
    fallback = {"intent": _intent(FALLBACK_INTENT, "InProgress"), "interpretationSource": "Lex"}
    if match.intent == FALLBACK_INTENT:
        fallback["intent"] = _intent(FALLBACK_INTENT, "ReadyForFulfillment")
        interpretations.insert(0, fallback)
    else:
        interpretations.append(fallback)
    return {
        "messageVersion": "1.0",
        "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session_id,
        "inputTranscript": text,
        "bot": {
            "id": "LOCAL",
            "name": BOT_NAME,
            "aliasId": "LOCAL",
            "aliasName": "local",
            "localeId": locale_id,
            "version": "DRAFT",
        },
        "interpretations": interpretations,
        "requestAttributes": {},
        "sessionState": {
            "sessionAttributes": attributes,
            "intent": _intent(match.intent, "ReadyForFulfillment"),
            "originatingRequestId": str(uuid.uuid4()),
        },
    }


def _intent(name: str, state: str) -> dict[str, Any]:
    return {"name": name, "slots": {}, "state": state, "confirmationState": "None"}
