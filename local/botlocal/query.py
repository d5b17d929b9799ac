"""Athena's SQL on the local data lake, with DuckDB.

The view "analysed-messages-table" has exactly the Glue table's columns and types (rendered from
chalicelib.contracts.datalake.COLUMNS) plus the partition column dt, so the named queries run
unchanged on both. Like the Glue table's JSON SerDe, a value of the wrong type reads as NULL
instead of failing the query (raw X payloads share field names with the domain events), and JSON
keys match field names without regard to case (the SerDe's case.insensitive): a raw post's "text"
fills detail.text as the domain events' "Text" does. Glue stores field names in lower case, so
the view's struct fields are lower case too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from chalicelib.contracts.datalake import COLUMNS, JSON_KEY_OF_COLUMN, PARTITION_COLUMN, TABLE_NAME, HiveType

from botlocal.datalake import FILES_GLOB
from botlocal.layout import LocalLayout

_SCALAR_TYPES: Final = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
#: The SQL function that lowercases every key of a JSON document (registered on each connection).
_LOWER_KEYS: Final = "xbot_lower_keys"
#: dt from the file's path: .../YYYY/MM/DD/HH/<file>.jsonl
_DT_FROM_PATH: Final = r"(\d{4}/\d{2}/\d{2}/\d{2})/[^/]+$"


class QueryError(Exception):
    """The query could not run (bad SQL, unknown column, ...); the message says why."""


def duckdb_type(hive: HiveType) -> str:
    """Render a Glue/Hive type as DuckDB's: struct<a:string> -> STRUCT("a" VARCHAR), array<x> -> X[]."""
    if isinstance(hive, str):
        try:
            return _SCALAR_TYPES[hive]
        except KeyError:
            raise ValueError(f"no DuckDB type for Hive type {hive!r}") from None
    if isinstance(hive, list):
        (element,) = hive
        return f"{duckdb_type(element)}[]"
    return "STRUCT(" + ", ".join(f"{_quote(name.lower())} {duckdb_type(inner)}" for name, inner in hive.items()) + ")"


def json_structure(hive: HiveType) -> Any:
    """The structure argument of DuckDB's json_transform for a Hive type."""
    if isinstance(hive, str):
        return duckdb_type(hive)
    if isinstance(hive, list):
        (element,) = hive
        return [json_structure(element)]
    return {name.lower(): json_structure(inner) for name, inner in hive.items()}


def table_sql(local_dir: Path) -> str:
    """The SELECT behind the view: every line of the state folder's lake as a typed row (or none,
    typed, if empty)."""
    root = LocalLayout(local_dir).datalake
    typed_columns = ", ".join(f"{_column_expression(name, hive)} AS {_quote(name)}" for name, hive in COLUMNS)
    if not any(root.glob(FILES_GLOB)):
        # read_json fails on a glob with no files; an empty lake is still a table with its columns.
        nulls = ", ".join(f"CAST(NULL AS {duckdb_type(hive)}) AS {_quote(name)}" for name, hive in COLUMNS)
        return f"SELECT {nulls}, CAST(NULL AS VARCHAR) AS {_quote(PARTITION_COLUMN)} WHERE false"
    # Every key read as JSON, then typed with json_transform: a mistyped value becomes NULL
    # (as with the Glue SerDe) instead of failing the whole query.
    # Each key once: two columns may read the same key (detail_type and "detail-type" both read
    # "detail-type"), and read_json refuses a key named twice.
    json_keys = dict.fromkeys(_json_key(name) for name, _ in COLUMNS)
    json_columns = ", ".join(f"{_literal(key)}: 'JSON'" for key in json_keys)
    files = _literal(str(root / FILES_GLOB))
    return (
        # Only our own constants go into this SQL, each quoted by _quote/_literal.
        f"SELECT {typed_columns}, regexp_extract(filename, {_literal(_DT_FROM_PATH)}, 1) AS {_quote(PARTITION_COLUMN)} "  # noqa: S608
        f"FROM read_json({files}, format = 'newline_delimited', filename = true, ignore_errors = true, "
        f"columns = {{{json_columns}}}) "
        # A torn line (crash mid-write) parses to all NULLs; it is no event.
        f"WHERE {_quote(_json_key('id'))} IS NOT NULL"
    )


def run_query(sql: str, local_dir: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run Athena SQL against the data lake of the state folder `local_dir`; returns (column names, rows)."""
    import duckdb  # heavy: imported only by the command that queries

    connection = duckdb.connect(":memory:")
    try:
        # Default NULL handling: a NULL document never reaches the function and stays NULL.
        connection.create_function(_LOWER_KEYS, _lower_keys_json, ["VARCHAR"], "VARCHAR")
        try:
            # DuckDB would run every statement and return only the last one's rows; Athena refuses
            # more than one. One pasted with its comment line and its ";" is one.
            statements = len(connection.extract_statements(sql))
            if statements > 1:
                raise QueryError(
                    f"{statements} SQL statements given: Athena runs one per query; run them one at a time"
                )
            connection.execute(f"CREATE VIEW {_quote(TABLE_NAME)} AS {table_sql(local_dir)}")
            relation = connection.execute(sql)
            rows = relation.fetchall()
        except duckdb.Error as error:
            raise QueryError(str(error)) from None
        description: Sequence[Any] = relation.description or []
        return [column[0] for column in description], rows
    finally:
        connection.close()


def to_jsonable(value: Any) -> Any:
    """Make a DuckDB value JSON-serialisable (structs to objects, dates to ISO text, ...)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): to_jsonable(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(inner) for inner in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    # Decimal, UUID, intervals ...: their text form is what a reader expects.
    return str(value)


def _column_expression(name: str, hive: HiveType) -> str:
    structure = _literal(json.dumps(json_structure(hive)))
    value = _quote(_json_key(name))
    if not isinstance(hive, str):  # scalars have no keys to fold
        value = f"{_LOWER_KEYS}(CAST({value} AS VARCHAR))"
    return f"CAST(json_transform({value}, {structure}) AS {duckdb_type(hive)})"


def _lower_keys_json(document: str) -> str:
    """The JSON document with every object key in lower case (the last of two equal keys wins)."""
    return json.dumps(_lower_keys(json.loads(document)))


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key).lower(): _lower_keys(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_lower_keys(inner) for inner in value]
    return value


def _json_key(column: str) -> str:
    return JSON_KEY_OF_COLUMN.get(column, column)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
