"""The what-if file: a planner's proposed split of a case, to evaluate beside the free one.

A what-if document (YAML or JSON) names the shares to pin and, optionally, the rule that
fills in the rest::

    whatif_version: "1.0"
    description: 区民政局承担60%的建设成本超支风险
    rule: leximin            # optional; default: the case's policy
    loss_tolerance: 0.1      # optional: the risk-sharing rule's trade-off
    pins:
      cost-overrun: {minzhengju: 0.6, chengjian: 0.4}

Pins map an issue's id to parties' shares (see :mod:`mediation.case.pins`); they are checked
against the case before anything is solved.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError

from ..errors import Problem, WhatIfError, describe, field_path
from .base import StrictModel
from .model import Case, Text
from .parse import _problem
from .pins import pin_problems
from .policy import Policy, rule_names

__all__ = ["WhatIf", "parse_pin", "parse_whatif"]

_Slug = Annotated[str, StringConstraints(pattern=r"^[\w-]+$", min_length=1, max_length=64)]
_Share = Annotated[float, Field(ge=0.0, le=1.0)]


class WhatIf(StrictModel):
    """A proposed split: pinned shares, and the rule that fills in the rest."""

    whatif_version: Literal["1.0"] = "1.0"
    description: Text | None = None
    rule: str | None = None
    loss_tolerance: float | None = Field(default=None, ge=0.0, le=1.0)
    pins: dict[_Slug, dict[_Slug, _Share]] = Field(min_length=1)


def parse_whatif(data: object, case: Case) -> WhatIf:
    """Validate a what-if document against ``case``.

    Raises
    ------
    WhatIfError
        Listing every problem with its field path (``pins.cost-overrun.minzhengju``): wrong
        types, unknown keys, an unknown rule, and every wrong pin (see
        :func:`mediation.case.pins.pin_problems`).

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
    >>> parse_whatif({"pins": {"risk": {"a": 0.6}}}, case).pins
    {'risk': {'a': 0.6}}
    >>> parse_whatif({"pins": {"risk": {"a": 1.5}}, "rule": "leximn"}, case)
    Traceback (most recent call last):
    ...
    mediation.errors.WhatIfError: 2 problems in the what-if:
      rule: unknown rule 'leximn'; choose one of utilitarian, maximin, leximin, nash, ...
      pins.risk.a: must be at most 1
    """
    if not isinstance(data, dict):
        raise WhatIfError(
            [
                Problem(
                    "", f"a what-if must be a mapping with pins, got {describe(data)}", "model_type"
                )
            ]
        )
    problems: list[Problem] = []
    rule = data.get("rule")
    if rule is not None:
        try:
            Policy.model_validate({"rule": rule})
        except ValidationError:
            known = rule_names()
            shown = ", ".join(known[:4]) + (", ..." if len(known) > 4 else "")
            problems.append(
                Problem("rule", f"unknown rule {rule!r}; choose one of {shown}", "unknown_rule")
            )
            data = {k: v for k, v in data.items() if k != "rule"}
    try:
        whatif = WhatIf.model_validate(data)
    except ValidationError as exc:
        raise WhatIfError([*problems, *(_what_if_problem(e) for e in exc.errors())]) from None
    problems += pin_problems(case, whatif.pins)
    if problems:
        raise WhatIfError(problems)
    return whatif


def _what_if_problem(error: Any) -> Problem:
    """Return a what-if's validation error as a problem, with the what-if's own keys."""
    if error["type"] == "extra_forbidden":
        loc = tuple(error["loc"])
        allowed = ", ".join(WhatIf.model_fields)
        return Problem(
            field_path(loc[:-1]), f"unknown key '{loc[-1]}' (allowed: {allowed})", "extra_forbidden"
        )
    return _problem(error)


def parse_pin(text: str, *, path: str = "--pin") -> tuple[str, str, float]:
    """Read a pin written ``issue.party=share`` (as on the command line).

    Raises
    ------
    WhatIfError
        When the text is not of that form, or the share is not a number.

    Examples
    --------
    >>> parse_pin("cost-overrun.minzhengju=0.6")
    ('cost-overrun', 'minzhengju', 0.6)
    """
    where, sep, value = text.partition("=")
    issue, dot, party = where.strip().partition(".")
    if not sep or not dot or not issue or not party:
        raise WhatIfError(
            [
                Problem(
                    path,
                    f"write a pin as ISSUE.PARTY=SHARE (e.g. cost-overrun.minzhengju=0.6), got "
                    f"{text!r}",
                    "pin_syntax",
                )
            ]
        )
    try:
        share = float(value)
    except ValueError:
        raise WhatIfError(
            [Problem(path, f"the share must be a number in [0, 1], got {value!r}", "pin_syntax")]
        ) from None
    return issue, party.strip(), share
