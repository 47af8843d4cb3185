"""An independent check of a settlement against its case: no LP, no shared formulation code.

It restates the invariants from the case itself: shares in range and summing to one per
issue, red lines, capacities and extra constraints kept, utilities, gains and exposures as
reported, and the promised properties (individual rationality, envy-freeness,
proportionality, the rules' own guarantees) actually holding.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from .case import Case
from .errors import Problem
from .settlement import Settlement

__all__ = ["TOLERANCE", "validate_settlement"]

#: Absolute tolerance on shares; utilities and money are compared relative to their scale.
TOLERANCE = 1e-6


def validate_settlement(case: Case, settlement: Settlement) -> list[Problem]:
    """Every way ``settlement`` breaks the rules of ``case`` (an empty list when it is sound).

    Examples
    --------
    >>> from mediation.documents import load_case
    >>> from mediation.engine import settle
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues: [{id: g, name: G, kind: resource, amount: 10}]
    ... interests: [{stakeholder: a, issue: g, value: 4}, {stakeholder: b, issue: g, value: 2}]
    ... ''')
    >>> validate_settlement(case, settle(case))
    []
    """
    problems: list[Problem] = []

    def fail(path: str, message: str) -> None:
        problems.append(Problem(path, message))

    if settlement.case_id != case.id:
        fail("case_id", f"'{settlement.case_id}' is not the case's id '{case.id}'")
    if settlement.status in ("infeasible", "error"):
        if settlement.status == "infeasible" and settlement.diagnosis is None:
            fail("diagnosis", "an infeasible settlement must say why")
        elif settlement.diagnosis is not None and not (
            settlement.diagnosis.conflicts or settlement.diagnosis.concessions
        ):
            fail("diagnosis", "the diagnosis names no conflict and no concession")
        return problems

    issues = case.issue_by_id
    parties = case.stakeholder_by_id
    policy = settlement.policy

    # shares: present, in range, whole for indivisible issues, within red lines
    share: dict[tuple[str, str], float] = {}
    for issue_id, row in settlement.shares.items():
        for party_id, value in row.items():
            share[party_id, issue_id] = value
    totals: dict[str, float] = defaultdict(float)
    for x in case.interests:
        where = f"shares.{x.issue}.{x.stakeholder}"
        if (x.stakeholder, x.issue) not in share:
            fail(where, "missing")
            continue
        s = share[x.stakeholder, x.issue]
        totals[x.issue] += s
        if not (-TOLERANCE <= s <= 1 + TOLERANCE) or math.isnan(s):
            fail(where, f"{s} is outside [0, 1]")
        whole = not issues[x.issue].divisible
        if whole and min(abs(s), abs(1 - s)) > TOLERANCE:
            fail(where, f"{s}: issue '{x.issue}' is indivisible, a share must be 0 or 1")
        floor = x.floor if not whole else math.ceil(x.floor)
        cap = x.cap if not whole else math.floor(x.cap)
        if s < floor - TOLERANCE:
            fail(where, f"{s:.9g} is below the floor {floor:g}")
        if s > cap + TOLERANCE:
            fail(where, f"{s:.9g} is above the cap {cap:g}")
    if len(share) != len(case.interests):
        extra = [k for k in share if k not in case.interest_by_pair]
        for party_id, issue_id in extra[:10]:
            fail(f"shares.{issue_id}.{party_id}", "no such interest in the case")
    for issue in case.issues:
        if abs(totals[issue.id] - 1.0) > TOLERANCE * 10:
            fail(f"shares.{issue.id}", f"shares sum to {totals[issue.id]:.9g}, not 1")
        for party_id, amount in settlement.amounts.get(issue.id, {}).items():
            expected = share.get((party_id, issue.id), math.nan) * issue.amount
            if not math.isclose(amount, expected, rel_tol=1e-9, abs_tol=TOLERANCE * issue.amount):
                fail(
                    f"amounts.{issue.id}.{party_id}", f"{amount} is not share × amount = {expected}"
                )

    # extra constraints
    for c in case.constraints:
        lhs = sum(t.coef * share.get((t.stakeholder, t.issue), 0.0) for t in c.terms)
        slack = TOLERANCE * max(1.0, abs(c.rhs), sum(abs(t.coef) for t in c.terms))
        ok = {
            "<=": lhs <= c.rhs + slack,
            ">=": lhs >= c.rhs - slack,
            "==": abs(lhs - c.rhs) <= slack,
        }[c.sense]
        if not ok:
            fail(f"constraints.{c.name}", f"{lhs:.9g} {c.sense} {c.rhs:g} does not hold")

    # utilities, gains, exposures, capacities, individual rationality
    utility: dict[str, float] = defaultdict(float)
    worst: dict[str, float] = defaultdict(float)
    expected_loss: dict[str, float] = defaultdict(float)
    stake: dict[str, float] = defaultdict(float)
    for x in case.interests:
        s = share.get((x.stakeholder, x.issue), 0.0)
        issue = issues[x.issue]
        stake[x.stakeholder] += x.value
        if issue.kind == "risk":
            utility[x.stakeholder] -= x.value * s
            worst[x.stakeholder] += issue.amount * s
            expected_loss[x.stakeholder] += issue.likelihood * issue.amount * s
        else:
            utility[x.stakeholder] += x.value * s
    for party_id, party in parties.items():
        out = settlement.parties.get(party_id)
        where = f"parties.{party_id}"
        if out is None:
            fail(where, "missing")
            continue
        scale = max(1.0, stake[party_id], abs(party.disagreement))
        if out.utility is None or abs(out.utility - utility[party_id]) > TOLERANCE * scale:
            fail(f"{where}.utility", f"{out.utility} but the shares give {utility[party_id]:.9g}")
            continue
        if (
            out.gain is None
            or abs(out.gain - (out.utility - party.disagreement)) > TOLERANCE * scale
        ):
            fail(f"{where}.gain", f"{out.gain} is not utility − disagreement")
        if abs(out.disagreement - party.disagreement) > 0:
            fail(
                f"{where}.disagreement",
                f"{out.disagreement} is not the case's {party.disagreement}",
            )
        money = max(1.0, worst[party_id])
        if abs(out.exposure.worst_case - worst[party_id]) > TOLERANCE * money:
            fail(
                f"{where}.exposure.worst_case",
                f"{out.exposure.worst_case} but the shares give {worst[party_id]:.9g}",
            )
        if abs(out.exposure.expected - expected_loss[party_id]) > TOLERANCE * money:
            fail(
                f"{where}.exposure.expected",
                f"{out.exposure.expected} but the shares give {expected_loss[party_id]:.9g}",
            )
        if (
            party.risk_capacity is not None
            and worst[party_id] > party.risk_capacity + TOLERANCE * money
        ):
            fail(
                f"{where}.exposure.worst_case",
                f"{worst[party_id]:.9g} is above the risk capacity {party.risk_capacity:g}",
            )
        if (
            policy.get("individually_rational")
            and utility[party_id] < party.disagreement - TOLERANCE * scale
        ):
            fail(
                f"{where}.gain",
                f"{utility[party_id] - party.disagreement:.9g} < 0 but the policy "
                "promises individual rationality",
            )
        if out.ideal is not None and out.normalized_gain is not None:
            room = out.ideal - party.disagreement
            if (
                room <= 0
                or abs(out.normalized_gain - (out.utility - party.disagreement) / room) > 1e-6
            ):
                fail(
                    f"{where}.normalized_gain",
                    f"{out.normalized_gain} is not gain / (ideal − disagreement)",
                )

    _check_fairness(case, settlement, share, fail)
    _check_rule(case, settlement, share, fail)
    return problems


def _check_fairness(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    report = settlement.fairness
    if report is None:
        fail("fairness", "missing for a settlement with an allocation")
        return
    ids = [s.id for s in case.stakeholders]
    row = {p: k for k, p in enumerate(ids)}
    resources = [i.id for i in case.issues if i.kind == "resource"]
    col = {i: k for k, i in enumerate(resources)}
    values = np.zeros((len(ids), len(resources)))
    bundles = np.zeros_like(values)
    for x in case.interests:
        if x.issue in col:
            values[row[x.stakeholder], col[x.issue]] = x.value
            bundles[row[x.stakeholder], col[x.issue]] = share.get((x.stakeholder, x.issue), 0.0)
    weight = np.array([s.weight for s in case.stakeholders])
    own = (values * bundles).sum(axis=1)
    envy = (values @ bundles.T) * (weight[:, None] / weight[None, :]) - own[:, None]
    np.fill_diagonal(envy, 0.0)
    scale = np.maximum(values.sum(axis=1), 1.0)
    max_envy = max(float(envy.max()), 0.0) if envy.size else 0.0
    envious = bool(np.any(envy > 1e-6 * scale[:, None]))
    if abs(report.max_envy - max_envy) > 1e-6 * max(1.0, max_envy):
        fail("fairness.max_envy", f"{report.max_envy} but the shares give {max_envy:.9g}")
    if report.envy_free == envious:
        fail("fairness.envy_free", f"{report.envy_free} but the largest envy is {max_envy:.9g}")
    if settlement.policy.get("envy_free") and envious:
        fail(
            "fairness.envy_free", f"the policy promises envy-freeness; largest envy {max_envy:.9g}"
        )
    due = weight / weight.sum() * values.sum(axis=1)
    short = own < due - 1e-6 * np.maximum(due, 1.0)
    if settlement.policy.get("proportional"):
        for k in np.flatnonzero(short):
            fail(
                f"parties.{ids[k]}",
                f"gets {own[k]:.9g} of its resources' value, below its "
                f"proportional due {due[k]:.9g}",
            )
    if report.proportional == bool(short.any()):
        fail("fairness.proportional", f"{report.proportional} but recomputed {not short.any()}")
    gains = [
        p.normalized_gain for p in settlement.parties.values() if p.normalized_gain is not None
    ]
    smallest = min(gains) if gains else None
    if (smallest is None) != (report.min_normalized_gain is None) or (
        smallest is not None
        and report.min_normalized_gain is not None
        and abs(smallest - report.min_normalized_gain) > 1e-9
    ):
        fail(
            "fairness.min_normalized_gain",
            f"{report.min_normalized_gain} but the parties give {smallest}",
        )


def _check_rule(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """The guarantees of the procedural rules, restated."""
    if settlement.rule == "adjusted_winner":
        a, b = (s.id for s in case.stakeholders)
        points = {
            p: sum(
                x.value * share.get((p, x.issue), 0.0) for x in case.interests if x.stakeholder == p
            )
            for p in (a, b)
        }
        if abs(points[a] - points[b]) > 1e-6 * 100:
            fail(
                "parties",
                f"Adjusted Winner must be equitable: {a} has {points[a]:.9g} points, "
                f"{b} has {points[b]:.9g}",
            )
        split = [
            i.id
            for i in case.issues
            if min(share.get((a, i.id), 0.0), share.get((b, i.id), 0.0)) > TOLERANCE
        ]
        if len(split) > 1:
            fail("shares", f"Adjusted Winner splits at most one issue, here {', '.join(split)}")
    if settlement.rule == "claims":
        for x in case.interests:
            award = share.get((x.stakeholder, x.issue), 0.0) * case.issue_by_id[x.issue].amount
            if x.claim is not None and award > x.claim * (1 + 1e-9) + TOLERANCE:
                fail(
                    f"amounts.{x.issue}.{x.stakeholder}",
                    f"award {award:.9g} exceeds the claim {x.claim:g}",
                )
