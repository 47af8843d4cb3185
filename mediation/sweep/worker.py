"""What a worker does: settle a batch of scenarios and return their rows (plain data both ways).

A :class:`Batch` holds the base case as JSON text, the targets of the parameters and each
scenario's number and values: builtins and frozen dataclasses of builtins, never a solver
object, so any :class:`concurrent.futures.Executor` can ship it (a process pool, a Dask
cluster). :func:`settle_batch` is a module-level function, so that a ``spawn``-started
process or a Dask worker finds it by name. Each worker process parses a base case once and
keeps it (:data:`_CACHE_SIZE` cases, by their SHA-256).

A row is a mapping of the plan's columns (:attr:`mediation.sweep.SweepPlan.columns`):

``scenario``, ``grid_point``, ``sample``
    The scenario's number (see :mod:`mediation.sweep.plan`).
``param.<path>``
    Each parameter's value in the scenario.
``status``
    The settlement's status (``optimal``, ``feasible``, ``infeasible``, ``error``), or
    ``invalid`` when the scenario's values make no valid case (the plan's checks rule this
    out; it is kept as a safety net rather than stopping the sweep).
``blame``
    For an infeasible scenario, the red lines the diagnosis finds in conflict, as paths
    joined by ``;`` (see :func:`blame_labels`); otherwise null.
``error``
    The message of an ``error`` or ``invalid`` scenario; otherwise null.
``share.<issue>.<party>``
    Each interest's share (null without an allocation), a fund's included; on a funded issue
    a fraction of its size.
``payment.<id>``, ``contribution.<id>``, ``size.<issue>``, ``chosen.<choice>``
    In a case of format 1.1, the money each payment pays and each contribution gives, each
    funded issue's size, and the id of the option chosen in each choice (null without an
    allocation).
``utility.<party>``, ``gain.<party>``, ``normalized_gain.<party>``
    The settlement's figures (null without an allocation; ``normalized_gain`` also null for
    a party with no room to gain). Only the compared parties have them: a fund or an
    observer has no figures.
``worst_exposure.<party>``, ``expected_exposure.<party>`` (before mitigation),
``expected_loss.<party>`` (after what the party's control mitigates)
    Σ amount·share and Σ probability·amount·share over the party's risks, with the
    scenario's amounts and probabilities (null without an allocation).
``capacity_used.<party>`` (worst-case exposure ÷ risk capacity)
    Worst-case exposure over the party's risk capacity in the scenario (null when it has no
    capacity, a capacity of 0, or no allocation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..case import Case, parse_case
from ..errors import CaseError, PolicyError
from ..settlement import Conflict, Settlement
from .plan import PARTY_METRICS, Target, build_scenario_case, lever_columns

__all__ = ["Batch", "Row", "blame_labels", "settle_batch"]

#: A results row: column name → value (``None`` for null).
Row = dict[str, Any]

#: Base cases a worker process keeps parsed.
_CACHE_SIZE = 4
_CACHE: dict[str, tuple[Case, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Batch:
    """Scenarios to settle in one task, with what a worker needs to build their cases."""

    number: int
    case_json: str
    case_sha256: str
    targets: tuple[Target, ...]
    #: ``(scenario, grid point, sample, values)`` per scenario.
    scenarios: tuple[tuple[int, int, int, tuple[float, ...]], ...]
    time_limit: float


def settle_batch(batch: Batch) -> list[Row]:
    """Settle every scenario of a batch (validator on) and return their rows, in order.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep, plan_sweep
    >>> from mediation.sweep.runner import batches
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1,
    ...     "parameters": [{"path": "pins.x.a", "grid": [0.25, 0.5]}]}))
    >>> rows = settle_batch(next(batches(plan, batch_size=2)))
    >>> [(r["status"], r["share.x.a"], r["gain.b"]) for r in rows]
    [('optimal', 0.25, 0.75), ('optimal', 0.5, 0.5)]
    """
    base, data = _base(batch)
    rows: list[Row] = []
    cases: list[Case | str] = []
    for _, _, _, values in batch.scenarios:
        try:
            cases.append(build_scenario_case(data, batch.targets, values))
        except CaseError as exc:
            cases.append(str(exc))
    settled = _settle_all(base, cases, batch.time_limit)
    for (index, point, sample, values), case, result in zip(
        batch.scenarios, cases, settled, strict=True
    ):
        row: Row = {"scenario": index, "grid_point": point, "sample": sample}
        row.update((t.column, v) for t, v in zip(batch.targets, values, strict=True))
        if isinstance(case, str) or isinstance(result, str):
            message = case if isinstance(case, str) else str(result)
            row.update(status="invalid", blame=None, error=_one_line(message))
            rows.append(_nulls(row, base))
            continue
        rows.append(_row(row, case, result, batch.targets))
    return rows


def _settle_all(
    base: Case, cases: Sequence[Case | str], time_limit: float
) -> list[Settlement | str]:
    """Settle each scenario case; the one place the engine is called.

    The scenarios of a sweep share the base case's structure, so they go through
    :func:`mediation.allocation.batch.settle_variants` (one model template per structure,
    each settlement the one :func:`~mediation.settle` gives, validator on); the reasons that
    only explain an allocation are left out, as no row reads them. Without that module each
    case is settled on its own. A scenario whose case could not be built (a message) stays
    a message; one its policy cannot apply to becomes the error's message.
    """
    try:
        from ..allocation.batch import settle_variants
    except ImportError:
        return _settle_each(cases, time_limit)
    out: list[Settlement | str] = [c if isinstance(c, str) else "" for c in cases]
    todo = [k for k, c in enumerate(cases) if not isinstance(c, str)]
    while todo:
        done = 0
        variants = (c for c in (cases[k] for k in todo) if not isinstance(c, str))
        try:
            for result in settle_variants(base, variants, reasons=False, time_limit=time_limit):
                out[todo[done]] = result
                done += 1
        except (CaseError, PolicyError) as exc:  # raised on reaching the variant: the rest go on
            out[todo[done]] = str(exc)
            done += 1
        todo = todo[done:]
    return out


def _settle_each(cases: Sequence[Case | str], time_limit: float) -> list[Settlement | str]:
    """Settle each scenario case on its own with :func:`mediation.settle`."""
    from ..allocation.pipeline import settle

    out: list[Settlement | str] = []
    for case in cases:
        if isinstance(case, str):
            out.append(case)
            continue
        try:
            out.append(settle(case, time_limit=time_limit))
        except (CaseError, PolicyError) as exc:
            out.append(str(exc))
    return out


def _base(batch: Batch) -> tuple[Case, dict[str, Any]]:
    """Return the batch's base case and its JSON data, parsed once per worker process."""
    cached = _CACHE.get(batch.case_sha256)
    if cached is None:
        import json

        data: dict[str, Any] = json.loads(batch.case_json)
        cached = (parse_case(data), data)
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[batch.case_sha256] = cached
    return cached


def _one_line(message: str) -> str:
    """Return a message on one line (a CSV field, a table cell): white space runs as one."""
    return " ".join(message.split())


def _nulls(row: Row, case: Case) -> Row:
    for x in case.interests:
        row[f"share.{x.issue}.{x.stakeholder}"] = None
    row.update(dict.fromkeys(lever_columns(case)))
    for metric in PARTY_METRICS:
        for party in case.compared:
            row[f"{metric}.{party}"] = None
    return row


def _row(row: Row, case: Case, result: Settlement, targets: Sequence[Target]) -> Row:
    row["status"] = result.status
    pinned = {t.ids for t in targets if t.section == "pins"}
    if result.diagnosis is not None:
        conflicts = (c for conflict in result.diagnosis.conflicts for c in conflict.constraints)
        row["blame"] = ";".join(blame_labels(conflicts, pinned)) or None
    else:
        row["blame"] = None
    row["error"] = (
        _one_line("; ".join(str(getattr(r, "message", r.code)) for r in result.reasons))
        if result.status == "error"
        else None
    )
    allocated = bool(result.shares)
    for x in case.interests:
        share = result.shares.get(x.issue, {}).get(x.stakeholder) if allocated else None
        row[f"share.{x.issue}.{x.stakeholder}"] = share
    if case.levered:
        for p in case.payments:
            paid = result.payments.get(p.id) if allocated else None
            row[f"payment.{p.id}"] = None if paid is None else paid.amount
        for c in case.contributions:
            given = result.contributions.get(c.id) if allocated else None
            row[f"contribution.{c.id}"] = None if given is None else given.amount
        for i in case.issues:
            if i.id in case.contributions_to:
                row[f"size.{i.id}"] = result.sizes.get(i.id) if allocated else None
        for choice in case.choices:
            made = result.choices.get(choice.id) if allocated else None
            row[f"chosen.{choice.id}"] = None if made is None else made.chosen
    for s in case.stakeholders:
        if s.id not in result.parties:  # a fund or an observer: never compared
            continue
        out = result.parties[s.id]
        worst = out.exposure.worst_case if allocated else None
        capacity = s.risk_capacity
        row[f"utility.{s.id}"] = out.utility
        row[f"gain.{s.id}"] = out.gain
        row[f"normalized_gain.{s.id}"] = out.normalized_gain
        row[f"worst_exposure.{s.id}"] = worst
        row[f"expected_exposure.{s.id}"] = out.exposure.expected if allocated else None
        row[f"expected_loss.{s.id}"] = out.exposure.mitigated if allocated else None
        row[f"capacity_used.{s.id}"] = (
            worst / capacity
            if worst is not None and capacity is not None and capacity > 0
            else None
        )
    return row


def blame_labels(
    conflicts: Iterable[Conflict], pinned: Iterable[tuple[str, ...]] = ()
) -> list[str]:
    """Name each red line of a diagnosis by its path in the case, without repeats, in order.

    A floor is ``interests.<party>.<issue>.min_share`` and a cap ``….max_share`` (``min_amount``
    and ``max_amount`` for a bound in the issue's unit), or ``pins.<issue>.<party>`` when the
    sweep pinned that share; a payment's or a contribution's bounds ``payments.<id>.min``,
    ``payments.<id>.max``, ``contributions.<id>.min``, ``contributions.<id>.max``; the
    options of the choices ``choices``; a capacity
    ``stakeholders.<party>.risk_capacity``; a no-deal outcome
    ``stakeholders.<party>.disagreement``; an extra constraint ``constraints.<name>``;
    proportionality and envy-freeness ``policy.proportional.<party>`` and
    ``policy.envy_free.<party>``; the issue totals and indivisibility ``issues.<issue>.total``
    and ``issues.<issue>.divisible`` (``issues.total`` and ``issues.divisible`` when no issue is
    named).

    Examples
    --------
    >>> from mediation.settlement import Conflict
    >>> blame_labels([Conflict(kind="capacity", stakeholder="kangle"),
    ...               Conflict(kind="floor", stakeholder="a", issue="x"),
    ...               Conflict(kind="cap", stakeholder="a", issue="x")], [("x", "a")])
    ['stakeholders.kangle.risk_capacity', 'pins.x.a']
    >>> blame_labels([Conflict(kind="floor", stakeholder="a", issue="y", unit="元"),
    ...               Conflict(kind="payment_cap", payment="rent")])
    ['interests.a.y.min_amount', 'payments.rent.max']
    """
    pins = set(pinned)
    labels: list[str] = []
    for c in conflicts:
        party, issue = c.stakeholder, c.issue
        if c.kind in ("floor", "cap"):
            if (issue, party) in pins:
                label = f"pins.{issue}.{party}"
            else:
                # a bound reported in the issue's unit is its min_amount or max_amount
                of = "share" if c.unit in (None, "share") else "amount"
                field = f"{'min' if c.kind == 'floor' else 'max'}_{of}"
                label = f"interests.{party}.{issue}.{field}"
        elif c.kind.startswith(("payment_", "contribution_")):
            section, _, side = c.kind.partition("_")
            ident = c.payment if section == "payment" else c.contribution
            label = f"{section}s.{ident}.{'min' if side == 'floor' else 'max'}"
        elif c.kind == "choice":
            label = "choices"
        elif c.kind == "capacity":
            label = f"stakeholders.{party}.risk_capacity"
        elif c.kind == "disagreement":
            label = f"stakeholders.{party}.disagreement"
        elif c.kind == "constraint":
            label = f"constraints.{c.constraint}"
        elif c.kind in ("proportional", "envy"):
            label = f"policy.{'proportional' if c.kind == 'proportional' else 'envy_free'}.{party}"
        else:
            suffix = "total" if c.kind == "issue_total" else "divisible"
            label = f"issues.{issue}.{suffix}" if issue else f"issues.{suffix}"
        if label not in labels:
            labels.append(label)
    return labels
