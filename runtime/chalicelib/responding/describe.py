"""What a photo shows, in plain words: labels -> "a cat", "a cup of espresso"; text read -> a quote.

Pure functions over the analysis records, which keep Rekognition's shapes whichever runtime made
them: a label is {Name, Confidence 0-100, Parents: [{Name}]} (DetectLabels; the local ImageNet
labeller and cue labeller write the same, parents listed as labels too), a text detection is
{DetectedText, Type LINE|WORD, Confidence 0-100} (DetectText; the local OCR writes the same).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from chalicelib.contracts.analysis import Record
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.kernel.x_text import without_url_like

#: A label is said only at this confidence or more. Both runtimes already drop labels under 70
#: (DetectLabels' MinConfidence, the local analyser's minimum); 70-80 is where Rekognition's
#: guesses (a breed, a second object half in frame) and the local ImageNet model's spread-out
#: answers sit, while the subject of an ordinary photo scores 90+ on both (the test photos: the
#: local model's Cat 91.8, Espresso 95.5; its Clothing 76 on a portrait is a guess worth leaving out).
MIN_LABEL_CONFIDENCE: Final = 80.0
#: At most this many things are named: a reply lists what the photo is of, not an inventory.
MAX_DESCRIBED_LABELS: Final = 3

#: Text read in a photo is quoted only from LINEs at this confidence or more. Rekognition's
#: DetectText keeps words of 80 or more by default and reads printed text at 95+; the local OCR
#: drops lines under 70 and read real text at 96 in our checks.
MIN_TEXT_CONFIDENCE: Final = 90.0
#: ...and with at least this many letters or digits in the line. Confidence alone is not enough:
#: stray reads of one character come with high confidence (the local OCR read "8" at 96.6 in a GIF
#: of the coffee photo and a CJK character at 87.7 in one of the portrait; the reported false quote
#: was a lone "p"). The cost: a sign saying only "OK" or "Hi" is not quoted.
MIN_TEXT_CHARACTERS: Final = 3
#: How much of the text read in a photo a reply quotes, at most.
MAX_QUOTED_CHARACTERS: Final = 100

#: Labels never said: they describe the picture rather than what is in it, or are said another way
#: (Text is quoted; a face and a head go with a person).
NEVER_SAID: Final = frozenset(
    {
        "Text",
        "Face",
        "Head",
        "Photography",
        "Portrait",
        "Selfie",
        "Indoors",
        "Outdoors",
        "Nature",
        "Art",
        "Pattern",
        "Texture",
        "Symbol",
        "Number",
        "Alphabet",
        "Word",
        "Font",
        "Logo",
        "Page",
    }
)
#: Broad labels: said only when nothing more specific was found ("an animal" beats nothing, but a
#: cat is never "a cat and an animal"). Rekognition's v3 taxonomy and the local categories use these.
GENERIC: Final = frozenset(
    {
        "Animal",
        "Mammal",
        "Pet",
        "Food",
        "Beverage",
        "Drink",
        "Plant",
        "Vegetation",
        "Clothing",
        "Apparel",
        "Accessories",
        "Furniture",
        "Electronics",
        "Vehicle",
        "Transportation",
        "Tableware",
        "Building",
        "Architecture",
    }
)
#: People labels, left out when a person is named (the names say it better).
PEOPLE: Final = frozenset(
    {"Person", "Human", "People", "Adult", "Man", "Woman", "Male", "Female", "Boy", "Girl", "Child", "Crowd"}
)
#: Labels whose children are breeds: a breed is said with its kind ("a cat (Abyssinian)"), since
#: "an abyssinian" alone does not tell most people it is a cat.
KINDS: Final = ("Cat", "Dog")

#: Phrasings where "a <lowercase name>" reads badly: drinks are poured, not counted; a few are
#: uncountable. Keys are label names as both runtimes write them.
PHRASES: Final[dict[str, str]] = {
    "Espresso": "a cup of espresso",
    "Coffee": "a cup of coffee",
    "Tea": "a cup of tea",
    "Green Tea": "a cup of green tea",
    "Hot Chocolate": "a cup of hot chocolate",
    "Cocoa": "a cup of cocoa",
    "Wine": "a glass of wine",
    "Red Wine": "a glass of red wine",
    "White Wine": "a glass of white wine",
    "Milk": "a glass of milk",
    "Juice": "a glass of juice",
    "Water": "water",
    "Beverage": "a drink",
    "Drink": "a drink",
    "Food": "some food",
    "Clothing": "some clothes",
    "Apparel": "some clothes",
    "Furniture": "some furniture",
    "Electronics": "some electronics",
    "Tableware": "some tableware",
    "Vegetation": "some plants",
    "Crowd": "a crowd",
    "People": "some people",
    "Human": "a person",
    "Food Court": "a food court",
    "Scenery": "some scenery",
    "Landscape": "a landscape",
    "Kitten": "a kitten",
    "Puppy": "a puppy",
}
#: Words kept capitalised inside a name (proper adjectives in breed and dish names).
PROPER_WORDS: Final = frozenset(
    {
        "Abyssinian",
        "Persian",
        "Siamese",
        "Egyptian",
        "Labrador",
        "German",
        "French",
        "English",
        "Italian",
        "Japanese",
        "Chinese",
        "Irish",
        "Scottish",
        "Siberian",
        "Maine",
        "Bengal",
        "Chihuahua",
        "Dalmatian",
        "Pomeranian",
        "Yorkshire",
        "Boston",
        "Christmas",
        "Easter",
        "Halloween",
    }
)


def _confidence(record: Record) -> float:
    try:
        return float(record.get("Confidence", 0.0))
    except (TypeError, ValueError):
        return 0.0


def _parents(record: Record) -> list[str]:
    return [str(parent.get("Name")) for parent in record.get("Parents") or [] if isinstance(parent, dict)]


def confident_labels(labels: Iterable[Record], *, min_confidence: float = MIN_LABEL_CONFIDENCE) -> list[Record]:
    """Labels at min_confidence or more, each name once (its highest confidence), most confident first."""
    best: dict[str, Record] = {}
    for record in labels:
        name = str(record.get("Name") or "").strip()
        if not name or _confidence(record) < min_confidence:
            continue
        if name not in best or _confidence(record) > _confidence(best[name]):
            best[name] = record
    return sorted(best.values(), key=_confidence, reverse=True)


def specific_labels(labels: Iterable[Record], *, person_named: bool = False) -> list[str]:
    """The names worth saying, most confident first: confident labels that are no confident label's
    parent, without the NEVER_SAID ones (and the PEOPLE ones when someone is named); the GENERIC
    ones only when nothing else is left. A breed comes back as "Kind/Breed" (see KINDS)."""
    confident = confident_labels(labels)
    names = [str(record["Name"]) for record in confident]
    parents_of = {str(record["Name"]): _parents(record) for record in confident}
    present = set(names)
    sayable = [name for name in names if name not in NEVER_SAID and not (person_named and name in PEOPLE)]
    # Only a label that is said makes its parents less specific: a Face (never said) leaves Person.
    is_parent = {parent for name in sayable for parent in parents_of[name]}
    said = [name for name in sayable if name not in is_parent]
    specific = [name for name in said if name not in GENERIC]
    if not specific:
        # Nothing specific: the broadest-but-one is the best left ("a drink", not "a drink, food").
        specific = said[:1]
    result = []
    for name in specific:
        kind = next((kind for kind in KINDS if kind in parents_of[name] and kind in present), None)
        breed = kind and name not in PHRASES and kind.lower() not in name.lower()
        result.append(f"{kind}/{name}" if breed else name)
    return result


def _lowercase(name: str) -> str:
    """ "Coffee Cup" -> "coffee cup"; acronyms, brands and PROPER_WORDS keep their case ("CD player", "iPod")."""
    words = []
    for word in name.split():
        # Title Case is the labels' convention; any other casing is the word's own.
        ordinary = word == word.title() or word.islower()
        words.append(word.lower() if ordinary and word not in PROPER_WORDS else word)
    return " ".join(words)


def _article(phrase: str) -> str:
    """ "a" or "an" by the first letter (good enough for label names; "an hour" and "a unicorn" are
    the rare exceptions the PHRASES table can settle)."""
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def phrase_for(name: str) -> str:
    """One label name (or a "Kind/Breed" from specific_labels) in plain words with its article."""
    kind, _, breed = name.rpartition("/")
    if kind:
        return f"{phrase_for(kind)} ({_lowercase(breed)})"
    if name in PHRASES:
        return PHRASES[name]
    words = _lowercase(name)
    return f"{_article(words)} {words}"


def listed(phrases: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def described(labels: Iterable[Record], *, person_named: bool = False, limit: int = MAX_DESCRIBED_LABELS) -> list[str]:
    """What a photo shows, as phrases ("a cat", "a cup of espresso"), at most `limit`, each once."""
    return described_photos([labels], person_named=person_named, limit=limit)


def described_photos(
    photos: Sequence[Iterable[Record]], *, person_named: bool = False, limit: int = MAX_DESCRIBED_LABELS
) -> list[str]:
    """What several photos show: each photo's most specific thing first, in the photos' order,
    then each one's next (so a second photo is not crowded out by the first), each once."""
    per_photo = [specific_labels(labels, person_named=person_named) for labels in photos]
    in_turn = [
        names[rank] for rank in range(max(map(len, per_photo), default=0)) for names in per_photo if rank < len(names)
    ]
    phrases: list[str] = []
    words_said: list[frozenset[str]] = []
    for name in in_turn:
        phrase = phrase_for(name)
        words = _content_words(phrase)
        # "a cup of coffee" after "a coffee cup" says nothing new (Rekognition gives both).
        if any(words <= earlier for earlier in words_said):
            continue
        phrases.append(phrase)
        words_said.append(words)
    return phrases[:limit]


#: Words that carry no meaning of their own in a phrase, for telling two phrases apart.
_FILLER_WORDS: Final = frozenset({"a", "an", "of", "some", "the", "glass"})


def _content_words(phrase: str) -> frozenset[str]:
    return frozenset(word.strip("()").lower() for word in phrase.split()) - _FILLER_WORDS


def _alphanumerics(text: str) -> int:
    return sum(character.isalnum() for character in text)


def readable_lines(detections: Iterable[Record]) -> list[str]:
    """The LINEs read with enough confidence and enough letters to be real text, each once, in order."""
    seen: dict[str, None] = {}
    for detection in detections:
        if detection.get("Type") != "LINE" or _confidence(detection) < MIN_TEXT_CONFIDENCE:
            continue
        line = " ".join(str(detection.get("DetectedText") or "").split())
        if _alphanumerics(line) >= MIN_TEXT_CHARACTERS:
            seen.setdefault(line, None)
    return list(seen)


def quoted_text(lines: Sequence[str], max_characters: int = MAX_QUOTED_CHARACTERS) -> str:
    """The words read in a photo, safe to post: a photo must not make the bot mention or link
    anyone (that would be a spam vector), so mentions and URLs are dropped; long text is cut.
    Double quotes become single ones, so the quote cannot seem to end early."""
    # NFKC first: a full-width at sign or full-width letters make a mention or a link on X too.
    joined = unicodedata.normalize("NFKC", " / ".join(lines))
    text = without_url_like(without_mentions_and_urls(joined)).replace("@", "").replace('"', "'")
    if len(text) <= max_characters:
        return text
    return text[: max(max_characters - 1, 0)].rstrip() + "…"


#: Measures a reply as X does (chalicelib.kernel.x_text.weighted_length; tests may pass another).
Measure = Callable[[str], int]
