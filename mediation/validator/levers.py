"""Case format 1.1 restated: who is compared, payments, contributions, choices, funded sizes.

Everything here is read from the case's own fields (:class:`~mediation.case.Payment`,
:class:`~mediation.case.Contribution`, :class:`~mediation.case.Choice`) and the settlement's
1.3 sections; nothing comes from the engine's index or model. The money and the options
chosen enter each party's utility as the case states:

``u_s += Σ payee_rate · received − Σ payer_rate · paid − Σ rate · contributed
+ values[s] of each chosen option``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from ..case import Case
from ..settlement import Settlement
from .tolerance import TOLERANCE

__all__ = ["LeverTerms", "check_alternatives", "check_levers", "check_roles"]


@dataclass(frozen=True)
class LeverTerms:
    """What a settlement's payments, contributions and chosen options amount to.

    ``utility`` and ``stake`` are per stakeholder, in case order: the levers' part of the
    party's utility, and the sum of the magnitudes of its lever coefficients (a rate times
    its most, an option's value), which joins its stake (the scale of its tolerances).
    ``column`` gives the value of each lever a constraint's term can name, by
    ``(kind, id)``: money for a payment or a contribution, 1 or 0 for an option;
    ``magnitude`` the most that column can hold. ``size`` is each funded issue's size.
    """

    utility: np.ndarray
    stake: np.ndarray
    column: dict[tuple[str, str], float]
    magnitude: dict[tuple[str, str], float]
    size: dict[str, float]


def roles(case: Case) -> tuple[list[str], list[str], list[str]]:
    """Return the case's funds, observers and compared parties, restated from its fields.

    A fund is ``kind: fund``; an observer is any other stakeholder with no interest, no
    payment (either side), no contribution, no option value and no no-deal point of its own;
    every other stakeholder is compared. (Stated here from the format's definition, not read
    from the case's own properties, which the engine uses.)
    """
    staked = {x.stakeholder for x in case.interests}
    for p in case.payments:
        staked |= {p.payer, p.payee}
    staked |= {c.stakeholder for c in case.contributions}
    staked |= {who for c in case.choices for o in c.options for who in o.values}
    funds = [s.id for s in case.stakeholders if s.kind == "fund"]
    observers = [
        s.id
        for s in case.stakeholders
        if s.kind != "fund" and s.id not in staked and s.disagreement == 0
    ]
    left_out = set(funds) | set(observers)
    return funds, observers, [s.id for s in case.stakeholders if s.id not in left_out]


def check_roles(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Check that ``parties`` holds the compared parties and the rest are listed apart.

    A fund (an account) and an observer (a stakeholder with no stake) are never compared:
    they are listed in ``funds`` and ``observers``, in case order, never in ``parties``.
    """
    fund_ids, observer_ids, compared = roles(case)
    if settlement.funds != fund_ids:
        fail("funds", f"{settlement.funds} but the case's funds are {fund_ids}")
    if settlement.observers != observer_ids:
        fail("observers", f"{settlement.observers} but the case's observers are {observer_ids}")
    if len(settlement.parties) == len(compared) and set(settlement.parties) == set(compared):
        return
    funds, observers = set(fund_ids), set(observer_ids)
    for party in settlement.parties:
        if party in funds:
            fail(f"parties.{party}", "a fund is an account, not a party: it is never compared")
        elif party in observers:
            fail(f"parties.{party}", "an observer has no stake: it is never compared")
        elif party not in case.stakeholder_by_id:
            fail(f"parties.{party}", "not a stakeholder of the case")


def check_levers(
    case: Case, settlement: Settlement, fail: Callable[[str, str], None]
) -> LeverTerms:
    """Check the payments, contributions, choices and funded sizes against the case.

    Each lever the case states must be reported with the case's parties, target and unit,
    and an amount within its bounds; each choice with one of its options and that option's
    cost; a funded choice's contributions must meet the chosen option's cost, and a funded
    issue's size must be the sum of the contributions to it, within its amount. Returns
    what the levers give each party (a lever reported wrong counts as what it reports; one
    missing counts as 0).
    """
    m = len(case.stakeholders)
    utility = np.zeros(m)
    stake = np.zeros(m)
    column: dict[tuple[str, str], float] = {}
    magnitude: dict[tuple[str, str], float] = {}
    size: dict[str, float] = {}
    if not case.levered and not (
        settlement.payments or settlement.contributions or settlement.choices or settlement.sizes
    ):
        return LeverTerms(utility, stake, column, magnitude, size)
    party = {s.id: p for p, s in enumerate(case.stakeholders)}
    funds = set(roles(case)[0])

    _unknown(settlement.payments, "payments", {p.id for p in case.payments}, "payment", fail)
    for pay in case.payments:
        here = f"payments.{pay.id}"
        made = settlement.payments.get(pay.id)
        paid = _amount(here, made.amount if made else None, pay.min, pay.max, fail)
        if made is not None:
            for key, want in (("payer", pay.payer), ("payee", pay.payee), ("unit", pay.unit)):
                if getattr(made, key) != want:
                    fail(f"{here}.{key}", f"'{getattr(made, key)}' but the case says '{want}'")
        column["payment", pay.id] = paid
        magnitude["payment", pay.id] = pay.max
        # money conserved: the one amount leaves the payer and reaches the payee
        utility[party[pay.payer]] -= pay.payer_rate * paid
        stake[party[pay.payer]] += pay.payer_rate * pay.max
        if pay.payee not in funds:  # a fund has no utility
            utility[party[pay.payee]] += pay.payee_rate * paid
            stake[party[pay.payee]] += pay.payee_rate * pay.max

    unit_of = {i.id: i.unit for i in case.issues} | {c.id: c.unit for c in case.choices}
    given: dict[str, float] = {}
    _unknown(
        settlement.contributions,
        "contributions",
        {c.id for c in case.contributions},
        "contribution",
        fail,
    )
    for c in case.contributions:
        here = f"contributions.{c.id}"
        made_c = settlement.contributions.get(c.id)
        amount = _amount(here, made_c.amount if made_c else None, c.min, c.max, fail)
        if made_c is not None:
            unit = unit_of.get(c.to, "")
            for key, want in (("stakeholder", c.stakeholder), ("to", c.to), ("unit", unit)):
                if getattr(made_c, key) != want:
                    fail(f"{here}.{key}", f"'{getattr(made_c, key)}' but the case says '{want}'")
        column["contribution", c.id] = amount
        magnitude["contribution", c.id] = c.max
        given[c.to] = given.get(c.to, 0.0) + amount
        utility[party[c.stakeholder]] -= c.rate * amount
        stake[party[c.stakeholder]] += c.rate * c.max

    _unknown(settlement.choices, "choices", {c.id for c in case.choices}, "choice", fail)
    for choice in case.choices:
        here = f"choices.{choice.id}"
        made_o = settlement.choices.get(choice.id)
        options = {o.id: o for o in choice.options}
        chosen = None if made_o is None else options.get(made_o.chosen)
        if made_o is None:
            fail(here, "missing: exactly one option of each choice is chosen")
        elif chosen is None:
            fail(
                f"{here}.chosen",
                f"'{made_o.chosen}' is not an option of '{choice.id}' ({', '.join(options)})",
            )
        else:
            if abs(made_o.cost - chosen.cost) > 1e-9 * max(1.0, chosen.cost):
                fail(f"{here}.cost", f"{made_o.cost} but option '{chosen.id}' costs {chosen.cost}")
            if made_o.unit != choice.unit:
                fail(f"{here}.unit", f"'{made_o.unit}' but the case says '{choice.unit}'")
        for o in choice.options:
            column["option", o.id] = 1.0 if o is chosen else 0.0
            magnitude["option", o.id] = 1.0
            for who, v in o.values.items():
                stake[party[who]] += abs(v)
                if o is chosen:
                    utility[party[who]] += v
        funding = case.contributions_to.get(choice.id)
        if funding and chosen is not None:
            total = given.get(choice.id, 0.0)
            top = max(chosen.cost, *(c.max for c in funding), 1.0)
            if abs(total - chosen.cost) > TOLERANCE * top:
                fail(
                    f"{here}.cost",
                    f"the contributions to '{choice.id}' give {total:.9g}, not the cost "
                    f"{chosen.cost:g} of the option chosen ('{chosen.id}')",
                )

    funded = [i for i in case.issues if i.id in case.contributions_to]
    _unknown(settlement.sizes, "sizes", {i.id for i in funded}, "funded issue", fail)
    for issue in funded:
        here = f"sizes.{issue.id}"
        total = given.get(issue.id, 0.0)
        stated = settlement.sizes.get(issue.id)
        slack = TOLERANCE * issue.amount
        if stated is None or not math.isfinite(stated):
            fail(here, f"missing: the size of a funded issue (the contributions give {total:.9g})")
            stated = total
        elif abs(stated - total) > slack:
            fail(here, f"{stated} but the contributions to '{issue.id}' give {total:.9g}")
        if stated > issue.amount + slack:
            fail(here, f"{stated:.9g} is more than '{issue.id}' can hold ({issue.amount:g})")
        size[issue.id] = stated
    return LeverTerms(utility, stake, column, magnitude, size)


def check_alternatives(
    case: Case,
    settlement: Settlement,
    scale: dict[str, float],
    fail: Callable[[str, str], None],
) -> None:
    """Check that each choice's alternatives are its options, the chosen one the settlement.

    When a choice lists alternatives, the chosen option's entry must give each compared
    party the utility the settlement gives it (within ``scale[party]``'s tolerance).
    """
    for choice in case.choices:
        made = settlement.choices.get(choice.id)
        if made is None or not made.alternatives:
            continue
        here = f"choices.{choice.id}.alternatives"
        options = {o.id for o in choice.options}
        for option in made.alternatives:
            if option not in options:
                fail(f"{here}.{option}", f"not an option of '{choice.id}'")
        mine = made.alternatives.get(made.chosen)
        if mine is None:
            if made.chosen in options:
                fail(here, f"the option chosen ('{made.chosen}') is not among them")
            continue
        for party, out in settlement.parties.items():
            got = mine.utilities.get(party)
            if out.utility is None:
                continue
            if got is None or abs(got - out.utility) > TOLERANCE * scale.get(party, 1.0):
                fail(
                    f"{here}.{made.chosen}.utilities.{party}",
                    f"{got} but the settlement, which chose '{made.chosen}', gives {out.utility}",
                )
        for party in mine.utilities:
            if party not in settlement.parties:
                fail(f"{here}.{made.chosen}.utilities.{party}", "not a compared party")


def _amount(
    here: str, amount: float | None, low: float, high: float, fail: Callable[[str, str], None]
) -> float:
    """Check a payment's or a contribution's amount against its bounds; return it (0 if none)."""
    if amount is None:
        fail(here, "missing")
        return 0.0
    if not math.isfinite(amount):
        fail(f"{here}.amount", f"{amount} is not a number")
        return 0.0
    slack = TOLERANCE * high
    if amount < low - slack:
        fail(f"{here}.amount", f"{amount:.9g} is below its min {low:g}")
    elif amount > high + slack:
        fail(f"{here}.amount", f"{amount:.9g} is above its max {high:g}")
    return amount


def _unknown(
    found: Collection[str],
    section: str,
    known: set[str],
    what: str,
    fail: Callable[[str, str], None],
) -> None:
    for ident in found:
        if ident not in known:
            fail(f"{section}.{ident}", f"no such {what} in the case")
