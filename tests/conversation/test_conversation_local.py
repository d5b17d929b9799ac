"""The local intent matcher (chalicelib.smallmodels.intents), built from the bot definition, and the English jokes,
facts and fallback it leads to through the real fulfilment. The bot's sessions, locales, thresholds
and Lex events are tested in test_locales.py."""

from __future__ import annotations

from unittest import mock

import pytest
from botlocal.conversation import LocalConversationBot
from chalicelib.contracts import conversation
from chalicelib.contracts.conversation import FACT, FALLBACK_INTENT, FALLBACK_MESSAGE, JOKE, STOP_NAME, Intent
from chalicelib.ports import ConversationAnswer
from chalicelib.responding.facts import FACTS
from chalicelib.responding.fulfilment import fulfil
from chalicelib.responding.jokes import JOKES
from chalicelib.smallmodels.intents import STOP_MARGIN, IntentMatcher, normalise

from tests.conversation.test_heldout_accuracy import load_heldout


@pytest.fixture
def bot() -> LocalConversationBot:
    return LocalConversationBot(fulfil)


@pytest.mark.parametrize(
    "text",
    ["tell me a joke", "got any jokes?", "make me laugh please", "Tell me a JOKE!!", "tell me a jokke", "cheer me up"],
)
def test_joke_requests_get_a_joke(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) == ConversationAnswer(JOKE.name, mock.ANY)
    assert bot.respond("1", text).text in JOKES


@pytest.mark.parametrize(
    "text",
    ["tell me something interesting", "fun fact please", "any interesting facts about space?", "teach me something"],
)
def test_fact_requests_get_a_fact(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) == ConversationAnswer(FACT.name, mock.ANY)
    assert bot.respond("1", text).text in FACTS


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather",
        "",
        "🙂🙂",
        "where can I buy a bike",
        pytest.param(
            "what time is it",
            # A known confusion: every word of it is in Help's samples ("what", "is", "it") and none
            # says what it is about but "time"; the README lists it. Strict: fixing it must show.
            marks=pytest.mark.xfail(strict=True, reason="taken for Help: only common words"),
        ),
    ],
)
def test_anything_else_gets_the_fallback(bot: LocalConversationBot, text: str) -> None:
    assert bot.respond("1", text) == ConversationAnswer(FALLBACK_INTENT, FALLBACK_MESSAGE)


def test_every_sample_utterance_matches_its_own_intent() -> None:
    matcher = IntentMatcher(conversation.INTENTS)
    for intent in conversation.INTENTS:
        for utterance in intent.sample_utterances:
            match = matcher.match(utterance)
            assert (match.intent, match.confidence) == (intent.name, 1.0), utterance


def test_confidences_are_between_zero_and_one() -> None:
    matcher = IntentMatcher(conversation.INTENTS)
    for text in ["tell me a joke", "what's the weather", "a", "joke joke joke fact", "x" * 1024]:
        assert all(0.0 <= score <= 1.0 for score in matcher.scores(text).values())


def test_the_threshold_decides_the_fallback() -> None:
    lenient = IntentMatcher(conversation.INTENTS, threshold=0.0)
    strict = IntentMatcher(conversation.INTENTS, threshold=0.99)
    assert lenient.match("make me laugh please").intent == "Joke"
    assert strict.match("make me laugh please").intent == FALLBACK_INTENT
    assert LocalConversationBot(fulfil, threshold=0.99).respond("1", "make me laugh please").intent == FALLBACK_INTENT


def test_the_matcher_uses_only_the_bot_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalConversationBot(fulfil).respond("1", "spin me a yarn").intent == FALLBACK_INTENT
    yarn = Intent(JOKE.name, JOKE.description, (*JOKE.sample_utterances, "spin me a yarn"))
    monkeypatch.setattr(conversation, "INTENTS", (yarn, FACT))
    assert LocalConversationBot(fulfil).respond("1", "spin me a yarn").text in JOKES


def test_normalise() -> None:
    assert normalise("  What's   the WEATHER?! ") == ["whats", "the", "weather"]
    assert normalise("Don\u2019t caf\u00e9") == ["dont", "cafe"]
    assert normalise("🙂") == []


def test_the_matcher_reads_emoji_held_letters_and_chat_words_into_the_definitions_words() -> None:
    english = IntentMatcher(conversation.intents_for(conversation.EN_US))
    assert english.words("heyyy 👋") == ["hello", "hey"]
    assert english.words("joke pls 🙂") == ["joke", "please"]
    assert english.words("thank youuu") == ["thank", "you"]
    # "u" is a word of the English samples ("r u a bot"): a vocabulary word is never rewritten.
    assert english.words("u") == ["u"]
    assert english.match("heyyy 👋").intent == "Greeting"
    assert english.match("🙏🙏").intent == "Thanks"


def test_rewrites_only_land_on_the_locales_own_words() -> None:
    spanish = IntentMatcher(conversation.intents_for(conversation.ES_ES))
    # English chat words stay as they are (no "please" among the Spanish samples); 👋 reads as "hola".
    assert spanish.words("pls 👋") == ["hola", "pls"]
    assert spanish.words("holaaaa") == ["hola"]
    assert spanish.match("holaaaa 👋").intent == "Greeting"


@pytest.mark.parametrize("locale_id", conversation.LOCALE_IDS)
def test_every_sample_utterance_of_every_locale_matches_its_own_intent(locale_id: str) -> None:
    intents = conversation.intents_for(locale_id)
    matcher = IntentMatcher(intents)
    for intent in intents:
        for utterance in intent.sample_utterances:
            assert (matcher.match(utterance).intent, matcher.match(utterance).confidence) == (intent.name, 1.0)


def test_words_no_sample_has_count_against_a_match() -> None:
    """A message about something else that shares a few words with a sample scores lower than the
    sample; the more unknown words, the lower."""
    matcher = IntentMatcher(conversation.INTENTS)
    near = matcher.scores("tell me a joke about dogs")["Joke"]
    far = matcher.scores("tell me a joke about the weather forecast in london tomorrow")["Joke"]
    assert 1.0 > near > far
    assert matcher.match("what's the weather forecast in london tomorrow").intent == FALLBACK_INTENT


def _other_intents_texts() -> list[tuple[str, str]]:
    """(text, intent) for every sample of every locale and every held-out English text."""
    texts = [(example.text, example.intent) for example in load_heldout()]
    for loc in conversation.LOCALES:
        texts += [(utterance, intent.name) for intent in loc.intents for utterance in intent.sample_utterances]
    return texts


@pytest.mark.parametrize("locale_id", conversation.LOCALE_IDS)
def test_nothing_but_a_stop_is_taken_for_a_stop_in_any_locale(locale_id: str) -> None:
    """A Stop opts the person out of the bot: worse than any fallback when it is wrong. No held-out
    text and no sample of another intent, in any language, may be matched as Stop by any locale's
    matcher (a French-tagged "tell me a joke" included)."""
    matcher = IntentMatcher(conversation.intents_for(locale_id))
    false_stops = [
        text
        for text, intent in _other_intents_texts()
        if intent != STOP_NAME and matcher.match(text).intent == STOP_NAME
    ]
    assert not false_stops
    assert matcher.match("tell me a joke").intent != STOP_NAME


def test_stop_needs_more_than_the_threshold() -> None:
    english = IntentMatcher(conversation.INTENTS)
    score = english.scores("stop")[STOP_NAME]
    assert (
        IntentMatcher(conversation.INTENTS, threshold=score - STOP_MARGIN / 2).match("stop").intent == FALLBACK_INTENT
    )
    assert IntentMatcher(conversation.INTENTS, threshold=score - STOP_MARGIN * 2).match("stop").intent == STOP_NAME
