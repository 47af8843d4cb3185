"""When no deal is possible: the conflicting red lines and the smallest concessions.

Every red line (floor, cap, capacity, extra constraint, disagreement point under individual
rationality, proportionality and envy-freeness when asked) gets an *elastic* column that
lets it give way at a cost: one whole share of an issue, a party's whole risk exposure, its
whole stake, or the constraint's largest coefficient all cost 1. The elastic LP finds the
cheapest joint concession; a deletion filter over the same LP finds an irreducible set of
conflicting red lines (Chinneck & Dravnieks 1991); relaxing each member alone tells which
single concessions would suffice.

A bound has a *basis* (case format 1.1): a party's position (``negotiable``, the default,
and always so for disagreement points, proportionality and envy-freeness), a ``policy`` the
parties cannot change among themselves, or the law (``legal``). Concessions are sought
among the negotiable bounds first, the others held hard; only when those cannot suffice
among the negotiable and policy bounds (the policy ones given way on as little as
possible); a legal bound is never offered. When relaxing every bound that is not legal
still leaves no allocation, the diagnosis is ``legal_conflict``: the conflicting legal
bounds, and no concession. A case whose bounds are all negotiable is diagnosed in one
elastic LP over all of them, as before bases existed.

A red line is reported as the case states it: an interest's floor or cap as a share, or,
when its amount bound (``min_amount``/``max_amount``) is the tighter, in the issue's unit;
a payment's or contribution's ``min`` and ``max`` in its money's unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..backends import Backend, Session, SolverOptions, Status, open_session
from ..case import Case, Interest, Issue, Policy
from ..case.limits import MIN_MAGNITUDE
from ..fairness import envy_matrix
from ..numeric import CaseIndex
from ..settlement import Concession, Conflict, ConflictSet, Diagnosis
from .model import (
    AllocationModel,
    Column,
    Expression,
    Row,
    add_envy_row,
    add_policy_constraints,
    build_model,
)

__all__ = ["MAX_FILTER_ITEMS", "diagnose"]

#: Above this many red lines the deletion filter (one LP each) is skipped and the conflict
#: is reported as the set of red lines the cheapest concession touches.
MAX_FILTER_ITEMS = 300
#: Independent conflicts reported at most.
MAX_CONFLICTS = 10
_NOISE = 1e-7
#: Relative tolerance of "a whole number of units" (as the case format's checks use it).
_UNIT_TOLERANCE = 1e-9
#: The tiers of bases concessions are sought among, in order (legal bounds in none).
_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"negotiable"}),
    frozenset({"negotiable", "policy"}),
)


@dataclass
class _Item:
    kind: str
    current: float  # the red line as reported, in ``unit``
    direction: float  # +1: the bound rises to give way, -1: it falls
    unit: str
    cost: float
    columns: list[Column] = field(default_factory=list)
    limit: float = np.inf
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    whole: bool = False  # a floor or cap on an indivisible issue
    #: The bound in force in the model's units (a share for a floor or cap), which the
    #: elastic column moves; ``None``: ``current`` is it.
    bound: float | None = None
    #: What turns the model's units into ``unit`` (an issue's amount for an amount bound).
    scale: float = 1.0
    basis: str = "negotiable"
    source: str | None = None
    payment: str | None = None
    contribution: str | None = None

    @property
    def in_force(self) -> float:
        return self.current if self.bound is None else self.bound


def diagnose(
    case: Case,
    policy: Policy,
    options: SolverOptions | None = None,
    index: CaseIndex | None = None,
    backend: str | Backend | None = None,
) -> Diagnosis | None:
    """Explain why ``case`` has no allocation meeting its red lines under ``policy``.

    Returns
    -------
    Diagnosis or None
        The independent ``conflicts`` (each an irreducible infeasible set of red lines, with
        the single concessions that would resolve it) and the jointly cheapest
        ``concessions``, in natural units (an amount bound in its issue's unit). Only
        negotiable bounds are conceded when they can suffice, policy bounds only when they
        cannot, legal bounds never: when the legal bounds alone leave no allocation the
        code is ``legal_conflict``, the conflicts name them and there is no concession.
        ``None`` when the red lines are in fact compatible (the caller's infeasibility came
        from elsewhere), or when the solver could not tell.

    References
    ----------
    Chinneck, J. W. & Dravnieks, E. W. (1991). Locating minimal infeasible constraint sets in
    linear programs. *ORSA Journal on Computing* 3(2), 157–168. DOI 10.1287/ijoc.3.2.157.
    """
    options = options or SolverOptions()
    model = build_model(case, index, name="elastic")
    items = _make_elastic(model, policy)
    session = open_session(model.problem, model.variables, options, backend)
    if all(it.basis == "negotiable" for it in items):
        # every red line may give way: one elastic LP over all of them
        session.set_objective(_cost(model, items), maximize=False)
        if not _solve_with_envy(session, model, policy, items, lambda: _cost(model, items)).solved:
            return None  # not even every red line giving way leaves an allocation
        return _red_lines(session, items, _TIERS[0])
    for bases in _TIERS:
        if bases != _TIERS[0] and not any(it.basis in bases - _TIERS[0] for it in items):
            continue  # no policy bound: the second tier is the first
        status = _solve_tier(session, model, policy, items, bases)
        if status.solved:
            return _red_lines(session, items, bases)
        if status != Status.INFEASIBLE:
            return None  # the solver could not tell: no concession is offered on a guess
    return _legal_conflict(session, items)


def _red_lines(session: Session, items: list[_Item], bases: frozenset[str]) -> Diagnosis | None:
    """Report the solved elastic LP's concessions and the conflicts they resolve.

    Only the red lines whose basis is in ``bases`` may give way; the others are held hard
    throughout, yet take part in the deletion filter, so that a conflict names the legal or
    policy bound a concession works around.
    """
    joint = _concessions(session, items)
    if not joint:
        return None
    allowed = {n for n, it in enumerate(items) if it.basis in bases}
    touched = [n for n, it in enumerate(items) if _amount(session, it) > _NOISE]
    if len(items) > MAX_FILTER_ITEMS:
        loose = ConflictSet(
            constraints=[_conflict(items[n]) for n in touched], irreducible=False, alternatives=[]
        )
        return Diagnosis(code="red_lines_conflict", conflicts=[loose], concessions=joint)
    found = _independent_conflicts(session, items, allowed, set(), touched)
    conflicts = []
    for k, members in enumerate(found):
        others = set().union(*(m for j, m in enumerate(found) if j != k)) & allowed
        conflicts.append(
            ConflictSet(
                constraints=[_conflict(items[n]) for n in sorted(members)],
                irreducible=True,
                alternatives=_alternatives(session, items, members & allowed, others),
            )
        )
    return Diagnosis(code="red_lines_conflict", conflicts=conflicts, concessions=joint)


def _legal_conflict(session: Session, items: list[_Item]) -> Diagnosis | None:
    """Report the legal bounds that leave no allocation even with every other bound free.

    ``None`` when freeing the legal bounds too leaves none (the infeasibility is not the red
    lines').
    """
    legal = {n for n, it in enumerate(items) if it.basis == "legal"}
    others = set(range(len(items))) - legal
    _harden(session, items, set())
    if not (legal and session.solve().solved):
        return None
    if len(items) > MAX_FILTER_ITEMS:
        loose = ConflictSet(
            constraints=[_conflict(items[n]) for n in sorted(legal)],
            irreducible=False,
            alternatives=[],
        )
        return Diagnosis(code="legal_conflict", conflicts=[loose], concessions=[])
    found = _independent_conflicts(session, items, legal, others, [])
    _harden(session, items, set())
    conflicts = [
        ConflictSet(
            constraints=[_conflict(items[n]) for n in sorted(members)],
            irreducible=True,
            alternatives=[],
        )
        for members in found
    ]
    return Diagnosis(code="legal_conflict", conflicts=conflicts, concessions=[])


def _independent_conflicts(
    session: Session, items: list[_Item], freed: set[int], relaxed: set[int], touched: list[int]
) -> list[set[int]]:
    """Find irreducible conflicts one after another, each found one's ``freed`` members let go.

    The red lines in ``relaxed`` give way freely from the start; the others are hard unless
    a conflict found frees them. A conflict with no member in ``freed`` ends the search.
    """
    found: list[set[int]] = []
    relaxed = set(relaxed)
    while len(found) < MAX_CONFLICTS:
        hard = {n for n in range(len(items)) if n not in relaxed and items[n].columns}
        _harden(session, items, hard)
        if session.solve().solved:
            break
        members = _deletion_filter(session, items, hard, touched)
        found.append(members)
        if not members & freed:
            break
        relaxed |= members & freed
    return found


def _solve_tier(
    session: Session,
    model: AllocationModel,
    policy: Policy,
    items: list[_Item],
    bases: frozenset[str],
) -> Status:
    """Solve the elastic LP with only the red lines whose basis is in ``bases`` elastic.

    The policy bounds (when elastic) give way as little as they can: the LP first minimises
    their cost alone, then, with each held to what it gave, the cost of all.
    """
    _harden(session, items, {n for n, it in enumerate(items) if it.basis not in bases})
    policy_items = [it for it in items if it.basis == "policy" and it.basis in bases]
    if not policy_items:
        session.set_objective(_cost(model, items), maximize=False)
        return _solve_with_envy(session, model, policy, items, lambda: _cost(model, items))
    session.set_objective(_cost(model, policy_items), maximize=False)
    status = _solve_with_envy(session, model, policy, items, lambda: _cost(model, policy_items))
    if not status.solved:
        return status
    columns = [c for it in policy_items for c in it.columns]
    given = np.maximum(session.values(columns), 0.0)
    session.set_bounds(columns, np.zeros(len(columns)), given * (1 + 1e-9) + 1e-12)
    session.set_objective(_cost(model, items), maximize=False)
    return _solve_with_envy(session, model, policy, items, lambda: _cost(model, items))


def _cost(model: AllocationModel, items: list[_Item]) -> Expression:
    return model.expression([(c, it.cost) for it in items for c in it.columns])


def _amount_in_force(interest: Interest, issue: Issue, kind: str) -> bool:
    """Whether the bound in force on ``interest`` (``kind`` floor or cap) is its amount bound.

    The bound in force is the tighter of the share bound and the amount bound (an amount
    bound on an issue with a ``unit_size`` rounded inward to whole units: a floor up, a cap
    down); a tie is the share's.
    """
    floor = kind == "floor"
    stated = interest.min_amount if floor else interest.max_amount
    if stated is None:
        return False
    bound = float(stated)
    if issue.unit_size is not None:
        units = bound / issue.unit_size
        near = round(units)
        if abs(units - near) <= _UNIT_TOLERANCE * max(1.0, units):
            units = near
        bound = (math.ceil(units) if floor else math.floor(units)) * issue.unit_size
    share = interest.min_share if floor else interest.max_share
    if share is None:
        return True
    return share * issue.amount < bound if floor else share * issue.amount > bound


def _make_elastic(model: AllocationModel, policy: Policy) -> list[_Item]:
    case, index = model.case, model.index
    items: list[_Item] = []
    add = model.new_variable
    extra_rows: list[Row] = []
    counts = {k: (model.x[index.n + j], units) for k, j, units in index.levers.counts}
    for k, interest in enumerate(case.interests):
        lo, hi = float(index.lower[k]), float(index.upper[k])
        whole = bool(not index.divisible[index.pair_issue[k]])
        count = counts.get(k)
        if (interest.min_share or interest.min_amount) and lo > 0:
            items.append(_elastic_share(model, extra_rows, k, "floor", lo, whole, count))
        if (interest.max_share is not None or interest.max_amount is not None) and hi < 1:
            items.append(_elastic_share(model, extra_rows, k, "cap", hi, whole, count))
    for p, row in model.capacity_rows.items():
        risky = [k for k in index.interests_of_party[p] if index.sign[k] < 0]
        exposure = float(index.amount[index.pair_issue[risky]].sum())
        e = add(f"e_capacity{p}", 0.0)
        model.add_term(row, e, -1.0)
        units = {case.issues[int(index.pair_issue[k])].unit for k in risky}
        holder = case.stakeholder_by_id[index.parties[p]]
        items.append(
            _Item(
                "capacity",
                float(index.capacity[p]),
                1.0,
                units.pop() if len(units) == 1 else "",
                1.0 / exposure,
                [e],
                stakeholder=index.parties[p],
                basis=holder.capacity_basis,
                source=holder.capacity_source,
            )
        )
    for c in case.constraints:
        row = model.extra_rows[c.name]
        scale = max(abs(t.coef) * _column_scale(index, t.column) for t in c.terms) or 1.0
        cols = []
        if c.sense in ("<=", "=="):
            e = add(f"e_{row.name}_up", 0.0)
            model.add_term(row, e, -1.0)
            cols.append(e)
        if c.sense in (">=", "=="):
            e = add(f"e_{row.name}_down", 0.0)
            model.add_term(row, e, 1.0)
            cols.append(e)
        direction = 1.0 if c.sense == "<=" else -1.0
        items.append(
            _Item(
                "constraint",
                c.rhs,
                direction,
                "",
                1.0 / scale,
                cols,
                constraint=c.name,
                basis=c.basis,
                source=c.source,
            )
        )
    items += _elastic_levers(model)
    if policy.individually_rational:
        for p, party in enumerate(index.parties):
            if not _compared(index, p):
                continue  # a fund or an observer has no disagreement point to keep
            e = add(f"e_ir{p}", 0.0)
            extra_rows.append(
                model.row(
                    [(model.u[p], 1.0), (e, 1.0)], ">=", float(index.disagreement[p]), f"ir{p}"
                )
            )
            items.append(
                _Item(
                    "disagreement",
                    float(index.disagreement[p]),
                    -1.0,
                    "points",
                    1.0 / float(index.stake[p]),
                    [e],
                    stakeholder=party,
                )
            )
    # proportionality rows carry a release column: it becomes their elastic column
    rows = add_policy_constraints(model, policy)
    for row, release in zip(rows, model.policy_release, strict=True):
        p = int(str(row.name).removeprefix("proportional"))
        model.let_grow(release)
        items.append(
            _Item(
                "proportional",
                float(-row.constant),
                -1.0,
                "points",
                1.0 / float(index.stake[p]),
                [release],
                stakeholder=index.parties[p],
            )
        )
    model.add_rows(extra_rows)
    return items


def _column_scale(index: CaseIndex, column: tuple[str, ...]) -> float:
    """Return what one unit of a term's column is in the model (a payment's: its ``max``).

    A constraint's largest coefficient on the model's columns costs 1 to give way by: a
    payment's or contribution's column is its amount ÷ its ``max``.
    """
    kind = column[0]
    if kind in ("payment", "contribution"):
        return float(index.levers.scale[index.levers.position[kind, column[1]]])
    return 1.0


def _compared(index: CaseIndex, p: int) -> bool:
    """Whether party ``p`` is compared (an index without that view compares every party)."""
    compared = index.compared
    return bool(compared[p]) if len(compared) == len(index.parties) else True


def _elastic_levers(model: AllocationModel) -> list[_Item]:
    """Elastic columns for the payments' and contributions' minima and maxima (format 1.1).

    A payment's or contribution's column is its amount ÷ its ``max``, in [min ÷ max, 1]: a
    minimum above 0 may fall (to 0 at most) and the maximum rise, at a cost of 1 per
    ``max`` (the column's whole range). Both are reported in the money's unit.
    """
    case = model.case
    items: list[_Item] = []
    rows: list[Row] = []
    payments = {p.id: p for p in case.payments}
    contributions = {c.id: c for c in case.contributions}
    columns = [("payment", ident, column) for ident, column in model.payment_columns.items()] + [
        ("contribution", ident, column) for ident, column in model.contribution_columns.items()
    ]
    for kind, ident, column in columns:
        if kind == "payment":
            paid = payments[ident]
            low, high, unit, who = paid.min, paid.max, paid.unit, paid.payer
            basis, source = paid.basis, paid.source
        else:
            given = contributions[ident]
            low, high, unit, who = (
                given.min,
                given.max,
                _target_unit(case, given.to),
                given.stakeholder,
            )
            basis, source = given.basis, given.source
        payment = ident if kind == "payment" else None
        contribution = ident if kind == "contribution" else None
        if low > 0:
            e = model.new_variable(f"e_{kind}_floor_{ident}", 0.0, low / high)
            column.lowBound = 0.0
            rows.append(
                model.row([(column, 1.0), (e, 1.0)], ">=", low / high, f"{kind}_floor_{ident}")
            )
            items.append(
                _Item(
                    f"{kind}_floor",
                    low,
                    -1.0,
                    unit or "amount",
                    1.0,
                    [e],
                    low / high,
                    stakeholder=who,
                    bound=low / high,
                    scale=high,
                    basis=basis,
                    source=source,
                    payment=payment,
                    contribution=contribution,
                )
            )
        e = model.new_variable(f"e_{kind}_cap_{ident}", 0.0)
        column.upBound = None
        rows.append(model.row([(column, 1.0), (e, -1.0)], "<=", 1.0, f"{kind}_cap_{ident}"))
        items.append(
            _Item(
                f"{kind}_cap",
                high,
                1.0,
                unit or "amount",
                1.0,
                [e],
                stakeholder=who,
                bound=1.0,
                scale=high,
                basis=basis,
                source=source,
                payment=payment,
                contribution=contribution,
            )
        )
    model.add_rows(rows)
    return items


def _target_unit(case: Case, target: str) -> str:
    issue = case.issue_by_id.get(target)
    if issue is not None:
        return issue.unit
    choice = next((c for c in case.choices if c.id == target), None)
    return choice.unit if choice is not None else ""


def _elastic_share(
    model: AllocationModel,
    rows: list[Row],
    k: int,
    kind: str,
    bound: float,
    whole: bool,
    count: tuple[Column, int] | None,
) -> _Item:
    """Move interest ``k``'s floor or cap off its column into a row that may give way.

    The row is ``x + e ≥ floor`` or ``x − e ≤ cap``, with ``e`` at most the whole way to 0
    or 1; on a whole-unit issue, ``count`` (the interest's count of units and the issue's
    units) is freed on that side too. An amount bound in force is reported in the issue's
    unit, a share bound as a share.
    """
    x = model.x[k]
    floor = kind == "floor"
    limit = bound if floor else 1.0 - bound
    e = model.new_variable(f"e_{kind}{k}", 0.0, limit)
    model.free_share(k, kind)
    rows.append(
        model.row(
            [(x, 1.0), (e, 1.0 if floor else -1.0)], ">=" if floor else "<=", bound, f"{kind}{k}"
        )
    )
    interest = model.case.interests[k]
    issue = model.case.issue_by_id[interest.issue]
    if count is not None:  # whole units: the count of units carries the bound too
        column, units = count
        if floor:
            column.lowBound = 0.0
        else:
            column.upBound = float(units)
    # the red line is reported as the case states it; the bound in force (rounded to whole
    # units, or to all or nothing on an indivisible issue) is what gives way
    if _amount_in_force(interest, issue, kind):
        current = interest.min_amount if floor else interest.max_amount
        unit, scale = issue.unit or "amount", float(issue.amount)
    else:
        current = interest.min_share if floor else interest.cap
        unit, scale = "share", 1.0
    return _Item(
        kind,
        float(current if current is not None else 0.0),
        -1.0 if floor else 1.0,
        unit,
        1.0,
        [e],
        limit,
        interest.stakeholder,
        interest.issue,
        whole=whole,
        bound=bound,
        scale=scale,
        basis=interest.basis,
        source=interest.source,
    )


def _solve_with_envy(
    session: Session,
    model: AllocationModel,
    policy: Policy,
    items: list[_Item],
    objective: Callable[[], Expression],
) -> Status:
    """Solve the elastic LP; with envy-freeness asked, add violated envy rows (elastic too).

    A pair gets one row: the envy the elastic solution keeps in it is a concession, not a
    reason to add the row again. ``objective`` restates the objective once rows are added.
    """
    index = model.index
    added = {(s, t) for it in items if it.kind == "envy" for s, t in [_pair(index, it)]}
    while True:
        status = session.solve().status
        if not policy.envy_free or not status.solved:
            return status
        shares = session.values(model.x)
        envy = envy_matrix(index, shares)
        bad = [
            (int(s), int(t))
            for s, t in np.argwhere(envy > 1e-7 * index.resource_stake[:, None])
            if (int(s), int(t)) not in added
        ]
        if not bad:
            return status
        added.update(bad)
        rows, cols = [], []
        for s, t in bad:
            rows.append(add_envy_row(model, s, t))
            release = model.policy_release[-1]
            model.let_grow(release)  # the release is the elastic column: envy may give way
            cols.append(release)
            items.append(
                _Item(
                    "envy",
                    0.0,
                    -1.0,
                    "points",
                    1.0 / float(index.stake[s]),
                    [release],
                    stakeholder=index.parties[s],
                    constraint=f"envy:{index.parties[t]}",
                )
            )
        session.add_constraints(rows, cols)
        session.set_objective(objective(), maximize=False)


def _pair(index: CaseIndex, it: _Item) -> tuple[int, int]:
    """Return the (envious, envied) parties of an envy red line."""
    envied = (it.constraint or "").removeprefix("envy:")
    return index.party_of[it.stakeholder or ""], index.party_of[envied]


def _amount(session: Session, item: _Item) -> float:
    return float(session.values(item.columns).sum()) if item.columns else 0.0


def _concessions(session: Session, items: list[_Item]) -> list[Concession]:
    out = []
    for it in items:
        amount = _amount(session, it)
        if amount > _NOISE * max(1.0, abs(it.in_force)):
            out.append(_concession(it, amount))
    return out


def _concession(it: _Item, amount: float) -> Concession:
    # on an indivisible issue a floor or cap is all or nothing: the concession drops it
    if it.whole:
        proposed = (0.0 if it.kind == "floor" else 1.0) * it.scale
    else:
        proposed = (it.in_force + it.direction * amount) * it.scale
    # the elastic column may pass its limit by rounding: a share stays in [0, 1] (a floor of
    # -8e-17 is no valid red line), an amount in [0, the issue's amount], a capacity or a
    # payment's or contribution's bound at or above 0
    if it.kind in ("floor", "cap"):
        proposed = min(max(proposed, 0.0), it.scale)
    elif it.kind == "capacity" or it.kind.startswith(("payment", "contribution")):
        proposed = max(proposed, 0.0)
    if it.kind not in ("floor", "cap") and abs(proposed) < MIN_MAGNITUDE:
        proposed = 0.0  # 1.8e-15 left by rounding is no valid disagreement point or rhs
    if it.scale != 1.0:
        # an amount (70,200 元, not 70,200.00000000003): the share's noise scaled up is
        # cleaned to 14 significant digits, as a settlement's computed numbers are
        proposed = float(f"{proposed:.14g}")
    return Concession(
        kind=it.kind,
        stakeholder=it.stakeholder,
        issue=it.issue,
        constraint=it.constraint,
        payment=it.payment,
        contribution=it.contribution,
        basis=it.basis,
        source=it.source,
        current=it.current,
        proposed=proposed,
        change=proposed - it.current,
        unit=it.unit,
    )


def _conflict(it: _Item) -> Conflict:
    return Conflict(
        kind=it.kind,
        stakeholder=it.stakeholder,
        issue=it.issue,
        constraint=it.constraint,
        payment=it.payment,
        contribution=it.contribution,
        bound=it.current,
        unit=it.unit,
        basis=it.basis,
        source=it.source,
    )


def _harden(session: Session, items: list[_Item], hard: set[int]) -> None:
    cols: list[Column] = []
    ups: list[float] = []
    for n, it in enumerate(items):
        for c in it.columns:
            cols.append(c)
            ups.append(0.0 if n in hard else it.limit)
    if cols:
        session.set_bounds(cols, np.zeros(len(cols)), np.asarray(ups))


def _deletion_filter(
    session: Session, items: list[_Item], hard: set[int], touched: list[int]
) -> set[int]:
    """Run Chinneck's deletion filter over the red lines in ``hard``.

    The other red lines may give way freely. Drop each red line whose removal keeps the
    rest infeasible; what remains is irreducible.

    Red lines the cheapest concession left alone are tried first, so the set found tends to
    be the one the concession resolves.
    """
    keep = set(hard)
    for n in sorted(hard, key=lambda n: (n in touched, n)):
        keep.discard(n)
        _harden(session, items, keep)
        if session.solve().solved:
            keep.add(n)  # needed: without it the rest is compatible
    return keep


def _alternatives(
    session: Session, items: list[_Item], members: set[int], others: set[int]
) -> list[Concession]:
    """For each member alone (other conflicts' red lines free), the concession that suffices.

    ``members`` are the conflict's red lines that may give way; the rest of it stays hard.
    """
    out = []
    for n in sorted(members):
        hard = {m for m in range(len(items)) if m != n and m not in others}
        _harden(session, items, hard)
        if session.solve().solved:
            amount = _amount(session, items[n])
            if amount > _NOISE * max(1.0, abs(items[n].in_force)):
                out.append(_concession(items[n], amount))
    _harden(session, items, set())
    return out
