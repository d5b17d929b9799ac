"""The counts come from the calls the runtime's handlers really make (botlocal.cost.counting)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botlocal.cost import counting
from botlocal.cost.counting import Call, PostRun, Recorder, ScenarioCounts, billing_units
from botocore import handlers


def operations(run: PostRun) -> Counter[tuple[str, str]]:
    return Counter((call.service, call.operation) for call in run.calls)


def test_the_scenario_has_every_kind_of_post(counts: ScenarioCounts) -> None:
    assert set(counts.posts) == set(counting.KINDS)


def test_a_photo_post_calls_detect_labels_and_a_text_post_does_not(counts: ScenarioCounts) -> None:
    for kind, run in counts.posts.items():
        labels = operations(run)[("rekognition", "DetectLabels")]
        if kind.startswith("photo"):
            assert labels == 1, kind  # one photo per post in the scenario
        else:
            assert labels == 0, kind


def test_faces_and_text_are_never_looked_for_more_than_labels(counts: ScenarioCounts) -> None:
    # Holds whether RecognizeCelebrities / DetectText run on every photo or only when the labels say so.
    for kind, run in counts.posts.items():
        done = operations(run)
        assert done[("rekognition", "RecognizeCelebrities")] <= done[("rekognition", "DetectLabels")], kind
        assert done[("rekognition", "DetectText")] <= done[("rekognition", "DetectLabels")], kind


def test_the_photo_with_a_person_and_text_gets_every_analysis(counts: ScenarioCounts) -> None:
    # Its labels show a person and text: whatever the conditions, both analyses run.
    done = operations(counts.posts[counting.PHOTO_PERSON_TEXT])
    assert done[("rekognition", "RecognizeCelebrities")] == 1
    assert done[("rekognition", "DetectText")] == 1


def test_every_post_is_analysed_for_sentiment_and_entities(counts: ScenarioCounts) -> None:
    for kind, run in counts.posts.items():
        done = operations(run)
        assert done[("comprehend", "DetectSentiment")] == 1, kind
        assert done[("comprehend", "DetectEntities")] == 1, kind


def test_lex_answers_text_posts_but_not_negative_ones(counts: ScenarioCounts) -> None:
    assert operations(counts.posts[counting.TEXT])[("lexv2-runtime", "RecognizeText")] == 1
    assert operations(counts.posts[counting.NEGATIVE_TEXT])[("lexv2-runtime", "RecognizeText")] == 0
    # Lex calls our fulfilment Lambda: counted as an invocation of its own.
    functions = [invocation.function for invocation in counts.posts[counting.TEXT].invocations]
    assert counting.LEX_FULFILMENT in functions


def test_only_the_negative_post_raises_an_alert(counts: ScenarioCounts) -> None:
    for kind, run in counts.posts.items():
        assert operations(run)[("sns", "Publish")] == (1 if kind == counting.NEGATIVE_TEXT else 0), kind


def test_each_post_goes_from_the_webhook_to_one_reply(counts: ScenarioCounts) -> None:
    for kind, run in counts.posts.items():
        assert run.api_requests == 1, kind
        assert len(run.executions) == 1, kind
        assert run.queue_messages == 1, kind
        assert run.x_posts_written == 1, kind
        detail_types = [detail_type for detail_type, _size in run.events]
        assert "MESSAGE_RECEIVED" in detail_types and "SEND_TWEET" in detail_types, kind
        # Every event put was counted as a PutEvents entry.
        assert sum(call.units for call in run.calls if call.operation == "PutEvents") == len(run.events), kind


def test_invocations_have_the_configured_memory_and_a_cpu_time(counts: ScenarioCounts) -> None:
    memory = counts.memory_mb
    # runtime/.chalice/config.json: the analysis functions have 512 MB, the fulfilment 128 MB.
    assert memory["analysis_download_media"] == 512
    assert memory[counting.LEX_FULFILMENT] == 128
    for run in counts.posts.values():
        for invocation in run.invocations:
            assert invocation.memory_mb == memory[invocation.function]
            assert invocation.cpu_seconds >= 0


def test_comprehend_is_billed_by_100_character_units_with_a_minimum_of_3() -> None:
    assert billing_units("comprehend", "DetectSentiment", {"Text": "short"}) == 3
    assert billing_units("comprehend", "DetectSentiment", {"Text": "x" * 450}) == 5


def test_each_put_events_entry_is_an_event_per_64_kb() -> None:
    small = {"Source": "xbot", "DetailType": "A", "Detail": "{}"}
    large = {"Source": "xbot", "DetailType": "A", "Detail": "x" * 70_000}
    assert billing_units("events", "PutEvents", {"Entries": [small, small]}) == 2
    assert billing_units("events", "PutEvents", {"Entries": [large]}) == 2


def test_dynamodb_reads_and_writes_are_request_units() -> None:
    assert billing_units("dynamodb", "PutItem", {}) == 1
    assert billing_units("dynamodb", "GetItem", {"ConsistentRead": True}) == 1
    assert billing_units("dynamodb", "GetItem", {}) == 0.5


def test_the_recorder_counts_a_real_botocore_call_and_answers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    asked: list[tuple[str, str, dict[str, Any]]] = []

    def answer(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        asked.append((service, operation, params))
        return {"Languages": [{"LanguageCode": "fr", "Score": 0.9}]}

    recorder.answer = answer
    monkeypatch.setattr(
        handlers,
        "BUILTIN_HANDLERS",
        [
            *handlers.BUILTIN_HANDLERS,
            ("before-parameter-build.*.*", recorder.before_parameter_build),
            ("before-call.*.*", recorder.before_call),
        ],
    )
    client = boto3.session.Session(region_name="us-east-1").client("comprehend")
    recorder.post = PostRun("test")
    with recorder.invocation("fn", 256) as invocation:
        response = client.detect_dominant_language(Text="bonjour tout le monde")
    assert response["Languages"][0]["LanguageCode"] == "fr"
    assert asked == [("comprehend", "DetectDominantLanguage", {"Text": "bonjour tout le monde"})]
    assert invocation.calls == [Call("comprehend", "DetectDominantLanguage", 3.0)]
    assert recorder.post.invocations == [invocation]


def test_a_call_outside_an_invocation_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(
        handlers, "BUILTIN_HANDLERS", [*handlers.BUILTIN_HANDLERS, ("before-call.*.*", recorder.before_call)]
    )
    client = boto3.session.Session(region_name="us-east-1").client("comprehend")
    with pytest.raises(RuntimeError, match="outside a Lambda invocation"):
        client.detect_dominant_language(Text="hello")


def test_an_unknown_profile_is_refused_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="luxury"):
        counting.count_scenario(profile="luxury")


def test_the_economy_scenario_writes_the_words_on_its_photos() -> None:
    # The small models read the pixels: a photo "with text" must show it (the default's stubs need not).
    for default, economy in zip(counting.SCENARIO, counting.ECONOMY_SCENARIO, strict=True):
        assert (default.kind, default.text) == (economy.kind, economy.text)
        if default.photo is None or economy.photo is None:
            assert default.photo is economy.photo is None
            continue
        written = bool(default.photo.text_lines)
        assert economy.photo.written is written, default.kind
        assert (economy.photo.body != default.photo.body) is written, default.kind
        assert default.photo.written is False
