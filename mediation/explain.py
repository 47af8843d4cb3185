"""Reasons for an allocation: what binds and at what price, who got what and why (as data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .case import Case
from .formulation import CaseIndex

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
    prices: Any = None,
) -> list[dict[str, Any]]:
    """Red lines, floors, caps, capacities, extra constraints and disagreement points that bind.

    Each reason carries ``dual``, the price of the bound: how much the rule's objective
    (``objective``: the worst-off party's compared gain, the weighted sum or the Nash
    welfare) would rise if the bound gave way by one unit (one whole share, one money unit,
    one utility point or one unit of the constraint's left-hand side). ``None`` when the
    solve gave no duals (indivisible issues) or the rule is not an LP.
    """
    reasons: list[dict[str, Any]] = []
    objective = prices.objective if prices is not None else None

    def price(value: float | None) -> float | None:
        return None if value is None else float(value) + 0.0  # +0.0 turns -0.0 into 0.0

    for k, interest in enumerate(case.interests):
        share = float(shares[k])
        if interest.min_share and abs(share - index.lower[k]) <= ACTIVE:
            rc = None if prices is None else -prices.shares[k]
            if rc is not None and rc < 0:
                rc = 0.0
            reasons.append(
                {
                    "code": "floor_binding",
                    "stakeholder": interest.stakeholder,
                    "issue": interest.issue,
                    "bound": float(index.lower[k]),
                    "dual": price(rc),
                    "objective": objective,
                }
            )
        if (
            interest.max_share is not None
            and interest.max_share < 1
            and abs(share - index.upper[k]) <= ACTIVE
        ):
            rc = None if prices is None else prices.shares[k]
            if rc is not None and rc < 0:
                rc = 0.0
            reasons.append(
                {
                    "code": "cap_binding",
                    "stakeholder": interest.stakeholder,
                    "issue": interest.issue,
                    "bound": float(index.upper[k]),
                    "dual": price(rc),
                    "objective": objective,
                }
            )

    exposure = index.amount[index.pair_issue] * shares * (index.sign < 0)
    worst = np.bincount(index.pair_party, weights=exposure, minlength=len(index.parties))
    for p, party in enumerate(index.parties):
        cap = index.capacity[p]
        if np.isfinite(cap) and worst[p] >= cap - ACTIVE * max(1.0, cap) and worst[p] > 0:
            dual = None if prices is None else prices.capacities.get(p)
            reasons.append(
                {
                    "code": "capacity_binding",
                    "stakeholder": party,
                    "bound": float(cap),
                    "dual": price(None if dual is None else max(dual, 0.0)),
                    "objective": objective,
                    "unit": _money_unit(case, index, p),
                }
            )

    for c in case.constraints:
        lhs = sum(t.coef * float(shares[index.pair_of[t.stakeholder, t.issue]]) for t in c.terms)
        scale = max(1.0, abs(c.rhs))
        if abs(lhs - c.rhs) <= ACTIVE * scale:
            dual = None if prices is None else prices.extra.get(c.name)
            if dual is not None:
                # the price of giving way: lowering a >= bound, raising a <= bound
                dual = -dual if c.sense == ">=" else (dual if c.sense == "<=" else abs(dual))
                dual = max(dual, 0.0)
            reasons.append(
                {
                    "code": "constraint_binding",
                    "constraint": c.name,
                    "sense": c.sense,
                    "bound": c.rhs,
                    "dual": price(dual),
                    "objective": objective,
                }
            )

    if individually_rational:
        for p, party in enumerate(index.parties):
            d = index.disagreement[p]
            if abs(utilities[p] - d) <= ACTIVE * max(1.0, abs(d), float(index.stake[p])):
                rc = None if prices is None else max(-prices.utilities[p], 0.0)
                reasons.append(
                    {
                        "code": "disagreement_binding",
                        "stakeholder": party,
                        "bound": float(d),
                        "dual": price(rc),
                        "objective": objective,
                    }
                )
    return reasons


def allocation_reasons(
    case: Case,
    index: CaseIndex,
    shares: np.ndarray,
    rho: np.ndarray,
    ideal: np.ndarray,
    flat: np.ndarray,
) -> list[dict[str, Any]]:
    """Who got each issue and why: awarded whole, split, or (risks) borne by whom.

    A party's *relative value* of an issue is its value divided by its unit of comparison and
    its entitlement (``value / (ρ · w)``): what a whole issue adds to the gain the rules
    compare. An issue awarded whole to the party with the highest relative value went to the
    one that "values it relatively most"; a split issue is divided between parties whose
    relative values the balance made equivalent.
    """
    reasons: list[dict[str, Any]] = []
    for p, party in enumerate(index.parties):
        if flat[p]:
            reasons.append(
                {
                    "code": "no_room",
                    "stakeholder": party,
                    "ideal": float(ideal[p]),
                    "disagreement": float(index.disagreement[p]),
                }
            )
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        if len(ks) == 0:
            continue
        parties = [index.parties[index.pair_party[k]] for k in ks]
        got = {parties[j]: float(shares[k]) for j, k in enumerate(ks)}
        relative = {
            parties[j]: float(
                index.value[k] / (rho[index.pair_party[k]] * index.weight[index.pair_party[k]])
            )
            for j, k in enumerate(ks)
        }
        holders = [p for p in parties if got[p] > WHOLE]
        if issue.kind == "risk":
            control = {
                case.interests[k].stakeholder: case.interests[k].control
                for k in ks
                if case.interests[k].control is not None
            }
            bearer = max(holders, key=lambda p: got[p]) if holders else parties[0]
            reason: dict[str, Any] = {
                "code": "risk_borne",
                "issue": issue.id,
                "stakeholder": bearer,
                "shares": {p: got[p] for p in holders},
            }
            if control:
                best = max(control.values())
                reason["control"] = control
                reason["to_controller"] = control.get(bearer, -1.0) >= best - 1e-12
            reasons.append(reason)
            continue
        if len(holders) == 1:
            winner = holders[0]
            top = max(relative.values())
            reasons.append(
                {
                    "code": "issue_awarded",
                    "issue": issue.id,
                    "stakeholder": winner,
                    "relative_values": relative,
                    "highest": relative[winner] >= top - 1e-12 * max(1.0, top),
                }
            )
        elif holders:
            reasons.append(
                {
                    "code": "issue_split",
                    "issue": issue.id,
                    "shares": {p: got[p] for p in holders},
                    "relative_values": {p: relative[p] for p in holders},
                }
            )
    return reasons


def _money_unit(case: Case, index: CaseIndex, p: int) -> str:
    units = {
        case.issues[int(index.pair_issue[k])].unit
        for k in index.interests_of_party[p]
        if index.sign[k] < 0
    }
    return units.pop() if len(units) == 1 else ""
