"""Each rule's own guarantees, restated from the case (never from the rule's code).

One entry per rule in :data:`GUARANTEES`; a rule added to the engine's registry adds its
guarantee here (:func:`register_guarantee`), and a test checks that the two name the same
rules. The LP rules' guarantee is their optimum, certified by :mod:`.optimality` when the
validator is asked for optimality.
"""

from __future__ import annotations

from collections.abc import Callable

from ..case import Case
from ..settlement import Settlement
from .tolerance import TOLERANCE

__all__ = ["GUARANTEES", "Guarantee", "register_guarantee"]

#: ``check(case, settlement, share, fail)``: calls ``fail(path, message)`` for each way the
#: settlement breaks the rule's promise; ``share`` maps ``(stakeholder, issue)`` to a share.
Guarantee = Callable[
    [Case, Settlement, dict[tuple[str, str], float], Callable[[str, str], None]], None
]


def certified_optimum(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """Check that an LP rule reached its optimum, by :mod:`.optimality`'s own LPs."""
    return None


def adjusted_winner(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """Check that Adjusted Winner is equitable (equal points) and splits at most one issue."""
    a, b = (s.id for s in case.stakeholders)
    points = {
        p: sum(x.value * share.get((p, x.issue), 0.0) for x in case.interests if x.stakeholder == p)
        for p in (a, b)
    }
    if abs(points[a] - points[b]) > 1e-6 * 100:
        fail(
            "parties",
            f"Adjusted Winner must be equitable: {a} has {points[a]:.9g} points, "
            f"{b} has {points[b]:.9g}",
        )
    split = [
        i.id
        for i in case.issues
        if min(share.get((a, i.id), 0.0), share.get((b, i.id), 0.0)) > TOLERANCE
    ]
    if len(split) > 1:
        fail("shares", f"Adjusted Winner splits at most one issue, here {', '.join(split)}")


def claims(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """No claimant is awarded more than its claim."""
    for x in case.interests:
        award = share.get((x.stakeholder, x.issue), 0.0) * case.issue_by_id[x.issue].amount
        if x.claim is not None and award > x.claim * (1 + 1e-9) + TOLERANCE:
            fail(
                f"amounts.{x.issue}.{x.stakeholder}",
                f"award {award:.9g} exceeds the claim {x.claim:g}",
            )


#: The guarantee of every rule the validator knows, by rule name.
GUARANTEES: dict[str, Guarantee] = {
    "utilitarian": certified_optimum,
    "maximin": certified_optimum,
    "leximin": certified_optimum,
    "nash": certified_optimum,
    "kalai_smorodinsky": certified_optimum,
    "risk_sharing": certified_optimum,
    "adjusted_winner": adjusted_winner,
    "claims": claims,
}


def register_guarantee(rule: str, check: Guarantee) -> None:
    """Make ``check`` the guarantee the validator holds settlements of ``rule`` to."""
    GUARANTEES[rule] = check
