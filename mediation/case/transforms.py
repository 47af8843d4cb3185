"""Transforms of a case, each returning a new, validated case.

The new case has a diagnosis's concessions made, or one party's values restated in another
unit.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from typing import Any

from ..errors import CaseError, Problem
from ..settlement import Concession
from .checks import _check_ref
from .model import Case
from .parse import parse_case

__all__ = ["apply_concessions", "scale_party"]

#: The field each kind of concession changes, and where that field is.
_FIELD_OF = {
    "floor": ("interests", "min_share"),
    "cap": ("interests", "max_share"),
    "capacity": ("stakeholders", "risk_capacity"),
    "disagreement": ("stakeholders", "disagreement"),
    "constraint": ("constraints", "rhs"),
    "payment_floor": ("payments", "min"),
    "payment_cap": ("payments", "max"),
    "contribution_floor": ("contributions", "min"),
    "contribution_cap": ("contributions", "max"),
}
#: A floor or cap conceded in the issue's unit (not ``share``) changes the amount bound.
_AMOUNT_KEY = {"floor": "min_amount", "cap": "max_amount"}


def apply_concessions(case: Case, concessions: Iterable[Concession]) -> Case:
    """Return the case with the concessions of a diagnosis made.

    Each concession sets one red line to its ``proposed`` value: a ``floor`` or a ``cap`` the
    ``min_share`` or ``max_share`` of the party's interest in the issue, a ``capacity`` the
    party's ``risk_capacity``, a ``disagreement`` the party's disagreement point and a
    ``constraint`` the right-hand side of the named extra constraint.

    Parameters
    ----------
    case
        The case that was diagnosed.
    concessions
        The concessions to make, e.g. a settlement's ``diagnosis.concessions`` or one of the
        ``alternatives`` of a conflict.

    Returns
    -------
    Case
        A new case, validated as :func:`parse_case` validates a document; ``case`` itself is
        not changed.

    Raises
    ------
    CaseError
        When a concession names a party, issue, interest or constraint that the case does not
        have, or is of a kind (``proportional``, ``envy``) that relaxes the policy rather than
        a red line of the case; each problem's path is the concession's position. Also when
        the changed case is not valid, e.g. floors that now sum above 1.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.settlement import Concession
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "government"},
    ...                      {"id": "b", "name": "乙", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1, "min_share": 0.6},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 2, "min_share": 0.4}]})
    >>> floor = Concession(kind="floor", stakeholder="a", issue="hall", current=0.6,
    ...                    proposed=0.5, change=-0.1, unit="share")
    >>> apply_concessions(case, [floor]).interest_by_pair["a", "hall"].min_share
    0.5
    >>> apply_concessions(case, [floor.model_copy(update={"issue": "hal"})])
    Traceback (most recent call last):
    ...
    mediation.errors.CaseError: 1 problem in the case:
      concessions[0].issue: unknown issue 'hal'; did you mean 'hall'?
    """
    data: dict[str, Any] = case.model_dump(mode="json")
    interests = {(x["stakeholder"], x["issue"]): x for x in data["interests"]}
    parties = {s["id"]: s for s in data["stakeholders"]}
    rows = {row["name"]: row for row in data["constraints"]}
    problems: list[Problem] = []
    for k, c in enumerate(concessions):
        here = f"concessions[{k}]"
        if c.kind not in _FIELD_OF:
            problems.append(
                Problem(
                    here,
                    f"a '{c.kind}' concession relaxes the policy, not a red line of the case; "
                    "settle with that policy option off instead",
                    "not_a_red_line",
                )
            )
            continue
        section, key = _FIELD_OF[c.kind]
        record: dict[str, Any] | None
        if section in ("payments", "contributions"):
            ident = c.payment if section == "payments" else c.contribution
            what = section[:-1]
            records = {r["id"]: r for r in data.get(section, [])}
            found = _named(ident, what, here, c.kind, records.keys(), problems)
            record = records[found] if found is not None else None
        elif section == "constraints":
            name = _named(c.constraint, "constraint", here, c.kind, rows.keys(), problems)
            record = rows[name] if name is not None else None
        else:
            party = _named(c.stakeholder, "stakeholder", here, c.kind, parties.keys(), problems)
            if section == "stakeholders":
                record = parties[party] if party is not None else None
            else:
                issue = _named(c.issue, "issue", here, c.kind, case.issue_by_id.keys(), problems)
                if party is None or issue is None:
                    continue
                record = interests.get((party, issue))
                if c.unit != "share" and c.kind in _AMOUNT_KEY:
                    key = _AMOUNT_KEY[c.kind]  # a red line stated in the issue's unit
                if record is None:
                    problems.append(
                        Problem(
                            here,
                            f"'{party}' has no interest in '{issue}' to change",
                            "unknown_interest",
                        )
                    )
        if record is not None:
            record[key] = c.proposed
            if section == "interests":
                _loosen_the_other_bound(
                    record, key, c.proposed, case.issue_by_id[str(c.issue)].amount
                )
    if problems:
        raise CaseError(problems)
    return parse_case(data)


def _loosen_the_other_bound(
    record: dict[str, Any], key: str, proposed: float, amount: float
) -> None:
    """Keep the interest's other bound of the same side from taking over a conceded one.

    A floor conceded as a share would otherwise leave a tighter ``min_amount`` in force (and
    the reverse); so would a cap.
    """
    pairs = {
        "min_share": ("min_amount", proposed * amount, min),
        "min_amount": ("min_share", proposed / amount, min),
        "max_share": ("max_amount", proposed * amount, max),
        "max_amount": ("max_share", proposed / amount, max),
    }
    other, limit, keep = pairs[key]
    if record.get(other) is not None:
        record[other] = keep(record[other], limit)


def _named(
    ref: str | None,
    what: str,
    here: str,
    kind: str,
    known: Collection[str],
    problems: list[Problem],
) -> str | None:
    """``ref`` when it is one of the ``known`` ids; else ``None``, and the problem added."""
    if ref is None:
        problems.append(Problem(here, f"a '{kind}' concession must name its {what}", "missing"))
        return None
    if _check_ref(f"{here}.{what}", ref, what, known, problems):
        return ref
    if not known:  # _check_ref stays silent when there is nothing to know
        problems.append(Problem(f"{here}.{what}", f"unknown {what} '{ref}'", f"unknown_{what}"))
    return None


def scale_party(case: Case, party: str, factor: float) -> Case:
    """Return the case with one party's values and disagreement point multiplied by ``factor``.

    A party's utility is the sum of its values times its shares: scaling its values and its
    disagreement point together restates its utility in another unit (points instead of 元,
    万元 instead of 元) and changes nothing else. The rules that compare normalized gains, and
    the Nash rule, settle the scaled case as they settle ``case``. Claims and risk capacities
    are amounts of the issues, not utilities, and are kept.

    Parameters
    ----------
    case
        The case to transform.
    party
        The id of the stakeholder whose values are scaled.
    factor
        A positive, finite multiplier.

    Returns
    -------
    Case
        A new case, validated as :func:`parse_case` validates a document; ``case`` itself is
        not changed.

    Raises
    ------
    CaseError
        When ``party`` is not a stakeholder of the case, when ``factor`` is not a positive
        finite number, or when a scaled value leaves the format's numeric range
        (:mod:`mediation.case.limits`).

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "government", "disagreement": 1},
    ...                      {"id": "b", "name": "乙", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 3},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 2}]})
    >>> scaled = scale_party(case, "a", 1000)
    >>> [x.value for x in scaled.interests], scaled.stakeholder_by_id["a"].disagreement
    ([3000.0, 2.0], 1000.0)
    >>> scale_party(case, "c", 2.0)
    Traceback (most recent call last):
    ...
    mediation.errors.CaseError: 1 problem in the case:
      party: unknown stakeholder 'c'
    """
    problems: list[Problem] = []
    _check_ref("party", party, "stakeholder", case.stakeholder_by_id.keys(), problems)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not math.isfinite(factor)
        or factor <= 0
    ):
        message = f"must be a positive finite number, got {factor!r}"
        problems.append(Problem("factor", message, "invalid_factor"))
    if problems:
        raise CaseError(problems)
    data: dict[str, Any] = case.model_dump(mode="json")
    for x in data["interests"]:
        if x["stakeholder"] == party and "value" in x:  # a derived value is derived again
            x["value"] *= factor
    for s in data["stakeholders"]:
        if s["id"] == party:
            s["disagreement"] *= factor
    # money enters the party's utility at its rates, and an option at its value
    for p in data.get("payments", []):
        if p["payer"] == party:
            p["payer_rate"] *= factor
        if p["payee"] == party:
            p["payee_rate"] *= factor
    for c in data.get("contributions", []):
        if c["stakeholder"] == party:
            c["rate"] *= factor
    for choice in data.get("choices", []):
        for o in choice["options"]:
            if party in o["values"]:
                o["values"][party] *= factor
    return parse_case(data)
