"""`botctl cost`'s output: a table for people, one JSON object for scripts."""

from __future__ import annotations

from typing import Any

from botlocal.cost.model import CostReport, Line, gbp
from botlocal.cost.prices import GBP_PER_USD, LATENCY_MS, PRICES


def _line(line: Line) -> dict[str, Any]:
    return {
        "service": line.service,
        "item": line.item,
        "quantity_per_message": line.quantity,
        "unit": line.unit,
        "unit_price_usd": line.unit_price,
        "per_million_usd": round(line.usd * 1_000_000, 4),
        "ai": line.ai,
    }


def to_json(report: CostReport) -> dict[str, Any]:
    mix = report.mix
    return {
        "profile": report.profile,
        "mix": {
            "messages_per_month": mix.messages_per_month,
            "photo_share": mix.photo_share,
            "people_share": mix.people_share,
            "text_in_photo_share": mix.text_in_photo_share,
            "negative_share": mix.negative_share,
        },
        "per_message_usd": report.per_message_usd,
        "per_million_usd": round(report.per_million_usd, 2),
        "per_million_gbp": round(gbp(report.per_million_usd), 2),
        "gbp_per_usd": {"rate": GBP_PER_USD.usd, "source": GBP_PER_USD.source, "read": GBP_PER_USD.read},
        "original_per_million_usd": round(report.original_per_million_usd, 2),
        "original_per_million_gbp": round(gbp(report.original_per_million_usd), 2),
        "ratio": round(report.ratio, 3),
        "ai_per_million_usd": round(report.ai_per_million_usd, 2),
        "non_ai_share": round(report.non_ai_share, 4),
        "by_service_per_million_usd": {k: round(v, 2) for k, v in report.by_service(report.like_for_like).items()},
        "original_by_service_per_million_usd": {
            k: round(v, 2) for k, v in report.by_service(report.original_lines).items()
        },
        "lines": [_line(line) for line in report.like_for_like],
        "original_lines": [_line(line) for line in report.original_lines],
        "extra_features_per_million_usd": round(report.extra_features_per_million_usd, 2),
        "extra_features_lines": [_line(line) for line in report.extra_lines],
        "fixed_monthly_usd": round(report.fixed_monthly_usd, 2),
        "fixed_monthly": [
            {
                "service": fixed.line.service,
                "item": fixed.line.item,
                "quantity": fixed.line.quantity,
                "unit": fixed.line.unit,
                "usd": round(fixed.line.usd, 4),
                "in_total": fixed.in_total,
                "note": fixed.note,
            }
            for fixed in report.fixed
        ],
        "monthly_usd": round(report.monthly_usd, 2),
        "x_api_per_million_usd": {line.item: round(line.usd * 1_000_000, 2) for line in report.x_api},
        "assumptions": list(report.assumptions),
        "latency_ms": {name: latency.ms for name, latency in LATENCY_MS.items()},
        "prices": [
            {"key": p.key, "usd": p.usd, "unit": p.unit, "source": p.source, "read": p.read}
            for p in [*PRICES.values(), GBP_PER_USD]
        ],
    }


def _money(value: float) -> str:
    return f"{value:,.2f}"


def to_table(report: CostReport) -> str:
    mix = report.mix
    rate = GBP_PER_USD.usd
    out: list[str] = []
    out.append(
        f"Cost per message, profile {report.profile}: {mix.photo_share:.0%} of messages with a photo, "
        f"{mix.people_share:.0%} of those with a person, {mix.text_in_photo_share:.0%} with text; "
        f"{mix.negative_share:.0%} of text posts negative (us-east-1 list prices)"
    )
    out.append("")
    ours = report.by_service(report.like_for_like)
    theirs = report.by_service(report.original_lines)
    services = sorted(set(ours) | set(theirs), key=lambda name: -max(ours.get(name, 0.0), theirs.get(name, 0.0)))
    width = max(len(name) for name in services) if services else 10
    out.append(f"{'service':<{width}}  {'this bot $/M':>14}  {'original $/M':>14}")
    for name in services:
        out.append(f"{name:<{width}}  {_money(ours.get(name, 0.0)):>14}  {_money(theirs.get(name, 0.0)):>14}")
    out.append(f"{'-' * width}  {'-' * 14}  {'-' * 14}")
    out.append(
        f"{'per million USD':<{width}}  {_money(report.per_million_usd):>14}  "
        f"{_money(report.original_per_million_usd):>14}"
    )
    out.append(
        f"{'per million GBP':<{width}}  {_money(gbp(report.per_million_usd)):>14}  "
        f"{_money(gbp(report.original_per_million_usd)):>14}"
    )
    out.append("")
    out.append(f"per message: ${report.per_message_usd:.6f}")
    out.append(f"original / this bot: {report.ratio:.2f}x")
    out.append(
        f"AI services: ${_money(report.ai_per_million_usd)}/M; everything else {report.non_ai_share:.1%} of the total"
    )
    out.append(f"GBP at {rate} per USD ({GBP_PER_USD.source}, {GBP_PER_USD.read})")
    out.append("")
    out.append("Features the original lacks (out of the totals and the ratio):")
    for line in report.extra_lines:
        out.append(f"  {line.service} {line.item}: ${_money(line.usd * 1_000_000)}/M")
    out.append(f"  extra features: ${_money(report.extra_features_per_million_usd)}/M")
    out.append("")
    out.append("Lines (this bot, per message):")
    for line in sorted(report.like_for_like, key=lambda item: -item.usd):
        out.append(
            f"  {line.service:<16} {line.item:<44} {line.quantity:>12.6g} {line.unit:<20} "
            f"${_money(line.usd * 1_000_000)}/M"
        )
    out.append("")
    out.append("Fixed monthly (apart from the per-message costs):")
    for fixed in report.fixed:
        marker = "" if fixed.in_total else " (not in the total)"
        out.append(
            f"  {fixed.line.service:<16} {fixed.line.item:<44} {fixed.line.quantity:>10.6g}  "
            f"${fixed.line.usd:,.2f}{marker}: {fixed.note}"
        )
    out.append(f"  fixed total: ${report.fixed_monthly_usd:,.2f} a month")
    out.append(
        f"At {mix.messages_per_month:,} messages a month: ${report.monthly_usd:,.2f} "
        "(per-message costs, extra features included, + fixed)"
    )
    out.append("")
    out.append("X API (not AWS; pay-per-use list prices; not in the totals):")
    out.append(
        "  with ingress=webhook, mentions arrive as Account Activity deliveries, priced by X's plan, not per post"
    )
    for line in report.x_api:
        out.append(
            f"  {line.item}: {line.quantity:.3g} per message x ${line.unit_price} = ${_money(line.usd * 1_000_000)}/M"
        )
    out.append("")
    out.append("Assumptions:")
    for assumption in report.assumptions:
        out.append(f"  - {assumption}")
    out.append('Prices and their sources: botctl cost --format json ("prices"), or local/botlocal/cost/prices.py.')
    return "\n".join(out)
