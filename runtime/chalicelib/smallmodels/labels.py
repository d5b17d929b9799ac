"""Image labels in Rekognition DetectLabels' shape: {Name, Confidence (0-100), Parents: [{Name}]}.

`ImageLabeller` is the seam for what names a photo's content: the ImageNet classifier
(chalicelib.smallmodels.imagenet), the cues ImageNet lacks (chalicelib.smallmodels.cues: Person,
Head, Face, Crowd, Text) and the local runtime's CueLabeller (OCR and a cat
cascade). `MergedLabeller` combines several labellers, keeping the higher confidence of a
label both find. Like Rekognition, a label's parents are listed as labels too (`with_parents`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, Protocol

from chalicelib.contracts.analysis import Record

if TYPE_CHECKING:
    from chalicelib.smallmodels.photo import AnalysedImage

#: Rekognition's parents for the labels made by the cues (its label taxonomy, v3).
PARENTS: Final[dict[str, tuple[str, ...]]] = {
    "Person": (),
    "Head": ("Person",),
    "Face": ("Head", "Person"),
    "Crowd": ("Person",),
    "Text": (),
    "Cat": ("Animal", "Mammal", "Pet"),
    "Animal": (),
    "Mammal": ("Animal",),
    "Pet": ("Animal",),
}


class ImageLabeller(Protocol):
    """Names what a photo shows. Returns Rekognition-shaped labels, in any order; the analyser
    applies the minimum confidence and the maximum count."""

    def labels(self, image: AnalysedImage) -> list[Record]: ...


def label(name: str, confidence: float, parents: Iterable[str] | None = None) -> Record:
    chosen = PARENTS.get(name, ()) if parents is None else tuple(parents)
    return {"Name": name, "Confidence": round(confidence, 3), "Parents": [{"Name": parent} for parent in chosen]}


def with_parents(labels: Iterable[Record]) -> list[Record]:
    """The labels plus each parent as a label of its own, with the child's confidence at least."""
    merged: dict[str, Record] = {}
    for record in labels:
        _merge(merged, record)
        for parent in record.get("Parents", []):
            name = str(parent["Name"])
            _merge(merged, label(name, float(record["Confidence"])))
    return list(merged.values())


def _merge(into: dict[str, Record], record: Record) -> None:
    name = str(record["Name"])
    existing = into.get(name)
    if existing is None:
        into[name] = {**record, "Parents": list(record.get("Parents", []))}
        return
    existing["Confidence"] = max(float(existing["Confidence"]), float(record["Confidence"]))
    known = {str(parent["Name"]) for parent in existing["Parents"]}
    existing["Parents"] += [parent for parent in record.get("Parents", []) if str(parent["Name"]) not in known]


def top_labels(records: Iterable[Record], *, min_confidence: float, max_labels: int) -> list[Record]:
    """What an analyser answers with: the labels at `min_confidence` or above, the most confident
    first (ties by name, so the answer is stable), at most `max_labels`."""
    found = [record for record in records if float(record["Confidence"]) >= min_confidence]
    found.sort(key=lambda record: (-float(record["Confidence"]), str(record["Name"])))
    return found[:max_labels]


class MergedLabeller:
    """Several labellers as one: a name found by more than one keeps its highest confidence."""

    def __init__(self, labellers: Sequence[ImageLabeller]) -> None:
        self._labellers = tuple(labellers)

    def labels(self, image: AnalysedImage) -> list[Record]:
        merged: dict[str, Record] = {}
        for labeller in self._labellers:
            for record in labeller.labels(image):
                _merge(merged, record)
        return list(merged.values())
