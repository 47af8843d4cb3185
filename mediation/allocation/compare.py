"""One case, many lenses: settle a case under several rules and set the settlements side by side.

:func:`compare` settles the case under every rule asked for (every registered rule by
default) that applies to it, lists the others with the reasons they do not apply, checks
whether each allocation is the only one giving every party its utilities
(:func:`~mediation.allocation.ranges.allocation_range`), and flags the rules whose
settlements coincide. :func:`settle_rules` and :func:`comparison_of` are its two halves, for
callers who want the settlements themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..backends import Backend
from ..case import Case
from ..case.format11 import levered_problems
from ..comparison import (
    Coincidence,
    Comparison,
    NotApplicable,
    PartyFigures,
    ProblemData,
    RuleOutcome,
    Tolerances,
)
from ..errors import PolicyError, Problem
from ..fairness import no_room
from ..numeric import CaseIndex, index_case
from ..reasons import SolverFailed
from ..rules import get_rule, rule_names
from ..settlement import Settlement
from .pipeline import settle
from .ranges import (
    RANGE_SHARE_TOLERANCE,
    RANGE_UTILITY_TOLERANCE,
    allocation_range,
    contested_issues,
    settlement_shares,
)

__all__ = [
    "SAME_SHARE",
    "SAME_UTILITY",
    "RuleSettlements",
    "compare",
    "comparison_of",
    "rules_to_compare",
    "settle_rules",
]

#: Two allocations are the same when no share differs by more than this: the tolerance of
#: the uniqueness check (a hundredth of a percentage point), so that two rules with the same
#: utilities and allocations further apart than it are also two allocations that check tells.
SAME_SHARE = RANGE_SHARE_TOLERANCE
#: Two settlements give a party the same utility when they differ by at most this fraction
#: of its range (ideal − disagreement; its stake without room): what the optimality
#: certificates resolve (1e-5 of a range; MIP rules hold stages within 1e-7 of the scaled
#: rows, and leximin and maximin then part by 1.5e-6 of a range on the elderly-care case).
SAME_UTILITY = 1e-5
#: Seconds each settlement and each uniqueness check may take at least, however little of
#: the comparison's time limit is left.
LEAST_SECONDS = 1e-3


@dataclass(frozen=True)
class RuleSettlements:
    """The settlements of one case under several rules, and the rules that do not apply.

    ``settled`` and ``not_applicable`` keep the order the rules were asked in.
    """

    settled: dict[str, Settlement] = field(default_factory=dict)
    not_applicable: dict[str, list[Problem]] = field(default_factory=dict)


def rules_to_compare(rules: Sequence[str] | None) -> list[str]:
    """Return the rules to compare: those given, each once, in order; every rule for ``None``.

    Raises
    ------
    PolicyError
        When a name is not a registered rule (the message lists the allowed names), or no
        rule is given.

    Examples
    --------
    >>> rules_to_compare(["maximin", "leximin", "maximin"])
    ['maximin', 'leximin']
    """
    known = rule_names()
    if rules is None:
        return list(known)
    asked = list(dict.fromkeys(rules))
    allowed = ", ".join(known)
    problems = [
        Problem(f"rules[{k}]", f"unknown rule '{name}'; choose from {allowed}", "unknown_rule")
        for k, name in enumerate(rules)
        if name not in known
    ]
    if not asked:
        problems.append(Problem("rules", f"no rule to compare; choose from {allowed}", "missing"))
    if problems:
        raise PolicyError(problems)
    return asked


def settle_rules(
    case: Case,
    rules: Sequence[str] | None = None,
    *,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
) -> RuleSettlements:
    """Settle ``case`` under each rule that applies to it, under the case's policy otherwise.

    Parameters
    ----------
    case
        A validated case.
    rules
        The rules, by name; every registered rule when ``None``.
    solver
        As for :func:`~mediation.allocation.pipeline.settle`.
    time_limit
        Seconds for all the settlements together: each takes what the others left.

    Returns
    -------
    RuleSettlements
        The settlements by rule, and the rules whose preconditions fail, with the problems.

    Raises
    ------
    PolicyError
        When a rule name is unknown, or the solver is.
    """
    deadline = time.perf_counter() + time_limit
    found = RuleSettlements()
    for name in rules_to_compare(rules):
        policy = case.policy.with_overrides({"rule": name})
        problems = get_rule(name).problems(case, policy)
        if problems:
            found.not_applicable[name] = list(problems)
            continue
        left = max(deadline - time.perf_counter(), LEAST_SECONDS)
        found.settled[name] = settle(case, rule=name, solver=solver, time_limit=left)
    return found


def _spans(index: CaseIndex, settlements: Sequence[Settlement]) -> np.ndarray:
    """Each party's range, from the first settlement that reports its ideal (else its stake)."""
    ideal = np.full(len(index.parties), np.nan)
    for s in settlements:
        for p, pid in enumerate(index.parties):
            outcome = s.parties.get(pid)  # funds and observers have none
            known = None if outcome is None else outcome.ideal
            if np.isnan(ideal[p]) and known is not None:
                ideal[p] = known
    filled = np.where(np.isnan(ideal), index.disagreement, ideal)
    flat = np.isnan(ideal) | no_room(filled, index.disagreement, index.stake)
    return np.asarray(np.where(flat, index.stake, filled - index.disagreement), dtype=float)


def _groups(names: list[str], same: dict[tuple[str, str], bool]) -> list[list[str]]:
    """Split ``names`` into groups whose members are all pairwise the same, in order."""
    groups: list[list[str]] = []
    for name in names:
        home = next((g for g in groups if all(same[m, name] for m in g)), None)
        if home is None:
            groups.append([name])
        else:
            home.append(name)
    return groups


def _coincidences(
    case: Case, index: CaseIndex, settled: dict[str, Settlement]
) -> list[Coincidence]:
    """Return the groups of rules with the same allocation, and with the same utilities."""
    names = [r for r, s in settled.items() if s.status in ("optimal", "feasible")]
    shares = {r: settlement_shares(case, settled[r]) for r in names}
    utilities = {r: index.utilities(shares[r]) for r in names}
    span = _spans(index, [settled[r] for r in names])
    same_shares: dict[tuple[str, str], bool] = {}
    same_utilities: dict[tuple[str, str], bool] = {}
    for a in names:
        for b in names:
            same_shares[a, b] = bool(np.all(np.abs(shares[a] - shares[b]) <= SAME_SHARE))
            same_utilities[a, b] = bool(
                np.all(np.abs(utilities[a] - utilities[b]) <= SAME_UTILITY * span)
            )
    found: list[Coincidence] = []
    allocation_groups = _groups(names, same_shares)
    for group in allocation_groups:
        if len(group) > 1:
            found.append(Coincidence(kind="same_allocation", rules=group, tolerance=SAME_SHARE))
    home = {r: k for k, g in enumerate(allocation_groups) for r in g}
    for group in _groups(names, same_utilities):
        if len({home[r] for r in group}) > 1:  # equally well off by different allocations
            found.append(Coincidence(kind="same_utilities", rules=group, tolerance=SAME_UTILITY))
    return found


def comparison_of(
    case: Case,
    settlements: RuleSettlements,
    *,
    ranges: bool = True,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
) -> Comparison:
    """Return the comparison of settlements of ``case`` (see :func:`settle_rules`).

    Parameters
    ----------
    case
        The case they settle.
    settlements
        The settlements by rule, and the rules that do not apply.
    ranges
        Check whether each allocation is unique (:func:`allocation_range`); ``False`` leaves
        every outcome's ``allocation`` null.
    solver, time_limit
        For the uniqueness checks, all of them together.

    Raises
    ------
    PolicyError
        When a settlement is not of ``case``.
    """
    deadline = time.perf_counter() + time_limit
    index = index_case(case)
    contested = [index.issues[q] for q in contested_issues(index)]
    outcomes: list[RuleOutcome] = []
    for rule, s in settlements.settled.items():
        allocated = s.status in ("optimal", "feasible")
        uniqueness = None
        if allocated and ranges and not levered_problems(case, "the allocation range"):
            left = max(deadline - time.perf_counter(), LEAST_SECONDS)
            uniqueness = allocation_range(case, s, solver=solver, time_limit=left)
        failed = [r.message for r in s.reasons if isinstance(r, SolverFailed)]
        outcomes.append(
            RuleOutcome(
                rule=rule,
                status=s.status,
                scale=s.scale,
                parties={
                    pid: PartyFigures(
                        utility=out.utility, gain=out.gain, normalized_gain=out.normalized_gain
                    )
                    for pid, out in s.parties.items()
                },
                shares={iid: dict(s.shares[iid]) for iid in contested if iid in s.shares},
                fairness=s.fairness,
                allocation=uniqueness,
                message="; ".join(failed) if s.status == "error" and failed else None,
            )
        )
    return Comparison(
        case_id=case.id,
        contested=contested,
        outcomes=outcomes,
        not_applicable=[
            NotApplicable(
                rule=rule,
                problems=[ProblemData(path=p.path, code=p.code, message=p.message) for p in found],
            )
            for rule, found in settlements.not_applicable.items()
        ],
        coincidences=_coincidences(case, index, settlements.settled),
        tolerances=Tolerances(
            share=SAME_SHARE,
            utility=SAME_UTILITY,
            range_share=RANGE_SHARE_TOLERANCE,
            range_utility=RANGE_UTILITY_TOLERANCE,
        ),
    )


def compare(
    case: Case,
    rules: Sequence[str] | None = None,
    *,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
) -> Comparison:
    """Settle ``case`` under several rules and compare the settlements side by side.

    Parameters
    ----------
    case
        A validated case; its policy's options (scale, individual rationality, ...) hold
        for every rule.
    rules
        The rules, by name, in the order to show them; every registered rule when ``None``.
        A rule whose preconditions the case does not meet is listed in ``not_applicable``.
    solver
        A backend's name (``highs``, ``cbc``) or a backend object.
    time_limit
        Seconds for the whole comparison: the settlements, then the uniqueness checks.

    Returns
    -------
    Comparison
        Each rule's outcome (status, utilities, normalized gains, contested shares,
        fairness, whether the allocation is unique), the rules that do not apply, and the
        rules whose settlements coincide.

    Raises
    ------
    PolicyError
        When a rule name is unknown (the message lists the allowed names), or the solver is.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues: [{id: g, name: G, kind: resource, amount: 1}]
    ... interests: [{stakeholder: a, issue: g, value: 2}, {stakeholder: b, issue: g, value: 1}]
    ... ''')
    >>> found = compare(case, ["maximin", "kalai_smorodinsky", "claims"])
    >>> [(c.kind, c.rules) for c in found.coincidences]
    [('same_allocation', ['maximin', 'kalai_smorodinsky'])]
    >>> found.outcome("maximin").shares, found.not_applicable[0].rule
    ({'g': {'a': 0.5, 'b': 0.5}}, 'claims')
    """
    started = time.perf_counter()
    settled = settle_rules(case, rules, solver=solver, time_limit=time_limit)
    left = max(time_limit - (time.perf_counter() - started), LEAST_SECONDS)
    return comparison_of(case, settled, solver=solver, time_limit=left)
