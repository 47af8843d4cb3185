"""Parsing a case document: the shape check, validation, and the translation of errors.

A document is validated into a :class:`Case`, and Pydantic's errors become problems that name
the offending field.

A case is validated strictly (``true`` is not a number, NaN and infinities are rejected,
unknown keys are errors except under ``extensions``) and every error names the path of the
offending field. Semantics are documented in ``cases/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import CaseError, Problem, describe, field_path, lone_surrogate
from .checks import _check_ref, _ordered, referential_problems
from .format11 import format11_problems
from .gc_pause import paused_gc
from .limits import MAX_DEPTH, MAX_EXPANDED_TEXT, MAX_NODES, SECTION_LIMITS
from .model import (
    _LONE,
    _SECTIONS,
    _VALID,
    Case,
    CaseTranslation,
    Option,
    Term,
    Translation,
    _number,
)
from .policy import Policy

__all__ = ["parse_case"]


def parse_case(data: object) -> Case:
    """Validate a parsed case document (a mapping, as from JSON or YAML) into a :class:`Case`.

    Every problem is reported at once: wrong types and values, unknown keys, unknown or
    duplicate ids, duplicate interests, floors above caps, floors on one issue summing above 1,
    and sizes above the limits of :mod:`mediation.case.limits`.

    Parameters
    ----------
    data
        The document, e.g. the result of ``yaml.safe_load`` or ``json.loads``.

    Returns
    -------
    Case

    Raises
    ------
    CaseError
        Listing every problem, each with the path of the offending field.

    Examples
    --------
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "government"},
    ...                      {"id": "b", "name": "乙", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 2}]})
    >>> case.issue_by_id["hall"].amount
    40.0
    >>> parse_case({"id": "x"})
    Traceback (most recent call last):
    ...
    mediation.errors.CaseError: 3 problems in the case:
      title: required field is missing
      stakeholders: required field is missing
      issues: required field is missing
    """
    with paused_gc():
        return _parse_case(data)


def _parse_case(data: object) -> Case:
    if isinstance(data, dict):  # counting a section's items is cheaper than walking them
        problems = _size_problems(data)
        if problems:
            raise CaseError(problems)
    _check_shape(data)
    if not isinstance(data, dict):
        raise CaseError(
            [
                Problem(
                    "",
                    f"a case must be a mapping of keys to values, got {describe(data)}",
                    "model_type",
                )
            ]
        )
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        problems += _problems_of_valid_parts(data, exc)
        raise CaseError(_ordered(problems)) from None
    problems = referential_problems(
        list(enumerate(case.stakeholders)),
        list(enumerate(case.issues)),
        list(enumerate(case.interests)),
        list(enumerate(case.relations)),
        list(enumerate(case.constraints)),
    )
    if problems:
        raise CaseError(problems)
    problems = format11_problems(case)
    if problems:
        raise CaseError(problems)
    return case


_KEYS_OF: dict[str, type[BaseModel]] = {"policy": Policy}


def _allowed_keys(loc: Sequence[int | str]) -> list[str]:
    model: type[BaseModel] = Case
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in _SECTIONS and model is Case:
            model = _SECTIONS[part]
        elif part == "terms":
            model = Term
        elif part == "options":
            model = Option
        elif part == "translations":
            model = CaseTranslation if model is Case else Translation
        elif part in _KEYS_OF:
            model = _KEYS_OF[part]
        elif model in (Translation, CaseTranslation):
            continue
        else:
            return []
    return list(model.model_fields)


def _problem(error: Any, prefix: tuple[str, ...] = ()) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "extra_forbidden":
        keys = _allowed_keys(loc)
        allowed = ", ".join(keys)
        message = f"unknown key '{loc[-1]}'"
        if allowed:
            # a term, a constraint or a translation has no extensions of its own
            home = "'extensions'" if "extensions" in keys else "the case's 'extensions'"
            message += f" (allowed: {allowed}; put your own data under {home})"
        return Problem(field_path(prefix + loc[:-1]), message, kind)
    messages = {
        "missing": "required field is missing",
        "float_type": "must be a number",
        "int_type": "must be an integer",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "finite_number": "must be a finite number (NaN and infinities are not allowed)",
        "string_pattern_mismatch": "must be an identifier: letters, digits, '-' and '_' only"
        if loc and loc[-1] in ("id", "name", "stakeholder", "issue", "source", "target")
        else "has a wrong format",
        "literal_error": f"must be one of {ctx.get('expected', '')}",
        "greater_than": f"must be greater than {_number(ctx.get('gt'))}",
        "greater_than_equal": f"must be at least {_number(ctx.get('ge'))}",
        "less_than_equal": f"must be at most {_number(ctx.get('le'))}",
        "too_short": f"must have at least {ctx.get('min_length')} item(s)",
        "too_long": f"must have at most {ctx.get('max_length')} items, got "
        f"{ctx.get('actual_length')}",
        "string_too_short": "must not be empty",
        "string_too_long": f"must have at most {ctx.get('max_length')} characters",
        "magnitude": str(error.get("msg")),
    }
    if kind == "literal_error" and loc == ("format_version",) and isinstance(got, int | float):
        return Problem(
            "format_version",
            f'must be one of {ctx.get("expected", "")}, a string: write "{got}" in quotes '
            f"(unquoted, {got} is a number)",
            kind,
        )
    if kind == "json_data":
        return Problem(field_path(prefix + loc + tuple(ctx["where"])), str(ctx["what"]), kind)
    if kind == "string_unicode":
        where = lone_surrogate(got) if isinstance(got, str) else None
        at = f" at character {where + 1}" if where is not None else ""
        if loc and loc[-1] == "[key]":
            return Problem(
                field_path(prefix + loc[:-2]), f"a key holds a {_LONE}{at}; {_VALID}", kind
            )
        return Problem(field_path(prefix + loc), f"holds a {_LONE}{at}; {_VALID}", kind)
    if loc and loc[-1] == "[key]":
        if len(loc) > 2 and loc[-3] == "values":  # an option's values: party → utility
            return Problem(
                field_path(prefix + loc[:-2]),
                f"'{loc[-2]}' is not a stakeholder id: letters, digits, '-' and '_' only",
                kind,
            )
        return Problem(
            field_path(prefix + loc[:-2]),
            f"'{loc[-2]}' is not a language code (use e.g. 'en', 'zh', 'zh-Hant')",
            kind,
        )
    message = messages.get(kind, str(error.get("msg", "is invalid")).lower())
    if kind == "float_type" and isinstance(got, int) and not isinstance(got, bool):
        message = "is too large to be a number"
    elif kind.endswith("_type") and got is not None:
        message += f", got {describe(got)}"
    return Problem(field_path(prefix + loc), message, kind)


def _check_shape(data: object) -> None:
    """Reject documents nested too deep or too large before any validation touches them.

    Counts the values the document expands to and the characters of its keys and strings,
    each shared container (a YAML alias) and each shared string as often as it is used, but
    computes each container's size once: a YAML alias bomb, of many values or of one long
    string repeated, is stopped in time proportional to its text, not to its expansion.
    """
    sizes: dict[int, tuple[int, int]] = {}

    def size(node: dict[Any, Any] | list[Any], depth: int) -> tuple[int, int]:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise CaseError(
                [Problem("", f"the document is nested deeper than {MAX_DEPTH} levels", "too_deep")]
            )
        chars = 0
        if isinstance(node, dict):
            for key in node:
                if type(key) is not str and not isinstance(key, str):
                    where = _path_to(data, node)
                    message = f"keys must be strings, got {describe(key)}"
                    raise CaseError([Problem(where, message, "key_type")])
                chars += len(key)
            children: Any = node.values()
        else:
            children = node
        total = 1
        for child in children:
            kind = type(child)
            if kind is str:
                total += 1
                chars += len(child)
            elif kind is dict and depth + 1 < MAX_DEPTH and (flat := _flat_chars(child)) >= 0:
                total += 1 + len(child)  # a record of scalars (an interest): no call needed
                chars += flat
            elif kind is dict or kind is list or isinstance(child, dict | list):
                values, text = size(child, depth + 1)
                total += values
                chars += text
            else:
                total += 1
                if isinstance(child, str):
                    chars += len(child)
        if total > MAX_NODES:
            raise CaseError(
                [Problem("", f"the document expands to more than {MAX_NODES} values", "too_large")]
            )
        if chars > MAX_EXPANDED_TEXT:
            raise CaseError(
                [
                    Problem(
                        "",
                        f"the document expands to more than {MAX_EXPANDED_TEXT} characters of "
                        "text (a YAML alias counts at every use)",
                        "too_large",
                    )
                ]
            )
        sizes[id(node)] = total, chars
        return total, chars

    if isinstance(data, dict | list):
        size(data, 0)


def _path_to(data: object, target: object) -> str:
    """Return the field path of the container ``target`` within ``data`` (for an error message)."""
    seen: set[int] = set()
    todo: list[tuple[list[int | str], object]] = [([], data)]
    while todo:
        loc, node = todo.pop()
        if node is target:
            return field_path(loc)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            todo.extend(([*loc, k], v) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            todo.extend(([*loc, k], v) for k, v in enumerate(node) if isinstance(v, dict | list))
    return ""  # pragma: no cover - target is always found in data


_CONTAINERS = (dict, list)


def _flat_chars(node: dict[Any, Any]) -> int:
    """Return the characters of a mapping's keys and strings, or -1.

    The count is given when the mapping holds no mapping or list and only string keys; -1
    otherwise.
    """
    chars = 0
    for key, value in node.items():
        if type(key) is not str:
            return -1
        chars += len(key)
        kind = type(value)
        if kind is str:
            chars += len(value)
        elif kind in _CONTAINERS or isinstance(value, _CONTAINERS):
            return -1
        elif isinstance(value, str):
            chars += len(value)
    return chars


def _size_problems(data: dict[str, Any]) -> list[Problem]:
    problems = []
    for section, limit in SECTION_LIMITS.items():
        items = data.get(section)
        if isinstance(items, list) and len(items) > limit:
            message = f"{len(items)} items, above the limit of {limit}"
            problems.append(Problem(section, message, "too_large"))
    return problems


def _problems_of_valid_parts(data: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """Cross-field problems among the list items that did validate, when others did not."""
    failed: set[tuple[str, int]] = set()
    broken_sections: set[str] = set()
    for e in exc.errors():
        loc = e["loc"]
        if loc and loc[0] in _SECTIONS:
            if len(loc) > 1 and isinstance(loc[1], int):
                failed.add((str(loc[0]), loc[1]))
            else:
                broken_sections.add(str(loc[0]))
    parts: dict[str, list[tuple[int, Any]]] = {}
    for section, model in _SECTIONS.items():
        items = data.get(section, [])
        if section in broken_sections or not isinstance(items, list):
            parts[section] = []
            continue
        parts[section] = [
            (k, model.model_validate(item))
            for k, item in enumerate(items)
            if (section, k) not in failed
        ]
    raw_parties = data.get("stakeholders")
    funds = {
        s.get("id")
        for s in (raw_parties if isinstance(raw_parties, list) else [])
        if isinstance(s, dict) and s.get("kind") == "fund"
    }
    # a fund's interest states no value (it has no utility): the case gives it 0, as here
    parts["interests"] = [
        (
            k,
            x.model_copy(update={"value": 0.0})
            if x.value is None and x.stakeholder in funds
            else x,
        )
        for k, x in parts["interests"]
    ]

    def ids(section: str) -> set[str]:
        items = data.get(section)
        if not isinstance(items, list):
            return set()
        return {i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}

    known_parties, known_issues = ids("stakeholders"), ids("issues")
    raw_interests = data.get("interests")
    known_interests = {
        (x["stakeholder"], x["issue"])
        for x in (raw_interests if isinstance(raw_interests, list) else [])
        if isinstance(x, dict)
        and isinstance(x.get("stakeholder"), str)
        and isinstance(x.get("issue"), str)
    }
    raw_choices = data.get("choices")
    known_options = {
        o["id"]
        for c in (raw_choices if isinstance(raw_choices, list) else [])
        if isinstance(c, dict) and isinstance(c.get("options"), list)
        for o in c["options"]
        if isinstance(o, dict) and isinstance(o.get("id"), str)
    }
    known = {
        "stakeholder": known_parties,
        "target": known_issues | ids("choices"),
        "payment": ids("payments"),
        "contribution": ids("contributions"),
        "option": known_options,
    }
    return [
        p
        for p in referential_problems(
            parts["stakeholders"],
            parts["issues"],
            parts["interests"],
            parts["relations"],
            parts["constraints"],
            known_stakeholders=known_parties,
            known_issues=known_issues,
            known_interests=known_interests,
        )
        # an issue whose interests failed validation is not "uninterested"
        if p.code != "issue_without_interest" or not failed
    ] + _references_1_1(parts, known)


def _references_1_1(
    parts: dict[str, list[tuple[int, Any]]], known: dict[str, set[str]]
) -> list[Problem]:
    """Return the unknown ids that format 1.1's valid parts name, when others did not validate.

    ``known`` holds every id the document spells, valid or not, by what it names; the rest
    of format 1.1's cross-field checks need a whole valid case and wait for one.
    """
    refs: list[tuple[str, str, str]] = []  # (path, id, what it names)
    for k, paid in parts["payments"]:
        refs += [(f"payments[{k}].payer", paid.payer, "stakeholder")]
        refs += [(f"payments[{k}].payee", paid.payee, "stakeholder")]
    for k, given in parts["contributions"]:
        refs += [(f"contributions[{k}].stakeholder", given.stakeholder, "stakeholder")]
        refs += [(f"contributions[{k}].to", given.to, "target")]
    for k, choice in parts["choices"]:
        for j, option in enumerate(choice.options):
            here = f"choices[{k}].options[{j}].values"
            refs += [(f"{here}.{party}", party, "stakeholder") for party in option.values]
    for k, row in parts["constraints"]:
        for j, term in enumerate(row.terms):
            kind, *rest = term.column
            if kind != "share":
                refs.append((f"constraints[{k}].terms[{j}].{kind}", rest[0], kind))
    problems: list[Problem] = []
    for path, ref, what in refs:
        if what == "target" and ref not in known[what]:
            problems += _target_problems(path, ref, known[what])
        else:
            _check_ref(path, ref, what, known[what], problems)
    return problems


def _target_problems(path: str, ref: str, known: set[str]) -> list[Problem]:
    found: list[Problem] = []
    _check_ref(path, ref, "resource issue or choice", known, found)
    return [Problem(p.path, p.message, "unknown_target") for p in found]
