"""LexConversationBot against botocore Stubber: the RecognizeText request (in the message's locale),
the intent Lex recognised and the answer's text."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from chalicelib.adapters.lex import (
    MAX_TEXT_CHARS,
    LexConversationBot,
    lex_session_id,
    message_text,
    recognised_intent,
)
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import FALLBACK_INTENT, FALLBACK_MESSAGE
from chalicelib.ports import ConversationAnswer
from hypothesis import given
from hypothesis import strategies as st

BOT = {"botId": "BOTID12345", "botAliasId": "ALIASID123", "localeId": "en_US"}
LEX_SESSION_ID = re.compile(r"[0-9a-zA-Z._:-]{2,100}")


def _client() -> Any:
    return boto3.client("lexv2-runtime", region_name="us-east-1")


def _bot(client: Any) -> LexConversationBot:
    return LexConversationBot(client, bot_id="BOTID12345", bot_alias_id="ALIASID123", locale_id="en_US")


def _answer(*messages: dict[str, Any], intent: str = "Joke") -> dict[str, Any]:
    response: dict[str, Any] = {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent, "state": "Fulfilled", "confirmationState": "None"},
            "sessionAttributes": {"lastJoke": "4"},
        },
        "interpretations": [{"intent": {"name": intent}, "nluConfidence": {"score": 0.93}}],
        "sessionId": "1234567890",
    }
    if messages:
        response["messages"] = list(messages)
    return response


def test_recognize_text_request_and_answer() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer({"contentType": "PlainText", "content": "A joke."}),
            {**BOT, "sessionId": "1234567890", "text": "tell me a joke"},
        )
        assert _bot(client).respond("1234567890", "tell me a joke", "en_US") == ConversationAnswer("Joke", "A joke.")
        stub.assert_no_pending_responses()


def test_text_messages_are_joined_and_others_skipped() -> None:
    client = _client()
    answer = _answer(
        {"contentType": "PlainText", "content": "First."},
        {"contentType": "ImageResponseCard", "imageResponseCard": {"title": "A card"}},
        {"contentType": "CustomPayload", "content": '{"x": 1}'},
        {"contentType": "SSML", "content": "<speak>Second &amp; <break time='1s'/>last.</speak>"},
    )
    with Stubber(client) as stub:
        stub.add_response("recognize_text", answer, {**BOT, "sessionId": "42:a", "text": "hi"})
        assert _bot(client).respond("42:a", "hi", "en_US").text == "First. Second & last."


@pytest.mark.parametrize(
    "answer",
    [
        _answer(intent="FallbackIntent"),
        _answer({"contentType": "PlainText", "content": "   "}),
        _answer({"contentType": "ImageResponseCard", "imageResponseCard": {"title": "A card"}}),
    ],
)
def test_no_text_from_lex_is_the_fallback_message(answer: dict[str, Any]) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("recognize_text", answer, {**BOT, "sessionId": "1234567890", "text": "what's the weather"})
        assert _bot(client).respond("1234567890", "what's the weather", "en_US").text == FALLBACK_MESSAGE


def test_long_text_is_cut_to_lex_limit() -> None:
    client = _client()
    text = "joke " * 400
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer({"contentType": "PlainText", "content": "A joke."}),
            {**BOT, "sessionId": "1234567890", "text": text[:MAX_TEXT_CHARS]},
        )
        assert _bot(client).respond("1234567890", text, "en_US").text == "A joke."
    assert MAX_TEXT_CHARS == 1024


def test_empty_text_does_not_call_lex() -> None:
    client = _client()
    with Stubber(client):  # no response queued: any call would fail
        assert _bot(client).respond("1234567890", "  \n", "en_US") == ConversationAnswer(
            FALLBACK_INTENT, FALLBACK_MESSAGE
        )


def test_session_id_is_sanitised_in_the_request() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer({"contentType": "PlainText", "content": "A fact."}),
            {**BOT, "sessionId": lex_session_id("Zoë Example"), "text": "fact"},
        )
        assert _bot(client).respond("Zoë Example", "fact", "en_US").text == "A fact."


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 429), ("InternalServerException", 500), ("BadGatewayException", 502)],
)
def test_throttling_and_server_errors_propagate(code: str, status: int) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("recognize_text", service_error_code=code, http_status_code=status)
        with pytest.raises(ClientError) as raised:
            _bot(client).respond("1234567890", "tell me a joke", "en_US")
    assert raised.value.response["Error"]["Code"] == code


@pytest.mark.parametrize("session", ["1234567890", "user.name:1-2_3", "ab", "x" * 100])
def test_valid_session_ids_are_kept(session: str) -> None:
    assert lex_session_id(session) == session


@given(st.text(max_size=300))
def test_any_session_key_becomes_a_valid_and_stable_session_id(session: str) -> None:
    sanitised = lex_session_id(session)
    assert LEX_SESSION_ID.fullmatch(sanitised)
    assert lex_session_id(session) == sanitised


def test_different_keys_keep_different_sessions() -> None:
    keys = ["a b", "a_b", "a?b", "é", "", "x", "y" * 101, "y" * 102]
    assert len({lex_session_id(key) for key in keys}) == len(keys)


def test_message_text_of_nothing() -> None:
    assert message_text(None) is None
    assert message_text([]) is None


@pytest.mark.parametrize("locale", ["es_ES", "fr_FR", "de_DE"])
def test_the_request_uses_the_messages_locale_and_answers_its_intent(locale: str) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer({"contentType": "PlainText", "content": "Hola."}, intent="Greeting"),
            {**BOT, "localeId": locale, "sessionId": "1234567890", "text": "hola"},
        )
        assert _bot(client).respond("1234567890", "hola", locale) == ConversationAnswer("Greeting", "Hola.")
        stub.assert_no_pending_responses()


def test_a_locale_the_bot_lacks_uses_the_configured_default() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer({"contentType": "PlainText", "content": "Hi."}, intent="Greeting"),
            {**BOT, "sessionId": "1234567890", "text": "hi"},
        )
        assert _bot(client).respond("1234567890", "hi", "ja_JP").text == "Hi."


@pytest.mark.parametrize("locale", ["es_ES", "fr_FR", "de_DE"])
def test_silence_from_lex_is_the_locales_fallback_message(locale: str) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "recognize_text",
            _answer(intent="FallbackIntent"),
            {**BOT, "localeId": locale, "sessionId": "12", "text": "x"},
        )
        answer = _bot(client).respond("12", "x", locale)
    assert answer == ConversationAnswer(FALLBACK_INTENT, conversation.locale(locale).fallback_message)
    assert answer.text != FALLBACK_MESSAGE


@pytest.mark.parametrize(
    ("response", "intent"),
    [
        ({"sessionState": {"intent": {"name": "Stop"}}, "interpretations": [{"intent": {"name": "Joke"}}]}, "Stop"),
        ({"sessionState": {}, "interpretations": [{"intent": {"name": "Thanks"}}]}, "Thanks"),
        ({"interpretations": [{"nluConfidence": {"score": 0.2}}, {"intent": {"name": "Help"}}]}, "Help"),
        ({"sessionState": {"intent": {"name": ""}}}, FALLBACK_INTENT),
        ({}, FALLBACK_INTENT),
    ],
)
def test_the_recognised_intent(response: dict[str, Any], intent: str) -> None:
    assert recognised_intent(response) == intent
