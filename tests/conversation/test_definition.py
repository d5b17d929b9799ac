"""The bot definition (chalicelib.contracts.conversation): its intents, their sample utterances in
every locale, and what Lex V2 would refuse to build."""

from __future__ import annotations

import re
import unicodedata

import pytest
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import LOCALES, SMALL_TALK, Intent, Locale, intents_for, locale, locale_for
from chalicelib.responding.smalltalk import ANSWERS, CALM

ENGLISH_INTENTS = ("Greeting", "Thanks", "Help", "WhoAreYou", "Compliment", "Stop", "Joke", "Fact")
#: Letters (any script's), spaces and apostrophes: what the samples are written with.
SAMPLE_CHARACTERS = re.compile(r"[^\W\d_]+(?:['\u2019 ][^\W\d_]+)*")
#: "@" + the longest X handle (15) + a space, in front of every reply.
ADDRESS = len("@") + 15 + len(" ")

BY_LOCALE = pytest.mark.parametrize("loc", LOCALES, ids=lambda loc: loc.locale_id)


def key(utterance: str) -> str:
    """An utterance as Lex compares them: case, accents, apostrophes and punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", utterance.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+", " ", re.sub(r"['\u2019`]", "", plain)).split())


def test_the_intent_names_are_fixed() -> None:
    assert tuple(intent.name for intent in conversation.INTENTS) == ENGLISH_INTENTS
    assert conversation.FALLBACK_INTENT == "FallbackIntent"
    assert ENGLISH_INTENTS[:6] == SMALL_TALK


def test_the_locales() -> None:
    assert [(loc.locale_id, loc.language) for loc in LOCALES] == [
        ("en_US", "en"),
        ("es_ES", "es"),
        ("fr_FR", "fr"),
        ("de_DE", "de"),
    ]
    assert LOCALES[0].intents == conversation.INTENTS
    for loc in LOCALES[1:]:
        assert tuple(intent.name for intent in loc.intents) == ENGLISH_INTENTS


def test_english_has_thirty_samples_per_intent() -> None:
    for intent in conversation.INTENTS:
        assert len(intent.sample_utterances) >= 30, intent.name


@BY_LOCALE
def test_other_languages_have_fifteen_samples_per_intent(loc: Locale) -> None:
    for intent in loc.intents:
        assert len(intent.sample_utterances) >= 15, (loc.locale_id, intent.name)


@BY_LOCALE
def test_no_utterance_belongs_to_two_intents_or_twice_to_one(loc: Locale) -> None:
    """Lex V2 refuses to build a locale where two intents share an utterance."""
    seen: dict[str, str] = {}
    for intent in loc.intents:
        for utterance in intent.sample_utterances:
            assert key(utterance) not in seen, (utterance, seen.get(key(utterance)), intent.name)
            seen[key(utterance)] = intent.name


@BY_LOCALE
def test_samples_are_words_only(loc: Locale) -> None:
    for intent in loc.intents:
        for utterance in intent.sample_utterances:
            assert SAMPLE_CHARACTERS.fullmatch(utterance), utterance
            assert len(utterance) <= 100, utterance


@BY_LOCALE
def test_every_intent_has_a_description(loc: Locale) -> None:
    for intent in loc.intents:
        assert isinstance(intent, Intent) and intent.description.endswith(".")


@pytest.mark.parametrize(
    ("lang", "locale_id"),
    [
        ("en", "en_US"),
        ("en-gb", "en_US"),
        ("es", "es_ES"),
        ("es-419", "es_ES"),
        ("fr", "fr_FR"),
        ("FR", "fr_FR"),
        ("de", "de_DE"),
        ("de_AT", "de_DE"),
        ("ja", "en_US"),
        ("ar", "en_US"),
        ("und", "en_US"),
        ("zxx", "en_US"),
        ("", "en_US"),
        (None, "en_US"),
    ],
)
def test_a_posts_language_picks_a_locale(lang: str | None, locale_id: str) -> None:
    assert locale_for(lang) == locale_id


def test_locale_lookup_falls_back_to_english() -> None:
    assert locale("fr_FR").language == "fr"
    assert locale("ja_JP") is LOCALES[0]
    assert locale(None) is LOCALES[0]


def test_english_intents_are_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Intent("Weather", "The user asks about the weather.", ("is it raining",))
    monkeypatch.setattr(conversation, "INTENTS", (*conversation.INTENTS, extra))
    assert intents_for("en_US")[-1] is extra
    assert extra not in intents_for("es_ES")


def test_the_threshold_and_names_are_kept() -> None:
    assert 0.0 < conversation.NLU_CONFIDENCE_THRESHOLD < 1.0
    assert conversation.BOT_NAME == "XBotConversation"
    assert conversation.LOCALE_ID == conversation.DEFAULT_LOCALE_ID == "en_US"


# --- the answers (responding/smalltalk.py) fit a reply --------------------------------------------


def _all_answers() -> list[tuple[str, str, tuple[str, ...]]]:
    found = [(loc, intent, answers) for loc, by_intent in ANSWERS.items() for intent, answers in by_intent.items()]
    found.extend((loc, "calm", answers) for loc, answers in CALM.items())
    return found


@pytest.mark.parametrize(("loc", "intent", "answers"), _all_answers())
def test_answers_fit_a_reply_on_x_and_do_not_repeat(loc: str, intent: str, answers: tuple[str, ...]) -> None:
    assert len(answers) >= 3, (loc, intent)
    assert len(set(answers)) == len(answers)
    for answer in answers:
        assert answer == answer.strip() and "  " not in answer and "\n" not in answer
        assert all(ord(char) < 0x1100 for char in answer), answer  # X weight 1 each: no emoji, no CJK
        assert "http" not in answer
        assert ADDRESS + len(answer) <= 280, answer


def test_every_locale_has_answers_for_its_intents_calm_ones_and_a_fallback() -> None:
    for loc in LOCALES:
        names = {intent.name for intent in loc.intents} - {"Joke", "Fact"}
        assert names <= ANSWERS[loc.locale_id].keys()
        assert ANSWERS[loc.locale_id]["FallbackIntent"][0] == loc.fallback_message
        assert CALM[loc.locale_id]
