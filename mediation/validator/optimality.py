"""An independent optimality certificate for the LP rules, written from the case alone.

The validator restates feasibility; this module restates optimality. It formulates its own
LPs over the shares with scipy (no PuLP, no :mod:`mediation.allocation`, no solver
adapter, so a defect in the engine's model, its scaling or its adapter cannot hide here):

- maximin and Kalai–Smorodinsky: no allocation raises the smallest compared gain
  ``(u_p − d_p) / (ρ_p w_p)`` above the settlement's;
- leximin: the same, level by level, with the levels below held at the settlement's gains;
- utilitarian: no allocation raises ``Σ w_p (u_p − d_p) / ρ_p``;
- Nash: the Frank–Wolfe (duality) gap of the Eisenberg–Gale objective
  ``Σ w_p log(u_p − d_p)`` at the settlement: ``max_y ∇f(x)·(y − x)`` over the feasible
  allocations ``y``, which bounds ``f(x*) − f(x)`` because ``f`` is concave.

Shortfalls are measured in each party's own normalized gain (fractions of its range), so a
tolerance means the same for a party valuing in 元 and one valuing in points. The check
applies to divisible cases without envy-freeness; for others (a MIP, or envy rows added
lazily by the rule) it says it was not made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from ..case import Case
from ..settlement import Settlement

__all__ = ["CERTIFIED_RULES", "LEVEL_TOLERANCE", "NASH_TOLERANCE", "optimality_problems"]

#: Rules whose optimum the certificate restates.
CERTIFIED_RULES = ("leximin", "maximin", "kalai_smorodinsky", "utilitarian", "nash")
#: How far (in fractions of a party's own range) an allocation may raise a party the
#: settlement leaves at a level before the settlement counts as not optimal. The engine
#: holds levels within 1e-10 and HiGHS solves to 1e-9, CBC to 1e-7, which trade-off ratios
#: between parties (~100 in the bundled river case, ~1e3 in bench/) multiply: CBC's leximin
#: of a 300 x 60 market was 1.3e-6 short; the wrong "optimal"s this check exists for were
#: off by 1e-4 and more.
LEVEL_TOLERANCE = 1e-5
#: The largest Frank–Wolfe gap of Nash's objective, relative to the sum of the weights. The
#: rule's certified gap of 1e-9 on the weighted geometric mean places gains to ~3e-5, which
#: gives a Frank–Wolfe gap of ~5e-5; the wrong 0.632 / 0.368 split of a 1 : 1e9 case has 0.36.
NASH_TOLERANCE = 1e-3
#: Above this many share columns the certificate's LPs use the interior point method.
_IPM_NONZEROS = 20_000
#: Ranges below this fraction of a party's stake are none (as the engine's ``no_room``).
_NO_ROOM = 1e-9


@dataclass
class _Polytope:
    """The feasible shares: ``lower ≤ x ≤ upper``, ``A_eq x = b_eq``, ``A_ub x ≤ b_ub``."""

    lower: np.ndarray
    upper: np.ndarray
    a_eq: sparse.csr_matrix
    b_eq: np.ndarray
    a_ub: sparse.csr_matrix
    b_ub: np.ndarray
    #: A ``time.perf_counter()`` instant the LPs must not run past (``None``: none).
    deadline: float | None = None


def optimality_problems(
    case: Case, settlement: Settlement, *, time_limit: float | None = None
) -> list[tuple[str, str]]:
    """Return ``(path, message)`` for each way the settlement is not the rule's optimum.

    The list is empty when the settlement is the optimum, or when the check does not apply
    (see the module's docstring).

    ``time_limit`` bounds the seconds the check's LPs may take; an LP stopped by it gives no
    verdict (the settlement's own time limit was then spent).
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    rule = settlement.rule
    if (
        rule not in CERTIFIED_RULES
        or settlement.status != "optimal"
        or settlement.provenance.policy.get("envy_free")
        or not all(i.divisible for i in case.issues)
    ):
        return []
    n_parties = len(case.stakeholders)
    party_of = {s.id: k for k, s in enumerate(case.stakeholders)}
    owner = np.array([party_of[x.stakeholder] for x in case.interests], dtype=np.int64)
    value = np.array([x.value for x in case.interests], dtype=float)
    kinds = {i.id: i.kind for i in case.issues}
    sign = np.array([-1.0 if kinds[x.issue] == "risk" else 1.0 for x in case.interests])
    weight = np.array([s.weight for s in case.stakeholders], dtype=float)
    d = np.array([s.disagreement for s in case.stakeholders], dtype=float)
    outcomes = [settlement.parties[s.id] for s in case.stakeholders]
    if any(o.utility is None or o.ideal is None for o in outcomes):
        return []
    utility = np.array([o.utility for o in outcomes], dtype=float)
    ideal = np.array([o.ideal for o in outcomes], dtype=float)
    stake = np.bincount(owner, weights=value, minlength=n_parties)
    stake = np.where(stake > 0, stake, 1.0)
    scale = np.maximum(stake, np.abs(d))
    room = ideal - d
    flat = room <= _NO_ROOM * scale
    span = np.where(flat, stake, room)  # each party's own unit
    rational = bool(settlement.provenance.policy.get("individually_rational"))
    normalized = settlement.scale == "normalized" or rule in ("kalai_smorodinsky", "nash")
    rho = span if normalized else np.ones(n_parties)
    compared = ~flat if (rational or rule == "nash") else np.ones(n_parties, dtype=bool)
    polytope = _polytope(
        case,
        owner,
        value,
        sign,
        weight,
        d,
        # individual rationality holds everybody at its no-deal point; Nash holds the parties
        # that cannot gain (it cannot weigh a gain that cannot be positive)
        held=np.ones(n_parties, dtype=bool)
        if rational
        else (flat if rule == "nash" else np.zeros(n_parties, dtype=bool)),
        proportional=bool(settlement.provenance.policy.get("proportional")),
    )
    polytope.deadline = deadline
    # utility rows: u = M x, one row per party
    m = sparse.csr_matrix(
        (sign * value, (owner, np.arange(len(value)))), shape=(n_parties, len(value))
    )
    if rule == "nash":
        return _nash(polytope, m, utility, d, weight, compared, span)
    if rule == "utilitarian":
        return _utilitarian(polytope, m, utility, d, weight, rho, span)
    members = np.flatnonzero(compared)
    if not len(members):
        return []
    names = [x.id for x in case.stakeholders]
    gains = (utility - d) / (rho * weight)
    if rule in ("maximin", "kalai_smorodinsky"):
        return _levels(polytope, m, d, weight, rho, span, members, gains, names, all_levels=False)
    return _levels(polytope, m, d, weight, rho, span, members, gains, names, all_levels=True)


def _polytope(
    case: Case,
    owner: np.ndarray,
    value: np.ndarray,
    sign: np.ndarray,
    weight: np.ndarray,
    d: np.ndarray,
    *,
    held: np.ndarray,
    proportional: bool,
) -> _Polytope:
    interests = case.interests
    n = len(interests)
    col = {(x.stakeholder, x.issue): k for k, x in enumerate(interests)}
    issue_of = {i.id: q for q, i in enumerate(case.issues)}
    topic = np.array([issue_of[x.issue] for x in interests], dtype=np.int64)
    a_eq = sparse.csr_matrix((np.ones(n), (topic, np.arange(n))), shape=(len(case.issues), n))
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []

    def row(terms: list[tuple[int, float]], bound: float) -> None:
        top = max((abs(a) for _, a in terms), default=1.0) or 1.0
        r = len(rhs)
        for k, a in terms:
            rows.append(r)
            cols.append(k)
            vals.append(a / top)
        rhs.append(bound / top)

    amount = {i.id: i.amount for i in case.issues}
    party_index = {s.id: p for p, s in enumerate(case.stakeholders)}
    by_party: dict[int, list[int]] = {}
    for k in range(n):
        by_party.setdefault(int(owner[k]), []).append(k)
    for s in case.stakeholders:
        ks = by_party.get(party_index[s.id], [])
        if s.risk_capacity is not None:
            risky = [(k, amount[interests[k].issue]) for k in ks if sign[k] < 0]
            if risky:
                row(risky, s.risk_capacity)
        if held[party_index[s.id]] and ks:
            row([(k, -sign[k] * value[k]) for k in ks], -s.disagreement)
    for c in case.constraints:
        terms = [(col[t.stakeholder, t.issue], t.coef) for t in c.terms]
        if c.sense in ("<=", "=="):
            row(terms, c.rhs)
        if c.sense in (">=", "=="):
            row([(k, -a) for k, a in terms], -c.rhs)
    if proportional:
        total_weight = float(weight.sum())
        for s in case.stakeholders:
            p = party_index[s.id]
            own = [k for k in by_party.get(p, []) if sign[k] > 0 and value[k] > 0]
            if own:
                fair = weight[p] / total_weight * float(value[own].sum())
                row([(k, -value[k]) for k in own], -fair)
    return _Polytope(
        lower=np.array([x.floor for x in interests], dtype=float),
        upper=np.array([x.cap for x in interests], dtype=float),
        a_eq=a_eq,
        b_eq=np.ones(len(case.issues)),
        a_ub=sparse.csr_matrix((vals, (rows, cols)), shape=(len(rhs), n)),
        b_ub=np.array(rhs, dtype=float),
    )


def _maximize(
    polytope: _Polytope,
    objective: np.ndarray,
    extra_ub: sparse.csr_matrix | None = None,
    extra_b: np.ndarray | None = None,
    extra_bounds: list[tuple[float | None, float | None]] | None = None,
) -> float | None:
    """Return the largest ``objective · z`` over the polytope.

    Extra columns and rows are added when given; ``None`` when the LP did not solve (no
    certificate either way).
    """
    added = 0 if extra_bounds is None else len(extra_bounds)
    a_ub = sparse.hstack([polytope.a_ub, sparse.csr_matrix((polytope.a_ub.shape[0], added))])
    b_ub = polytope.b_ub
    if extra_ub is not None and extra_b is not None:
        a_ub = sparse.vstack([a_ub, extra_ub])
        b_ub = np.concatenate([b_ub, extra_b])
    a_eq = sparse.hstack([polytope.a_eq, sparse.csr_matrix((polytope.a_eq.shape[0], added))])
    bounds = list(zip(polytope.lower.tolist(), polytope.upper.tolist(), strict=True))
    bounds += extra_bounds or []
    result = linprog(
        -objective,
        A_ub=a_ub.tocsr() if a_ub.shape[0] else None,
        b_ub=b_ub if a_ub.shape[0] else None,
        A_eq=a_eq.tocsr(),
        b_eq=polytope.b_eq,
        bounds=bounds,
        # the interior point is ~4x faster on a large allocation LP (11 s → 3 s at
        # 1,000 x 200); a vertex is not needed, only the value
        method="highs-ipm" if a_eq.nnz > _IPM_NONZEROS else "highs",
        options={
            "primal_feasibility_tolerance": 1e-9,
            "dual_feasibility_tolerance": 1e-9,
            **(
                {}
                if polytope.deadline is None
                else {"time_limit": max(polytope.deadline - time.perf_counter(), 1e-3)}
            ),
        },
    )
    if result.status != 0:
        return None
    return float(-result.fun)


def _row_normalized(
    block: sparse.csr_matrix, last: np.ndarray, bound: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Return the rows ``[block | last]`` with bounds ``bound``, each row normalized.

    Each row is divided by its largest coefficient, so that the LP sees coefficients of at
    most 1.
    """
    full = sparse.hstack([block, sparse.csr_matrix(last.reshape(-1, 1))]).tocsr()
    top = np.asarray(abs(full).max(axis=1).todense()).ravel()
    top[top == 0] = 1.0
    inverse = sparse.diags(1.0 / top)
    return (inverse @ full).tocsr(), bound / top


def _levels(
    polytope: _Polytope,
    m: sparse.csr_matrix,
    d: np.ndarray,
    weight: np.ndarray,
    rho: np.ndarray,
    span: np.ndarray,
    members: np.ndarray,
    gains: np.ndarray,
    names: list[str],
    *,
    all_levels: bool,
) -> list[tuple[str, str]]:
    """Return the ``(path, message)`` problems found by max–min LPs over the compared gains.

    The compared gains are ``g_p = (u_p − d_p) / (ρ_p w_p)``. The LPs check the first level
    (maximin, KS) or each in turn (leximin), the lower levels held at the settlement's gains.

    A free party: ``−M_p x / (ρ_p w_p) + t ≤ −d_p / (ρ_p w_p)``; a held one:
    ``−M_p x ≤ −(d_p + ρ_p w_p g_p)`` (exactly what the settlement gives); each row divided
    by its largest coefficient.
    """
    n = len(polytope.lower)
    order = members[np.argsort(gains[members], kind="stable")]
    # a shortfall of Δ in the compared gain is Δ · ρ w / span of the party's own range
    unit = rho * weight / span
    held: list[int] = []
    position = 0
    while position < len(order):
        level = float(gains[order[position]])
        at = [int(p) for p in order[position:] if (gains[p] - level) * unit[p] <= LEVEL_TOLERANCE]
        free = order[position:]
        k = 1.0 / (rho[free] * weight[free])
        free_rows, free_b = _row_normalized(
            sparse.diags(-k) @ m[free], np.ones(len(free)), -d[free] * k
        )
        blocks, bounds = [free_rows], [free_b]
        if held:
            h = np.array(held)
            held_rows, held_b = _row_normalized(
                -m[h],
                np.zeros(len(h)),
                -(d[h] + rho[h] * weight[h] * gains[h]),
            )
            blocks.append(held_rows)
            bounds.append(held_b)
        objective = np.zeros(n + 1)
        objective[n] = 1.0
        best = _maximize(
            polytope,
            objective,
            sparse.vstack(blocks).tocsr(),
            np.concatenate(bounds),
            [(None, None)],
        )
        if best is None:
            return []
        shortfall = (best - level) * min(unit[p] for p in at)
        if shortfall > LEVEL_TOLERANCE:
            who = ", ".join(names[p] for p in at[:5])
            if len(at) > 5:
                who += f" and {len(at) - 5} more"
            return [
                (
                    "status",
                    f"not optimal: an allocation raises the compared gain of {who} "
                    f"(level {len(held) + 1} from the worst-off) from {level:.9g} to "
                    f"{best:.9g}, {shortfall:.3g} of their range",
                )
            ]
        if not all_levels:
            return []
        held.extend(at)
        position += len(at)
    return []


def _utilitarian(
    polytope: _Polytope,
    m: sparse.csr_matrix,
    utility: np.ndarray,
    d: np.ndarray,
    weight: np.ndarray,
    rho: np.ndarray,
    span: np.ndarray,
) -> list[tuple[str, str]]:
    """No allocation raises ``Σ w_p u_p / ρ_p`` (beyond the tolerance, in ranges)."""
    coef = weight / rho
    objective = np.asarray(m.T @ coef).ravel()
    top = float(np.abs(objective).max()) or 1.0
    best = _maximize(polytope, objective / top)
    if best is None:
        return []
    claimed = float(coef @ utility) / top
    # the tolerance: LEVEL_TOLERANCE of every party's range, in the objective's units
    slack = LEVEL_TOLERANCE * float(np.sum(coef * span)) / top
    if best - claimed > slack:
        return [
            (
                "status",
                f"not optimal: an allocation raises the weighted sum of compared gains from "
                f"{claimed * top:.9g} to {best * top:.9g}",
            )
        ]
    return []


def _nash(
    polytope: _Polytope,
    m: sparse.csr_matrix,
    utility: np.ndarray,
    d: np.ndarray,
    weight: np.ndarray,
    compared: np.ndarray,
    span: np.ndarray,
) -> list[tuple[str, str]]:
    """Return the Frank–Wolfe gap of ``Σ w_p log(u_p − d_p)`` over the compared parties."""
    members = np.flatnonzero(compared)
    if not len(members):
        return []
    gain = utility[members] - d[members]
    if np.any(gain <= 0):
        return [("status", "not optimal: Nash's solution gives every compared party a gain")]
    gradient = np.zeros(len(utility))
    gradient[members] = weight[members] / gain
    objective = np.asarray(m.T @ gradient).ravel()
    top = float(np.abs(objective).max()) or 1.0
    best = _maximize(polytope, objective / top)
    if best is None:
        return []
    gap = (best * top - float(gradient @ utility)) / float(weight[members].sum())
    if gap > NASH_TOLERANCE:
        return [
            (
                "status",
                f"not optimal: the Nash objective's Frank–Wolfe gap is {gap:.3g} "
                f"(at most {NASH_TOLERANCE:g} for an optimum)",
            )
        ]
    return []
