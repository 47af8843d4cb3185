"""Settlements in words: :func:`render` tells each typed reason in a sentence.

The words are the phrases of :mod:`mediation.rendering.phrases` (one table per language);
the numbers are written by :mod:`mediation.rendering.numbers`. Each reason code has one
formatter (:data:`FORMATTERS`), a function of the typed reason and the :class:`Words` of a
language that picks phrases and fills them in. Nothing is printed.

What the sentences promise: names instead of ids whenever the case is given; no scientific
notation; the shares of an issue add up to exactly 100% and dust (solver noise, see
:func:`~mediation.rendering.numbers.is_dust`) is left unsaid; amounts carry their unit, as a
whole number when the unit counts things, or whole units on an issue with a ``unit_size``;
a red line's price is what it costs the others (see :mod:`mediation.rendering.phrases`); a
bound set by policy or the law is named with its source, never as a party's demand; parties
with no stake appear once, in one line, and so do funds, whose shares are money set aside
(never a party's gain).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..case import Case, Issue, LinearConstraint
from ..case.model import Choice
from ..reasons import (
    AwEquitable,
    AwSplit,
    AwTransfer,
    AwWinner,
    BurdenLevel,
    CapacityBinding,
    CapBinding,
    ClaimsAwarded,
    ConstraintBinding,
    ContributionGiven,
    DisagreementBinding,
    FloorBinding,
    FundShare,
    Infeasible,
    IssueAwarded,
    IssueFunded,
    IssueSplit,
    LeastExpectedLoss,
    LeximinLevel,
    NashCertificate,
    NashGapNotReached,
    NobodyToCompare,
    NoPositiveGain,
    NoRoom,
    NotCertifiedOptimal,
    NotParetoOptimal,
    Objective,
    OptionChosen,
    PaymentDue,
    ReasonCode,
    RiskBorne,
    RuleBelowDisagreement,
    SolverFailed,
    TimeLimit,
    WeightedSum,
    WorstOff,
)
from ..settlement import Alternative, Concession, Conflict, Settlement
from .numbers import (
    DUST,
    ZERO,
    display_shares,
    format_amount,
    format_number,
    format_percent,
    is_dust,
    is_dust_amount,
    join_list,
)
from .phrases import LANGUAGES, PHRASES, counts_things, phrases, rule_name

__all__ = [
    "FORMATTERS",
    "LANGUAGES",
    "PHRASES",
    "Formatter",
    "Words",
    "render",
    "render_diagnosis",
    "share_text",
]

#: A price at or below this is nothing: the red line costs the others nothing at the margin.
_FREE = 1e-12
#: The sense of a constraint, as the phrase keys name it.
_SENSES = {">=": "ge", "<=": "le", "==": "eq"}
#: A Nash gap below this (a fraction) is said as "within" this much.
_LEAST_GAP = 1e-6
#: A price's step of an issue is at most this part of it (about a percentage point), in its unit.
_ISSUE_STEP = 0.01
#: A price's step of a risk capacity is at most this part of it.
_CAPACITY_STEP = 0.1
#: Sentence endings taken off a description quoted inside a sentence.
_ENDINGS = "。．.！!；;，,"


class Words:
    """The phrases of one language with the case's names and the numbers' formats.

    Parameters
    ----------
    lang : str
        One of :data:`LANGUAGES`.
    settlement : Settlement
        The settlement the sentences tell (its scale, its shares, its leximin rounds).
    case : Case or None
        The case, for the names of parties, issues and constraints (their ids without it).

    Raises
    ------
    RenderError
        For a language there are no phrases for.
    """

    def __init__(self, lang: str, settlement: Settlement, case: Case | None) -> None:
        self.phrases = phrases(lang)
        self.lang, self.settlement, self.case = lang, settlement, case
        self._constraints: dict[str, LinearConstraint] = (
            {c.name: c for c in case.constraints} if case is not None else {}
        )

    # --- phrases -----------------------------------------------------------------------------

    def say(self, key: str, **fields: object) -> str:
        """Return the phrase ``key`` filled in with ``fields``."""
        return self.phrases[key].format(**fields)

    def say_count(self, key: str, count: int, **fields: object) -> str:
        """Return ``key_one`` or ``key_many``, by ``count``, filled in."""
        return self.say(f"{key}_one" if count == 1 else f"{key}_many", **fields)

    # --- names -------------------------------------------------------------------------------

    def party(self, pid: str | None) -> str:
        """Return a party's name (translated when the case translates it), else its id."""
        if pid is None:
            return ""
        if self.case is not None and pid in self.case.stakeholder_by_id:
            return self.case.stakeholder_by_id[pid].label(self.lang)
        return pid

    def owner(self, pid: str | None) -> str:
        """Return a party's name in the possessive ("A's", "Parents'", "甲的")."""
        name = self.party(pid)
        return self.say("possessive_s" if name.endswith("s") else "possessive", name=name)

    def parties(self, pids: Sequence[str]) -> str:
        """Return the parties' names as an enumeration."""
        return join_list([self.party(p) for p in pids], lang=self.lang)

    def issue_of(self, iid: str | None) -> Issue | None:
        """Return an issue of the case (``None`` without the case or for an unknown id)."""
        if self.case is None or iid is None:
            return None
        return self.case.issue_by_id.get(iid)

    def issue(self, iid: str | None) -> str:
        """Return an issue's name (translated when the case translates it), else its id."""
        issue = self.issue_of(iid)
        return issue.label(self.lang) if issue is not None else (iid or "")

    def choice_of(self, cid: str | None) -> Choice | None:
        """Return a choice of the case (``None`` without the case or for an unknown id)."""
        if self.case is None or cid is None:
            return None
        return next((c for c in self.case.choices if c.id == cid), None)

    def choice(self, cid: str | None) -> str:
        """Return a choice's name (translated when the case translates it), else its id."""
        choice = self.choice_of(cid)
        return choice.label(self.lang) if choice is not None else (cid or "")

    def option(self, oid: str) -> str:
        """Return an option's name (translated when the case translates it), else its id."""
        found = self.case.option_by_id.get(oid) if self.case is not None else None
        return found[1].label(self.lang) if found is not None else oid

    def is_fund(self, pid: str) -> bool:
        """Tell whether a stakeholder is a fund (an account, never compared as a party)."""
        return pid in self.settlement.funds

    def source(self, text: str | None) -> str:
        """Return where a bound is written down, in brackets after it (nothing if unsaid)."""
        return self.say("bound_source", source=text) if text else ""

    def constraint(
        self,
        name: str | None,
        sense: str | None = None,
        bound: float | None = None,
        *,
        bounded: bool = True,
    ) -> str:
        """Return a case's constraint: its description when it has one, else its name.

        With ``bounded``, a name comes with its sense and bound when they are known, from
        the case or from ``sense`` and ``bound``.
        """
        name = name or ""
        found = self._constraints.get(name)
        if found is not None and found.description and found.description.strip(_ENDINGS + " "):
            text = found.description.strip().rstrip(_ENDINGS)
            return self.say("constraint_described", text=text)
        if found is not None:
            sense, bound = found.sense, found.rhs
        if not bounded or sense is None or bound is None:
            return self.say("constraint_named", name=name)
        return self.say(
            "constraint_bounded",
            name=name,
            sense=self.say(f"sense_{_SENSES[sense]}"),
            bound=self.number(bound),
        )

    # --- numbers -----------------------------------------------------------------------------

    def number(self, value: float, digits: int = 3) -> str:
        """Return a plain number."""
        return format_number(value, lang=self.lang, digits=digits)

    def percent(self, share: float) -> str:
        """Return a share (a fraction of 1) as a percentage."""
        return format_percent(share)

    def money(self, value: float, unit: str | None) -> str:
        """Return an amount of money (or of any unit that does not count things)."""
        return format_amount(value, unit, lang=self.lang)

    def amount(self, value: float, unit: str | None) -> str:
        """Return an amount of an issue's unit, a whole number when the unit counts things."""
        return format_amount(value, unit, lang=self.lang, count=counts_things(unit))

    def quantity(self, value: float, iid: str | None) -> str:
        """Return an amount of an issue in its unit: whole units when it has a ``unit_size``."""
        issue = self.issue_of(iid)
        if issue is None:
            return self.amount(value, None)
        return format_amount(
            value,
            issue.unit,
            lang=self.lang,
            count=counts_things(issue.unit),
            unit_size=issue.unit_size,
        )

    def points(self, value: float) -> str:
        """Return utility points with their word ("12.5 points", "1 point", "12.5点")."""
        number = self.number(value)
        word = self.say("points_one" if number in ("1", "-1") else "points_many")
        return format_amount(value, word, lang=self.lang)

    def level(self, value: float, count: int) -> str:
        """Return a level reached by ``count`` parties, on the settlement's scale."""
        if self.settlement.scale == "normalized":
            return self.say_count("level_normalized", count, value=self.percent(value))
        number = self.number(value)
        word = self.say("points_one" if number in ("1", "-1") else "points_many")
        return self.say("level_raw", value=number, points=word)

    def shares(self, iid: str, shares: Mapping[str, float]) -> list[tuple[str, str]]:
        """Return the parties of ``shares`` that get something, with their displayed share.

        The percentages are those of the whole issue (the settlement's shares when it has
        them), rounded to add up to exactly 100%; dust is left out; the largest come first.
        """
        whole = self.settlement.shares.get(iid) or dict(shares)
        if not set(shares) <= set(whole):
            whole = dict(shares)
        shown = display_shares(whole)
        order = sorted(
            (p for p in shares if not is_dust(whole[p])), key=lambda p: -shown[p]
        )  # sorted() is stable: ties keep the case's order
        return [(self.party(p), share_text(shown[p], whole[p])) for p in order]

    def share_list(self, iid: str, shares: Mapping[str, float]) -> str:
        """Return the shares of an issue as an enumeration ("A 60.0%, B 30.0% and C 10.0%").

        An issue shared in whole units is told in units ("A 7 posts and B 5 posts").
        """
        issue = self.issue_of(iid)
        if issue is not None and issue.unit_size is not None:
            amounts = self.settlement.amounts.get(iid, {})
            held = [p for p in shares if not is_dust(shares[p])]
            held.sort(key=lambda p: -shares[p])  # sort() is stable: ties keep the case's order
            items = [
                self.say(
                    "award_item",
                    party=self.party(p),
                    amount=self.quantity(amounts.get(p, shares[p] * issue.amount), iid),
                )
                for p in held
            ]
            return join_list(items, lang=self.lang)
        items = [self.say("share_item", party=n, share=s) for n, s in self.shares(iid, shares)]
        return join_list(items, lang=self.lang)

    def set_aside(self, iid: str) -> bool:
        """Tell whether a fund holds part of an issue (money set aside, no party's gain)."""
        held = self.settlement.shares.get(iid, {})
        return any(self.is_fund(p) and not is_dust(v) for p, v in held.items())


def share_text(shown: float, share: float) -> str:
    """Return a displayed share: ``shown`` (a value of :func:`display_shares`) as a percentage.

    A share that is not dust but rounds to nothing is ``0.0%`` (a real share below the
    display's resolution), not the ``0%`` of dust.
    """
    if shown == 0 and not is_dust(share):
        return format_percent(DUST)  # the least share that is not dust: "0.0%"
    return format_percent(shown / 100)


#: A formatter: the sentence of one typed reason (``None`` to say nothing).
Formatter = Callable[[Any, Words], "str | None"]


# --- what the rule reached -------------------------------------------------------------------


def _worst_off(r: WorstOff, w: Words) -> str:
    n = len(r.parties)
    return w.say_count("worst_off", n, parties=w.parties(r.parties), level=w.level(r.level, n))


def _leximin_level(r: LeximinLevel, w: Words) -> str:
    n = len(r.parties)
    key = "leximin_level_discrete" if r.discrete else "leximin_level"
    return w.say_count(key, n, rank=r.rank, parties=w.parties(r.parties), level=w.level(r.level, n))


def _least_expected_loss(r: LeastExpectedLoss, w: Words) -> str:
    unit = r.unit or None
    key = "least_expected_loss_tolerance" if r.tolerance > 0 else "least_expected_loss"
    saved = r.unmitigated - r.total
    return w.say(
        key if saved > ZERO * max(1.0, r.unmitigated) else f"{key}_unmitigated",
        total=w.amount(r.total, unit),
        unmitigated=w.amount(r.unmitigated, unit),
        tolerance=w.percent(r.tolerance),
    )


def _burden_level(r: BurdenLevel, w: Words) -> str:
    n = len(r.parties)
    tolerant = bool(w.settlement.provenance.policy.get("loss_tolerance"))
    key = (
        "burden_none" if r.level <= 0 else "burden_level_tolerance" if tolerant else "burden_level"
    )
    return w.say_count(key, n, rank=r.rank, parties=w.parties(r.parties), level=w.percent(r.level))


def _weighted_sum(r: WeightedSum, w: Words) -> str:
    return w.say("weighted_sum", value=w.number(r.value))


def _gap(gap: float, w: Words) -> str | None:
    """Return a relative gap as a percentage rounded up, or ``None`` for no gap at all."""
    if not gap > ZERO:
        return None
    percent = 100 * max(gap, _LEAST_GAP)
    step = 10.0 ** (math.floor(math.log10(percent)) - 1)  # two significant digits, rounded up
    return w.number(math.ceil(percent / step - 1e-9) * step, digits=2) + "%"


def _nash_certificate(r: NashCertificate, w: Words) -> str:
    gap = _gap(r.gap, w)
    if gap is None:
        return w.say("nash_certificate_exact", rounds=r.rounds)
    return w.say("nash_certificate", gap=gap, rounds=r.rounds)


def _nash_gap_not_reached(r: NashGapNotReached, w: Words) -> str:
    gap = _gap(r.gap, w) or w.number(0) + "%"
    return w.say("nash_gap_not_reached", gap=gap, target=w.number(100 * r.target) + "%")


def _nobody_to_compare(r: NobodyToCompare, w: Words) -> str:
    return w.say("nobody_to_compare")


# --- what binds, and its price ---------------------------------------------------------------


def _step(amount: float, part: float) -> float:
    """Return the price's step: a power of ten of at most ``part`` of ``amount``, at least 1."""
    return max(1.0, 10.0 ** math.floor(math.log10(amount * part)))


def _whom(rank: int, objective: Objective, w: Words) -> tuple[str, int]:
    """Return who bears a red line's cost, and how many they are (for "its" or "their")."""
    if objective in ("weighted_sum", "nash_welfare"):
        return w.say("whom_all"), 2
    if rank == 1:
        return w.say("whom_worst_off"), 1
    for reason in w.settlement.reasons:
        if isinstance(reason, LeximinLevel) and reason.rank == rank:
            return w.say("whom_round", parties=w.parties(reason.parties), rank=rank), len(
                reason.parties
            )
    return w.say("whom_round_unknown", rank=rank), 2


def _cost(per_step: float, objective: Objective, count: int, w: Words) -> str | None:
    """Return what a step of a red line costs, in the objective's units; ``None`` for nothing."""
    normalized = w.settlement.scale == "normalized"
    if objective == "nash_welfare":
        # the dual is in Σ w log(gain): a step tighter multiplies the product of the gains by
        # exp(−dual · step), so the share of the product lost is 1 − exp(−dual · step) < 100%
        percent = -100 * math.expm1(-min(per_step, 700.0))
        amount = w.number(percent)
        return None if amount == "0" else w.say("cost_nash", amount=amount + "%")
    if objective == "min_normalized_gain" or (objective == "min_gain" and normalized):
        amount = w.number(100 * per_step)
        return None if amount == "0" else w.say_count("cost_normalized", count, amount=amount)
    if objective == "weighted_sum" and normalized:
        amount = w.number(100 * per_step)
        return None if amount == "0" else w.say("cost_weighted_normalized", amount=amount)
    amount = w.number(per_step)
    if amount == "0":
        return None
    word = w.say("points_one" if amount == "1" else "points_many")
    key = "cost_weighted_raw" if objective == "weighted_sum" else "cost_raw"
    return w.say(key, amount=amount, points=word)


def _price(
    r: FloorBinding
    | CapBinding
    | CapacityBinding
    | DisagreementBinding
    | PaymentDue
    | ContributionGiven,
    kind: str,
    w: Words,
) -> str:
    """Return what a binding red line costs the others, as the end of its sentence.

    ``kind`` is ``floor``, ``cap``, ``capacity``, ``disagreement``, or ``lever_max`` and
    ``lever_min`` (a payment's or contribution's bound, priced per money unit like a risk
    capacity). Nothing when the solve gave no price.
    """
    if r.dual is None or r.objective is None:
        return ""
    if r.dual <= _FREE:
        return w.say("price_free")
    step = ""
    if isinstance(r, FloorBinding | CapBinding):
        issue = w.issue_of(r.issue)
        if issue is not None and issue.unit.strip() and issue.amount >= 10:
            size = _step(issue.amount, _ISSUE_STEP)
            step, per_step = w.amount(size, issue.unit), r.dual * size / issue.amount
        else:  # a dual per whole share: a hundredth of it per percentage point
            step, per_step = w.say("step_percentage_point"), r.dual / 100
    elif isinstance(r, CapacityBinding):
        size = _step(r.bound, _CAPACITY_STEP)
        step, per_step = w.money(size, r.unit), r.dual * size
    elif isinstance(r, PaymentDue | ContributionGiven):
        size = _step(r.most, _CAPACITY_STEP)
        step, per_step = w.money(size, r.unit), r.dual * size
    else:  # a dual per utility point of the no-deal outcome
        per_step = r.dual
    whom, count = _whom(r.rank, r.objective, w)
    cost = _cost(per_step, r.objective, count, w)
    if cost is None:
        return w.say("price_free")
    return w.say(f"price_{kind}", step=step, whom=whom, cost=cost)


def _based(code: str, basis: str) -> str:
    """Return the phrase key of a bound by its basis: a policy's or the law's is not a party's."""
    return code if basis == "negotiable" else f"{code}_{basis}"


def _share_bound(r: FloorBinding | CapBinding, w: Words) -> str:
    kind = "floor" if isinstance(r, FloorBinding) else "cap"
    # an amount bound (or any bound of whole units) in the issue's unit, else a share of it
    bound = w.percent(r.bound) if r.amount is None else w.quantity(r.amount, r.issue)
    return w.say(
        _based(r.code, r.basis),
        owner=w.owner(r.stakeholder),
        party=w.party(r.stakeholder),
        issue=w.issue(r.issue),
        bound=bound,
        source=w.source(r.source),
        price=_price(r, kind, w),
    )


def _capacity_binding(r: CapacityBinding, w: Words) -> str:
    return w.say(
        _based("capacity_binding", r.basis),
        owner=w.owner(r.stakeholder),
        party=w.party(r.stakeholder),
        bound=w.money(r.bound, r.unit),
        source=w.source(r.source),
        price=_price(r, "capacity", w),
    )


def _constraint_binding(r: ConstraintBinding, w: Words) -> str:
    # the mediator's framing, not a party's red line: never priced (nor an equality)
    return w.say(
        _based("constraint_binding", r.basis),
        constraint=w.constraint(r.constraint, r.sense, r.bound),
        source=w.source(r.source),
    )


def _disagreement_binding(r: DisagreementBinding, w: Words) -> str:
    return w.say(
        "disagreement_binding",
        party=w.party(r.stakeholder),
        bound=w.points(r.bound),
        price=_price(r, "disagreement", w),
    )


# --- who got what and why --------------------------------------------------------------------


def _observers(pids: Sequence[str], w: Words) -> str:
    """Return the one line naming the parties with no stake (or no room to gain)."""
    case = w.case
    no_stake = case is not None and all(
        not any(x.value > 0 for x in case.interests_by_stakeholder.get(p, [])) for p in pids
    )
    key = "observers" if no_stake else "observers_no_room"
    return w.say_count(key, len(pids), parties=w.parties(pids))


def _taking_part(case: Case | None) -> set[str]:
    """Return who pays, is paid, contributes or values an option (case format 1.1).

    Such a party takes part in the deal even when it can gain nothing: it is never called
    an observer.
    """
    if case is None:
        return set()
    named = {p.payer for p in case.payments} | {p.payee for p in case.payments}
    named |= {c.stakeholder for c in case.contributions}
    named |= {s for c in case.choices for o in c.options for s, v in o.values.items() if v}
    return named - set(case.funds)


def _listing(pids: Sequence[str], funds: Sequence[str], w: Words) -> list[str]:
    """Return the lines naming, once, the observers, the parties left aside and the funds.

    A party with no room to gain that takes part in the deal (it pays or contributes) is
    left aside by the balance, not an observer.
    """
    taking_part = _taking_part(w.case)
    observers = [p for p in pids if p not in taking_part]
    aside = [p for p in pids if p in taking_part]
    lines = [_observers(observers, w)] if observers else []
    if aside:
        lines.append(w.say_count("no_room", len(aside), parties=w.parties(aside)))
    if funds:
        lines.append(w.say_count("funds", len(funds), parties=w.parties(funds)))
    return lines


def _no_room(r: NoRoom, w: Words) -> str:
    return _listing([r.stakeholder], [], w)[0]


def _risk_borne(r: RiskBorne, w: Words) -> str:
    control = ""
    if r.to_controller is not None and r.control:
        controls = r.control
        best = max(controls, key=lambda p: controls[p])
        control = (
            w.say("risk_controller", party=w.party(r.stakeholder))
            if r.to_controller
            else w.say("risk_not_controller", controller=w.party(best))
        )
    return w.say(
        "risk_borne",
        issue=w.issue(r.issue),
        shares=w.share_list(r.issue, r.shares),
        control=control,
    )


def _issue_awarded(r: IssueAwarded, w: Words) -> str:
    why = w.say("issue_awarded_highest" if r.highest else "issue_awarded_balance")
    key = "issue_awarded_set_aside" if w.set_aside(r.issue) else "issue_awarded"
    return w.say(key, issue=w.issue(r.issue), party=w.party(r.stakeholder), why=why)


def _issue_split(r: IssueSplit, w: Words) -> str:
    key = "issue_split_set_aside" if w.set_aside(r.issue) else "issue_split"
    return w.say(key, issue=w.issue(r.issue), shares=w.share_list(r.issue, r.shares))


def _claims_awarded(r: ClaimsAwarded, w: Words) -> str:
    issue = w.issue_of(r.issue)
    unit = issue.unit if issue is not None else None
    whole = issue.amount if issue is not None else math.fsum(r.awards.values())
    awards = [
        w.say("award_item", party=w.party(p), amount=w.amount(v, unit))
        for p, v in r.awards.items()
        if not is_dust_amount(v, whole)
    ]
    level = "" if r.level is None else w.say("claims_level", level=w.amount(r.level, unit))
    return w.say(
        "claims_awarded",
        issue=w.issue(r.issue),
        method=w.say(f"method_{r.method}"),
        awards=join_list(awards, lang=w.lang),
        level=level,
    )


def _aw_winner(r: AwWinner, w: Words) -> str:
    others = [v for p, v in r.points.items() if p != r.stakeholder]
    if r.stakeholder in r.points and len(others) == 1:
        points = w.say(
            "aw_points", won=w.number(r.points[r.stakeholder]), other=w.number(others[0])
        )
    else:
        items = [
            w.say("aw_points_item", party=w.party(p), points=w.number(v))
            for p, v in r.points.items()
        ]
        points = join_list(items, lang=w.lang)
    return w.say("aw_winner", issue=w.issue(r.issue), party=w.party(r.stakeholder), points=points)


def _aw_transfer(r: AwTransfer, w: Words) -> str:
    return w.say(
        "aw_transfer",
        issue=w.issue(r.issue),
        moves=w.say("aw_moves_part" if r.partial else "aw_moves_whole"),
        party=w.party(r.stakeholder),
        to=w.party(r.to),
        ratio=w.number(r.ratio),
    )


def _aw_split(r: AwSplit, w: Words) -> str:
    return w.say(
        "aw_split", issue=w.issue(r.issue), party=w.party(r.stakeholder), kept=w.percent(r.kept)
    )


def _aw_equitable(r: AwEquitable, w: Words) -> str:
    items = [
        w.say("aw_points_item", party=w.party(p), points=w.number(v)) for p, v in r.points.items()
    ]
    return w.say("aw_equitable", points=join_list(items, lang=w.lang))


# --- money and alternatives (case format 1.1) ------------------------------------------------


def _option_chosen(r: OptionChosen, w: Words) -> str:
    """Tell the option chosen and its cost; then, when settled, what each option gives."""
    choice = w.choice_of(r.choice)
    costly = choice is None or any(o.cost for o in choice.options)
    funded = w.case is not None and r.choice in w.case.contributions_to
    cost = ""
    if costly:
        key = "option_cost_funded" if funded else "option_cost"
        cost = w.say(key, cost=w.money(r.cost, r.unit))
    line = w.say("option_chosen", choice=w.choice(r.choice), option=w.option(r.option), cost=cost)
    made = w.settlement.choices.get(r.choice)
    if made is None or not made.alternatives:
        return line
    clauses = []
    chosen = made.alternatives.get(r.option)
    if chosen is not None and chosen.status in ("optimal", "feasible"):
        clauses.append(
            w.say("option_with", option=w.option(r.option), utilities=_utilities(chosen, w))
        )
    costs = {o.id: o.cost for o in choice.options} if choice is not None else {}
    for oid, alternative in made.alternatives.items():
        if oid == r.option:
            continue
        spent = ""
        if costly and oid in costs:
            spent = w.say("option_alternative_cost", cost=w.money(costs[oid], r.unit))
        if alternative.status in ("optimal", "feasible"):
            key, utilities = "option_instead", _utilities(alternative, w)
        else:
            failed = "infeasible" if alternative.status == "infeasible" else "error"
            key, utilities = f"option_instead_{failed}", ""
        clauses.append(w.say(key, option=w.option(oid), cost=spent, utilities=utilities))
    if not clauses:
        return line
    outcomes = w.say("option_outcomes", clauses=w.say("clause_separator").join(clauses))
    return line + w.say("sentence_separator") + _capital(outcomes)


def _capital(text: str) -> str:
    """Return a sentence with its first letter in capitals (Chinese is left as it is)."""
    return text[:1].upper() + text[1:]


def _utilities(alternative: Alternative, w: Words) -> str:
    """Return each party's utility under an alternative ("A 150 points and B 30 points").

    A party no deal can lift above its no-deal outcome is left out: it gets that whatever
    is chosen, and the listing of who is left aside says so once.
    """
    flat = {r.stakeholder for r in w.settlement.reasons if isinstance(r, NoRoom)}
    items = [
        w.say("utility_item", party=w.party(p), points=w.points(u))
        for p, u in alternative.utilities.items()
        if u is not None and p not in flat
    ]
    return join_list(items, lang=w.lang)


def _given_to(r: ContributionGiven, w: Words) -> str:
    """Return what a contribution goes to: a funded issue or a choice."""
    return w.issue(r.issue) if r.issue is not None else w.choice(r.choice)


def _lever_end(r: PaymentDue | ContributionGiven, gives: str, w: Words) -> str:
    """Return a payment's or contribution's sentence from what it gives: and why that much."""
    if r.why in ("max", "min"):
        return w.say(
            "lever_bound",
            gives=gives,
            limit=w.say(f"limit_{r.why}_{r.basis}"),
            source=w.source(r.source),
            price=_price(r, f"lever_{r.why}", w),
        )
    why = ""
    if r.why == "constraint":
        why = w.say("lever_why_constraint", constraint=w.constraint(r.constraint))
    elif r.why == "disagreement":
        why = w.say_count("lever_why_disagreement", len(r.parties), parties=w.parties(r.parties))
    elif r.why == "balance":
        # the utilitarian rule is indifferent where it pays in between: it balances nothing
        weighted = w.settlement.rule == "utilitarian"
        key = "lever_why_balance_weighted" if weighted else "lever_why_balance"
        why = w.say(key, parties=w.parties(r.parties), rule=rule_name(w.settlement.rule, w.lang))
    return w.say("lever_set", gives=gives, why=why)


def _contribution_given(r: ContributionGiven, w: Words) -> str:
    party, target = w.party(r.stakeholder), _given_to(r, w)
    if r.why == "zero":
        key = "contribution_zero_subsidy" if r.subsidy else "contribution_zero"
        return w.say(key, party=party, target=target, most=w.money(r.most, r.unit))
    key = "contribution_subsidy" if r.subsidy else "contribution_gives"
    gives = w.say(key, party=party, target=target, amount=w.money(r.amount, r.unit))
    return _lever_end(r, gives, w)


def _payment_due(r: PaymentDue, w: Words) -> str:
    fund = "_fund" if w.is_fund(r.payee) else ""
    payer, payee = w.party(r.payer), w.party(r.payee)
    if r.why == "zero":
        return w.say(f"payment_zero{fund}", payer=payer, payee=payee, most=w.money(r.most, r.unit))
    pays = w.say(f"payment_pays{fund}", payer=payer, payee=payee, amount=w.money(r.amount, r.unit))
    return _lever_end(r, pays, w)


def _issue_funded(r: IssueFunded, w: Words) -> str:
    return w.say(
        "issue_funded",
        issue=w.issue(r.issue),
        size=w.amount(r.size, r.unit),
        most=w.amount(r.most, r.unit),
    )


def _fund_share(r: FundShare, w: Words) -> str:
    # as the settlement's shares of the issue are displayed (adding up to 100%), when they
    # are the reason's
    whole = w.settlement.shares.get(r.issue, {})
    if abs(whole.get(r.stakeholder, -1.0) - r.share) > 1e-9:
        whole = {r.stakeholder: r.share}
    shown = display_shares(whole)
    return w.say(
        "fund_share",
        fund=w.party(r.stakeholder),
        issue=w.issue(r.issue),
        amount=w.quantity(r.amount, r.issue),
        share=share_text(shown[r.stakeholder], r.share),
    )


# --- how the run ended -----------------------------------------------------------------------


def _not_pareto_optimal(r: NotParetoOptimal, w: Words) -> str:
    # risk sharing puts the least expected loss and an even burden before utilities: that,
    # not a red line, is what costs efficiency
    rule = w.settlement.rule
    return w.say("not_pareto_optimal_risk" if rule == "risk_sharing" else "not_pareto_optimal")


def _not_certified_optimal(r: NotCertifiedOptimal, w: Words) -> str:
    return w.say("not_certified_optimal")


def _time_limit(r: TimeLimit, w: Words) -> str:
    if r.seconds is None:
        return w.say("time_limit_unknown")
    return w.say("time_limit", seconds=w.number(r.seconds))


def _infeasible(r: Infeasible, w: Words) -> str:
    return w.say("infeasible")


def _no_positive_gain(r: NoPositiveGain, w: Words) -> str:
    return w.say(
        "no_positive_gain", parties=w.parties(r.parties), rule=rule_name("leximin", w.lang)
    )


def _rule_below_disagreement(r: RuleBelowDisagreement, w: Words) -> str:
    return w.say_count("rule_below_disagreement", len(r.parties), parties=w.parties(r.parties))


def _solver_failed(r: SolverFailed, w: Words) -> str:
    return w.say("solver_error", message=r.message)


#: The formatter of each reason code.
FORMATTERS: dict[ReasonCode, Formatter] = {
    ReasonCode.WORST_OFF: _worst_off,
    ReasonCode.LEXIMIN_LEVEL: _leximin_level,
    ReasonCode.WEIGHTED_SUM: _weighted_sum,
    ReasonCode.LEAST_EXPECTED_LOSS: _least_expected_loss,
    ReasonCode.BURDEN_LEVEL: _burden_level,
    ReasonCode.NASH_CERTIFICATE: _nash_certificate,
    ReasonCode.NASH_GAP_NOT_REACHED: _nash_gap_not_reached,
    ReasonCode.NOBODY_TO_COMPARE: _nobody_to_compare,
    ReasonCode.FLOOR_BINDING: _share_bound,
    ReasonCode.CAP_BINDING: _share_bound,
    ReasonCode.CAPACITY_BINDING: _capacity_binding,
    ReasonCode.CONSTRAINT_BINDING: _constraint_binding,
    ReasonCode.DISAGREEMENT_BINDING: _disagreement_binding,
    ReasonCode.NO_ROOM: _no_room,
    ReasonCode.RISK_BORNE: _risk_borne,
    ReasonCode.ISSUE_AWARDED: _issue_awarded,
    ReasonCode.ISSUE_SPLIT: _issue_split,
    ReasonCode.CLAIMS_AWARDED: _claims_awarded,
    ReasonCode.AW_WINNER: _aw_winner,
    ReasonCode.AW_TRANSFER: _aw_transfer,
    ReasonCode.AW_SPLIT: _aw_split,
    ReasonCode.AW_EQUITABLE: _aw_equitable,
    ReasonCode.NOT_PARETO_OPTIMAL: _not_pareto_optimal,
    ReasonCode.NOT_CERTIFIED_OPTIMAL: _not_certified_optimal,
    ReasonCode.TIME_LIMIT: _time_limit,
    ReasonCode.INFEASIBLE: _infeasible,
    ReasonCode.NO_POSITIVE_GAIN: _no_positive_gain,
    ReasonCode.RULE_BELOW_DISAGREEMENT: _rule_below_disagreement,
    ReasonCode.SOLVER_ERROR: _solver_failed,
    ReasonCode.OPTION_CHOSEN: _option_chosen,
    ReasonCode.CONTRIBUTION_GIVEN: _contribution_given,
    ReasonCode.ISSUE_FUNDED: _issue_funded,
    ReasonCode.PAYMENT_DUE: _payment_due,
    ReasonCode.FUND_SHARE: _fund_share,
}


def _observer_ids(settlement: Settlement, case: Case | None) -> list[str]:
    """Return the parties with no stake: no room to gain, or no interest in any issue.

    A fund is not a party (it is listed apart); one that pays, is paid or contributes has a
    stake in the deal, unless it has no room to gain.
    """
    flat = {r.stakeholder for r in settlement.reasons if isinstance(r, NoRoom)}
    if case is not None:
        taking_part = _taking_part(case)
        flat |= {
            s.id
            for s in case.stakeholders
            if not any(x.value > 0 for x in case.interests_by_stakeholder[s.id])
            and s.id not in taking_part
        }
        flat -= set(case.funds)
        return [s.id for s in case.stakeholders if s.id in flat]
    return [r.stakeholder for r in settlement.reasons if isinstance(r, NoRoom)]


def render(settlement: Settlement, *, lang: str = "en", case: Case | None = None) -> list[str]:
    """Return the settlement's reasons (and diagnosis, if any) as sentences in ``lang``.

    Pass ``case`` to use the parties', issues' and constraints' names (translated when the
    case has a translation for ``lang``) instead of their ids. The parties with no stake
    are named once, in one line, where the first of them would have been told; the funds
    (accounts, never compared) once, after them.

    Raises
    ------
    RenderError
        For a language other than those in :data:`LANGUAGES` (a :class:`ValueError` too).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation import settle
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders:
    ...   - {id: a, name: 街道办, kind: government, translations: {en: {name: Street office}}}
    ...   - {id: b, name: 社工站, kind: social_organization}
    ... issues: [{id: hall, name: 大厅, kind: resource, amount: 40, unit: 小时}]
    ... interests:
    ...   - {stakeholder: a, issue: hall, value: 1, min_share: 0.6}
    ...   - {stakeholder: b, issue: hall, value: 1}
    ... ''')
    >>> for line in render(settle(case), lang="zh", case=case)[:2]:
    ...     print(line)
    第1轮：街道办和社工站都达到各自可能收益的71.4%；其中任何一方再要提高，都会损害处境不比它好的一方。
    大厅由街道办71.4%和社工站28.6%分享：各方收益的平衡点落在这一项上。
    """
    words = Words(lang, settlement, case)
    observers = _observer_ids(settlement, case)
    funds = settlement.funds
    quiet = set(observers)
    lines: list[str] = []
    told = False
    for reason in settlement.reasons:
        if isinstance(reason, NoRoom | DisagreementBinding) and reason.stakeholder in quiet:
            if isinstance(reason, NoRoom) and not told:
                lines += _listing(observers, funds, words)
                told = True
            continue
        line = FORMATTERS[ReasonCode(reason.code)](reason, words)
        if line:
            lines.append(_tidy(line))
    if (observers or funds) and not told:
        lines += _listing(observers, funds, words)
    if settlement.diagnosis is not None:
        lines += render_diagnosis(settlement, lang=lang, case=case)
    return lines


def _tidy(line: str) -> str:
    """Return a sentence without the doubled full stop of a name ending in one ("Co., Ltd.")."""
    return line[:-1] if line.endswith("..") else line


def render_diagnosis(
    settlement: Settlement, *, lang: str = "en", case: Case | None = None
) -> list[str]:
    """Return the diagnosis of an infeasible settlement as sentences (empty when there is none).

    Raises
    ------
    RenderError
        For a language other than those in :data:`LANGUAGES` (a :class:`ValueError` too).
    """
    words = Words(lang, settlement, case)
    diagnosis = settlement.diagnosis
    if diagnosis is None:
        return []
    lines = [words.phrases.get(f"diagnosis_{diagnosis.code}", diagnosis.code)]
    if any(c.basis == "policy" for c in diagnosis.concessions):
        lines.append(words.say("diagnosis_policy_needed"))
    for n, conflict in enumerate(diagnosis.conflicts, start=1):
        members = join_list([_conflict(c, words) for c in conflict.constraints], lang=lang)
        lines.append(_tidy(words.say("conflict", n=n, members=members)))
        if conflict.alternatives:
            changes = words.say("or").join(_change(c, words) for c in conflict.alternatives)
            lines.append(_tidy(words.say("alternative", change=changes)))
    if diagnosis.concessions:
        changes = words.say("clause_separator").join(
            _change(c, words) for c in diagnosis.concessions
        )
        lines.append(_tidy(words.say("concessions", changes=changes)))
    return lines


def _value(kind: str, value: float | None, unit: str | None, w: Words) -> str:
    """Return a red line's bound in its unit: a share, points, an amount or a plain number.

    A floor or cap is a share unless it is an amount bound (format 1.1), which is in its
    issue's unit (``amount`` when the issue has none).
    """
    if value is None:
        return ""
    if unit == "share" or (kind in ("floor", "cap") and not unit):
        return w.percent(value)
    if unit == "points" or kind in ("disagreement", "proportional", "envy"):
        return w.points(value)
    if kind == "constraint":
        return w.number(value)
    if kind in ("floor", "cap"):
        return w.amount(value, "" if unit == "amount" else unit)
    return w.money(value, "" if unit == "amount" else unit)


def _envied(kind: str, constraint: str | None, w: Words) -> str:
    return w.party((constraint or "").removeprefix("envy:")) if kind == "envy" else ""


def _basis(c: Conflict | Concession, w: Words, prefix: str) -> str:
    """Return what a policy or legal bound rests on ("set by …", legal: not negotiable).

    Empty for a party's own (negotiable) red line.
    """
    if c.basis == "negotiable":
        return ""
    if c.basis == "legal":
        prefix = "conflict_basis"  # never a concession: told as the red line it is
    key = f"{prefix}_{c.basis}" if c.source else f"{prefix}_{c.basis}_unsourced"
    return w.say(key, source=c.source or "")


def _payee(c: Conflict | Concession, w: Words) -> str:
    """Return who receives the payment a red line bounds (its id without the case)."""
    if c.payment is None or w.case is None:
        return c.payment or ""
    paid = next((p for p in w.case.payments if p.id == c.payment), None)
    return w.party(paid.payee) if paid is not None else c.payment


def _target(c: Conflict | Concession, w: Words) -> str:
    """Return what the contribution a red line bounds goes to (an issue or a choice)."""
    if c.contribution is None or w.case is None:
        return c.contribution or ""
    given = next((g for g in w.case.contributions if g.id == c.contribution), None)
    if given is None:
        return c.contribution
    choice = w.choice_of(given.to)
    return choice.label(w.lang) if choice is not None else w.issue(given.to)


def _conflict(c: Conflict, w: Words) -> str:
    return w.say(
        f"conflict_{c.kind}",
        owner=w.owner(c.stakeholder),
        party=w.party(c.stakeholder),
        issue=w.issue(c.issue),
        constraint=w.constraint(c.constraint, bound=c.bound) if c.kind == "constraint" else "",
        bound=_value(c.kind, c.bound, c.unit, w),
        other=_envied(c.kind, c.constraint, w),
        payee=_payee(c, w),
        target=_target(c, w),
    ) + _basis(c, w, "conflict_basis")


def _change(c: Concession, w: Words) -> str:
    return w.say(
        f"change_{c.kind}",
        party=w.party(c.stakeholder),
        issue=w.issue(c.issue),
        constraint=w.constraint(c.constraint, bounded=False) if c.kind == "constraint" else "",
        current=_value(c.kind, c.current, c.unit, w),
        proposed=_value(c.kind, c.proposed, c.unit, w),
        other=_envied(c.kind, c.constraint, w),
        amount=w.points(abs(c.change)),
        payee=_payee(c, w),
        target=_target(c, w),
    ) + _basis(c, w, "change_basis")
