"""An independent check of a settlement against its case: no shared formulation code.

It restates the invariants from the case itself: shares in range and summing to one per
issue, red lines, capacities and extra constraints kept, utilities, gains and exposures as
reported, and the promised properties (individual rationality, envy-freeness,
proportionality, the rules' own guarantees) actually holding; then, for an ``optimal``
settlement of an LP rule, that it is the optimum (:mod:`mediation.optimality`, LPs of its
own written from the case with scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .case import Case
from .errors import Problem
from .optimality import optimality_problems
from .settlement import Settlement

__all__ = ["TOLERANCE", "validate_settlement"]

#: Absolute tolerance on shares; utilities and money are compared relative to their scale.
TOLERANCE = 1e-6
#: Problems of one kind listed one by one before the rest are summarised.
_SHOWN = 20


def validate_settlement(
    case: Case,
    settlement: Settlement,
    *,
    time_limit: float | None = None,
    optimality: bool = True,
) -> list[Problem]:
    """Every way ``settlement`` breaks the rules of ``case`` (an empty list when it is sound).

    ``time_limit`` bounds the seconds of the optimality check's LPs (none by default); one
    stopped by it gives no verdict. ``optimality=False`` leaves that check out (the engine
    runs it itself, to report a feasible but suboptimal allocation as ``feasible``).

    Examples
    --------
    >>> from mediation.case import load_case
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
        elif settlement.diagnosis is not None:
            _check_diagnosis(case, settlement, fail)
        return problems

    policy = settlement.policy
    interests = case.interests
    n = len(interests)
    party_of = {s.id: k for k, s in enumerate(case.stakeholders)}
    issue_of = {i.id: k for k, i in enumerate(case.issues)}
    owner = np.fromiter((party_of[x.stakeholder] for x in interests), dtype=np.int64, count=n)
    topic = np.fromiter((issue_of[x.issue] for x in interests), dtype=np.int64, count=n)
    value = np.fromiter((x.value for x in interests), dtype=float, count=n)
    floor = np.fromiter((x.floor for x in interests), dtype=float, count=n)
    cap = np.fromiter((x.cap for x in interests), dtype=float, count=n)
    rows = settlement.shares
    got = np.fromiter(
        (rows.get(x.issue, {}).get(x.stakeholder, math.nan) for x in interests),
        dtype=float,
        count=n,
    )
    amount = np.array([i.amount for i in case.issues])
    risk = np.array([i.kind == "risk" for i in case.issues])[topic]
    likelihood = np.array([i.likelihood for i in case.issues])[topic]
    whole = ~np.array([i.divisible for i in case.issues])[topic]
    floor = np.where(whole, np.ceil(floor), floor)
    cap = np.where(whole, np.floor(cap), cap)

    def where(k: int) -> str:
        return f"shares.{interests[k].issue}.{interests[k].stakeholder}"

    def each(mask: np.ndarray, message: Callable[[int], str]) -> None:
        bad = np.flatnonzero(mask)
        for k in bad[:_SHOWN].tolist():
            fail(where(k), message(k))
        if len(bad) > _SHOWN:
            fail("shares", f"... and {len(bad) - _SHOWN} more like these")

    # shares: present, in range, whole for indivisible issues, within red lines
    missing = np.isnan(got)
    each(missing, lambda k: "missing")
    s = np.where(missing, 0.0, got)
    each((s < -TOLERANCE) | (s > 1 + TOLERANCE), lambda k: f"{s[k]} is outside [0, 1]")
    each(
        whole & (np.minimum(np.abs(s), np.abs(1 - s)) > TOLERANCE),
        lambda k: f"{s[k]}: issue '{interests[k].issue}' is indivisible, a share must be 0 or 1",
    )
    each(s < floor - TOLERANCE, lambda k: f"{s[k]:.9g} is below the floor {floor[k]:g}")
    each(s > cap + TOLERANCE, lambda k: f"{s[k]:.9g} is above the cap {cap[k]:g}")
    if sum(len(row) for row in rows.values()) != n - int(missing.sum()):
        for issue_id, row in rows.items():
            for party_id in row:
                if (party_id, issue_id) not in case.interest_by_pair:
                    fail(f"shares.{issue_id}.{party_id}", "no such interest in the case")
    totals = np.bincount(topic, weights=s, minlength=len(case.issues))
    for q, issue in enumerate(case.issues):
        if abs(totals[q] - 1.0) > TOLERANCE * 10:
            fail(f"shares.{issue.id}", f"shares sum to {totals[q]:.9g}, not 1")
    paid = np.fromiter(
        (settlement.amounts.get(x.issue, {}).get(x.stakeholder, math.nan) for x in interests),
        dtype=float,
        count=n,
    )
    due = s * amount[topic]
    wrong = ~np.isclose(paid, due, rtol=1e-9, atol=0.0) & ~(
        np.abs(paid - due) <= TOLERANCE * amount[topic]
    )
    for k in np.flatnonzero(wrong & ~missing)[:_SHOWN].tolist():
        fail(
            f"amounts.{interests[k].issue}.{interests[k].stakeholder}",
            f"{paid[k]} is not share × amount = {due[k]}",
        )
    share = (
        {(x.stakeholder, x.issue): float(s[k]) for k, x in enumerate(interests)}
        if case.constraints or settlement.rule in ("adjusted_winner", "claims")
        else {}
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
    m = len(case.stakeholders)
    utility = np.bincount(owner, weights=np.where(risk, -value, value) * s, minlength=m)
    money = amount[topic] * s * risk
    worst = np.bincount(owner, weights=money, minlength=m)
    expected_loss = np.bincount(owner, weights=money * likelihood, minlength=m)
    stake = np.bincount(owner, weights=value, minlength=m)
    for p, party in enumerate(case.stakeholders):
        out = settlement.parties.get(party.id)
        here = f"parties.{party.id}"
        if out is None:
            fail(here, "missing")
            continue
        scale = max(stake[p], abs(party.disagreement)) or 1.0
        if out.utility is None or abs(out.utility - utility[p]) > TOLERANCE * scale:
            fail(f"{here}.utility", f"{out.utility} but the shares give {utility[p]:.9g}")
            continue
        if (
            out.gain is None
            or abs(out.gain - (out.utility - party.disagreement)) > TOLERANCE * scale
        ):
            fail(f"{here}.gain", f"{out.gain} is not utility − disagreement")
        if out.disagreement != party.disagreement:
            fail(
                f"{here}.disagreement", f"{out.disagreement} is not the case's {party.disagreement}"
            )
        exposure = max(1.0, worst[p])
        if abs(out.exposure.worst_case - worst[p]) > TOLERANCE * exposure:
            fail(
                f"{here}.exposure.worst_case",
                f"{out.exposure.worst_case} but the shares give {worst[p]:.9g}",
            )
        if abs(out.exposure.expected - expected_loss[p]) > TOLERANCE * exposure:
            fail(
                f"{here}.exposure.expected",
                f"{out.exposure.expected} but the shares give {expected_loss[p]:.9g}",
            )
        if (
            party.risk_capacity is not None
            and worst[p] > party.risk_capacity + TOLERANCE * exposure
        ):
            fail(
                f"{here}.exposure.worst_case",
                f"{worst[p]:.9g} is above the risk capacity {party.risk_capacity:g}",
            )
        if (
            policy.get("individually_rational")
            and utility[p] < party.disagreement - TOLERANCE * scale
        ):
            fail(
                f"{here}.gain",
                f"{utility[p] - party.disagreement:.9g} < 0 but the policy "
                "promises individual rationality",
            )
        if out.ideal is not None and utility[p] > out.ideal + TOLERANCE * scale:
            fail(f"{here}.ideal", f"{out.ideal} is below the utility {utility[p]:.9g} it gets")
        if out.ideal is not None and out.normalized_gain is not None:
            room = out.ideal - party.disagreement
            if (
                room <= 0
                or abs(out.normalized_gain - (out.utility - party.disagreement) / room) > 1e-6
            ):
                fail(
                    f"{here}.normalized_gain",
                    f"{out.normalized_gain} is not gain / (ideal − disagreement)",
                )

    _check_fairness(case, settlement, owner, topic, value, s, risk, fail)
    _check_rule(case, settlement, share, fail)
    if optimality and not problems:
        for path, message in optimality_problems(case, settlement, time_limit=time_limit):
            fail(path, message)
    return problems


def _check_fairness(
    case: Case,
    settlement: Settlement,
    owner: np.ndarray,
    topic: np.ndarray,
    value: np.ndarray,
    shares: np.ndarray,
    risk: np.ndarray,
    fail: Callable[[str, str], None],
) -> None:
    report = settlement.fairness
    if report is None:
        fail("fairness", "missing for a settlement with an allocation")
        return
    ids = [s.id for s in case.stakeholders]
    values = np.zeros((len(ids), len(case.issues)))
    bundles = np.zeros_like(values)
    resource = ~risk
    values[owner[resource], topic[resource]] = value[resource]
    bundles[owner[resource], topic[resource]] = shares[resource]
    weight = np.array([s.weight for s in case.stakeholders])
    own = (values * bundles).sum(axis=1)
    envy = (values @ bundles.T) * (weight[:, None] / weight[None, :]) - own[:, None]
    np.fill_diagonal(envy, 0.0)
    total = values.sum(axis=1)
    scale = np.where(total > 0, total, 1.0)
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
    short = own < due - 1e-6 * np.where(due > 0, due, 1.0)
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


def _check_diagnosis(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Every red line a diagnosis names exists in the case with the bound it states, and
    every concession starts from that bound and proposes a value the format allows."""
    diagnosis = settlement.diagnosis
    assert diagnosis is not None
    if not (diagnosis.conflicts or diagnosis.concessions):
        fail("diagnosis", "the diagnosis names no conflict and no concession")
    constraints = {c.name: c for c in case.constraints}

    def bound_of(kind: str, party: str | None, issue: str | None, name: str | None) -> float | None:
        if kind in ("floor", "cap"):
            interest = case.interest_by_pair.get((party or "", issue or ""))
            if interest is None:
                return None
            return interest.min_share if kind == "floor" else interest.max_share
        if kind == "capacity":
            holder = case.stakeholder_by_id.get(party or "")
            return None if holder is None else holder.risk_capacity
        if kind == "disagreement":
            holder = case.stakeholder_by_id.get(party or "")
            return None if holder is None else holder.disagreement
        if kind == "constraint":
            found = constraints.get(name or "")
            return None if found is None else found.rhs
        return math.nan  # proportional and envy bounds are derived, not stated in the case

    named = [
        (
            f"diagnosis.conflicts[{n}].constraints[{k}]",
            c.kind,
            c.stakeholder,
            c.issue,
            c.constraint,
            c.bound,
        )
        for n, conflict in enumerate(diagnosis.conflicts)
        for k, c in enumerate(conflict.constraints)
    ] + [
        (f"diagnosis.concessions[{k}]", c.kind, c.stakeholder, c.issue, c.constraint, c.current)
        for k, c in enumerate(diagnosis.concessions)
    ]
    for where, kind, party, issue, name, stated in named:
        if kind in ("issue_total", "integrality"):
            continue
        actual = bound_of(kind, party, issue, name)
        if actual is None:
            fail(where, f"names a {kind} the case does not state")
        elif not math.isnan(actual) and (
            stated is None or abs(stated - actual) > 1e-9 * max(1.0, abs(actual))
        ):
            fail(where, f"states {stated} for a {kind} the case sets at {actual}")
    for k, c in enumerate(diagnosis.concessions):
        if c.kind in ("floor", "cap") and not (-TOLERANCE <= c.proposed <= 1 + TOLERANCE):
            fail(f"diagnosis.concessions[{k}].proposed", f"{c.proposed} is not a share")
        if c.kind == "capacity" and c.proposed < -TOLERANCE:
            fail(f"diagnosis.concessions[{k}].proposed", f"{c.proposed} is not a capacity")
