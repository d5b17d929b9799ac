"""The figures `make bench` prints: a median with its spread, and the table they go in."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.5) - 1))]


@dataclass(frozen=True)
class Figure:
    """One line of the table: the median of repeated runs and their spread (min-max and IQR)."""

    section: str
    name: str
    unit: str
    runs: tuple[float, ...]
    note: str = ""

    @property
    def median(self) -> float:
        """The median; NaN for a line with nothing measured (a placeholder, e.g. layers not built yet)."""
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def spread(self) -> str:
        if not self.runs:
            return "-"
        if len(self.runs) < 2:
            return "1 run"
        low, high = min(self.runs), max(self.runs)
        text = f"{_number(low)}-{_number(high)}"
        if len(self.runs) >= 4:
            q1, _, q3 = statistics.quantiles(self.runs, n=4, method="inclusive")
            text += f" (IQR {_number(q1)}-{_number(q3)})"
        return text


def figure(section: str, name: str, unit: str, runs: Sequence[float], note: str = "") -> Figure:
    return Figure(section, name, unit, tuple(runs), note)


def _number(value: float) -> str:
    if value != value:  # NaN: nothing measured
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(figures: Sequence[Figure]) -> str:
    """A plain-text table, one row per figure, grouped by section in the order given."""
    headers = ("figure", "median", "unit", "runs", "spread: min-max (IQR)", "note")
    rows: list[tuple[str, ...]] = []
    section = None
    for each in figures:
        if each.section != section:
            section = each.section
            rows.append((f"[{section}]", "", "", "", "", ""))
        rows.append((f"  {each.name}", _number(each.median), each.unit, str(len(each.runs)), each.spread, each.note))
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            row[0].ljust(widths[0]),
            row[1].rjust(widths[1]),
            *(c.ljust(w) for c, w in zip(row[2:], widths[2:], strict=True)),
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(tuple("-" * w for w in widths)), *(line(row) for row in rows)])
