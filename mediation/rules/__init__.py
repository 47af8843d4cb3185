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

__all__ = ["LP_RULES", "PROCEDURAL_RULES", "policy_problems"]

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


def policy_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why ``policy`` cannot be applied to ``case`` (an empty list when it can).

    The procedural rules have preconditions (Adjusted Winner: two parties, divisible
    resources, 100 points each; claims rules: a claim on every interest, claims exceeding
    the amount); neither takes red lines, capacities or extra constraints.
    """
    module = PROCEDURAL_RULES.get(policy.rule)
    if module is None:
        return []
    problems: list[Problem] = module.case_problems(case, policy)
    return problems
