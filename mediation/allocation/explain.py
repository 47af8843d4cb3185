"""Reasons for an allocation: what binds and at what price, who got what and why (as data).

The payments, contributions, choices and funds of case format 1.1 have their reasons in
:func:`lever_reasons`.
"""

from __future__ import annotations

import numpy as np

from ..case import Case
from ..numeric import CaseIndex
from ..reasons import (
    CapacityBinding,
    CapBinding,
    ConstraintBinding,
    ContributionGiven,
    DisagreementBinding,
    FloorBinding,
    FundShare,
    IssueAwarded,
    IssueFunded,
    IssueSplit,
    NoRoom,
    OptionChosen,
    PaymentDue,
    Reason,
    RiskBorne,
)
from .evidence import Prices
from .refine import LEVER_SNAP

__all__ = ["ACTIVE", "allocation_reasons", "binding_reasons", "lever_reasons"]

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
    price = _price

    def rank(key: str) -> int:
        return prices.level_of(key) if prices is not None else 1

    allocation, shares = shares, shares[: index.n]  # the levers follow the shares
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
                    amount=_bound_amount(case, index, k, floor=binding is FloorBinding),
                    dual=price(dual),
                    objective=objective,
                    rank=rank(f"share:{k}"),
                    basis=x.basis,
                    source=x.source,
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
        holder = case.stakeholders[p]
        reasons.append(
            CapacityBinding(
                stakeholder=index.parties[p],
                bound=float(index.capacity[p]),
                dual=price(dual),
                objective=objective,
                unit=_money_unit(case, index, p),
                rank=rank(f"capacity:{p}"),
                basis=holder.capacity_basis,
                source=holder.capacity_source,
            )
        )

    for c in case.constraints:
        lhs = sum(index.term_value(t, allocation) for t in c.terms)
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
                    basis=c.basis,
                    source=c.source,
                )
            )

    if individually_rational:
        scale = np.maximum(np.maximum(1.0, np.abs(index.disagreement)), index.stake)
        at_floor = (np.abs(utilities - index.disagreement) <= ACTIVE * scale) & index.compared
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
    shares = shares[: index.n]  # the levers' reasons are given apart
    for p in np.flatnonzero(flat & index.compared).tolist():
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
    funded = index.funded if len(index.funded) else np.zeros(len(case.issues), dtype=bool)
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        # a funded issue's shares are told as fractions of its size, as the settlement's are
        whole = float(shares[ks].sum()) if funded[q] and shares[ks].sum() > 0 else 1.0
        if len(index.compared):  # a fund's share is money set aside (see lever_reasons)
            ks = ks[index.compared[owner[ks]]]
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
                    shares={name[owner[k]]: float(shares[k]) / whole for k in held.tolist()},
                    relative_values={name[owner[k]]: float(relative[k]) for k in held.tolist()},
                )
            )
    return reasons


def _price(value: float | None) -> float | None:
    """Return a bound's price as reported: never negative.

    Solver noise below zero becomes 0.0; a clearly negative figure is a degenerate dual that
    prices nothing, and is not reported.
    """
    if value is None or value < -1e-9:
        return None
    return max(float(value), 0.0) + 0.0


def _bound_amount(case: Case, index: CaseIndex, k: int, *, floor: bool) -> float | None:
    """Return interest ``k``'s floor (or cap) in force in its issue's unit, or ``None``.

    In the unit when the case states it so: an amount bound (``min_amount``/``max_amount``)
    that is the tighter of the interest's two, or any bound on an issue shared in whole units.
    """
    x = case.interests[k]
    issue = case.issues[int(index.pair_issue[k])]
    stated, share = (x.min_amount, x.min_share) if floor else (x.max_amount, x.max_share)
    in_force = float((index.lower if floor else index.upper)[k])
    if stated is not None and share is not None:
        tighter = stated / issue.amount >= share if floor else stated / issue.amount <= share
        stated = stated if tighter else None
    if stated is None and issue.unit_size is None:
        return None
    return in_force * issue.amount


def lever_reasons(
    case: Case,
    index: CaseIndex,
    allocation: np.ndarray,
    utilities: np.ndarray,
    prices: Prices | None = None,
) -> list[Reason]:
    """Explain case format 1.1's levers: the choices, contributions, payments and funds.

    In that order: the option each choice takes and its cost; each contribution (a
    *subsidy* when it costs its giver nothing) and each funded issue's size; each payment;
    and each fund's share of an issue, money set aside rather than a party's gain.

    A payment or contribution at its ``max`` (or at a ``min`` above 0) is held there by
    that bound, priced as :func:`binding_reasons` prices a red line (per money unit, when
    the solve gave duals); one at 0 with a ``min`` of 0 is not made. In between, what sets
    it is an extra constraint that binds on it, the chosen option's cost (a contribution to
    a choice), or, for a payment between two compared parties, the balance of their gains
    that the rule struck, unless the amount leaves one of them exactly at its no-deal
    outcome (by ``utilities``).
    """
    levers, n = index.levers, index.n
    reasons: list[Reason] = []
    if not len(levers) and not case.funds:
        return reasons
    at = levers.position
    column = allocation[n:]
    money = column * levers.scale if len(levers) else column
    objective = prices.objective if prices is not None else None
    duals = prices.shares if prices is not None and len(prices.shares) == index.width else None
    binding = _binding_constraints(case, index, allocation)
    compared = {p for p, c in zip(index.parties, index.compared.tolist(), strict=True) if c}

    for choice in case.choices:
        chosen = index.chosen(choice, allocation)
        reasons.append(
            OptionChosen(choice=choice.id, option=chosen.id, cost=chosen.cost, unit=choice.unit)
        )

    scale = np.maximum(np.maximum(1.0, np.abs(index.disagreement)), index.stake)
    held_at = np.abs(utilities - index.disagreement) <= ACTIVE * scale
    at_disagreement = {p for p, h in zip(index.parties, held_at.tolist(), strict=True) if h}
    at_disagreement &= compared

    def lever(
        kind: str, ident: str, least: float, most: float, parties: list[str]
    ) -> dict[str, object]:
        # what sets a payment's or a contribution's amount, and the price of its bound
        j = at[kind, ident]
        value, low = float(column[j]), float(levers.lower[j])
        fields: dict[str, object] = {
            "amount": float(money[j]),
            "least": least,
            "most": most,
            "why": "range",
        }
        if low <= LEVER_SNAP and value <= LEVER_SNAP:
            return fields | {"amount": 0.0, "why": "zero"}
        sign = 0.0
        if value >= 1.0 - LEVER_SNAP:
            fields["why"], sign = "max", 1.0
        elif value <= low + LEVER_SNAP:
            fields["why"], sign = "min", -1.0
        if sign:
            dual = None if duals is None else sign * float(duals[n + j]) / most
            rank = prices.level_of(f"share:{n + j}") if prices is not None else 1
            return fields | {"dual": _price(dual), "objective": objective, "rank": rank}
        named = binding.get((kind, ident))
        if named is not None:
            return fields | {"why": "constraint", "constraint": named}
        held = [p for p in parties if p in at_disagreement]
        if held:
            return fields | {"why": "disagreement", "parties": held}
        return fields

    unit_of = {i.id: i.unit for i in case.issues} | {c.id: c.unit for c in case.choices}
    issue_ids = {i.id for i in case.issues}
    for c in case.contributions:
        # a subsidy leaves its giver's utility as it is: it holds nobody at a no-deal outcome
        fields = lever("contribution", c.id, c.min, c.max, [c.stakeholder] if c.rate else [])
        if fields["why"] == "range" and c.to not in issue_ids:
            fields["why"] = "cost"  # with the others it meets the chosen option's cost
        fields |= {
            "contribution": c.id,
            "basis": c.basis,
            "source": c.source,
            "stakeholder": c.stakeholder,
            "issue": c.to if c.to in issue_ids else None,
            "choice": None if c.to in issue_ids else c.to,
            "unit": unit_of.get(c.to, ""),
            "subsidy": c.rate == 0,
        }
        reasons.append(ContributionGiven.model_validate(fields))
    for q, columns in levers.funding.items():
        issue = case.issues[q]
        given = case.contributions_to[issue.id]
        reasons.append(
            IssueFunded(
                issue=issue.id,
                size=float(money[columns].sum()),
                most=issue.amount,
                unit=issue.unit,
                contributions={g.id: float(money[at["contribution", g.id]]) for g in given},
            )
        )
    for p in case.payments:
        fields = lever("payment", p.id, p.min, p.max, [p.payer, p.payee])
        if fields["why"] == "range" and {p.payer, p.payee} <= compared:
            fields |= {"why": "balance", "parties": [p.payer, p.payee]}
        fields |= {"payment": p.id, "basis": p.basis, "source": p.source}
        fields |= {"payer": p.payer, "payee": p.payee, "unit": p.unit}
        reasons.append(PaymentDue.model_validate(fields))

    funds = set(case.funds)
    shares = allocation[:n]
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        whole = float(shares[ks].sum()) if index.funded[q] else 1.0
        for k in ks.tolist():
            holder = case.interests[k].stakeholder
            if holder in funds and shares[k] > WHOLE:
                reasons.append(
                    FundShare(
                        stakeholder=holder,
                        issue=issue.id,
                        share=float(shares[k]) / whole,
                        amount=float(shares[k]) * issue.amount,
                        unit=issue.unit,
                    )
                )
    return reasons


def _binding_constraints(
    case: Case, index: CaseIndex, allocation: np.ndarray
) -> dict[tuple[str, str], str]:
    """Return the first binding extra constraint naming each payment or contribution."""
    found: dict[tuple[str, str], str] = {}
    for c in case.constraints:
        named = [t.column for t in c.terms if t.column[0] in ("payment", "contribution")]
        if not named:
            continue
        lhs = sum(index.term_value(t, allocation) for t in c.terms)
        if abs(lhs - c.rhs) <= ACTIVE * max(1.0, abs(c.rhs)):
            for kind, ident in named:
                found.setdefault((kind, ident), c.name)
    return found


def _money_unit(case: Case, index: CaseIndex, p: int) -> str:
    units = {
        case.issues[int(index.pair_issue[k])].unit
        for k in index.interests_of_party[p]
        if index.sign[k] < 0
    }
    return units.pop() if len(units) == 1 else ""
