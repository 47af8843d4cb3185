"""A sweep checked against its case: which field each path addresses, and every scenario.

Parameter paths
---------------
A path names one field of the base case by ids (never by list position):

=================================================  ======================================
``issues.<issue>.amount``                          > 0 (at least 1e-9, at most 1e12)
``issues.<issue>.probability``                     in (0, 1]; risks only
``stakeholders.<party>.risk_capacity``             ≥ 0
``stakeholders.<party>.weight``                    in [1e-6, 1e6]
``stakeholders.<party>.disagreement``              any sign
``interests.<party>.<issue>.value``                ≥ 0
``interests.<party>.<issue>.claim``                ≥ 0; resources only
``interests.<party>.<issue>.control``              in [0, 1]; risks only
``constraints.<name>.rhs``                         any sign
``pins.<issue>.<party>``                           a pinned share: ``min_share = max_share``
=================================================  ======================================

Magnitudes are 0 or between 1e-9 and 1e12 in absolute value, as in a case; a draw of a
magnitude below 1e-9 is written 0. A pin must have an interest, lie within the party's own
red lines on the issue (``min_share``/``max_share``), be 0 or 1 on an indivisible issue; the
pins of one issue at their largest, with the floors of the issue's other parties, may not
exceed 1, and at their least, with the other parties' caps, must reach it
(:func:`mediation.case.pins.pin_problems` states the rules; a pinned case is made by
:func:`mediation.case.pins.pinned`).

Every grid value, every choice, the bounds of every uniform and triangular distribution
and the mean and bounds of every normal one are checked against these ranges before
anything is solved; so are the spans of each party's values (at most 1e10 between its
largest and smallest nonzero value, as in a case) over every value a scenario can take, and
the two corner scenarios (every parameter at its lowest, every one at its highest) are
validated as cases. A problem is a :class:`~mediation.errors.SweepError` naming the field of
the sweep file (``parameters[1].distribution.high``).

Scenarios
---------
Grid parameters combine as a Cartesian product, in the file's order, the last one varying
fastest (``itertools.product``); each grid point is settled ``samples`` times, with the
distribution parameters drawn afresh for each sample. Scenario ``i`` is sample
``i % samples`` of grid point ``i // samples``. Its draws come from
``numpy.random.default_rng([seed, i % samples])``, one draw per distribution parameter in
the file's order: they depend on the seed and the scenario's number only (whichever
executor, batch size or resume point), and every grid point sees the same samples (common
random numbers), so that the difference between two grid points is not sampling noise.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..case import Case, Issue, parse_case
from ..case.checks import _check_ref
from ..case.limits import MAX_MAGNITUDE, MAX_VALUE_SPAN, MAX_WEIGHT, MIN_MAGNITUDE, MIN_WEIGHT
from ..case.model import _number
from ..case.pins import pin_problems, pinned
from ..errors import CaseError, PolicyError, Problem, SweepError
from .sampling import Drawer, drawer
from .spec import Choice, Normal, Parameter, SweepSpec, Triangular, Uniform

__all__ = [
    "PARTY_METRICS",
    "FieldRange",
    "Scenario",
    "SweepPlan",
    "Target",
    "build_scenario_case",
    "lever_columns",
    "plan_sweep",
]

#: Each party's figures in a row, in column order: ``<metric>.<party>``.
PARTY_METRICS = (
    "utility",
    "gain",
    "normalized_gain",
    "worst_exposure",
    "expected_exposure",
    "expected_loss",
    "capacity_used",
)


def lever_columns(case: Case) -> tuple[str, ...]:
    """Return the columns of a case's levers (format 1.1), in case order.

    ``payment.<id>`` and ``contribution.<id>`` (the money), ``size.<issue>`` (a funded
    issue's size) and ``chosen.<choice>`` (the id of the option chosen).
    """
    return (
        *(f"payment.{p.id}" for p in case.payments),
        *(f"contribution.{c.id}" for c in case.contributions),
        *(f"size.{i.id}" for i in case.issues if i.id in case.contributions_to),
        *(f"chosen.{c.id}" for c in case.choices),
    )


@dataclass(frozen=True)
class FieldRange:
    """The values a field of a case may take: ``[low, high]``, or ``(low, high]``.

    ``tiny_zero``: the field is a magnitude, 0 or at least :data:`MIN_MAGNITUDE` in absolute
    value (a draw below that is written 0).
    """

    low: float
    high: float
    open_low: bool = False
    tiny_zero: bool = False

    def __str__(self) -> str:
        """Return the range as messages show it: ``(0, 1]``, ``0 or 1e-9 to 1e12``."""
        interval = f"{'(' if self.open_low else '['}{_number(self.low)}, {_number(self.high)}]"
        if not self.tiny_zero:
            return interval
        return f"{interval}, and 0 or at least {_number(MIN_MAGNITUDE)} in absolute value"

    def holds(self, value: float) -> bool:
        """Whether ``value`` may be written in the field."""
        inside = (self.low < value if self.open_low else self.low <= value) and value <= self.high
        return inside and not (self.tiny_zero and 0 < abs(value) < MIN_MAGNITUDE)

    def covers(self, low: float, high: float) -> bool:
        """Whether every value in ``[low, high]`` is in the interval (tiny ones are snapped)."""
        above = self.low < low if self.open_low else self.low <= low
        return above and high <= self.high


_MAGNITUDE = FieldRange(-MAX_MAGNITUDE, MAX_MAGNITUDE, tiny_zero=True)
_NON_NEGATIVE = FieldRange(0.0, MAX_MAGNITUDE, tiny_zero=True)
_SHARE = FieldRange(0.0, 1.0)

#: The fields a sweep may vary, by section, with their valid ranges.
FIELDS: Mapping[str, Mapping[str, FieldRange]] = {
    "issues": {
        "amount": FieldRange(MIN_MAGNITUDE, MAX_MAGNITUDE),
        "probability": FieldRange(0.0, 1.0, open_low=True),
    },
    "stakeholders": {
        "risk_capacity": _NON_NEGATIVE,
        "weight": FieldRange(MIN_WEIGHT, MAX_WEIGHT),
        "disagreement": _MAGNITUDE,
    },
    "interests": {"value": _NON_NEGATIVE, "claim": _NON_NEGATIVE, "control": _SHARE},
    "constraints": {"rhs": _MAGNITUDE},
}
_SHAPES = {
    "issues": "issues.<issue>.<field>",
    "stakeholders": "stakeholders.<party>.<field>",
    "interests": "interests.<party>.<issue>.<field>",
    "constraints": "constraints.<name>.rhs",
    "pins": "pins.<issue>.<party>",
}


@dataclass(frozen=True)
class Target:
    """The field of the case that a parameter varies (plain data, sent to the workers).

    ``section`` is the case's list (``issues``, ``stakeholders``, ``interests``,
    ``constraints``) or ``pins``; ``position`` the record's place in that list (for a pin,
    the interest's); ``ids`` the ids of the path.
    """

    path: str
    section: str
    field: str
    position: int
    ids: tuple[str, ...]

    @property
    def column(self) -> str:
        """The column of the parameter's value in a results row: ``param.<path>``."""
        return f"param.{self.path}"


@dataclass(frozen=True)
class Scenario:
    """One scenario: its number, grid point and sample, and its parameters' values."""

    index: int
    grid_point: int
    sample: int
    values: tuple[float, ...]


@dataclass(frozen=True)
class SweepPlan:
    """A sweep checked against its case, ready to run: build it with :func:`plan_sweep`.

    ``case`` is the base case with the sweep's policy applied; ``case_json`` its JSON, which
    is what the workers receive.
    """

    case: Case
    spec: SweepSpec
    targets: tuple[Target, ...]
    drawers: tuple[Drawer | None, ...]
    case_json: str
    case_sha256: str
    sweep_sha256: str
    _radices: tuple[tuple[int, int], ...] = field(repr=False)

    @property
    def scenarios(self) -> int:
        """How many scenarios the sweep settles."""
        return self.spec.scenarios

    @cached_property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The ``(party, issue)`` pairs of the case's interests, in case order."""
        return tuple((x.stakeholder, x.issue) for x in self.case.interests)

    @cached_property
    def parties(self) -> tuple[str, ...]:
        """The compared parties' ids, in case order: funds and observers have no figures."""
        return tuple(self.case.compared)

    @cached_property
    def lever_columns(self) -> tuple[str, ...]:
        """The columns of the case's levers (format 1.1): see :func:`lever_columns`."""
        return lever_columns(self.case)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns of a results row, in order (see :mod:`mediation.sweep.worker`)."""
        return (
            "scenario",
            "grid_point",
            "sample",
            *(t.column for t in self.targets),
            "status",
            "blame",
            "error",
            *(f"share.{issue}.{party}" for party, issue in self.pairs),
            *self.lever_columns,
            *(f"{metric}.{party}" for metric in PARTY_METRICS for party in self.parties),
        )

    @cached_property
    def column_types(self) -> dict[str, type]:
        """Each column's type: ``int`` (the numbers), ``str`` (the words), ``float`` (the rest).

        The words are ``status``, ``blame``, ``error`` and each ``chosen.<choice>``.
        """
        kinds: dict[str, type] = dict.fromkeys(self.columns, float)
        kinds.update(dict.fromkeys(("scenario", "grid_point", "sample"), int))
        kinds.update(dict.fromkeys(("status", "blame", "error"), str))
        kinds.update((c, str) for c in self.lever_columns if c.startswith("chosen."))
        return kinds

    def scenario(self, index: int) -> Scenario:
        """Return scenario ``index``: its grid point, its sample and its parameters' values.

        Examples
        --------
        >>> from mediation.case import parse_case
        >>> from mediation.sweep import parse_sweep
        >>> case = parse_case({"id": "t", "title": "t",
        ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
        ...                      {"id": "b", "name": "B", "kind": "other"}],
        ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 10}],
        ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
        ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
        >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1,
        ...     "parameters": [{"path": "issues.x.amount", "grid": [10, 20, 30]}]}))
        >>> [plan.scenario(i).values for i in range(plan.scenarios)]
        [(10.0,), (20.0,), (30.0,)]
        """
        if not 0 <= index < self.scenarios:
            raise SweepError(
                [Problem("", f"no scenario {index}: the sweep has {self.scenarios}", "no_scenario")]
            )
        samples = self.spec.samples
        point, sample = divmod(index, samples)
        values: list[float] = [math.nan] * len(self.targets)
        rest = point
        for k, size in reversed(self._radices):
            rest, j = divmod(rest, size)
            grid = self.spec.parameters[k].grid
            assert grid is not None
            values[k] = float(grid[j])
        if any(d is not None for d in self.drawers):
            rng = np.random.default_rng([self.spec.seed, sample])
            for k, d in enumerate(self.drawers):
                if d is not None:
                    values[k] = d.draw(rng)
        return Scenario(index, point, sample, tuple(values))

    def scenario_case(self, values: Sequence[float]) -> Case:
        """Return the case of a scenario, given its parameters' values (in the file's order).

        Raises
        ------
        CaseError
            When the values make an invalid case (the plan's checks rule that out for the
            values its scenarios take).
        """
        return build_scenario_case(self.base_data, self.targets, values)

    @cached_property
    def base_data(self) -> dict[str, Any]:
        """The base case as JSON data, the form a scenario is made from."""
        data: dict[str, Any] = self.case.model_dump(mode="json")
        return data


def build_scenario_case(
    base: Mapping[str, Any], targets: Sequence[Target], values: Sequence[float]
) -> Case:
    """Return the base case (as JSON data) with each target's field set to its value.

    Only the records that change are copied; pins are made by
    :func:`mediation.case.pins.pinned` on the changed case.

    Raises
    ------
    CaseError
        When the changed case is not valid.
    """
    data = dict(base)
    copied: set[str] = set()
    pins: dict[str, dict[str, float]] = {}
    for target, value in zip(targets, values, strict=True):
        if target.section == "pins":
            pins.setdefault(target.ids[0], {})[target.ids[1]] = value
            continue
        if target.section not in copied:
            data[target.section] = list(data[target.section])
            copied.add(target.section)
        items = data[target.section]
        items[target.position] = {**items[target.position], target.field: value}
    case = parse_case(data)
    return pinned(case, pins) if pins else case


def plan_sweep(case: Case, spec: SweepSpec) -> SweepPlan:
    """Check a sweep against its base case and return the plan of its scenarios.

    Parameters
    ----------
    case
        The validated base case.
    spec
        The validated sweep (:func:`mediation.sweep.parse_sweep`).

    Returns
    -------
    SweepPlan

    Raises
    ------
    SweepError
        Listing every problem with the sweep's paths, distributions and pins (see the module
        documentation), each with its field path in the sweep file; nothing is solved.
    PolicyError
        When the policy (the case's, with the sweep's overrides) cannot apply to the case.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "risk", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1, "max_share": 0.5},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1, "parameters": [
    ...     {"path": "issues.x.probability", "grid": [0.5, 1.5]},
    ...     {"path": "pins.x.a", "grid": [0.6]},
    ...     {"path": "stakeholders.c.weight", "grid": [2]}]}))
    Traceback (most recent call last):
    ...
    mediation.errors.SweepError: 3 problems in the sweep:
      parameters[0].grid[1]: 1.5 is outside the valid range of issues.x.probability, (0, 1]
      parameters[1].grid[0]: the pin 0.6 is above a's own cap of 0.5 on 'x'; pin at most 0.5
      parameters[2].path: unknown stakeholder 'c'
    """
    from ..rules import policy_problems

    try:
        policy = case.policy.with_overrides(spec.policy.model_dump())
    except CaseError as exc:
        raise SweepError(exc.problems) from None
    if policy != case.policy:  # a new case, not a copy: its cached digest covers the policy
        case = parse_case({**case.model_dump(mode="json"), "policy": policy.model_dump()})
    problems: list[Problem] = []
    targets: list[Target | None] = []
    seen: dict[str, int] = {}
    for k, parameter in enumerate(spec.parameters):
        here = f"parameters[{k}]"
        if parameter.path in seen:
            problems.append(
                Problem(
                    f"{here}.path",
                    f"repeats the path of parameters[{seen[parameter.path]}]; a field "
                    "varies in one parameter only",
                    "duplicate_path",
                )
            )
            targets.append(None)
            continue
        seen[parameter.path] = k
        target = _target(case, parameter.path, f"{here}.path", problems)
        targets.append(target)
        if target is not None:
            problems += _value_problems(case, target, parameter, here)
    if not problems:
        resolved = [t for t in targets if t is not None]
        problems += _pin_sum_problems(case, resolved, spec.parameters)
        problems += _span_problems(case, resolved, spec.parameters)
    if problems:
        raise SweepError(problems)
    found = policy_problems(case, case.policy)
    if found:  # the base case's own policy: not the sweep's parameters
        raise PolicyError(found)
    problems = _corner_problems(case, [t for t in targets if t is not None], spec)
    if problems:
        raise SweepError(problems)
    resolved = [t for t in targets if t is not None]
    drawers = tuple(_drawer_of(case, t, p) for t, p in zip(resolved, spec.parameters, strict=True))
    case_json = case.model_dump_json()
    return SweepPlan(
        case=case,
        spec=spec,
        targets=tuple(resolved),
        drawers=drawers,
        case_json=case_json,
        case_sha256=hashlib.sha256(case_json.encode()).hexdigest(),
        sweep_sha256=spec.digest(),
        _radices=tuple(
            (k, len(p.grid)) for k, p in enumerate(spec.parameters) if p.grid is not None
        ),
    )


def _target(case: Case, path: str, where: str, problems: list[Problem]) -> Target | None:
    """Return the field ``path`` addresses, or ``None`` with the problem added."""
    parts = path.split(".")
    section = parts[0]
    if section not in _SHAPES:
        problems.append(
            Problem(
                where,
                f"unknown parameter path '{path}': a path starts with "
                f"{', '.join(_SHAPES)} (e.g. issues.<issue>.probability)",
                "unknown_path",
            )
        )
        return None
    size = 4 if section == "interests" else 3
    if len(parts) != size or not all(parts):
        problems.append(
            Problem(
                where,
                f"'{path}' does not have the form {_SHAPES[section]}",
                "unknown_path",
            )
        )
        return None
    before = len(problems)
    if section == "issues":
        issue_id, name = parts[1], parts[2]
        if not _check_ref(where, issue_id, "issue", case.issue_by_id.keys(), problems):
            return None
        if not _known_field(section, name, path, where, problems):
            return None
        issue = case.issue_by_id[issue_id]
        if name == "probability" and issue.kind != "risk":
            problems.append(
                Problem(
                    where,
                    f"'{issue_id}' is a resource: probability applies to risks only",
                    "not_applicable",
                )
            )
            return None
        return Target(path, section, name, case.issues.index(issue), (issue_id,))
    if section == "stakeholders":
        party, name = parts[1], parts[2]
        if not _check_ref(where, party, "stakeholder", case.stakeholder_by_id.keys(), problems):
            return None
        if not _known_field(section, name, path, where, problems):
            return None
        if party in case.funds or party in case.observers:
            what = "a fund, an account" if party in case.funds else "an observer, with no stake"
            problems.append(
                Problem(
                    where,
                    f"'{party}' is {what}: it is never compared, so it has no {name} to vary",
                    "not_applicable",
                )
            )
            return None
        position = case.stakeholders.index(case.stakeholder_by_id[party])
        return Target(path, section, name, position, (party,))
    if section == "constraints":
        name, key = parts[1], parts[2]
        names = {c.name: k for k, c in enumerate(case.constraints)}
        if not _check_ref(where, name, "constraint", names.keys(), problems):
            if len(problems) == before:  # a case without constraints: nothing to suggest
                problems.append(
                    Problem(where, f"unknown constraint '{name}'", "unknown_constraint")
                )
            return None
        if not _known_field(section, key, path, where, problems):
            return None
        return Target(path, section, key, names[name], (name,))
    if section == "pins":
        issue_id, party = parts[1], parts[2]
        ok = _check_ref(where, issue_id, "issue", case.issue_by_id.keys(), problems)
        ok &= _check_ref(where, party, "stakeholder", case.stakeholder_by_id.keys(), problems)
        if not ok:
            return None
        return _interest_target(case, path, "pins", "pin", party, issue_id, where, problems)
    party, issue_id, name = parts[1], parts[2], parts[3]
    ok = _check_ref(where, party, "stakeholder", case.stakeholder_by_id.keys(), problems)
    ok &= _check_ref(where, issue_id, "issue", case.issue_by_id.keys(), problems)
    if not ok or not _known_field(section, name, path, where, problems):
        return None
    if party in case.funds:
        problems.append(
            Problem(
                where,
                f"'{party}' is a fund, an account with no utility: it has no {name} to vary",
                "not_applicable",
            )
        )
        return None
    kind = case.issue_by_id[issue_id].kind
    if (name == "claim" and kind == "risk") or (name == "control" and kind == "resource"):
        applies = "resources" if name == "claim" else "risks"
        problems.append(
            Problem(
                where,
                f"'{issue_id}' is a {kind}: {name} applies to {applies} only",
                "not_applicable",
            )
        )
        return None
    return _interest_target(case, path, section, name, party, issue_id, where, problems)


def _interest_target(
    case: Case,
    path: str,
    section: str,
    name: str,
    party: str,
    issue_id: str,
    where: str,
    problems: list[Problem],
) -> Target | None:
    interest = case.interest_by_pair.get((party, issue_id))
    if interest is None:
        what = "pinned a share of it" if section == "pins" else "have its interest varied"
        problems.append(
            Problem(
                where,
                f"{party} has no interest in '{issue_id}': only a party with an interest in an "
                f"issue can be {what}",
                "unknown_interest",
            )
        )
        return None
    ids = (issue_id, party) if section == "pins" else (party, issue_id)
    return Target(path, section, name, case.interests.index(interest), ids)


def _known_field(section: str, name: str, path: str, where: str, problems: list[Problem]) -> bool:
    allowed = FIELDS[section]
    if name in allowed:
        return True
    problems.append(
        Problem(
            where,
            f"'{path}': a sweep cannot vary '{name}' of {section}; it may vary "
            f"{', '.join(allowed)}",
            "unknown_field",
        )
    )
    return False


def _values_of(parameter: Parameter) -> list[tuple[str, float]]:
    """Return the values a grid or a choice takes, each with its path in the parameter."""
    if parameter.grid is not None:
        return [(f"grid[{j}]", v) for j, v in enumerate(parameter.grid)]
    d = parameter.distribution
    if isinstance(d, Choice):
        return [(f"distribution.values[{j}]", v) for j, v in enumerate(d.values)]
    return []


def _support(parameter: Parameter, valid: FieldRange) -> tuple[float, float]:
    """Return the least and the greatest value a parameter can take."""
    if parameter.grid is not None:
        return min(parameter.grid), max(parameter.grid)
    d = parameter.distribution
    if isinstance(d, Choice):
        return min(d.values), max(d.values)
    if isinstance(d, Normal):
        low = valid.low if d.low is None else d.low
        if d.low is None and valid.open_low:  # the least value it can draw is just above
            low = math.nextafter(low, math.inf)
        high = valid.high if d.high is None else d.high
        return low, high
    assert isinstance(d, Uniform | Triangular)
    return d.low, d.high


def _valid_range(case: Case, target: Target) -> FieldRange:
    if target.section == "pins":
        interest = case.interests[target.position]
        return FieldRange(interest.floor, interest.cap)
    return FIELDS[target.section][target.field]


def _value_problems(case: Case, target: Target, parameter: Parameter, here: str) -> list[Problem]:
    """Return the problems of the values a parameter can take, on the field it varies."""
    problems: list[Problem] = []
    if target.section == "pins":
        issue_id, party = target.ids
        continuous = parameter.distribution is not None and not isinstance(
            parameter.distribution, Choice
        )
        if continuous and not case.issue_by_id[issue_id].divisible:
            return [
                Problem(
                    f"{here}.distribution",
                    f"'{issue_id}' is indivisible: pin it at 0 or 1 with a grid or a "
                    "choice, not a continuous distribution",
                    "indivisible",
                )
            ]
        issue = case.issue_by_id[issue_id]
        if issue.unit_size is not None:
            return _whole_unit_problems(parameter, here, issue, pin=True) or [
                Problem(f"{here}.{where}", p.message, p.code)
                for where, value in _values_of(parameter)
                for p in pin_problems(case, {issue_id: {party: value}})
            ]
        checks = _values_of(parameter) or _bounds_of(parameter)
        for where, value in checks:
            for p in pin_problems(case, {issue_id: {party: value}}):
                problems.append(Problem(f"{here}.{where}", p.message, p.code))
        return problems
    if target.section == "issues" and target.field == "amount":
        issue = case.issues[target.position]
        if issue.unit_size is not None:
            found = _whole_unit_problems(parameter, here, issue, pin=False)
            if found:
                return found
    valid = _valid_range(case, target)
    for where, value in _values_of(parameter):
        if not valid.holds(value):
            problems.append(_outside(f"{here}.{where}", value, target, valid))
    d = parameter.distribution
    if isinstance(d, Uniform | Triangular):
        if not valid.covers(d.low, d.low):
            problems.append(_outside(f"{here}.distribution.low", d.low, target, valid))
        if not valid.covers(d.high, d.high):
            problems.append(_outside(f"{here}.distribution.high", d.high, target, valid))
    elif isinstance(d, Normal):
        for name in ("mean", "low", "high"):
            value = getattr(d, name)
            if value is not None and not valid.covers(value, value):
                what = "truncated to" if name != "mean" else "centred on"
                problems.append(
                    Problem(
                        f"{here}.distribution.{name}",
                        f"{value:g} is outside the valid range of {target.path}, {valid}: "
                        f"the normal distribution is {what} values inside it",
                        "out_of_range",
                    )
                )
    return problems


def _whole_unit_problems(
    parameter: Parameter, here: str, issue: Issue, *, pin: bool
) -> list[Problem]:
    """Return the problems of a pin or an amount of a whole-unit issue that are not whole units.

    A continuous distribution draws values between whole units, so only a grid or a choice
    may vary them.
    """
    assert issue.unit_size is not None
    if parameter.distribution is not None and not isinstance(parameter.distribution, Choice):
        return [
            Problem(
                f"{here}.distribution",
                f"'{issue.id}' is divided in whole units: vary it with a grid or a choice of "
                "whole numbers of units, not a continuous distribution",
                "not_whole_units",
            )
        ]
    units = issue.units or 1  # a case that loaded has a whole number of units
    problems = []
    for where, value in _values_of(parameter):
        count = value * units if pin else value / issue.unit_size
        if abs(count - round(count)) <= 1e-9 * max(1.0, abs(count)):
            continue
        if pin:
            message = (
                f"the pin {value:g} is {count:g} of the {units} units of '{issue.id}', not a "
                f"whole number: pin a multiple of 1/{units}"
            )
        else:
            message = (
                f"the amount {value:g} is {count:g} units of {issue.unit_size:g} (the "
                f"unit_size of '{issue.id}'), not a whole number"
            )
        problems.append(Problem(f"{here}.{where}", message, "not_whole_units"))
    return problems


def _bounds_of(parameter: Parameter) -> list[tuple[str, float]]:
    """Return the bounds a continuous distribution states, each with its path."""
    d = parameter.distribution
    if isinstance(d, Uniform | Triangular):
        return [("distribution.low", d.low), ("distribution.high", d.high)]
    if isinstance(d, Normal):
        named = [("mean", d.mean), ("low", d.low), ("high", d.high)]
        return [(f"distribution.{n}", v) for n, v in named if v is not None]
    return []


def _outside(where: str, value: float, target: Target, valid: FieldRange) -> Problem:
    return Problem(
        where,
        f"{value:g} is outside the valid range of {target.path}, {valid}",
        "out_of_range",
    )


def _pin_sum_problems(
    case: Case, targets: Sequence[Target], parameters: Sequence[Parameter]
) -> list[Problem]:
    """Check that the pins of one issue fit with each other and the other parties' red lines."""
    by_issue: dict[str, list[tuple[int, Target]]] = {}
    for k, t in enumerate(targets):
        if t.section == "pins":
            by_issue.setdefault(t.ids[0], []).append((k, t))
    problems: list[Problem] = []
    for issue_id, pins in by_issue.items():
        spans = {t.ids[1]: _support(parameters[k], _valid_range(case, t)) for k, t in pins}
        names = ", ".join(f"parameters[{k}]" for k, _ in pins)
        where = f"parameters[{pins[-1][0]}]"
        largest = {party: high for party, (_, high) in spans.items()}
        least = {party: low for party, (low, _) in spans.items()}
        # the largest pins are the likeliest to overfill the issue, the least to leave it short
        corners = ((largest, "largest", "pins_above_one"), (least, "least", "pins_below_one"))
        for corner, word, code in corners:
            for p in pin_problems(case, {issue_id: corner}):
                if p.code == code:
                    message = f"{p.message} (the {word} values of {names})"
                    problems.append(Problem(where, message, p.code))
    return problems


def _span_problems(
    case: Case, targets: Sequence[Target], parameters: Sequence[Parameter]
) -> list[Problem]:
    """Check that a party's nonzero values span at most MAX_VALUE_SPAN in every scenario."""
    varied = {t.position: k for k, t in enumerate(targets) if t.section == "interests"}
    varied = {pos: k for pos, k in varied.items() if targets[k].field == "value"}
    if not varied:
        return []
    problems: list[Problem] = []
    for party, interests in case.interests_by_stakeholder.items():
        smallest: tuple[float, str] | None = None  # the least nonzero value, and whose
        largest: tuple[float, str] | None = None
        for x in interests:
            position = case.interests.index(x)
            k = varied.get(position)
            if k is None:
                low = high = x.value
                name = f"interests of '{party}' in '{x.issue}'"
            else:
                low, high = _support(parameters[k], FIELDS["interests"]["value"])
                name = f"parameters[{k}]"
                if (
                    low == 0
                    and parameters[k].grid is None
                    and not isinstance(parameters[k].distribution, Choice)
                ):
                    low = MIN_MAGNITUDE  # a continuous draw can come as close to 0 as that
                elif low == 0:
                    nonzero = [v for _, v in _values_of(parameters[k]) if v > 0]
                    low = min(nonzero, default=0.0)
            if low > 0 and (smallest is None or low < smallest[0]):
                smallest = (low, name)
            if high > 0 and (largest is None or high > largest[0]):
                largest = (high, name)
        if smallest and largest and largest[0] > smallest[0] * MAX_VALUE_SPAN:
            k = next(k for pos, k in varied.items() if case.interests[pos].stakeholder == party)
            problems.append(
                Problem(
                    f"parameters[{k}]",
                    f"'{party}''s values can reach {largest[0]:g} ({largest[1]}) and "
                    f"{smallest[0]:g} ({smallest[1]}), {largest[0] / smallest[0]:.1e} times as "
                    f"much; a party's nonzero values may differ by a factor of at most "
                    f"{_number(MAX_VALUE_SPAN)} (a continuous distribution reaching down to 0 "
                    "draws values as small as 1e-9: start it above 0 or use a choice)",
                    "value_span",
                )
            )
    return problems


def _corner_problems(case: Case, targets: Sequence[Target], spec: SweepSpec) -> list[Problem]:
    """Check the scenarios with every parameter at its least and at its greatest."""
    from ..rules import policy_problems

    base: dict[str, Any] = case.model_dump(mode="json")
    problems: list[Problem] = []
    for word, end in (("least", 0), ("greatest", 1)):
        values = [
            _support(p, _valid_range(case, t))[end]
            for t, p in zip(targets, spec.parameters, strict=True)
        ]
        try:
            corner = build_scenario_case(base, targets, values)
        except CaseError as exc:
            for p in exc.problems:
                problems.append(
                    Problem(
                        "parameters",
                        f"with every parameter at its {word} value the scenario is not a valid "
                        f"case: {p}",
                        p.code,
                    )
                )
            continue
        for p in policy_problems(corner, corner.policy):
            problems.append(
                Problem(
                    "parameters",
                    f"with every parameter at its {word} value the policy cannot apply: {p}",
                    p.code,
                )
            )
    return problems


def _drawer_of(case: Case, target: Target, parameter: Parameter) -> Drawer | None:
    d = parameter.distribution
    if d is None:
        return None
    valid = _valid_range(case, target)
    return drawer(
        d,
        low=valid.low,
        high=valid.high,
        open_low=valid.open_low,
        snap=MIN_MAGNITUDE if valid.tiny_zero else 0.0,
    )
