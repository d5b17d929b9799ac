"""ComprehendTextAnalyser against botocore Stubber: languages, truncation, key phrases on and off."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from chalicelib.adapters.comprehend import (
    MAX_TEXT_BYTES,
    ComprehendTextAnalyser,
    comprehend_language,
    truncate_utf8,
)
from hypothesis import given
from hypothesis import strategies as st

SCORE = {"Positive": 0.01, "Negative": 0.9, "Neutral": 0.07, "Mixed": 0.02}
SENTIMENT = {"Sentiment": "NEGATIVE", "SentimentScore": SCORE}
ENTITIES = {
    "Entities": [{"Score": 0.99, "Type": "PERSON", "Text": "Jane", "BeginOffset": 0, "EndOffset": 4}],
}
PHRASES = {"KeyPhrases": [{"Score": 0.98, "Text": "the service", "BeginOffset": 10, "EndOffset": 21}]}


def _client() -> Any:
    return boto3.client("comprehend", region_name="us-east-1")


@pytest.mark.parametrize(
    ("x_code", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-gb", "en"),
        ("pt", "pt"),
        ("pt-BR", "pt"),
        ("zh", "zh"),
        ("zh-cn", "zh"),
        ("zh_CN", "zh"),
        ("zh-Hans", "zh"),
        ("zh-tw", "zh-TW"),
        ("zh-TW", "zh-TW"),
        ("zh-hk", "zh-TW"),
        ("ja", "ja"),
        ("ko", "ko"),
        ("ar", "ar"),
        ("hi", "hi"),
        ("und", None),
        ("qme", None),
        ("qht", None),
        ("zxx", None),
        ("ru", None),
        ("in", None),
        ("", None),
        (None, None),
    ],
)
def test_language_codes_map_to_comprehend(x_code: str | None, expected: str | None) -> None:
    assert comprehend_language(x_code) == expected
    if x_code is not None:
        assert ComprehendTextAnalyser(_client()).supports(x_code) is (expected is not None)


def test_sentiment_and_entities_without_key_phrases_by_default() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("detect_sentiment", SENTIMENT, {"Text": "Jane hates the service", "LanguageCode": "en"})
        stub.add_response("detect_entities", ENTITIES, {"Text": "Jane hates the service", "LanguageCode": "en"})
        analysis = ComprehendTextAnalyser(client).analyse("Jane hates the service", "en-gb", key_phrases=False)
        stub.assert_no_pending_responses()
    assert analysis.to_detail() == {
        "TextSentiment": "NEGATIVE",
        "SentimentScore": SCORE,
        "TextEntities": [{"Text": "Jane", "Type": "PERSON", "Score": 0.99, "BeginOffset": 0, "EndOffset": 4}],
        "KeyPhrases": [],
        "Language": "en",
    }


def test_key_phrases_when_asked() -> None:
    client = _client()
    text = "Jane hates the service"
    with Stubber(client) as stub:
        stub.add_response("detect_sentiment", SENTIMENT, {"Text": text, "LanguageCode": "zh-TW"})
        stub.add_response("detect_entities", ENTITIES, {"Text": text, "LanguageCode": "zh-TW"})
        stub.add_response("detect_key_phrases", PHRASES, {"Text": text, "LanguageCode": "zh-TW"})
        analysis = ComprehendTextAnalyser(client).analyse(text, "zh-tw", key_phrases=True)
        stub.assert_no_pending_responses()
    assert analysis.key_phrases == [{"Text": "the service", "Score": 0.98, "BeginOffset": 10, "EndOffset": 21}]
    assert analysis.language == "zh-TW"


def test_long_text_is_cut_on_a_character_boundary_for_every_call() -> None:
    client = _client()
    text = "€" * 2000  # 3 bytes each: 6,000 bytes
    expected = "€" * (MAX_TEXT_BYTES // 3)
    with Stubber(client) as stub:
        for operation, response in (("detect_sentiment", SENTIMENT), ("detect_entities", ENTITIES)):
            stub.add_response(operation, response, {"Text": expected, "LanguageCode": "fr"})
        stub.add_response("detect_key_phrases", PHRASES, {"Text": expected, "LanguageCode": "fr"})
        ComprehendTextAnalyser(client).analyse(text, "fr", key_phrases=True)
        stub.assert_no_pending_responses()


def test_unsupported_language_and_empty_text_make_no_call() -> None:
    client = _client()
    with Stubber(client) as stub:
        analyser = ComprehendTextAnalyser(client)
        with pytest.raises(ValueError, match="cannot analyse language 'und'"):
            analyser.analyse("hello", "und", key_phrases=False)
        with pytest.raises(ValueError, match="no text"):
            analyser.analyse("   ", "en", key_phrases=False)
        assert analyser.detect_language("  \n") is None
        stub.assert_no_pending_responses()


def test_detect_language_returns_the_best_scored_code() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "detect_dominant_language",
            {"Languages": [{"LanguageCode": "es", "Score": 0.3}, {"LanguageCode": "zh-TW", "Score": 0.6}]},
            {"Text": "hola 你好"},
        )
        stub.add_response("detect_dominant_language", {"Languages": []}, {"Text": "???"})
        analyser = ComprehendTextAnalyser(client)
        assert analyser.detect_language("hola 你好") == "zh-TW"
        assert analyser.detect_language("???") is None


def test_detect_language_truncates_too() -> None:
    client = _client()
    text = "é" * 3000  # 2 bytes each
    with Stubber(client) as stub:
        stub.add_response(
            "detect_dominant_language",
            {"Languages": [{"LanguageCode": "fr", "Score": 0.9}]},
            {"Text": "é" * 2500},
        )
        assert ComprehendTextAnalyser(client).detect_language(text) == "fr"


def test_throttling_propagates_for_the_workflow_to_retry() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
        with pytest.raises(ClientError, match="ThrottlingException"):
            ComprehendTextAnalyser(client).analyse("hello", "en", key_phrases=False)


@given(st.text(max_size=3000), st.integers(min_value=0, max_value=6000))
def test_truncation_is_the_longest_prefix_that_fits(text: str, limit: int) -> None:
    cut = truncate_utf8(text, limit)
    assert text.startswith(cut)
    assert len(cut.encode("utf-8")) <= limit
    if cut != text:
        assert len((cut + text[len(cut)]).encode("utf-8")) > limit
