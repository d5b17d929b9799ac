"""Rows as a person reads them (an aligned table) or a program does (JSON, CSV): for `botctl` and the demo."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, Final

FORMATS: Final = ("table", "json", "csv")


class RenderError(ValueError):
    """The rows cannot be shown in the format asked for; the message says why."""


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], output_format: str) -> str:
    """Rows of JSON-compatible values as an aligned table, a JSON array of objects, or CSV."""
    if output_format == "json":
        repeated = sorted({name for name in columns if list(columns).count(name) > 1})
        if repeated:
            # One JSON object cannot hold two values under one name; say so rather than drop one.
            raise RenderError(f"columns named more than once: {', '.join(repeated)}; give each an alias")
        return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, ensure_ascii=False) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(value, null="", one_line=False) for value in row] for row in rows])
        return buffer.getvalue()
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(column), *(len(row[index]) for row in cells)]) for index, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    output = [line(columns), line(["-" * width for width in widths]), *(line(row) for row in cells)]
    output.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(output) + "\n"


def _cell(value: Any, *, null: str = "NULL", one_line: bool = True) -> str:
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    # A table keeps one line per row whatever the text holds; CSV quotes newlines instead.
    return text.replace("\r", "\\r").replace("\n", "\\n") if one_line else text
