"""Every price has a source (botlocal.cost.prices)."""

from __future__ import annotations

import re

from botlocal.cost.counting import ScenarioCounts
from botlocal.cost.model import Mix
from botlocal.cost.prices import GBP_PER_USD, LATENCY_MS, PRICES, READ_ON
from botlocal.cost.report import build_report


def test_every_price_has_a_source_a_unit_and_the_day_it_was_read() -> None:
    for price in [*PRICES.values(), GBP_PER_USD]:
        assert price.source.strip(), price.key
        assert price.unit.strip(), price.key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.read), price.key
        assert price.usd >= 0, price.key


def test_a_price_nobody_read_says_so() -> None:
    for price in PRICES.values():
        assert "http" in price.source or "not checked" in price.source or "README" in price.source, price.key
    assert READ_ON == "2026-12-03"


def test_every_line_of_the_report_has_a_price(counts: ScenarioCounts) -> None:
    report = build_report(counts, Mix())
    used = {line.price_key for line in [*report.lines, *report.original_lines, *report.x_api]}
    used |= {fixed.line.price_key for fixed in report.fixed}
    assert used <= set(PRICES)


def test_the_ai_services_have_a_stated_latency() -> None:
    for service in ("rekognition", "comprehend", "lexv2-runtime", "dynamodb", "s3", "events"):
        assert LATENCY_MS[service].ms > 0
