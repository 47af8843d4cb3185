"""The Kalai–Smorodinsky rule: equal shares of each party's possible gain."""

from __future__ import annotations

from .base import Context, RuleResult
from .maximin import solve_levels_then_sum

__all__ = ["NAME", "solve"]

NAME = "kalai_smorodinsky"


def solve(ctx: Context) -> RuleResult:
    """Maximise the smallest normalized gain ``(u_s − d_s) / (ideal_s − d_s)``, then the sum.

    For two parties this is the Kalai–Smorodinsky solution: the Pareto point on the segment
    from the disagreement point to the ideal point, where each party gets the same fraction
    of what it could hope for. For more parties the rule is the maximin of normalized gains
    (the solution on the segment may be dominated), refined by the weighted sum. The scale is
    always ``normalized``, whatever the policy says; entitlements divide the gains as in
    maximin.

    References
    ----------
    Kalai, E. & Smorodinsky, M. (1975). Other solutions to Nash's bargaining problem.
    *Econometrica* 43(3), 513–518. DOI 10.2307/1914280.
    """
    return solve_levels_then_sum(ctx, objective="min_normalized_gain")
