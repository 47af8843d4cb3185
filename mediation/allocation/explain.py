"""Reasons for an allocation: what binds and at what price, who got what and why (as data)."""

from __future__ import annotations

import numpy as np

from ..case import Case
from ..numeric import CaseIndex
from ..reasons import (
    CapacityBinding,
    CapBinding,
    ConstraintBinding,
    DisagreementBinding,
    FloorBinding,
    IssueAwarded,
    IssueSplit,
    NoRoom,
    Reason,
    RiskBorne,
)
from .evidence import Prices

__all__ = ["ACTIVE", "allocation_reasons", "binding_reasons"]

#: A share, utility or row within this (relative) distance of its bound counts as at the bound.
ACTIVE = 1e-7
#: A share below this counts as nothing, above 1 − this as the whole issue.
WHOLE = 1e-6


def binding_reasons(
    case: Case,
    index: CaseIndex,
    shares: np.ndarray,
    utilities: np.ndarray,
    *,
    individually_rational: bool,
    prices: Prices | None = None,
) -> list[Reason]:
    """Red lines, floors, caps, capacities, extra constraints and disagreement points that bind.

    Each reason carries ``dual``, the price of the bound: how much the rule's objective
    (``objective``: the worst-off party's compared gain, the weighted sum or the Nash
    welfare) would rise if the bound gave way by one unit (one whole share, one money unit,
    one utility point or one unit of the constraint's left-hand side). ``None`` when the
    solve gave no duals (indivisible issues) or the rule is not an LP.
    """
    reasons: list[Reason] = []
    objective = prices.objective if prices is not None else None

    def price(value: float | None) -> float | None:
        # a bound's price is never negative: solver noise below zero becomes 0.0; a clearly
        # negative figure is a degenerate dual that prices nothing, and is not reported
        if value is None or value < -1e-9:
            return None
        return max(float(value), 0.0) + 0.0

    def rank(key: str) -> int:
        return prices.level_of(key) if prices is not None else 1

    floors = np.flatnonzero((index.lower > 0) & (np.abs(shares - index.lower) <= ACTIVE))
    caps = np.flatnonzero((index.upper < 1) & (np.abs(shares - index.upper) <= ACTIVE))
    for binding, ks, bounds, sign in (
        (FloorBinding, floors, index.lower, -1.0),
        (CapBinding, caps, index.upper, 1.0),
    ):
        for k in ks.tolist():
            x = case.interests[k]
            dual = None if prices is None else sign * prices.shares[k]
            reasons.append(
                binding(
                    stakeholder=x.stakeholder,
                    issue=x.issue,
                    bound=float(bounds[k]),
                    dual=price(dual),
                    objective=objective,
                    rank=rank(f"share:{k}"),
                )
            )

    exposure = index.amount[index.pair_issue] * shares * (index.sign < 0)
    worst = np.bincount(index.pair_party, weights=exposure, minlength=len(index.parties))
    full = (
        np.isfinite(index.capacity)
        & (worst > 0)
        & (worst >= index.capacity - ACTIVE * np.maximum(1.0, np.nan_to_num(index.capacity)))
    )
    for p in np.flatnonzero(full).tolist():
        dual = None if prices is None else prices.capacities.get(p)
        reasons.append(
            CapacityBinding(
                stakeholder=index.parties[p],
                bound=float(index.capacity[p]),
                dual=price(dual),
                objective=objective,
                unit=_money_unit(case, index, p),
                rank=rank(f"capacity:{p}"),
            )
        )

    for c in case.constraints:
        lhs = sum(t.coef * float(shares[index.pair_of[t.stakeholder, t.issue]]) for t in c.terms)
        if abs(lhs - c.rhs) <= ACTIVE * max(1.0, abs(c.rhs)):
            dual = None if prices is None else prices.extra.get(c.name)
            if dual is not None:
                # the price of giving way: lowering a >= bound, raising a <= bound
                dual = -dual if c.sense == ">=" else (dual if c.sense == "<=" else abs(dual))
            reasons.append(
                ConstraintBinding(
                    constraint=c.name,
                    sense=c.sense,
                    bound=c.rhs,
                    dual=price(dual),
                    objective=objective,
                    rank=rank(f"extra:{c.name}"),
                )
            )

    if individually_rational:
        scale = np.maximum(np.maximum(1.0, np.abs(index.disagreement)), index.stake)
        at_floor = np.abs(utilities - index.disagreement) <= ACTIVE * scale
        for p in np.flatnonzero(at_floor).tolist():
            dual = None if prices is None else -prices.utilities[p]
            reasons.append(
                DisagreementBinding(
                    stakeholder=index.parties[p],
                    bound=float(index.disagreement[p]),
                    dual=price(dual),
                    objective=objective,
                    rank=rank(f"utility:{p}"),
                )
            )
    return reasons


def allocation_reasons(
    case: Case,
    index: CaseIndex,
    shares: np.ndarray,
    rho: np.ndarray,
    ideal: np.ndarray,
    flat: np.ndarray,
) -> list[Reason]:
    """Who got each issue and why: awarded whole, split, or (risks) borne by whom.

    A party's *relative value* of an issue is its value divided by its unit of comparison and
    its entitlement (``value / (ρ · w)``): what a whole issue adds to the gain the rules
    compare. An issue awarded whole to the party with the highest relative value went to the
    one that "values it relatively most"; a split issue is divided between parties whose
    relative values the balance made equivalent.
    """
    reasons: list[Reason] = []
    for p in np.flatnonzero(flat).tolist():
        reasons.append(
            NoRoom(
                stakeholder=index.parties[p],
                ideal=float(ideal[p]),
                disagreement=float(index.disagreement[p]),
            )
        )
    owner = index.pair_party
    relative = index.value / (rho[owner] * index.weight[owner])
    name = index.parties
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        if len(ks) == 0:
            continue
        held = ks[shares[ks] > WHOLE]
        if issue.kind == "risk":
            bearer = int(held[np.argmax(shares[held])]) if len(held) else int(ks[0])
            control = {
                case.interests[k].stakeholder: float(case.interests[k].control or 0.0)
                for k in ks.tolist()
                if case.interests[k].control is not None
            }
            best = max(control.values()) if control else None
            reasons.append(
                RiskBorne(
                    issue=issue.id,
                    stakeholder=name[owner[bearer]],
                    shares={name[owner[k]]: float(shares[k]) for k in held.tolist()},
                    control=control or None,
                    to_controller=None
                    if best is None
                    else control.get(name[owner[bearer]], 0.0) >= best - 1e-12,
                )
            )
        elif len(held) == 1:
            k = int(held[0])
            others = ks[ks != k]
            runner = int(others[np.argmax(relative[others])]) if len(others) else None
            top = float(relative[ks].max())
            reasons.append(
                IssueAwarded(
                    issue=issue.id,
                    stakeholder=name[owner[k]],
                    relative_value=float(relative[k]),
                    runner_up=None if runner is None else name[owner[runner]],
                    runner_up_value=None if runner is None else float(relative[runner]),
                    highest=bool(relative[k] >= top - 1e-12 * max(1.0, top)),
                )
            )
        elif len(held) > 1:
            reasons.append(
                IssueSplit(
                    issue=issue.id,
                    shares={name[owner[k]]: float(shares[k]) for k in held.tolist()},
                    relative_values={name[owner[k]]: float(relative[k]) for k in held.tolist()},
                )
            )
    return reasons


def _money_unit(case: Case, index: CaseIndex, p: int) -> str:
    units = {
        case.issues[int(index.pair_issue[k])].unit
        for k in index.interests_of_party[p]
        if index.sign[k] < 0
    }
    return units.pop() if len(units) == 1 else ""
