"""A diagnosis restated: the red lines it names exist, its concessions start from them."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..case import Case
from ..settlement import Settlement
from .tolerance import TOLERANCE

__all__ = ["check_diagnosis"]


def check_diagnosis(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Check the red lines and concessions a diagnosis names against the case.

    Every red line a diagnosis names must exist in the case with the bound it states, and
    every concession must start from that bound and propose a value the format allows.
    """
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
