"""Labels and text read in a photo, in plain words (chalicelib.responding.describe)."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.responding.describe import (
    MAX_QUOTED_CHARACTERS,
    MIN_LABEL_CONFIDENCE,
    MIN_TEXT_CHARACTERS,
    MIN_TEXT_CONFIDENCE,
    described,
    listed,
    phrase_for,
    quoted_text,
    readable_lines,
    specific_labels,
)


def label(name: str, confidence: float, *parents: str) -> dict[str, Any]:
    return {"Name": name, "Confidence": confidence, "Parents": [{"Name": parent} for parent in parents]}


def line(text: str, confidence: float) -> dict[str, Any]:
    return {"DetectedText": text, "Type": "LINE", "Id": 0, "Confidence": confidence}


# What the local runtime's labeller found in tests/fixtures/photos (measured, see the README).
LOCAL_CHELSEA = [label("Animal", 95.68), label("Mammal", 94.967, "Animal"), label("Cat", 91.839, "Mammal", "Animal")]
LOCAL_COFFEE = [label("Beverage", 96.738), label("Espresso", 95.456, "Beverage")]
LOCAL_PORTRAIT = [
    label("Face", 98.99, "Head", "Person"),
    label("Head", 98.99, "Person"),
    label("Person", 98.99),
    label("Clothing", 76.01),
]
# The shape Rekognition DetectLabels gives for a cat and a coffee cup (v3 taxonomy, parents listed).
REKOGNITION_CAT = [
    label("Animal", 99.9),
    label("Cat", 99.9, "Animal", "Mammal", "Pet"),
    label("Mammal", 99.9, "Animal"),
    label("Pet", 99.9, "Animal"),
    label("Abyssinian", 86.0, "Animal", "Cat", "Mammal", "Pet"),
]
REKOGNITION_COFFEE = [
    label("Cup", 99.6),
    label("Coffee Cup", 99.5, "Cup"),
    label("Beverage", 98.0),
    label("Coffee", 97.9, "Beverage"),
    label("Saucer", 91.0),
    label("Latte", 72.0, "Beverage", "Coffee"),
]


def test_the_local_labellers_cat_and_espresso_read_as_plain_words() -> None:
    assert described(LOCAL_CHELSEA) == ["a cat"]
    assert described(LOCAL_COFFEE) == ["a cup of espresso"]


def test_rekognitions_cat_and_coffee_read_as_plain_words() -> None:
    assert described(REKOGNITION_CAT) == ["a cat (Abyssinian)"]
    # "a cup of coffee" would repeat "a coffee cup"; the Latte is under the threshold.
    assert described(REKOGNITION_COFFEE) == ["a coffee cup", "a saucer"]


def test_a_parent_of_a_confident_label_is_less_specific() -> None:
    assert specific_labels([label("Vehicle", 99), label("Car", 95, "Vehicle"), label("Wheel", 90)]) == ["Car", "Wheel"]


def test_a_parent_of_an_unconfident_label_is_kept() -> None:
    below = MIN_LABEL_CONFIDENCE - 1
    assert specific_labels([label("Vehicle", 99), label("Car", below, "Vehicle")]) == ["Vehicle"]


def test_generic_labels_are_said_only_when_nothing_else_is_left() -> None:
    assert described([label("Animal", 99), label("Mammal", 97, "Animal")]) == ["a mammal"]
    assert described([label("Beverage", 96), label("Food", 90)]) == ["a drink"]
    assert described([label("Beverage", 96), label("Mug", 90)]) == ["a mug"]


def test_labels_under_the_threshold_are_not_said() -> None:
    assert described([label("Cat", MIN_LABEL_CONFIDENCE - 0.1)]) == []
    assert described([label("Cat", MIN_LABEL_CONFIDENCE)]) == ["a cat"]


def test_people_labels_go_when_someone_is_named_and_face_or_head_are_never_said() -> None:
    assert described(LOCAL_PORTRAIT) == ["a person"]
    assert described(LOCAL_PORTRAIT, person_named=True) == []
    man = [label("Person", 99), label("Adult", 99, "Person"), label("Man", 99, "Adult", "Male", "Person")]
    assert described(man) == ["a man"]
    assert described([*man, label("Microphone", 92)], person_named=True) == ["a microphone"]


def test_text_is_quoted_not_labelled() -> None:
    assert described([label("Text", 99), label("Poster", 90)]) == ["a poster"]


def test_at_most_three_things_most_confident_first_each_once() -> None:
    labels = [label(name, 99 - index) for index, name in enumerate(("Dog", "Ball", "Frisbee", "Tree", "Dog"))]
    assert described(labels) == ["a dog", "a ball", "a frisbee"]
    assert described(labels, limit=1) == ["a dog"]


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("Coffee Cup", "a coffee cup"),
        ("Espresso", "a cup of espresso"),
        ("Apple", "an apple"),
        ("CD Player", "a CD player"),
        ("iPod", "an iPod"),
        ("Siamese", "a Siamese"),
        ("Tabby Cat", "a tabby cat"),
        ("Water", "water"),
        ("Cat/Egyptian Mau", "a cat (Egyptian mau)"),
    ],
)
def test_phrasings(name: str, phrase: str) -> None:
    assert phrase_for(name) == phrase


def test_a_breed_named_like_its_kind_is_said_alone() -> None:
    assert described([label("Cat", 95, "Animal"), label("Tabby Cat", 90, "Cat", "Animal")]) == ["a tabby cat"]


def test_lists_read_as_english() -> None:
    assert listed([]) == ""
    assert listed(["a cat"]) == "a cat"
    assert listed(["a cat", "a dog"]) == "a cat and a dog"
    assert listed(["a cat", "a dog", "a ball"]) == "a cat, a dog and a ball"


def test_a_lone_letter_is_not_text_however_confident() -> None:
    assert readable_lines([line("p", 99.0), line("8", 96.6), line("中", 87.7)]) == []


def test_low_confidence_lines_are_not_text() -> None:
    assert readable_lines([line("OPEN DAILY", MIN_TEXT_CONFIDENCE - 0.5)]) == []


def test_real_text_is_read_once_words_ignored() -> None:
    detections = [
        line("FRESH COFFEE", 96.4),
        {"DetectedText": "FRESH", "Type": "WORD", "Confidence": 99.0},
        line("FRESH  COFFEE", 97.0),
        line("abc", MIN_TEXT_CONFIDENCE),
    ]
    assert readable_lines(detections) == ["FRESH COFFEE", "abc"]
    assert len("abc") == MIN_TEXT_CHARACTERS


def test_quoted_text_cannot_mention_link_or_close_the_quote() -> None:
    assert quoted_text(["Follow @victim", "https://spam.example/x now"]) == "Follow / now"
    assert quoted_text(['say "hi"']) == "say 'hi'"
    assert len(quoted_text(["word " * 50])) == MAX_QUOTED_CHARACTERS
    assert quoted_text(["word " * 50], 30).endswith("…")


def test_quoted_text_never_carries_a_link_or_a_mention_of_any_form() -> None:
    """A photo is text anyone controls: X links "www.x.com" and "bit.ly/x" without a scheme, and a
    full-width at sign mentions as the ASCII one does."""
    quoted = quoted_text(
        ["VISIT www.freecoins.com / bit.ly/win-now today", "evil.com/promo \uff20elonmusk hi", "Fresh coffee"]
    )
    assert quoted == "VISIT / today / hi / Fresh coffee"
    assert quoted_text(["\uff57\uff57\uff57.example.com open"]) == "open"
    assert quoted_text(["e.g. 3.5 kg of beans"]) == "e.g. 3.5 kg of beans"
