"""Pins: shares a planner fixes to ask "what if this party took that much of this issue?".

A pin is not a party's red line: it is a question put to the case. ``pins`` map an issue's id
to the parties' pinned shares, ``{"cost-overrun": {"minzhengju": 0.6}}``. A pinned case
(:func:`pinned`) holds each pinned share at its value (``min_share = max_share``); the rest
of the allocation is left to the rule. Pins are checked before any solving
(:func:`pin_problems`): the pair must have an interest, the share must lie within the party's
own red lines on it (a pin outside them asks for a settlement the party has ruled out), an
indivisible issue is pinned at 0 or 1, and the pins on one issue must leave the issue
divisible among its parties (sum at most 1, exactly 1 when every party on it is pinned).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import CaseError, Problem, describe
from .checks import _check_ref
from .model import Case
from .parse import parse_case

__all__ = ["PIN_TOLERANCE", "Pins", "pin_problems", "pinned", "pinned_pairs"]

#: Pins: an issue's id → a party's id → the pinned share.
Pins = Mapping[str, Mapping[str, float]]

#: How far pins on one issue may sum beyond 1 (or short of it) before it is an error.
PIN_TOLERANCE = 1e-9


def pin_problems(case: Case, pins: Pins, *, prefix: str = "pins") -> list[Problem]:
    """Return what is wrong with ``pins`` on ``case`` (empty when nothing is).

    Parameters
    ----------
    case
        The validated case the pins apply to.
    pins
        An issue's id → a party's id → the share pinned, in [0, 1].
    prefix
        The field path of the pins in the document they came from (``pins`` in a what-if
        file, ``parameters[2]`` in a sweep).

    Returns
    -------
    list of Problem
        One per wrong pin, each with the pin's path (``pins.cost-overrun.minzhengju``).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders: [{id: a, name: 甲, kind: government}, {id: b, name: 乙, kind: enterprise}]
    ... issues: [{id: risk, name: 超支, kind: risk, amount: 100}]
    ... interests:
    ...   - {stakeholder: a, issue: risk, value: 1, max_share: 0.5}
    ...   - {stakeholder: b, issue: risk, value: 1}
    ... ''')
    >>> for p in pin_problems(case, {"risk": {"a": 0.6, "c": 0.1}}):
    ...     print(p)
    pins.risk.a: the pin 0.6 is above a's own cap of 0.5 on 'risk'; pin at most 0.5
    pins.risk.c: unknown stakeholder 'c'
    """
    problems: list[Problem] = []
    if not isinstance(pins, Mapping):
        return [Problem(prefix, f"must be a mapping of issue ids to shares, got {describe(pins)}")]
    for issue_id, shares in pins.items():
        here = f"{prefix}.{issue_id}"
        if not isinstance(issue_id, str):
            problems.append(Problem(prefix, f"an issue's id is a string, got {describe(issue_id)}"))
            continue
        if not _check_ref(here, issue_id, "issue", case.issue_by_id.keys(), problems):
            continue
        if not isinstance(shares, Mapping) or not shares:
            problems.append(
                Problem(
                    here,
                    f"must map parties' ids to pinned shares, got {describe(shares)}",
                    "type",
                )
            )
            continue
        issue = case.issue_by_id[issue_id]
        total = 0.0
        good = True
        for party, share in shares.items():
            at = f"{here}.{party}"
            if not isinstance(party, str):
                problems.append(Problem(here, f"a party's id is a string, got {describe(party)}"))
                good = False
                continue
            if not _check_ref(at, party, "stakeholder", case.stakeholder_by_id.keys(), problems):
                good = False
                continue
            interest = case.interest_by_pair.get((party, issue_id))
            if interest is None:
                problems.append(
                    Problem(
                        at,
                        f"{party} has no interest in '{issue_id}': only a party with an "
                        "interest in an issue can be pinned a share of it",
                        "unknown_interest",
                    )
                )
                good = False
                continue
            if isinstance(share, bool) or not isinstance(share, int | float):
                problems.append(Problem(at, f"a pin is a share in [0, 1], got {describe(share)}"))
                good = False
                continue
            value = float(share) if isinstance(share, float) or abs(share) <= 2 else math.inf
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                shown = repr(share) if len(repr(share)) <= 24 else f"{repr(share)[:12]}…"
                problems.append(
                    Problem(at, f"a pin is a share in [0, 1], got {shown}", "out_of_range")
                )
                good = False
                continue
            if issue_id in case.contributions_to:
                problems.append(
                    Problem(
                        at,
                        f"'{issue_id}' is funded by contributions, so its size varies: a share "
                        "of it cannot be pinned",
                        "not_applicable",
                    )
                )
                good = False
                continue
            if not issue.divisible and value not in (0.0, 1.0):
                problems.append(
                    Problem(
                        at,
                        f"'{issue_id}' is indivisible: pin it at 0 or 1, not {share!r}",
                        "indivisible",
                    )
                )
                good = False
                continue
            # the red lines in force: a floor or cap in the issue's unit counts as its share
            floor, cap = interest.floor_of(issue.amount), interest.cap_of(issue.amount)
            if value < floor - PIN_TOLERANCE:
                problems.append(
                    Problem(
                        at,
                        f"the pin {share!r} is below {party}'s own floor of {floor:g}"
                        f"{_in_unit(interest.min_amount, floor > interest.floor, issue.unit)} "
                        f"on '{issue_id}'; pin at least {floor:g}",
                        "pin_outside_red_line",
                    )
                )
                good = False
            elif value > cap + PIN_TOLERANCE:
                problems.append(
                    Problem(
                        at,
                        f"the pin {share!r} is above {party}'s own cap of {cap:g}"
                        f"{_in_unit(interest.max_amount, cap < interest.cap, issue.unit)} on "
                        f"'{issue_id}'; pin at most {cap:g}",
                        "pin_outside_red_line",
                    )
                )
                good = False
            total += value
        if not good:
            continue
        on_issue = case.interests_by_issue[issue_id]
        free = [x for x in on_issue if x.stakeholder not in shares]
        floors = sum(x.floor_of(issue.amount) for x in free)
        caps = sum(x.cap_of(issue.amount) for x in free)
        if free and total + floors > 1.0 + PIN_TOLERANCE:
            problems.append(
                Problem(
                    here,
                    f"the pins on '{issue_id}' ({total:.12g}) and the other parties' floors on it "
                    f"({floors:.12g}) sum to {total + floors:.12g}, above 1: lower the pins to "
                    f"{max(1.0 - floors, 0.0):.12g} in all",
                    "pins_above_one",
                )
            )
        elif free and total + caps < 1.0 - PIN_TOLERANCE:
            problems.append(
                Problem(
                    here,
                    f"the pins on '{issue_id}' ({total:.12g}) and the other parties' caps on it "
                    f"({caps:.12g}) sum to {total + caps:.12g}, short of 1: raise the pins to "
                    f"{1.0 - caps:.12g} in all",
                    "pins_below_one",
                )
            )
        elif total > 1.0 + PIN_TOLERANCE:
            problems.append(
                Problem(
                    here,
                    f"the pins on '{issue_id}' sum to {total:.12g}, above 1: an issue's shares "
                    "sum to 1",
                    "pins_above_one",
                )
            )
        elif len(shares) == len(on_issue) and total < 1.0 - PIN_TOLERANCE:
            problems.append(
                Problem(
                    here,
                    f"every party with an interest in '{issue_id}' is pinned and the pins sum to "
                    f"{total:.12g}, not 1: an issue's shares sum to 1",
                    "pins_below_one",
                )
            )
    return problems


def pinned_pairs(pins: Pins) -> list[tuple[str, str]]:
    """Return the ``(party, issue)`` pairs that ``pins`` fix, in the pins' order.

    Examples
    --------
    >>> pinned_pairs({"risk": {"a": 0.6, "b": 0.4}})
    [('a', 'risk'), ('b', 'risk')]
    """
    return [(party, issue) for issue, shares in pins.items() for party in shares]


def pinned(case: Case, pins: Pins, *, prefix: str = "pins") -> Case:
    """Return ``case`` with every pinned share held at its value (``min_share = max_share``).

    Parameters
    ----------
    case
        The validated case.
    pins
        An issue's id → a party's id → the share pinned.
    prefix
        The field path of the pins, for the errors.

    Returns
    -------
    Case
        A new, validated case; ``case`` is not changed.

    Raises
    ------
    CaseError
        When a pin is wrong (see :func:`pin_problems`).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders: [{id: a, name: 甲, kind: government}, {id: b, name: 乙, kind: enterprise}]
    ... issues: [{id: risk, name: 超支, kind: risk, amount: 100}]
    ... interests:
    ...   - {stakeholder: a, issue: risk, value: 1}
    ...   - {stakeholder: b, issue: risk, value: 1}
    ... ''')
    >>> x = pinned(case, {"risk": {"a": 0.6}}).interest_by_pair["a", "risk"]
    >>> x.min_share, x.max_share
    (0.6, 0.6)
    """
    problems = pin_problems(case, pins, prefix=prefix)
    if problems:
        raise CaseError(problems)
    data: dict[str, Any] = case.model_dump(mode="json")
    interests = {(x["stakeholder"], x["issue"]): x for x in data["interests"]}
    for party, issue in pinned_pairs(pins):
        record = interests[party, issue]
        record["min_share"] = record["max_share"] = float(pins[issue][party])
        # the pin is the planner's proposal: it replaces the interest's red lines (an amount
        # bound would override it) and is negotiable whatever they were
        for key in ("min_amount", "max_amount", "source"):
            record.pop(key, None)
        record.pop("basis", None)
    return parse_case(data)


def _in_unit(amount: float | None, in_force: bool, unit: str) -> str:
    """Return `` (96000 元)`` when the bound in force is an amount bound, else nothing."""
    if amount is None or not in_force:
        return ""
    return f" ({amount:g}{' ' + unit if unit else ''})"
