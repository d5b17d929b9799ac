"""The cost report: our design's lines and the original design's, for one mix, from counted calls.

Apart from `model` so that `original` may build on `model` without an import cycle.
"""

from __future__ import annotations

from botlocal.chalice_app import find_runtime_dir, function_limits
from botlocal.cost import counting, original, profiles
from botlocal.cost.model import (
    ASSUMPTIONS,
    POLL_FUNCTION,
    CostReport,
    Mix,
    economy_assumptions,
    fixed_lines,
    post_lines,
    weigh,
    x_lines,
)


def build_report(
    counts: counting.ScenarioCounts,
    mix: Mix,
    *,
    profile: str | None = None,
    original_counts: counting.ScenarioCounts | None = None,
) -> CostReport:
    """The report for `counts` (its profile unless `profile` says otherwise). The original design is
    modelled from `original_counts` (the default profile's run) when given, else from `counts`: the
    original's functions are not the economy's (no small models, the configured memory), so the
    original is one figure whichever profile is priced."""
    profile = profile or counts.profile
    weights = mix.weights()
    lines = weigh({kind: post_lines(run) for kind, run in counts.posts.items()}, weights)
    basis = original_counts or counts
    original_lines = weigh({kind: original.post_lines(kind, run) for kind, run in basis.posts.items()}, weights)
    poll_memory = function_limits(find_runtime_dir(), POLL_FUNCTION)[1]
    return CostReport(
        profile=profile,
        mix=mix,
        lines=lines,
        original_lines=original_lines,
        fixed=fixed_lines(poll_memory),
        x_api=x_lines(counts.posts, weights),
        assumptions=[
            *ASSUMPTIONS,
            *(economy_assumptions() if profile == profiles.ECONOMY else []),
            *original.ASSUMPTIONS,
        ],
    )
