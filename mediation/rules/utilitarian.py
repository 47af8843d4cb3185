"""The utilitarian rule: maximise the entitlement-weighted sum of (compared) gains."""

from __future__ import annotations

from dataclasses import dataclass

from .. import reasons
from ..allocation.evidence import ParetoCertificate
from ..reasons import Reason
from .base import Context, RuleResult

__all__ = ["NAME", "WeightedSum", "solve"]

NAME = "utilitarian"


@dataclass(frozen=True)
class WeightedSum:
    """The value of the entitlement-weighted sum of compared gains at the optimum."""

    value: float

    def reasons(self) -> list[Reason]:
        """One ``weighted_sum`` reason."""
        return [reasons.WeightedSum(value=self.value)]


def solve(ctx: Context) -> RuleResult:
    """Maximise ``Σ_s w_s · (u_s − d_s) / ρ_s`` over the hard and policy constraints.

    ``ρ_s`` is the party's range (ideal − disagreement) under the ``normalized`` scale
    (relative utilitarianism) and 1 under ``raw``.

    References
    ----------
    Harsanyi, J. C. (1955). Cardinal welfare, individualistic ethics, and interpersonal
    comparisons of utility. *Journal of Political Economy* 63(4), 309–321.
    DOI 10.1086/257678.
    Dhillon, A. & Mertens, J.-F. (1999). Relative utilitarianism. *Econometrica* 67(3),
    471–498. DOI 10.1111/1468-0262.00033.
    """
    weights = ctx.utilitarian_weights()
    ctx.session.hint = "simplex"  # no coupling rows: the simplex is fast at any size
    ctx.session.set_objective(ctx.model.utility_expression(weights), maximize=True)
    status = ctx.solve()
    if not status.solved:
        return RuleResult(status, lps=ctx.session.solves)
    certificate = ParetoCertificate()
    ctx.record(certificate, accumulate=False)
    total = float(ctx.session.objective_value() - (weights * ctx.index.disagreement).sum())
    return RuleResult(
        status,
        shares=ctx.session.values(ctx.model.x),
        details=WeightedSum(total),
        prices=ctx.prices("weighted_sum"),
        certificate=certificate,
        lps=ctx.session.solves,
    )
