"""When no deal is possible: the conflicting red lines and the smallest concessions.

Every red line (floor, cap, capacity, extra constraint, disagreement point under individual
rationality, proportionality and envy-freeness when asked) gets an *elastic* column that
lets it give way at a cost: one whole share of an issue, a party's whole risk exposure, its
whole stake, or the constraint's largest coefficient all cost 1. The elastic LP finds the
cheapest joint concession; a deletion filter over the same LP finds an irreducible set of
conflicting red lines (Chinneck & Dravnieks 1991); relaxing each member alone tells which
single concessions would suffice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backends import Backend, Session, SolverOptions, open_session
from ..case import Case, Policy
from ..case.limits import MIN_MAGNITUDE
from ..fairness import envy_matrix
from ..numeric import CaseIndex
from ..settlement import Concession, Conflict, ConflictSet, Diagnosis
from .model import (
    AllocationModel,
    Column,
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


@dataclass
class _Item:
    kind: str
    current: float
    direction: float  # +1: the bound rises to give way, -1: it falls
    unit: str
    cost: float
    columns: list[Column] = field(default_factory=list)
    limit: float = np.inf
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    whole: bool = False  # a floor or cap on an indivisible issue


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
        ``concessions``, in natural units. ``None`` when the red lines are in fact
        compatible (the caller's infeasibility came from elsewhere).

    References
    ----------
    Chinneck, J. W. & Dravnieks, E. W. (1991). Locating minimal infeasible constraint sets in
    linear programs. *ORSA Journal on Computing* 3(2), 157–168. DOI 10.1287/ijoc.3.2.157.
    """
    options = options or SolverOptions()
    model = build_model(case, index, name="elastic")
    items = _make_elastic(model, policy)
    session = open_session(model.problem, model.variables, options, backend)
    session.set_objective(
        model.expression([(c, it.cost) for it in items for c in it.columns]), maximize=False
    )
    _solve_with_envy(session, model, policy, items)
    joint = _concessions(session, items)
    if not joint:
        return None
    touched = [n for n, it in enumerate(items) if _amount(session, it) > _NOISE]
    if len(items) > MAX_FILTER_ITEMS:
        loose = ConflictSet(
            constraints=[_conflict(items[n]) for n in touched], irreducible=False, alternatives=[]
        )
        return Diagnosis(code="red_lines_conflict", conflicts=[loose], concessions=joint)
    found: list[set[int]] = []
    relaxed: set[int] = set()
    while len(found) < MAX_CONFLICTS:
        hard = {n for n in range(len(items)) if n not in relaxed and items[n].columns}
        _harden(session, items, hard)
        if session.solve().solved:
            break
        members = _deletion_filter(session, items, hard, touched)
        found.append(members)
        relaxed |= members
    conflicts = []
    for k, members in enumerate(found):
        others = set().union(*(m for j, m in enumerate(found) if j != k))
        conflicts.append(
            ConflictSet(
                constraints=[_conflict(items[n]) for n in sorted(members)],
                irreducible=True,
                alternatives=_alternatives(session, items, members, others),
            )
        )
    return Diagnosis(code="red_lines_conflict", conflicts=conflicts, concessions=joint)


def _make_elastic(model: AllocationModel, policy: Policy) -> list[_Item]:
    case, index = model.case, model.index
    items: list[_Item] = []
    add = model.new_variable
    extra_rows: list[Row] = []
    for k, interest in enumerate(case.interests):
        lo, hi = float(index.lower[k]), float(index.upper[k])
        whole = bool(not index.divisible[index.pair_issue[k]])
        if interest.min_share and lo > 0:
            stated = interest.min_share if whole else lo
            items.append(_elastic_share(model, extra_rows, k, "floor", lo, stated, whole))
        if interest.max_share is not None and hi < 1:
            stated = interest.cap if whole else hi
            items.append(_elastic_share(model, extra_rows, k, "cap", hi, stated, whole))
    for p, row in model.capacity_rows.items():
        risky = [k for k in index.interests_of_party[p] if index.sign[k] < 0]
        exposure = float(index.amount[index.pair_issue[risky]].sum())
        e = add(f"e_capacity{p}", 0.0)
        model.add_term(row, e, -1.0)
        units = {case.issues[int(index.pair_issue[k])].unit for k in risky}
        items.append(
            _Item(
                "capacity",
                float(index.capacity[p]),
                1.0,
                units.pop() if len(units) == 1 else "",
                1.0 / exposure,
                [e],
                stakeholder=index.parties[p],
            )
        )
    for c in case.constraints:
        row = model.extra_rows[c.name]
        scale = max(abs(t.coef) for t in c.terms) or 1.0
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
            _Item("constraint", c.rhs, direction, "", 1.0 / scale, cols, constraint=c.name)
        )
    if policy.individually_rational:
        for p, party in enumerate(index.parties):
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


def _elastic_share(
    model: AllocationModel,
    rows: list[Row],
    k: int,
    kind: str,
    bound: float,
    stated: float,
    whole: bool,
) -> _Item:
    """Move interest ``k``'s floor or cap off its column into a row that may give way.

    The row is ``x + e ≥ floor`` or ``x − e ≤ cap``, with ``e`` at most the whole way to 0
    or 1.
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
    return _Item(
        kind,
        stated,
        -1.0 if floor else 1.0,
        "share",
        1.0,
        [e],
        limit,
        interest.stakeholder,
        interest.issue,
        whole=whole,
    )


def _solve_with_envy(
    session: Session, model: AllocationModel, policy: Policy, items: list[_Item]
) -> None:
    """Solve the elastic LP; with envy-freeness asked, add violated envy rows (elastic too).

    A pair gets one row: the envy the elastic solution keeps in it is a concession, not a
    reason to add the row again.
    """
    index = model.index
    added: set[tuple[int, int]] = set()
    while True:
        session.solve()
        if not policy.envy_free:
            return
        shares = session.values(model.x)
        envy = envy_matrix(index, shares)
        bad = [
            (int(s), int(t))
            for s, t in np.argwhere(envy > 1e-7 * index.resource_stake[:, None])
            if (int(s), int(t)) not in added
        ]
        if not bad:
            return
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
        session.set_objective(
            model.expression([(c, it.cost) for it in items for c in it.columns]),
            maximize=False,
        )


def _amount(session: Session, item: _Item) -> float:
    return float(session.values(item.columns).sum()) if item.columns else 0.0


def _concessions(session: Session, items: list[_Item]) -> list[Concession]:
    out = []
    for it in items:
        amount = _amount(session, it)
        if amount > _NOISE * max(1.0, abs(it.current)):
            out.append(_concession(it, amount))
    return out


def _concession(it: _Item, amount: float) -> Concession:
    # on an indivisible issue a floor or cap is all or nothing: the concession drops it
    proposed = (
        (0.0 if it.kind == "floor" else 1.0) if it.whole else it.current + it.direction * amount
    )
    # the elastic column may pass its limit by rounding: a share stays in [0, 1] (a floor of
    # -8e-17 is no valid red line), a capacity at or above 0
    if it.kind in ("floor", "cap"):
        proposed = min(max(proposed, 0.0), 1.0)
    elif it.kind == "capacity":
        proposed = max(proposed, 0.0)
    if it.kind not in ("floor", "cap") and abs(proposed) < MIN_MAGNITUDE:
        proposed = 0.0  # 1.8e-15 left by rounding is no valid disagreement point or rhs
    return Concession(
        kind=it.kind,
        stakeholder=it.stakeholder,
        issue=it.issue,
        constraint=it.constraint,
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
        bound=it.current,
        unit=it.unit,
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
    """For each member alone (other conflicts' red lines free), the concession that suffices."""
    out = []
    for n in sorted(members):
        hard = {m for m in range(len(items)) if m != n and m not in others}
        _harden(session, items, hard)
        if session.solve().solved:
            amount = _amount(session, items[n])
            if amount > _NOISE * max(1.0, abs(items[n].current)):
                out.append(_concession(items[n], amount))
    _harden(session, items, set())
    return out
