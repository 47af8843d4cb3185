"""The robust split of a sweep: one set of shares for all the sampled scenarios at once.

With ``robust: true`` in the sweep file (or ``mediation sweep --robust``), after the sweep the
scenario cases go to :func:`mediation.allocation.robust.robust_split`, a scenario-based robust
LP: one allocation within every party's capacity in every scenario, best in the worst case
(the maximin rule over the scenarios). It is reported beside the per-scenario optima
(:attr:`SweepSummary.robust <mediation.sweep.summary.SweepSummary.robust>`); the robust
split numbers the scenarios it was given from 0, and ``scenario_numbers`` maps them back to
the sweep's.

Which scenarios
    The robust split is about uncertain *data*; a pin is a question about the shares
    themselves, which one split cannot answer at several values at once. So the scenario
    cases are built from every parameter but the pins, and scenarios that differ only in
    their pins are passed once. At most :data:`ROBUST_SCENARIOS` are passed: all of them in a
    sweep that small, otherwise that many evenly spread over the sweep's numbers
    (``⌊k·n/count⌋``) together with the scenarios worst for each party. The cap bounds
    memory, not the LP (which adds scenario rows lazily): every scenario given is a whole
    case held at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from ..case import Case
from ..case.format11 import levered_problems
from ..errors import MediationError, Problem
from .plan import SweepPlan, build_scenario_case
from .summary import RobustReport

if TYPE_CHECKING:
    from .summary import SummaryAccumulator

__all__ = ["ROBUST_SCENARIOS", "robust_problems", "robust_report", "robust_scenarios"]

logger = logging.getLogger(__name__)

#: Scenario cases passed to the robust LP, at most.
ROBUST_SCENARIOS = 2_000


def robust_scenarios(
    plan: SweepPlan, worst: set[int], *, limit: int = ROBUST_SCENARIOS
) -> tuple[list[int], bool]:
    """Return the scenarios whose data the robust split must hold for, and whether all are.

    Scenarios that differ only in their pins count once (the first of them is returned).

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep, plan_sweep
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "risk", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1, "parameters": [
    ...     {"path": "pins.x.a", "grid": [0.2, 0.4]},
    ...     {"path": "issues.x.amount", "grid": [10, 20, 30]}]}))
    >>> robust_scenarios(plan, set())
    ([0, 1, 2], True)
    """
    n = plan.scenarios
    complete = n <= limit
    if complete:
        candidates: list[int] = list(range(n))
    else:
        spread = max(1, limit - len(worst))
        candidates = sorted({k * n // spread for k in range(spread)} | worst)
    data = [k for k, t in enumerate(plan.targets) if t.section != "pins"]
    seen: set[tuple[float, ...]] = set()
    chosen: list[int] = []
    for index in candidates:
        values = plan.scenario(index).values
        key = tuple(values[k] for k in data)
        if key not in seen:
            seen.add(key)
            chosen.append(index)
    return chosen, complete


def robust_problems(
    case: Case, *, instead: str = "set robust: false (or --no-robust)"
) -> list[Problem]:
    """Why a sweep of ``case`` cannot ask for the robust split (each at the sweep's ``robust``).

    The robust split states an allocation as its shares alone: a case with payments,
    contributions, choices or whole units is refused before anything is solved, rather
    than after every scenario. ``instead`` says what to do instead.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 4, "unit_size": 1}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> for p in robust_problems(case):
    ...     print(p)
    robust: the robust split does not take whole units yet ('x'): set robust: false (or --no-robust)
    """
    return [
        Problem("robust", p.message, p.code)
        for p in levered_problems(case, "the robust split", instead=instead)
    ]


def robust_report(plan: SweepPlan, accumulator: SummaryAccumulator) -> RobustReport:
    """Compute the robust split over the sweep's scenarios, or say why it cannot be.

    Returns
    -------
    RobustReport
        ``computed`` with the split (whose own status says whether one split meets every
        scenario); ``unavailable`` when this installation has no
        :mod:`mediation.allocation.robust`; ``failed`` with the error's message.
    """
    chosen, complete = robust_scenarios(plan, accumulator.worst_scenarios())
    selection: Literal["all", "subset"] = "all" if complete else "subset"
    try:
        from ..allocation.robust import robust_split
    except ImportError:
        return RobustReport(
            status="unavailable",
            scenarios=0,
            selection=selection,
            scenario_numbers=[],
            result=None,
            message="this installation of mediation has no robust LP (mediation.allocation.robust)",
        )
    data = [t for t in plan.targets if t.section != "pins"]
    keep = [k for k, t in enumerate(plan.targets) if t.section != "pins"]
    cases = [
        build_scenario_case(plan.base_data, data, [plan.scenario(i).values[k] for k in keep])
        for i in chosen
    ]
    try:
        result = robust_split(plan.case, cases, solver="highs", time_limit=plan.spec.time_limit)
    except MediationError as exc:
        logger.warning("robust split of %s failed: %s", plan.case.id, exc)
        return RobustReport(
            status="failed",
            scenarios=len(cases),
            selection=selection,
            scenario_numbers=chosen,
            result=None,
            message=str(exc),
        )
    return RobustReport(
        status="computed",
        scenarios=len(cases),
        selection=selection,
        scenario_numbers=chosen,
        result=result,
    )
