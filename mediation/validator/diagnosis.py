"""A diagnosis restated: the red lines it names exist, its concessions start from them.

Every red line named must be one the case states, with the bound, unit, basis and source
the case gives it; no concession may give way on a legal bound, and a ``legal_conflict``
offers none at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..case import Case, Interest, Issue
from ..settlement import Concession, Conflict, Settlement
from .tolerance import TOLERANCE

__all__ = ["check_diagnosis"]

#: Relative tolerance of "a whole number of units", as the case format's checks use it.
_UNIT_TOLERANCE = 1e-9
#: Kinds of conflict member that are the model's structure, not a bound of the case.
_STRUCTURAL = ("issue_total", "integrality", "choice")


@dataclass(frozen=True)
class _Stated:
    """A red line as the case states it."""

    bound: float  # nan: derived, not stated
    unit: str | None  # None: any unit
    basis: str
    source: str | None
    most: float = math.inf  # the largest value a concession may propose


def check_diagnosis(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Check the red lines and concessions a diagnosis names against the case.

    Every red line a diagnosis names must exist in the case with the bound, unit, basis and
    source it states (an interest's floor or cap as the share or the amount bound in force,
    whichever is tighter), and every concession must start from that bound, propose a value
    the format allows and never relax a legal bound. A ``legal_conflict`` names only legal
    bounds and offers no concession.
    """
    diagnosis = settlement.diagnosis
    assert diagnosis is not None
    if not (diagnosis.conflicts or diagnosis.concessions):
        fail("diagnosis", "the diagnosis names no conflict and no concession")
    constraints = {c.name: c for c in case.constraints}
    payments = {p.id: p for p in case.payments}
    contributions = {c.id: c for c in case.contributions}

    def stated(c: Conflict | Concession) -> _Stated | None:
        kind, party = c.kind, c.stakeholder or ""
        if kind in ("floor", "cap"):
            interest = case.interest_by_pair.get((party, c.issue or ""))
            if interest is None:
                return None
            return _interest_bound(interest, case.issue_by_id[interest.issue], kind)
        if kind in ("capacity", "disagreement"):
            holder = case.stakeholder_by_id.get(party)
            if holder is None:
                return None
            if kind == "disagreement":
                return _Stated(holder.disagreement, None, "negotiable", None)
            if holder.risk_capacity is None:
                return None
            return _Stated(
                holder.risk_capacity, None, holder.capacity_basis, holder.capacity_source
            )
        if kind == "constraint":
            found = constraints.get(c.constraint or "")
            return None if found is None else _Stated(found.rhs, None, found.basis, found.source)
        if kind.startswith("payment_"):
            paid = payments.get(c.payment or "")
            if paid is None:
                return None
            bound = paid.min if kind == "payment_floor" else paid.max
            return _Stated(bound, paid.unit or "amount", paid.basis, paid.source)
        if kind.startswith("contribution_"):
            given = contributions.get(c.contribution or "")
            if given is None:
                return None
            bound = given.min if kind == "contribution_floor" else given.max
            return _Stated(bound, _target_unit(case, given.to), given.basis, given.source)
        return _Stated(math.nan, None, "negotiable", None)  # proportional, envy

    named: list[tuple[str, Conflict | Concession, float | None]] = [
        (f"diagnosis.conflicts[{n}].constraints[{k}]", c, c.bound)
        for n, conflict in enumerate(diagnosis.conflicts)
        for k, c in enumerate(conflict.constraints)
    ]
    offered: list[tuple[str, Concession]] = [
        (f"diagnosis.concessions[{k}]", c) for k, c in enumerate(diagnosis.concessions)
    ] + [
        (f"diagnosis.conflicts[{n}].alternatives[{k}]", c)
        for n, conflict in enumerate(diagnosis.conflicts)
        for k, c in enumerate(conflict.alternatives)
    ]
    named += [(where, c, c.current) for where, c in offered]
    facts: dict[str, _Stated] = {}
    for where, c, bound in named:
        if c.kind in _STRUCTURAL:
            continue
        actual = stated(c)
        if actual is None:
            fail(where, f"names a {c.kind} the case does not state")
            continue
        facts[where] = actual
        if not math.isnan(actual.bound) and (
            bound is None or abs(bound - actual.bound) > 1e-9 * max(1.0, abs(actual.bound))
        ):
            fail(where, f"states {bound} for a {c.kind} the case sets at {actual.bound}")
        if actual.unit is not None and c.unit != actual.unit:
            fail(f"{where}.unit", f"is '{c.unit}'; the {c.kind} in force is in '{actual.unit}'")
        if c.basis != actual.basis:
            fail(f"{where}.basis", f"is '{c.basis}'; the case gives this {c.kind} '{actual.basis}'")
        if c.source != actual.source:
            fail(
                f"{where}.source",
                f"is {c.source!r}; the case gives this {c.kind} the source {actual.source!r}",
            )
    for where, c in offered:
        if c.basis == "legal":
            fail(f"{where}.basis", f"a legal {c.kind} is never a concession")
        low, high = _range(c, facts.get(where))
        if not (low - TOLERANCE * max(1.0, abs(low)) <= c.proposed):
            fail(f"{where}.proposed", f"{c.proposed} is below {low}, the least a {c.kind} can be")
        if c.proposed > high + TOLERANCE * max(1.0, abs(high)):
            fail(f"{where}.proposed", f"{c.proposed} is above {high}, the most a {c.kind} can be")
    if diagnosis.code == "legal_conflict":
        if diagnosis.concessions:
            fail("diagnosis.concessions", "a legal conflict offers no concession")
        for n, conflict in enumerate(diagnosis.conflicts):
            if conflict.alternatives:
                fail(
                    f"diagnosis.conflicts[{n}].alternatives",
                    "a legal conflict offers no concession",
                )
            for k, m in enumerate(conflict.constraints):
                if m.basis != "legal":
                    fail(
                        f"diagnosis.conflicts[{n}].constraints[{k}].basis",
                        f"is '{m.basis}': a legal conflict names legal bounds only",
                    )


def _range(c: Concession, fact: _Stated | None) -> tuple[float, float]:
    """Return the values a concession may propose: a share in [0, 1], an amount in [0, all]."""
    if c.kind in ("floor", "cap"):
        return 0.0, fact.most if fact is not None and c.unit != "share" else 1.0
    if c.kind == "capacity" or c.kind.startswith(("payment_", "contribution_")):
        return 0.0, math.inf
    return -math.inf, math.inf


def _target_unit(case: Case, target: str) -> str:
    """Return the unit of what a contribution funds ("amount" when it has none)."""
    issue = case.issue_by_id.get(target)
    unit = (
        issue.unit
        if issue is not None
        else next((c.unit for c in case.choices if c.id == target), "")
    )
    return unit or "amount"


def _interest_bound(interest: Interest, issue: Issue, kind: str) -> _Stated | None:
    """Return an interest's floor or cap in force: the share bound, or the amount bound if tighter.

    An amount bound on an issue with a ``unit_size`` holds rounded inward to whole units (a
    floor up, a cap down); a tie is the share's.
    """
    floor = kind == "floor"
    share = interest.min_share if floor else interest.max_share
    amount = interest.min_amount if floor else interest.max_amount
    in_units = "amount" if not issue.unit else issue.unit
    if amount is not None:
        held = amount
        if issue.unit_size is not None:
            units = amount / issue.unit_size
            if abs(units - round(units)) <= _UNIT_TOLERANCE * max(1.0, units):
                units = round(units)
            held = (math.ceil(units) if floor else math.floor(units)) * issue.unit_size
        tighter = share is None or (
            held > share * issue.amount if floor else held < share * issue.amount
        )
        if tighter:
            return _Stated(amount, in_units, interest.basis, interest.source, issue.amount)
    if share is None:
        return None
    return _Stated(share, "share", interest.basis, interest.source, 1.0)
