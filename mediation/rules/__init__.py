"""The fair-division rules, one module each, and what each needs of a case."""

from __future__ import annotations

from types import ModuleType

from ..case import Case, Policy
from ..errors import Problem
from . import (
    adjusted_winner,
    claims,
    kalai_smorodinsky,
    leximin,
    maximin,
    nash,
    utilitarian,
)

__all__ = ["LP_RULES", "NASH_WEIGHT_RATIO", "PROCEDURAL_RULES", "policy_problems"]

#: Rules solved on the allocation LP: ``solve(ctx: Context) -> Outcome``.
LP_RULES: dict[str, ModuleType] = {
    "utilitarian": utilitarian,
    "maximin": maximin,
    "leximin": leximin,
    "nash": nash,
    "kalai_smorodinsky": kalai_smorodinsky,
}
#: Rules computed by a procedure, not an LP: ``allocate(case, policy, index)``.
PROCEDURAL_RULES: dict[str, ModuleType] = {
    "adjusted_winner": adjusted_winner,
    "claims": claims,
}


#: The largest ratio of two parties' weights Nash's rule takes: its solution gives the light
#: party a gain of about the ratio, and tangents below 1e-10 cannot be placed reliably.
NASH_WEIGHT_RATIO = 1e9


def policy_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why ``policy`` cannot be applied to ``case`` (an empty list when it can).

    The procedural rules have preconditions (Adjusted Winner: two parties, divisible
    resources, 100 points each; claims rules: a claim on every interest, claims exceeding
    the amount); neither takes red lines, capacities or extra constraints.
    """
    if policy.rule == "nash":
        weights = [s.weight for s in case.stakeholders]
        if weights and max(weights) > NASH_WEIGHT_RATIO * min(weights):
            heavy = max(case.stakeholders, key=lambda s: s.weight)
            light = min(case.stakeholders, key=lambda s: s.weight)
            return [
                Problem(
                    "stakeholders",
                    f"Nash's rule weighs gains by log: weights {heavy.weight:g} ('{heavy.id}') "
                    f"and {light.weight:g} ('{light.id}') are more than "
                    f"{NASH_WEIGHT_RATIO:g} apart, and the light party's share (about their "
                    "ratio) is below what the solver can resolve; bring them closer or use "
                    "leximin",
                )
            ]
    module = PROCEDURAL_RULES.get(policy.rule)
    if module is None:
        return []
    problems: list[Problem] = module.case_problems(case, policy)
    return problems
