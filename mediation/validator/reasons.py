"""The reasons restated: every party, issue and constraint a reason names is the case's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..case import Case
from ..settlement import Settlement

__all__ = ["check_reasons"]

#: Fields naming one party, and fields whose keys (or items) are parties.
_PARTY_FIELDS = ("stakeholder", "to", "runner_up")
_PARTY_MAPS = ("shares", "points", "awards", "claims", "control", "relative_values")


def check_reasons(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Check that each reason names only the case's parties, issues and constraints."""
    parties = {s.id for s in case.stakeholders}
    issues = {i.id for i in case.issues}
    constraints = {c.name for c in case.constraints}
    for k, reason in enumerate(settlement.reasons):
        data: dict[str, Any] = reason.model_dump()
        where = f"reasons[{k}]"
        named = [data[f] for f in _PARTY_FIELDS if data.get(f) is not None]
        named += list(data.get("parties") or [])
        for field in _PARTY_MAPS:
            named += list(data.get(field) or {})
        for party in named:
            if party not in parties:
                fail(where, f"{reason.code} names '{party}', who is not a party to the case")
        issue = data.get("issue")
        if issue is not None and issue not in issues:
            fail(where, f"{reason.code} names '{issue}', which is not an issue of the case")
        constraint = data.get("constraint")
        if constraint is not None and constraint not in constraints:
            fail(where, f"{reason.code} names '{constraint}', not a constraint of the case")
