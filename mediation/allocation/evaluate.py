"""What-if: evaluate a proposed split against the free settlement of the same case.

:func:`evaluate` settles the case as it is and with the planner's pins held (the rest of
the allocation filled in by the same rule, or checked when the pins fix every share), and
returns an :class:`~mediation.evaluation.Evaluation` with both side by side. Each party's
possible gain is measured against the free case's ideals, so the cost of the pins shows:
pinning a party's share of a resource down lowers its fraction of the possible gain instead
of shrinking the range it is measured on.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import numpy as np

from ..backends import SolverOptions, Status, open_session, resolve_backend
from ..case import Case, Pins, pin_problems, pinned
from ..case.format11 import levered_problems
from ..case.pins import pinned_pairs
from ..errors import PolicyError, Problem, SolverError, WhatIfError
from ..evaluation import (
    AmountChange,
    Blocker,
    Evaluation,
    Figures,
    PartyEvaluation,
    PinCheck,
    PinMove,
    PinRef,
)
from ..fairness import measure
from ..numeric import CaseIndex, index_case
from ..risk import RiskView, risk_view
from ..rules import get_rule
from ..settlement import Concession, Fairness, Settlement
from .assemble import tidy, tidy_fairness
from .model import build_model
from .pipeline import settle, settle_with_policy
from .prepare import Prepared, prepare
from .timing import Timings

__all__ = ["evaluate"]

#: A share that moves by less than this between the two settlements has not moved: the
#: rest is the solvers' tolerance (a leximin level is held within 1e-9 of a party's range).
_MOVED = 1e-7


def evaluate(
    case: Case,
    pins: Pins,
    *,
    rule: str | None = None,
    loss_tolerance: float | None = None,
    solver: str = "highs",
    time_limit: float = 60.0,
) -> Evaluation:
    """Evaluate the split that ``pins`` propose, beside the free settlement.

    Parameters
    ----------
    case
        A validated case.
    pins
        An issue's id → a party's id → the share pinned (see :mod:`mediation.case.pins`).
    rule
        The rule that fills in the shares the pins leave open (default: the case's policy).
    loss_tolerance
        The risk-sharing rule's trade-off (default: the case's policy).
    solver
        The backend's name.
    time_limit
        Seconds for the whole evaluation (two settlements and the pins' ranges).

    Returns
    -------
    Evaluation

    Raises
    ------
    WhatIfError
        When a pin is wrong: an unknown issue or party, a pair with no interest, a share
        outside [0, 1] or outside the party's own red lines, pins on one issue summing above
        1. Nothing is solved then.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders: [{id: a, name: 甲, kind: government}, {id: b, name: 乙, kind: enterprise}]
    ... issues: [{id: fund, name: 经费, kind: resource, amount: 100, unit: 万元}]
    ... interests:
    ...   - {stakeholder: a, issue: fund, value: 1}
    ...   - {stakeholder: b, issue: fund, value: 1}
    ... ''')
    >>> result = evaluate(case, {"fund": {"a": 0.7}})
    >>> result.feasible, result.pinned.shares["fund"]
    (True, {'a': 0.7, 'b': 0.3})
    >>> [(c.party, c.changes[0].amount, c.cost_normalized) for c in result.parties]
    [('a', 20.0, -0.2), ('b', -20.0, 0.2)]
    """
    levered = levered_problems(case, "the what-if")
    if levered:
        raise PolicyError(levered)
    problems = pin_problems(case, pins)
    if not pins and not problems:
        problems = [Problem("pins", "nothing to evaluate: pin at least one share", "missing")]
    if problems:
        raise WhatIfError(problems)
    started = time.perf_counter()
    free = settle(
        case, rule=rule, loss_tolerance=loss_tolerance, solver=solver, time_limit=time_limit / 2
    )
    held = pinned(case, pins)
    left = max(time_limit - (time.perf_counter() - started), 1.0)
    with_pins = _settle_pinned(held, free, solver, left * 0.8)
    index = index_case(case)
    view = risk_view(case, index)
    pairs = pinned_pairs(pins)
    complete = len(pairs) == len(case.interests)
    feasible = with_pins.status in ("optimal", "feasible")
    checks = _pin_checks(case, pins, free, solver, max(left * 0.2, 0.5))
    blockers: list[Blocker] = []
    nearest: list[PinMove] = []
    moves: list[PinMove] = []
    concessions: list[Concession] = []
    if with_pins.diagnosis is not None:
        nearest = _nearest_pins(case, pins, SolverOptions(solver=solver, time_limit=5.0))
        moves, concessions = _split(with_pins.diagnosis.concessions, pins)
        for conflict in with_pins.diagnosis.conflicts:
            on_pins = [
                m
                for m in conflict.constraints
                if m.kind in ("floor", "cap") and _pin_of(m.stakeholder, m.issue, pins) is not None
            ]
            alone_moves, alone = _split(conflict.alternatives, pins)
            blockers.append(
                Blocker(
                    pins=sorted(
                        {
                            PinRef(issue=m.issue or "", party=m.stakeholder or "", share=share)
                            for m in on_pins
                            if (share := _pin_of(m.stakeholder, m.issue, pins)) is not None
                        },
                        key=lambda r: (r.issue, r.party),
                    ),
                    red_lines=[m for m in conflict.constraints if m not in on_pins],
                    pin_moves=alone_moves,
                    concessions=alone,
                )
            )
    return Evaluation(
        case_id=case.id,
        rule=free.rule,
        pins={issue: {p: float(x) for p, x in shares.items()} for issue, shares in pins.items()},
        complete=complete,
        feasible=feasible,
        pin_checks=checks,
        blockers=blockers,
        nearest_pins=nearest,
        pin_moves=moves,
        concessions=concessions,
        parties=_parties(case, index, view, free, with_pins),
        fairness_free=free.fairness,
        fairness_pinned=_fairness_against_free(case, index, free, with_pins),
        free=free,
        pinned=with_pins,
    )


def _settle_pinned(held: Case, free: Settlement, solver: str, time_limit: float) -> Settlement:
    """Settle the pinned case by the free settlement's rule, on the free case's yardstick.

    The rule compares gains against the free case's ideals, not the pinned case's (which the
    pins lower): a pin at the share the free settlement already gives then changes nothing,
    and a pin that takes from a party is balanced as the loss it is.
    """
    policy = held.policy.with_overrides(
        {"rule": free.rule, **{k: v for k, v in free.provenance.policy.items() if k != "rule"}}
    )
    rule = get_rule(policy.rule)
    problems = rule.problems(held, policy)
    if problems:
        raise PolicyError(problems)
    # a fund or an observer has no outcome: its ideal is what it can reach, 0 (it has no
    # utility), and the prepared ideal keeps it
    outcomes = [free.parties.get(s.id) for s in held.stakeholders]
    ideals = [-np.inf if o is None else o.ideal for o in outcomes]
    yardstick = None if any(i is None for i in ideals) else np.array(ideals, dtype=float)

    def preparer(case: Case, policy: object, rule: object, **keywords: object) -> Prepared:
        prepared = prepare(case, policy, rule, **keywords)  # type: ignore[arg-type]
        if prepared.ideal is None or yardstick is None:
            return prepared
        # the free ideals bound the pinned ones; the maximum only clears the solver's noise
        return dataclasses.replace(prepared, ideal=np.maximum(yardstick, prepared.ideal))

    return settle_with_policy(
        held,
        policy,
        rule,
        resolve_backend(solver),
        time_limit=time_limit,
        check=True,
        started=time.perf_counter(),
        timings=Timings(),
        preparer=preparer,
    )


def _fairness_against_free(
    case: Case, index: CaseIndex, free: Settlement, with_pins: Settlement
) -> Fairness | None:
    """Return the pinned allocation's fairness, gains measured against the free ideals.

    Measured against its own ideals (which the pins move) a pin could seem to raise the
    worst-off; against the free ones it shows what it costs.
    """
    shares = _shares(case, with_pins)
    # a fund or an observer has no outcome and no utility: its ideal is 0
    outcomes = [free.parties.get(s.id) for s in case.stakeholders]
    ideals = [0.0 if o is None else o.ideal for o in outcomes]
    if shares is None or with_pins.fairness is None or any(i is None for i in ideals):
        return with_pins.fairness
    ideal = np.array(ideals, dtype=float)
    fairness, _ = measure(index, shares, ideal, pareto=with_pins.fairness.pareto_optimal)
    return tidy_fairness(fairness)


def _pin_of(party: str | None, issue: str | None, pins: Pins) -> float | None:
    if party is None or issue is None:
        return None
    share = pins.get(issue, {}).get(party)
    return None if share is None else float(share)


def _split(found: list[Concession], pins: Pins) -> tuple[list[PinMove], list[Concession]]:
    """Separate a diagnosis's concessions into moves of pins and relaxed red lines."""
    moves: list[PinMove] = []
    rest: list[Concession] = []
    for c in found:
        share = _pin_of(c.stakeholder, c.issue, pins) if c.kind in ("floor", "cap") else None
        if share is None:
            rest.append(c)
        else:
            assert c.issue is not None
            assert c.stakeholder is not None
            moves.append(
                PinMove(issue=c.issue, party=c.stakeholder, pinned=share, proposed=c.proposed)
            )
    return moves, rest


def _shares(case: Case, settlement: Settlement) -> np.ndarray | None:
    if settlement.status not in ("optimal", "feasible"):
        return None
    return np.array(
        [settlement.shares[x.issue].get(x.stakeholder, 0.0) for x in case.interests], dtype=float
    )


def _figures(
    case: Case,
    view: RiskView,
    settlement: Settlement,
    shares: np.ndarray | None,
    ideal: dict[str, float],
) -> dict[str, Figures]:
    if shares is None:
        return {}
    expected = view.expected(shares)
    worst = view.exposure(shares)
    burden = view.burden(shares)
    bears = view.bearers
    out: dict[str, Figures] = {}
    for p, s in enumerate(case.stakeholders):
        outcome = settlement.parties.get(s.id)  # none for funds and observers
        if outcome is None or outcome.utility is None:
            continue
        gain = outcome.utility - s.disagreement
        room = ideal.get(s.id)
        out[s.id] = Figures(
            utility=tidy(outcome.utility),
            gain=tidy(gain),
            normalized_gain=None if room is None else tidy(gain / room),
            expected_loss=tidy(float(expected[p])),
            worst_case=tidy(float(worst[p])),
            burden=tidy(float(burden[p])) if bears[p] else None,
            capacity=s.risk_capacity,
        )
    return out


def _parties(
    case: Case, index: CaseIndex, view: RiskView, free: Settlement, with_pins: Settlement
) -> list[PartyEvaluation]:
    room: dict[str, float] = {}
    compared = [s for s in case.stakeholders if s.id in free.parties]  # not funds, observers
    for s in compared:
        ideal = free.parties[s.id].ideal
        if ideal is not None and ideal - s.disagreement > 1e-9 * max(1.0, abs(ideal)):
            room[s.id] = ideal - s.disagreement
    x_free, x_pinned = _shares(case, free), _shares(case, with_pins)
    figures_free = _figures(case, view, free, x_free, room)
    figures_pinned = _figures(case, view, with_pins, x_pinned, room)
    out: list[PartyEvaluation] = []
    for s in compared:
        a, b = figures_free.get(s.id), figures_pinned.get(s.id)
        changes: list[AmountChange] = []
        if x_free is not None and x_pinned is not None:
            for k in case.interests_by_stakeholder[s.id]:
                position = index.pair_of[k.stakeholder, k.issue]
                before, after = float(x_free[position]), float(x_pinned[position])
                if abs(after - before) <= _MOVED:
                    continue
                issue = case.issue_by_id[k.issue]
                changes.append(
                    AmountChange(
                        issue=issue.id,
                        kind=issue.kind,
                        free=tidy(before),
                        pinned=tidy(after),
                        amount=tidy((after - before) * issue.amount),
                        unit=issue.unit,
                        value=tidy(
                            (after - before) * k.value * (1 if issue.kind == "resource" else -1)
                        ),
                    )
                )
        cost = None if a is None or b is None else tidy(a.utility - b.utility)
        cost_normalized = (
            None
            if a is None or b is None or a.normalized_gain is None or b.normalized_gain is None
            else tidy(a.normalized_gain - b.normalized_gain)
        )
        out.append(
            PartyEvaluation(
                party=s.id,
                free=a,
                pinned=b,
                changes=changes,
                cost=cost,
                cost_normalized=cost_normalized,
            )
        )
    return out


def _pin_checks(
    case: Case, pins: Pins, free: Settlement, solver: str, seconds: float
) -> list[PinCheck]:
    """Each pin's feasible range with the other pins (and every hard constraint) held.

    When the other pins leave no share at all, the range the red lines alone allow.
    """
    checks: list[PinCheck] = []
    options = SolverOptions(solver=solver, time_limit=seconds)
    for party, issue in pinned_pairs(pins):
        others = {
            i: {p: x for p, x in s.items() if (p, i) != (party, issue)} for i, s in pins.items()
        }
        others = {i: s for i, s in others.items() if s}
        held: Literal["red_lines", "other_pins", "red_lines_only"] = (
            "other_pins" if others else "red_lines"
        )
        ends = _range(pinned(case, others) if others else case, party, issue, options)
        if ends is None and others:
            held = "red_lines_only"
            ends = _range(case, party, issue, options)
        share = float(pins[issue][party])
        given = (
            free.shares.get(issue, {}).get(party)
            if free.status in ("optimal", "feasible")
            else None
        )
        low, high = ends if ends is not None else (None, None)
        checks.append(
            PinCheck(
                issue=issue,
                party=party,
                pinned=share,
                free=given,
                low=low,
                high=high,
                held=held,
                feasible=held != "red_lines_only"
                and low is not None
                and high is not None
                and low - 1e-9 <= share <= high + 1e-9,
            )
        )
    return checks


def _range(
    case: Case, party: str, issue: str, options: SolverOptions
) -> tuple[float, float] | None:
    """Return the least and the largest share of ``issue`` for ``party`` (hard constraints).

    Individual rationality counts as one when the case's policy asks for it. ``None`` when
    no allocation meets them (or the solver gave no answer).
    """
    index = index_case(case)
    model = build_model(case, index, name="pin_range")
    k = index.pair_of[party, issue]
    ends: list[float] = []
    try:
        session = open_session(model.problem, model.variables, options)
        if case.policy.individually_rational:
            session.set_bounds(model.u, index.disagreement, np.full(len(index.parties), np.inf))
        for maximize in (False, True):
            session.set_objective(model.expression([(model.x[k], 1.0)]), maximize=maximize)
            if session.solve().status != Status.OPTIMAL:
                return None
            ends.append(session.objective_value())
    except SolverError:
        return None
    return tidy(min(max(ends[0], 0.0), 1.0)), tidy(min(max(ends[1], 0.0), 1.0))


def _nearest_pins(case: Case, pins: Pins, options: SolverOptions) -> list[PinMove]:
    """Return the pins closest to ``pins`` with which every red line can hold.

    Minimises the total change of the pinned shares, Σ |x − pin|, over the allocations that
    meet the case's hard constraints (and individual rationality when the policy asks for
    it); the pins that move are returned. Empty when no allocation meets the red lines at all,
    whatever the pins.
    """
    index = index_case(case)
    model = build_model(case, index, name="nearest_pins")
    pairs = pinned_pairs(pins)
    above = {pair: model.new_variable(f"above{j}", 0.0) for j, pair in enumerate(pairs)}
    below = {pair: model.new_variable(f"below{j}", 0.0) for j, pair in enumerate(pairs)}
    rows = [
        model.row(
            [(model.x[index.pair_of[pair]], 1.0), (above[pair], -1.0), (below[pair], 1.0)],
            "==",
            float(pins[pair[1]][pair[0]]),
            f"pin{j}",
        )
        for j, pair in enumerate(pairs)
    ]
    try:
        session = open_session(model.problem, model.variables, options)
        session.add_constraints(rows)
        if case.policy.individually_rational:
            session.set_bounds(model.u, index.disagreement, np.full(len(index.parties), np.inf))
        deviations = [(c, 1.0) for c in (*above.values(), *below.values())]
        session.set_objective(model.expression(deviations), maximize=False)
        if session.solve().status != Status.OPTIMAL:
            return []
        shares = session.values(model.x)
    except SolverError:
        return []
    out: list[PinMove] = []
    for party, issue in pairs:
        share = float(pins[issue][party])
        proposed = tidy(float(np.clip(shares[index.pair_of[party, issue]], 0.0, 1.0)))
        if abs(proposed - share) > _MOVED:
            out.append(PinMove(issue=issue, party=party, pinned=share, proposed=proposed))
    return out
