"""The Glue table answers the original project's queries on Athena (issue 9, section 6).

Those queries filter on "detail-type", the envelope's key, which the original table used as a column
name; this table's own queries use detail_type. Both columns read the same JSON key: detail_type
through the OpenX SerDe's mapping.detail_type, "detail-type" by its own name (the SerDe looks each
column's key up separately, so one key can fill two columns). Athena itself cannot be run here: the
README says how that side was checked.
"""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.contracts import datalake

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _table_input(template: dict[str, Any]) -> dict[str, Any]:
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Table"]
    return dict(table["Properties"]["TableInput"])


def test_the_table_has_detail_type_and_the_original_hyphenated_column(synth: Any) -> None:
    table_input = _table_input(synth.template)
    assert table_input["Name"] == datalake.TABLE_NAME  # the name the original queries use
    columns = [(c["Name"], c["Type"]) for c in table_input["StorageDescriptor"]["Columns"]]
    assert ("detail_type", "string") in columns
    # Last, so SELECT * keeps the other columns where they were before it was added.
    assert columns[-1] == (datalake.ORIGINAL_DETAIL_TYPE_COLUMN, "string") == ("detail-type", "string")
    # Glue stores names in lower case; an upper-case letter would not match the queries' spelling.
    assert all(name == name.lower() for name, _ in columns)


def test_both_columns_read_the_envelopes_detail_type_key(synth: Any) -> None:
    serde = _table_input(synth.template)["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    mappings = {key: value for key, value in serde["Parameters"].items() if key.startswith("mapping.")}
    # detail_type is mapped to the key; "detail-type" is the key's own name, so it needs no mapping
    # (and a mapping for it would not change what it reads).
    assert mappings == {"mapping.detail_type": "detail-type"}
    assert serde["Parameters"]["case.insensitive"] == "true"
