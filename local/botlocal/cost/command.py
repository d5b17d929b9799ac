"""`botctl cost`: the cost per message and per million, from the calls the pipeline really makes."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from botlocal.cost.profiles import DEFAULT, PROFILES


class _Share(click.FloatRange):
    """A share between 0 and 1; NaN is refused (it passes every range check)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        share = float(super().convert(value, param, ctx))
        if math.isnan(share):
            self.fail(f"{value!r} is not a number between 0 and 1", param, ctx)
        return share


_SHARE = _Share(0.0, 1.0)


@click.command()
@click.option("--messages-per-month", default=10_000, show_default=True, type=click.IntRange(min=0))
@click.option("--photo-share", default=0.5, show_default=True, type=_SHARE, help="Share of messages with a photo.")
@click.option("--people-share", default=0.5, show_default=True, type=_SHARE, help="Share of photos with a person.")
@click.option(
    "--text-in-photo-share", default=1 / 3, show_default="1/3", type=_SHARE, help="Share of photos with text."
)
@click.option(
    "--negative-share", default=0.1, show_default=True, type=_SHARE, help="Share of text-only posts that are negative."
)
@click.option("--profile", type=click.Choice(PROFILES), default=DEFAULT, show_default=True)
@click.option("--format", "output", type=click.Choice(("table", "json")), default="table", show_default=True)
def cost(
    messages_per_month: int,
    photo_share: float,
    people_share: float,
    text_in_photo_share: float,
    negative_share: float,
    profile: str,
    output: str,
) -> None:
    """Cost per message and per million messages on AWS, beside the original design.

    Runs a scenario of posts through the runtime's handlers with stubbed AWS clients, counts every
    call by operation, and multiplies by the price table (local/botlocal/cost/prices.py). With
    --profile economy the handlers run with the economy adapters and the real small models (slower:
    the models load once), and the original design is modelled from the default profile's run.
    """
    from botlocal.cost import counting, profiles
    from botlocal.cost.model import Mix
    from botlocal.cost.render import to_json, to_table
    from botlocal.cost.report import build_report

    mix = Mix(
        messages_per_month=messages_per_month,
        photo_share=photo_share,
        people_share=people_share,
        text_in_photo_share=text_in_photo_share,
        negative_share=negative_share,
    )
    if profile == profiles.ECONOMY:
        original_counts = counting.count_scenario()
        counts = counting.count_scenario(profile=profiles.ECONOMY)
        report = build_report(counts, mix, profile=profile, original_counts=original_counts)
    else:
        report = build_report(counting.count_scenario(), mix, profile=profile)
    if output == "json":
        click.echo(json.dumps(to_json(report), indent=2))
    else:
        click.echo(to_table(report))
