from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.contracts import datalake, names
from chalicelib.contracts.envelope import ENVELOPE_KEYS, BusEvent

CONTRACTS = Path(__file__).parents[2] / "runtime" / "chalicelib" / "contracts"


def test_contracts_import_nothing_from_outside_the_standard_library_and_themselves() -> None:
    # json and collections: the per-photo caps measure an analysis as JSON (analysis.py) and the
    # claim-check pointer walks the rules' patterns (oversized.py); both are standard library.
    allowed = {"__future__", "collections", "dataclasses", "datetime", "json", "typing", "uuid", "chalicelib"}
    for module in CONTRACTS.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{module.name} imports {roots - allowed}"


def test_detail_types_are_unique_and_named_as_x_activity_expects() -> None:
    assert len(set(names.ALL_DETAIL_TYPES)) == len(names.ALL_DETAIL_TYPES)
    assert names.x_activity_detail_type("post.mention.create") == "X_POST_MENTION_CREATE"
    assert names.x_activity_detail_type("dm.received") == "X_DM_RECEIVED"


def test_every_source_is_matched_by_the_catch_all_prefix() -> None:
    prefix = names.CATCH_ALL_PATTERN["source"][0]["prefix"]
    for source in (names.SOURCE_INGRESS, names.SOURCE_ANALYSIS, names.SOURCE_RESPONDING, names.SOURCE_EGRESS):
        assert source.startswith(prefix)


def test_envelope_round_trip() -> None:
    event = BusEvent("xbot.ingress", "MESSAGE_RECEIVED", {"Text": "hi"})
    when = datetime(2026, 11, 29, 21, 5, 7, tzinfo=UTC)
    envelope = event.to_envelope(account="123", region="eu-west-1", event_id="e-1", time=when)
    assert tuple(envelope) == ENVELOPE_KEYS
    assert envelope["time"] == "2026-11-29T21:05:07Z"
    assert BusEvent.from_envelope(envelope) == event


def test_hive_types_render_nested_structs_and_arrays() -> None:
    assert datalake.hive_type("string") == "string"
    assert datalake.hive_type(["int"]) == "array<int>"
    assert datalake.hive_type({"A": "string", "B": [{"C": "double"}]}) == "struct<A:string,B:array<struct<C:double>>>"
    detail = dict(datalake.COLUMNS)["detail"]
    rendered = datalake.hive_type(detail)
    for field in (
        "Text:string",
        "ImageUrls:array<string>",
        "CelebrityFaces:array<struct<Name:string",
        "HasImages:boolean",
    ):
        assert field in rendered


def test_sample_queries_have_unique_names() -> None:
    from chalicelib.contracts.queries import SAMPLE_QUERIES

    assert len({query.name for query in SAMPLE_QUERIES}) == len(SAMPLE_QUERIES)
