"""Cross-field checks of a case: the rules that one field alone cannot state.

Among them: ids that must exist and be unique, floors that must fit, and values a party may
hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import TypeVar

from ..errors import Problem
from .limits import MAX_TERMS, MAX_VALUE_SPAN
from .model import _SECTIONS, Interest, Issue, LinearConstraint, Relation, Stakeholder, _number

__all__ = ["referential_problems"]


def referential_problems(
    stakeholders: Sequence[tuple[int, Stakeholder]],
    issues: Sequence[tuple[int, Issue]],
    interests: Sequence[tuple[int, Interest]],
    relations: Sequence[tuple[int, Relation]],
    constraints: Sequence[tuple[int, LinearConstraint]],
    *,
    known_stakeholders: set[str] | None = None,
    known_issues: set[str] | None = None,
    known_interests: set[tuple[str, str]] | None = None,
) -> list[Problem]:
    """Cross-field problems of a case's (valid) parts, each given with its position.

    ``known_stakeholders``, ``known_issues`` and ``known_interests`` default to the ids and
    (stakeholder, issue) pairs of the given parts; a caller checking a partly invalid
    document passes every one it could read so that a party whose own record is invalid is
    not also reported as unknown, nor a term on an invalid interest as on no interest.
    """
    problems: list[Problem] = []
    party_ids = _unique_ids("stakeholders", stakeholders, problems)
    issue_ids = _unique_ids("issues", issues, problems)
    for k, issue in issues:
        if issue.id in party_ids:
            problems.append(
                Problem(
                    f"issues[{k}].id",
                    f"'{issue.id}' is already a stakeholder id; ids must be unique",
                    "duplicate_id",
                )
            )
        if issue.kind == "resource" and issue.probability is not None:
            problems.append(
                Problem(f"issues[{k}].probability", "applies to risks only", "not_applicable")
            )
    known_parties = party_ids.keys() | (known_stakeholders or set())
    known_issue_ids = issue_ids.keys() | (known_issues or set())

    pairs: dict[tuple[str, str], int] = {}
    floors: dict[str, list[tuple[str, float]]] = defaultdict(list)
    interested: set[str] = set()
    kind_of = {issue.id: issue.kind for _, issue in issues}
    amount_of = {issue.id: issue.amount for _, issue in issues}
    by_amount: set[tuple[str, str]] = set()  # floors in force that are amounts (format 1.1)
    lowest: dict[str, tuple[float, int]] = {}  # a party's smallest nonzero value, where
    highest: dict[str, tuple[float, int]] = {}
    for k, x in interests:
        party, issue_id = x.stakeholder, x.issue
        if party not in known_parties or issue_id not in known_issue_ids:
            here = f"interests[{k}]"
            ok = _check_ref(f"{here}.stakeholder", party, "stakeholder", known_parties, problems)
            ok &= _check_ref(f"{here}.issue", issue_id, "issue", known_issue_ids, problems)
            continue
        pair = (party, issue_id)
        if pair in pairs:
            problems.append(
                Problem(
                    f"interests[{k}]",
                    f"duplicate interest of '{party}' in '{issue_id}' "
                    f"(also interests[{pairs[pair]}])",
                    "duplicate_interest",
                )
            )
            continue
        pairs[pair] = k
        interested.add(issue_id)
        if x.value is None and kind_of.get(issue_id) == "resource":
            problems.append(
                Problem(
                    f"interests[{k}].value",
                    f"required on a resource: what the whole of '{issue_id}' is worth to "
                    f"'{party}' (it may be left out only on a risk: it is then the expected loss)",
                    "missing",
                )
            )
        if x.value:
            low = lowest.get(party)
            if low is None or x.value < low[0]:
                lowest[party] = (x.value, k)
            high = highest.get(party)
            if high is None or x.value > high[0]:
                highest[party] = (x.value, k)
        if not x.bounded and x.control is None and x.claim is None:
            continue  # the common case: nothing more to check
        if x.min_share is not None and x.max_share is not None and x.min_share > x.max_share:
            problems.append(
                Problem(
                    f"interests[{k}].min_share",
                    f"{x.min_share:g} is above max_share {x.max_share:g}; "
                    "a floor cannot exceed its cap",
                    "floor_above_cap",
                )
            )
        floor = x.min_share or 0.0
        amount = amount_of.get(issue_id)
        if x.min_amount and amount and x.min_amount / amount > floor:
            floor = x.min_amount / amount
            by_amount.add((issue_id, party))
        if floor:
            floors[issue_id].append((party, floor))
        kind = kind_of.get(issue_id)
        if kind == "resource" and x.control is not None:
            problems.append(
                Problem(
                    f"interests[{k}].control",
                    f"applies to risks only; '{issue_id}' is a resource",
                    "not_applicable",
                )
            )
        if kind == "risk" and x.claim is not None:
            problems.append(
                Problem(
                    f"interests[{k}].claim",
                    f"applies to resources only; '{issue_id}' is a risk",
                    "not_applicable",
                )
            )

    issue_of = dict(interests)
    for party, (small, k_small) in lowest.items():
        big, k_big = highest[party]
        if big > small * MAX_VALUE_SPAN:
            problems.append(
                Problem(
                    f"interests[{k_small}].value",
                    f"'{party}' values '{issue_of[k_small].issue}' at {small:g} "
                    f"(interests[{k_small}]) and '{issue_of[k_big].issue}' at {big:g} "
                    f"(interests[{k_big}]), {big / small:.1e} times as much; a party's nonzero "
                    f"values may differ by a factor of at most {_number(MAX_VALUE_SPAN)} (write 0 "
                    "if it does not matter to them)"
                    + "".join(
                        f"; interests[{k}]'s value is the expected loss derived from the risk "
                        "(probability × amount × (1 − mitigation × control)): state it"
                        for k in (k_small, k_big)
                        if issue_of[k].derived
                    ),
                    "value_span",
                )
            )

    for k, issue in issues:
        if issue.id not in interested and issue.id in issue_ids and issue_ids[issue.id] == k:
            problems.append(
                Problem(
                    f"issues[{k}]",
                    f"no stakeholder has an interest in '{issue.id}'; "
                    "add an interest or remove the issue",
                    "issue_without_interest",
                )
            )
        total = sum(f for _, f in floors.get(issue.id, ()))
        if total > 1.0 + 1e-9:
            detail = ", ".join(
                f"{s} {f:g}"
                + (
                    f" = {_number(f * issue.amount)} {issue.unit}".rstrip()
                    if (issue.id, s) in by_amount
                    else ""
                )
                for s, f in floors[issue.id]
            )
            what = (
                "min_share, min_amount ÷ amount"
                if any(i == issue.id for i, _ in by_amount)
                else "min_share"
            )
            problems.append(
                Problem(
                    f"issues[{k}]",
                    f"floors ({what}) on '{issue.id}' sum to {total:g} > 1 "
                    f"({detail}); together they must give way by {total - 1:g}",
                    "floors_exceed_issue",
                )
            )

    seen_relations: dict[tuple[str, str, str], int] = {}
    for k, r in relations:
        here = f"relations[{k}]"
        ok = _check_ref(f"{here}.source", r.source, "stakeholder", known_parties, problems)
        ok &= _check_ref(f"{here}.target", r.target, "stakeholder", known_parties, problems)
        if not ok:
            continue
        if r.source == r.target:
            problems.append(
                Problem(
                    here,
                    f"a relation needs two different parties, got '{r.source}' twice",
                    "self_relation",
                )
            )
            continue
        key = (r.source, r.target, r.kind)
        if key in seen_relations:
            problems.append(
                Problem(
                    here,
                    f"duplicate '{r.kind}' relation from '{r.source}' to '{r.target}' "
                    f"(also relations[{seen_relations[key]}])",
                    "duplicate_relation",
                )
            )
        seen_relations[key] = k

    names: dict[str, int] = {}
    terms = 0
    for k, c in constraints:
        here = f"constraints[{k}]"
        if c.name in names:
            problems.append(
                Problem(
                    f"{here}.name",
                    f"duplicate constraint name '{c.name}' (also constraints[{names[c.name]}])",
                    "duplicate_name",
                )
            )
        names.setdefault(c.name, k)
        terms += len(c.terms)
        seen_terms: dict[tuple[str, ...], int] = {}
        for j, t in enumerate(c.terms):
            there = f"{here}.terms[{j}]"
            column = t.column
            if column in seen_terms:
                what = (
                    f"the term of '{t.stakeholder}' in '{t.issue}'"
                    if column[0] == "share"
                    else f"the term of {column[0]} '{column[1]}'"
                )
                problems.append(
                    Problem(
                        there,
                        f"repeats {what} (terms[{seen_terms[column]}]); add the coefficients "
                        "into one term",
                        "duplicate_term",
                    )
                )
            seen_terms.setdefault(column, j)
            if t.stakeholder is None or t.issue is None:
                continue  # a payment's, a contribution's or an option's: format 1.1's checks
            ok = _check_ref(
                f"{there}.stakeholder", t.stakeholder, "stakeholder", known_parties, problems
            )
            ok &= _check_ref(f"{there}.issue", t.issue, "issue", known_issue_ids, problems)
            if (
                ok
                and (t.stakeholder, t.issue) not in pairs
                and (t.stakeholder, t.issue) not in (known_interests or ())
                and t.stakeholder in party_ids
                and t.issue in issue_ids
            ):
                problems.append(
                    Problem(
                        there,
                        f"'{t.stakeholder}' has no interest in '{t.issue}'; a party can only "
                        "receive a share of an issue it has an interest in",
                        "term_without_interest",
                    )
                )
    if terms > MAX_TERMS:
        problems.append(
            Problem(
                "constraints", f"{terms} terms in all, above the limit of {MAX_TERMS}", "too_large"
            )
        )
    return _ordered(problems)


_M = TypeVar("_M", Stakeholder, Issue)


def _unique_ids(
    section: str, items: Sequence[tuple[int, _M]], problems: list[Problem]
) -> dict[str, int]:
    first: dict[str, int] = {}
    for k, item in items:
        if item.id in first:
            problems.append(
                Problem(
                    f"{section}[{k}].id",
                    f"duplicate id '{item.id}' (also {section}[{first[item.id]}])",
                    "duplicate_id",
                )
            )
        else:
            first[item.id] = k
    return first


def _check_ref(
    path: str, ref: str, what: str, known: Collection[str], problems: list[Problem]
) -> bool:
    if ref in known:
        return True
    if not known:
        return False  # the section listing these ids is itself broken and reported
    known_list = sorted(known)
    hint = _closest(ref, known_list)
    suggestion = f"; did you mean '{hint}'?" if hint else ""
    problems.append(Problem(path, f"unknown {what} '{ref}'{suggestion}", f"unknown_{what}"))
    return False


def _closest(word: str, candidates: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return match[0] if match else None


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Problems in document order (top-level keys first, then by position), without repeats."""
    order = ["id", "title", "description", *_SECTIONS, "policy", "translations", "extensions"]

    def key(p: Problem) -> tuple[int, list[int], str]:
        head = p.path.split("[")[0].split(".")[0]
        rank = order.index(head) if head in order else len(order)
        numbers = [int(n) for n in _numbers(p.path)]
        return rank, numbers, p.path

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=key)


def _numbers(path: str) -> list[str]:
    import re

    return re.findall(r"\[(\d+)\]", path)
