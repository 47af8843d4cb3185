"""The cross-field checks of what case format 1.1 added.

Amount bounds, funds and observers, whole units, payments, contributions and choices: each
rule names the field at fault, as :func:`mediation.case.referential_problems` does for 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator

from ..errors import Problem
from .checks import _check_ref, _ordered
from .limits import MAX_UNITS, MAX_VALUE_SPAN
from .model import Case, _number, whole_units

__all__ = ["FEATURES_1_1", "format11_problems", "levered_problems", "whole_units"]

#: Keys that case format 1.1 added, by the model that holds them (for ``format_version: "1.0"``).
FEATURES_1_1: dict[str, tuple[str, ...]] = {
    "case": ("payments", "contributions", "choices"),
    "stakeholders": ("capacity_basis", "capacity_source"),
    "issues": ("unit_size",),
    "interests": ("min_amount", "max_amount", "basis", "source"),
    "constraints": ("basis", "source"),
}


def format11_problems(case: Case) -> list[Problem]:
    """Every problem with the 1.1 parts of a case whose 1.0 parts are sound."""
    problems = list(_problems(case))
    return _ordered(problems)


def _problems(case: Case) -> Iterator[Problem]:
    yield from _version(case)
    yield from _ids(case)
    parties = {s.id: s for s in case.stakeholders}
    funds = set(case.funds)
    issues = case.issue_by_id
    choices = {c.id: c for c in case.choices}
    funded = {t for t in case.contributions_to if t in issues}

    for k, s in enumerate(case.stakeholders):
        if s.risk_capacity is None and s.capacity_basis != "negotiable":
            yield Problem(
                f"stakeholders[{k}].capacity_basis",
                f"gives the basis ({s.capacity_basis}) of a risk_capacity the "
                f"{'fund' if s.is_fund else 'party'} does not state",
                "not_applicable",
            )
        if not s.is_fund:
            if s.capacity_source is not None and s.risk_capacity is None:
                yield Problem(
                    f"stakeholders[{k}].capacity_source",
                    "names the source of a risk_capacity the party does not state",
                    "not_applicable",
                )
            continue
        for key, default in (("weight", 1.0), ("disagreement", 0.0), ("risk_capacity", None)):
            if getattr(s, key) != default:
                yield Problem(
                    f"stakeholders[{k}].{key}",
                    f"a fund ('{s.id}') is an account, not a party: it has no {key}",
                    "not_applicable",
                )

    for k, issue in enumerate(case.issues):
        here = f"issues[{k}]"
        if issue.id in funded and not issue.divisible:
            yield Problem(
                f"{here}.divisible",
                f"'{issue.id}' is funded by contributions, so its size varies; an indivisible "
                "issue goes whole to one party: drop divisible: false or the contributions to it",
                "not_applicable",
            )
        if issue.unit_size is None:
            continue
        if not issue.divisible:
            yield Problem(
                f"{here}.unit_size",
                "an indivisible issue already goes whole to one party (its unit is its amount); "
                "drop divisible: false or unit_size",
                "not_applicable",
            )
        elif issue.id in funded:
            yield Problem(
                f"{here}.unit_size",
                f"'{issue.id}' is funded by contributions, so its size varies; whole units "
                "need a fixed amount",
                "not_applicable",
            )
        else:
            units = issue.units
            if units is None:
                yield Problem(
                    f"{here}.unit_size",
                    f"the amount {_number(issue.amount)} is not a whole number of units of "
                    f"{_number(issue.unit_size)}",
                    "not_whole_units",
                )
            elif units > MAX_UNITS:
                yield Problem(
                    f"{here}.unit_size",
                    f"{units} units, above the limit of {MAX_UNITS}: use a larger unit_size",
                    "too_large",
                )
            else:
                yield from _whole_unit_bounds(case, k, units)

    for k, x in enumerate(case.interests):
        here = f"interests[{k}]"
        issue = issues[x.issue]
        if x.stakeholder in funds:
            if issue.kind == "risk":
                yield Problem(
                    f"{here}.issue",
                    f"a fund ('{x.stakeholder}') holds money, it cannot bear the risk '{x.issue}'",
                    "not_applicable",
                )
            if x.value:
                yield Problem(
                    f"{here}.value",
                    f"a fund ('{x.stakeholder}') has no utility: leave value out",
                    "not_applicable",
                )
            for key in ("claim", "control"):
                if getattr(x, key) is not None:
                    yield Problem(
                        f"{here}.{key}", "a fund has no claim or control", "not_applicable"
                    )
        if x.min_amount is not None and x.max_amount is not None and x.min_amount > x.max_amount:
            yield Problem(
                f"{here}.min_amount",
                f"{_number(x.min_amount)} is above max_amount {_number(x.max_amount)}; a floor "
                "cannot exceed its cap",
                "floor_above_cap",
            )
        if x.issue in funded:
            for key in ("min_share", "max_share"):
                if getattr(x, key) is not None:
                    yield Problem(
                        f"{here}.{key}",
                        f"'{x.issue}' is funded by contributions, so its size varies: state "
                        f"the bound in {issue.unit or 'its unit'} "
                        f"({key.replace('share', 'amount')})",
                        "not_applicable",
                    )
        elif x.min_amount is not None and x.min_amount > issue.amount * (1 + 1e-12):
            yield Problem(
                f"{here}.min_amount",
                f"{_number(x.min_amount)} is more than the whole of '{x.issue}' "
                f"({_number(issue.amount)}{' ' + issue.unit if issue.unit else ''})",
                "amount_above_issue",
            )
        if (
            x.min_amount is not None
            and x.max_share is not None
            and x.issue not in funded
            and x.min_amount > x.max_share * issue.amount * (1 + 1e-12)
        ):
            yield Problem(
                f"{here}.min_amount",
                f"{_number(x.min_amount)} is above max_share × amount "
                f"({_number(x.max_share * issue.amount)}); a floor cannot exceed its cap",
                "floor_above_cap",
            )
        if (
            x.max_amount is not None
            and x.min_share is not None
            and x.issue not in funded
            and x.min_share * issue.amount > x.max_amount * (1 + 1e-12)
        ):
            yield Problem(
                f"{here}.max_amount",
                f"{_number(x.max_amount)} is below min_share × amount "
                f"({_number(x.min_share * issue.amount)}); a floor cannot exceed its cap",
                "floor_above_cap",
            )
        if x.source is not None and not x.bounded:
            yield Problem(
                f"{here}.source",
                "names the source of bounds the interest does not state",
                "not_applicable",
            )
        if x.basis != "negotiable" and not x.bounded:
            yield Problem(
                f"{here}.basis",
                f"gives the basis ({x.basis}) of bounds the interest does not state "
                "(min_share, max_share, min_amount, max_amount)",
                "not_applicable",
            )

    for k, p in enumerate(case.payments):
        here = f"payments[{k}]"
        bad = [*_refs(f"{here}.payer", p.payer, "stakeholder", parties)]
        bad += _refs(f"{here}.payee", p.payee, "stakeholder", parties)
        yield from bad
        ok = not bad
        if ok and p.payer == p.payee:
            yield Problem(f"{here}.payee", f"'{p.payer}' cannot pay itself", "self_payment")
        if ok and p.payer in funds:
            yield Problem(
                f"{here}.payer",
                f"'{p.payer}' is a fund: money leaves an account only as a share of an issue",
                "not_applicable",
            )
        if p.payee in funds and "payee_rate" in p.model_fields_set:
            yield Problem(
                f"{here}.payee_rate",
                f"'{p.payee}' is a fund: it has no utility to price the money it receives in",
                "not_applicable",
            )
        if p.min > p.max:
            yield Problem(
                f"{here}.min", f"{_number(p.min)} is above max {_number(p.max)}", "floor_above_cap"
            )

    misdirected = False  # a contribution to no known target: the sums below would mislead
    for k, c in enumerate(case.contributions):
        here = f"contributions[{k}]"
        yield from _refs(f"{here}.stakeholder", c.stakeholder, "stakeholder", parties)
        if c.stakeholder in funds:
            yield Problem(
                f"{here}.stakeholder",
                f"'{c.stakeholder}' is a fund: it cannot contribute",
                "not_applicable",
            )
        targets = {i for i, issue in issues.items() if issue.kind == "resource"} | choices.keys()
        if c.to in issues and issues[c.to].kind == "risk":
            yield Problem(
                f"{here}.to",
                f"'{c.to}' is a risk: contributions fund a resource issue or a choice (a cost "
                "shared by several parties is a risk they share, without contributions)",
                "not_applicable",
            )
        else:
            found = list(
                _refs(f"{here}.to", c.to, "resource issue or choice", targets, "unknown_target")
            )
            misdirected |= bool(found)
            yield from found
        if c.min > c.max:
            yield Problem(
                f"{here}.min", f"{_number(c.min)} is above max {_number(c.max)}", "floor_above_cap"
            )

    for target, given in {} if misdirected else case.contributions_to.items():
        least = sum(c.min for c in given)
        most = sum(c.max for c in given)
        first = case.contributions.index(given[0])
        if target in issues:
            issue = issues[target]
            if least > issue.amount * (1 + 1e-12):
                yield Problem(
                    f"contributions[{first}].min",
                    f"the contributions to '{target}' give at least {_number(least)}, more than "
                    f"it can hold ({_number(issue.amount)}, its amount)",
                    "contributions_exceed_amount",
                )
            floors = sum(
                x.min_amount or 0.0 for x in case.interests_by_issue.get(target, []) if x.min_amount
            )
            if floors > min(most, issue.amount) * (1 + 1e-12):
                yield Problem(
                    f"contributions[{first}].max",
                    f"the floors on '{target}' (min_amount) add up to {_number(floors)}, more "
                    f"than the contributions can give ({_number(min(most, issue.amount))})",
                    "floors_exceed_issue",
                )
        elif target in choices:
            costs = [o.cost for o in choices[target].options]
            if not any(least * (1 - 1e-12) <= cost <= most * (1 + 1e-12) for cost in costs):
                yield Problem(
                    f"contributions[{first}]",
                    f"the contributions to '{target}' give between {_number(least)} and "
                    f"{_number(most)}, and no option's cost lies in that range (costs: "
                    f"{', '.join(_number(cost) for cost in costs)}): the chosen option's cost "
                    "must be met exactly",
                    "choice_unfunded",
                )

    for k, choice in enumerate(case.choices):
        for j, option in enumerate(choice.options):
            for party in option.values:
                there = f"choices[{k}].options[{j}].values.{party}"
                if party not in parties:
                    yield from _refs(there, party, "stakeholder", parties.keys())
                elif party in funds:
                    yield Problem(there, f"a fund ('{party}') has no utility", "not_applicable")

    columns = {
        "payment": {p.id for p in case.payments},
        "contribution": {c.id for c in case.contributions},
        "option": set(case.option_by_id),
    }
    for k, row in enumerate(case.constraints):
        for j, t in enumerate(row.terms):
            kind, *rest = t.column
            if kind == "share" and rest[1] in funded:
                yield Problem(
                    f"constraints[{k}].terms[{j}]",
                    f"'{rest[1]}' is funded by contributions, so its size varies and a share of "
                    "it is no fixed amount: bound the party's amount with min_amount/max_amount, "
                    "or the contributions with a term on each",
                    "not_applicable",
                )
            if kind == "option" and rest[0] in choices:
                options = ", ".join(o.id for o in choices[rest[0]].options)
                yield Problem(
                    f"constraints[{k}].terms[{j}].option",
                    f"'{rest[0]}' is a choice, not an option: name one of its options ({options})",
                    "unknown_option",
                )
            elif kind != "share":
                yield from _refs(
                    f"constraints[{k}].terms[{j}].{kind}", rest[0], kind, columns[kind]
                )

    if not case.compared:
        yield Problem(
            "stakeholders",
            "no party has a stake: every stakeholder is a fund or an observer (no interest, "
            "payment, contribution or option value)",
            "no_party",
        )
    yield from _span(case)


def _whole_unit_bounds(case: Case, q: int, units: int) -> Iterator[Problem]:
    """Yield the bounds on whole-unit issue ``q`` that no whole number of units can keep.

    A floor is rounded up and a cap down to whole units (to a 1e-9 tolerance, as the engine
    does): a floor and a cap with no whole number between them can never hold, nor floors
    whose rounded units add up to more than the issue has.
    """
    issue = case.issues[q]
    size = issue.unit_size or 1.0
    unit = f" {issue.unit}" if issue.unit else ""
    need = 0
    detail: list[str] = []
    for k, x in enumerate(case.interests):
        if x.issue != issue.id:
            continue
        floor = max(x.floor, min(1.0, (x.min_amount or 0.0) / issue.amount))
        cap = x.cap if x.max_amount is None else min(x.cap, x.max_amount / issue.amount)
        low = math.ceil(floor * units - 1e-9)
        high = math.floor(cap * units + 1e-9)
        if low > high and floor <= cap * (1 + 1e-12):  # else reported as floor above cap
            yield Problem(
                f"interests[{k}].{'min_amount' if x.min_amount is not None else 'min_share'}",
                f"'{x.stakeholder}' must receive at least {_number(floor * issue.amount)}{unit} "
                f"and at most {_number(cap * issue.amount)}{unit} of '{issue.id}', which is "
                f"divided in whole units of {_number(size)}{unit}: no whole number of units "
                f"lies between (the floor rounds up to {_number(low * size)}, the cap down to "
                f"{_number(high * size)})",
                "floor_above_cap",
            )
        if low:
            need += low
            detail.append(f"{x.stakeholder} {_number(low * size)}")
    if need > units:
        yield Problem(
            f"issues[{q}]",
            f"the floors on '{issue.id}', rounded up to whole units of {_number(size)}{unit}, "
            f"need {_number(need * size)}{unit} ({', '.join(detail)}), more than its amount "
            f"{_number(issue.amount)}{unit}; together they must give way by "
            f"{_number((need - units) * size)}{unit}",
            "floors_exceed_issue",
        )


def _refs(
    path: str, ref: str, what: str, known: Collection[str], code: str = ""
) -> Iterator[Problem]:
    """Yield a problem when ``ref`` is not among ``known`` (with the closest id as a hint)."""
    if ref in known:
        return
    found: list[Problem] = []
    _check_ref(path, ref, what, known, found)
    yield Problem(
        path,
        found[0].message if found else f"unknown {what} '{ref}'",
        code or "unknown_" + what.replace(" ", "_"),
    )


def _version(case: Case) -> Iterator[Problem]:
    if case.format_version != "1.0":
        return
    for key in FEATURES_1_1["case"]:
        if getattr(case, key):
            yield Problem(key, "needs format_version 1.1 (the case states 1.0)", "format_version")
    for section, keys in FEATURES_1_1.items():
        if section == "case":
            continue
        for k, item in enumerate(getattr(case, section)):
            for key in keys:
                if key in item.model_fields_set:
                    yield Problem(
                        f"{section}[{k}].{key}",
                        "needs format_version 1.1 (the case states 1.0)",
                        "format_version",
                    )
    for k, s in enumerate(case.stakeholders):
        if s.is_fund:
            yield Problem(
                f"stakeholders[{k}].kind", "fund needs format_version 1.1", "format_version"
            )
    for k, c in enumerate(case.constraints):
        for j, t in enumerate(c.terms):
            if t.column[0] != "share":
                yield Problem(
                    f"constraints[{k}].terms[{j}]",
                    "a term on a payment, contribution or option needs format_version 1.1",
                    "format_version",
                )


def _ids(case: Case) -> Iterator[Problem]:
    """Payments', contributions', choices' and options' ids are unique among all ids."""
    seen: dict[str, str] = {s.id: f"stakeholders[{k}]" for k, s in enumerate(case.stakeholders)}
    for k, i in enumerate(case.issues):
        seen.setdefault(i.id, f"issues[{k}]")
    places: list[tuple[str, str]] = [(p.id, f"payments[{k}]") for k, p in enumerate(case.payments)]
    places += [(c.id, f"contributions[{k}]") for k, c in enumerate(case.contributions)]
    for k, c in enumerate(case.choices):
        places.append((c.id, f"choices[{k}]"))
        places += [(o.id, f"choices[{k}].options[{j}]") for j, o in enumerate(c.options)]
    for ident, where in places:
        if ident in seen:
            yield Problem(
                f"{where}.id",
                f"duplicate id '{ident}' (also {seen[ident]}); ids are unique across "
                "stakeholders, issues, payments, contributions, choices and options",
                "duplicate_id",
            )
        else:
            seen[ident] = where


def _span(case: Case) -> Iterator[Problem]:
    """Yield a problem when a party's utility row (values, money, options) spans > 1e10."""
    if not case.levered:
        return
    coefs: dict[str, list[tuple[float, str]]] = {s.id: [] for s in case.stakeholders}
    for k, x in enumerate(case.interests):
        if x.value:
            coefs[x.stakeholder].append((x.value, f"interests[{k}].value"))
    for k, p in enumerate(case.payments):
        for party, rate, key in (
            (p.payer, p.payer_rate, "payer_rate"),
            (p.payee, p.payee_rate, "payee_rate"),
        ):
            if party in coefs and party not in case.funds:
                coefs[party].append((rate * p.max, f"payments[{k}].{key}"))
    for k, c in enumerate(case.contributions):
        if c.stakeholder in coefs and c.rate:
            coefs[c.stakeholder].append((c.rate * c.max, f"contributions[{k}].rate"))
    for k, choice in enumerate(case.choices):
        for j, o in enumerate(choice.options):
            for party, v in o.values.items():
                if v and party in coefs:
                    coefs[party].append((abs(v), f"choices[{k}].options[{j}].values.{party}"))
    for party, items in coefs.items():
        if len(items) < 2:
            continue
        small, big = min(items), max(items)
        if big[0] > small[0] * MAX_VALUE_SPAN and not (
            small[1].startswith("interests") and big[1].startswith("interests")
        ):
            yield Problem(
                small[1],
                f"'{party}' weighs {small[1]} at {small[0]:g} and {big[1]} at {big[0]:g} "
                f"(a rate times its most), {big[0] / small[0]:.1e} times as much; one party's "
                f"coefficients may differ by a factor of at most {_number(MAX_VALUE_SPAN)}: "
                "state money in larger units or the rate per larger unit",
                "value_span",
            )
        if math.isinf(big[0]):  # pragma: no cover - magnitudes are bounded
            break


def levered_problems(
    case: Case, tool: str, *, instead: str = "settle the case instead"
) -> list[Problem]:
    """Why ``tool`` (a planner's tool built on shares alone) cannot take this case.

    The what-if, the allocation ranges and the robust split state a case's allocation as
    its shares; payments, contributions, choices and whole units are not in them yet.
    ``instead`` says what to do instead.

    >>> from mediation.case import parse_case
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 4, "unit_size": 1}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> for p in levered_problems(case, "the what-if"):
    ...     print(p)
    issues[0].unit_size: the what-if does not take whole units yet ('x'): settle the case instead
    """
    found = [
        Problem(section, f"{tool} does not take {section} yet: {instead}", "tool_feature")
        for section in ("payments", "contributions", "choices")
        if getattr(case, section)
    ]
    found += [
        Problem(
            f"issues[{k}].unit_size",
            f"{tool} does not take whole units yet ('{issue.id}'): {instead}",
            "tool_feature",
        )
        for k, issue in enumerate(case.issues)
        if issue.unit_size is not None
    ]
    return found
