"""An independent check of a settlement against its case: no shared formulation code.

It restates the invariants from the case itself: shares in range and summing to one per
issue (to one of its size on an issue funded by contributions), red lines in shares and in
amounts, whole units, capacities and extra constraints kept, the payments, contributions and
choices within their bounds (:mod:`mediation.validator.levers`), utilities, gains and
exposures as reported, only the compared parties in ``parties`` (funds and observers apart),
and the promised properties (individual rationality, envy-freeness, proportionality, the
rules' own guarantees) actually holding; then, for an ``optimal`` settlement of an LP rule,
that it is the optimum (:mod:`mediation.validator.optimality`, LPs of its own written from the
case with scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..case import Case
from ..errors import Problem
from ..settlement import Settlement
from .diagnosis import check_diagnosis
from .fairness import check_fairness
from .guarantees import GUARANTEES, certified_optimum
from .levers import check_alternatives, check_levers, check_roles
from .optimality import optimality_problems
from .reasons import check_reasons
from .tolerance import TOLERANCE

__all__ = ["TOLERANCE", "validate_settlement"]

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
    >>> from mediation import settle
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
    check_reasons(case, settlement, fail)
    check_roles(case, settlement, fail)
    if settlement.status in ("infeasible", "error"):
        if settlement.status == "infeasible" and settlement.diagnosis is None:
            fail("diagnosis", "an infeasible settlement must say why")
        elif settlement.diagnosis is not None:
            check_diagnosis(case, settlement, fail)
        return problems

    levers = check_levers(case, settlement, fail)
    policy = settlement.provenance.policy
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
    # a funded issue's shares are fractions of its size (the contributions to it); its
    # values are the worth of its whole amount
    size = np.array([levers.size.get(i.id, i.amount) for i in case.issues])
    funded = np.array([i.id in levers.size for i in case.issues], dtype=bool)
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
        if abs(totals[q] - 1.0) <= TOLERANCE * 10:
            continue
        if not funded[q]:
            fail(f"shares.{issue.id}", f"shares sum to {totals[q]:.9g}, not 1")
        elif not (size[q] <= TOLERANCE * amount[q] and abs(totals[q]) <= TOLERANCE * 10):
            fail(
                f"shares.{issue.id}",
                f"shares sum to {totals[q]:.9g}, not 1 (of the size {size[q]:.9g} the "
                "contributions give)",
            )
    paid = np.fromiter(
        (settlement.amounts.get(x.issue, {}).get(x.stakeholder, math.nan) for x in interests),
        dtype=float,
        count=n,
    )
    due = s * size[topic]
    wrong = ~np.isclose(paid, due, rtol=1e-9, atol=0.0) & ~(
        np.abs(paid - due) <= TOLERANCE * amount[topic]
    )
    for k in np.flatnonzero(wrong & ~missing)[:_SHOWN].tolist():
        fail(
            f"amounts.{interests[k].issue}.{interests[k].stakeholder}",
            f"{paid[k]} is not share × size = {due[k]}"
            if funded[topic[k]]
            else f"{paid[k]} is not share × amount = {due[k]}",
        )
    if levers.size or any(x.min_amount is not None or x.max_amount is not None for x in interests):
        _amount_bounds(case, paid, amount[topic], fail)
    if any(i.unit_size is not None for i in case.issues):
        _whole_units(case, paid, fail)
    # the share of each issue's amount a party receives: what its value is the worth of
    part = np.where(funded[topic], s * size[topic] / amount[topic], s) if levers.size else s
    share = (
        {(x.stakeholder, x.issue): float(part[k]) for k, x in enumerate(interests)}
        # built when something reads it (at 200,000 interests it costs ~0.1 s)
        if case.constraints
        or GUARANTEES.get(settlement.rule, certified_optimum) is not certified_optimum
        else {}
    )

    # extra constraints: a share term counts the share of the issue's amount (of the most a
    # funded issue holds), a payment's or a contribution's the money, an option's 1 if chosen
    for c in case.constraints:
        lhs = 0.0
        reach = 0.0
        for t in c.terms:
            kind, *ident = t.column
            if kind == "share":
                lhs += t.coef * share.get((ident[0], ident[1]), 0.0)
                reach += abs(t.coef)
            else:
                lhs += t.coef * levers.column.get((kind, ident[0]), 0.0)
                reach += abs(t.coef) * levers.magnitude.get((kind, ident[0]), 1.0)
        slack = TOLERANCE * max(1.0, abs(c.rhs), reach)
        ok = {
            "<=": lhs <= c.rhs + slack,
            ">=": lhs >= c.rhs - slack,
            "==": abs(lhs - c.rhs) <= slack,
        }[c.sense]
        if not ok:
            fail(f"constraints.{c.name}", f"{lhs:.9g} {c.sense} {c.rhs:g} does not hold")

    # utilities, gains, exposures, capacities, individual rationality
    m = len(case.stakeholders)
    utility = np.bincount(owner, weights=np.where(risk, -value, value) * part, minlength=m)
    utility += levers.utility
    money = amount[topic] * part * risk  # exposure: risks only (a contribution is no exposure)
    worst = np.bincount(owner, weights=money, minlength=m)
    expected_loss = np.bincount(owner, weights=money * likelihood, minlength=m)
    control = np.array([x.control or 0.0 for x in case.interests], dtype=float)
    mitigated = np.bincount(
        owner, weights=money * likelihood * (1.0 - case.mitigation * control), minlength=m
    )
    stake = np.bincount(owner, weights=value, minlength=m) + levers.stake
    compared = np.ones(m, dtype=bool)
    if len(case.compared) < m:
        among = set(case.compared)
        compared = np.array([p.id in among for p in case.stakeholders], dtype=bool)
    scales: dict[str, float] = {}
    for p, party in enumerate(case.stakeholders):
        if not compared[p]:
            continue  # a fund or an observer: listed apart (check_roles), never compared
        out = settlement.parties.get(party.id)
        here = f"parties.{party.id}"
        if out is None:
            fail(here, "missing")
            continue
        scale = max(stake[p], abs(party.disagreement)) or 1.0
        scales[party.id] = scale
        if out.utility is None or abs(out.utility - utility[p]) > TOLERANCE * scale:
            fail(
                f"{here}.utility",
                f"{out.utility} but the shares"
                + (", money and options" if case.levered else "")
                + f" give {utility[p]:.9g}",
            )
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
            out.exposure.mitigated is not None
            and abs(out.exposure.mitigated - mitigated[p]) > TOLERANCE * exposure
        ):
            fail(
                f"{here}.exposure.mitigated",
                f"{out.exposure.mitigated} but the shares give {mitigated[p]:.9g}",
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

    if case.choices:
        check_alternatives(case, settlement, scales, fail)
    check_fairness(case, settlement, owner, topic, value, part, risk, compared, fail)
    guarantee = GUARANTEES.get(settlement.rule)
    if guarantee is None:
        fail("rule", f"no guarantee is known for rule '{settlement.rule}'")
    else:
        guarantee(case, settlement, share, fail)
    if optimality and not problems:
        for path, message in optimality_problems(case, settlement, time_limit=time_limit):
            fail(path, message)
    return problems


def _amount_bounds(
    case: Case, paid: np.ndarray, amount: np.ndarray, fail: Callable[[str, str], None]
) -> None:
    """Check each amount against its interest's ``min_amount`` and ``max_amount``."""
    shown = 0
    for k, x in enumerate(case.interests):
        if (x.min_amount is None and x.max_amount is None) or math.isnan(paid[k]):
            continue
        slack = TOLERANCE * amount[k]
        if x.min_amount is not None and paid[k] < x.min_amount - slack:
            message = f"{paid[k]:.9g} is below min_amount {x.min_amount:g}"
        elif x.max_amount is not None and paid[k] > x.max_amount + slack:
            message = f"{paid[k]:.9g} is above max_amount {x.max_amount:g}"
        else:
            continue
        shown += 1
        if shown <= _SHOWN:
            fail(f"amounts.{x.issue}.{x.stakeholder}", message)
    if shown > _SHOWN:
        fail("amounts", f"... and {shown - _SHOWN} more like these")


def _whole_units(case: Case, paid: np.ndarray, fail: Callable[[str, str], None]) -> None:
    """Check that every amount of an issue with a ``unit_size`` is a whole number of units."""
    unit = {i.id: i.unit_size for i in case.issues if i.unit_size is not None}
    shown = 0
    for k, x in enumerate(case.interests):
        size = unit.get(x.issue)
        if size is None or math.isnan(paid[k]):
            continue
        units = paid[k] / size
        if abs(units - round(units)) <= TOLERANCE:
            continue
        shown += 1
        if shown <= _SHOWN:
            fail(
                f"amounts.{x.issue}.{x.stakeholder}",
                f"{paid[k]:.9g} is not a whole number of units of {size:g} ({units:.9g} units)",
            )
    if shown > _SHOWN:
        fail("amounts", f"... and {shown - _SHOWN} more like these")
