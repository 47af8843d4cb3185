"""An independent optimality certificate for the LP rules, written from the case alone.

The validator restates feasibility; this module restates optimality. It formulates its own
LPs over the shares with scipy (no PuLP, no :mod:`mediation.allocation`, no solver
adapter, so a defect in the engine's model, its scaling or its adapter cannot hide here):

- maximin and Kalai–Smorodinsky: no allocation raises the smallest compared gain
  ``(u_p − d_p) / (ρ_p w_p)`` above the settlement's;
- leximin: the same, level by level, with the levels below held at the settlement's gains;
- utilitarian: no allocation raises ``Σ w_p (u_p − d_p) / ρ_p``;
- risk sharing: no allocation has a smaller total expected loss after mitigation than the
  settlement's (beyond its ``loss_tolerance``); none within that tolerance of the least
  total lowers the largest burden (expected loss ÷ capacity); and, with the risks split as
  the settlement has them, the resources are divided by leximin (the levels, as above); its
  later burden rounds are not restated;
- Nash: the Frank–Wolfe (duality) gap of the Eisenberg–Gale objective
  ``Σ w_p log(u_p − d_p)`` at the settlement: ``max_y ∇f(x)·(y − x)`` over the feasible
  allocations ``y``, which bounds ``f(x*) − f(x)`` because ``f`` is concave.

Shortfalls are measured in each party's own normalized gain (fractions of its range), so a
tolerance means the same for a party valuing in 元 and one valuing in points. Only the
compared parties count (never a fund or an observer).

Case format 1.1's payments and contributions are columns of their own, each its amount ÷
its most (in [min ÷ max, 1]), with the payer's, payee's and contributor's rates on them in
the utility rows; a funded issue's shares (of its largest size, the issue's amount) add up
to the contributions to it, which add up to at most that amount; a constraint's term on a
payment or a contribution counts its money. Amount bounds (``min_amount``, ``max_amount``)
tighten the share bounds.

The check applies to LPs: divisible cases without envy-freeness, choices or whole units.
For the others it is not made (the list it returns is empty): an indivisible issue, a
choice (a binary option column) or an issue with a ``unit_size`` (integer unit counts) makes
the model a MIP, whose optimum no LP certifies, and envy rows are added lazily by the rule.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from ..case import Case
from ..settlement import Settlement
from .levers import roles
from .lp import Rows, maximize

__all__ = ["CERTIFIED_RULES", "LEVEL_TOLERANCE", "NASH_TOLERANCE", "optimality_problems"]

#: Rules whose optimum the certificate restates.
CERTIFIED_RULES = (
    "leximin",
    "maximin",
    "kalai_smorodinsky",
    "utilitarian",
    "nash",
    "risk_sharing",
)
#: How far (relative to the largest expected loss of a whole risk) the risk-sharing rule's
#: total expected loss and largest burden may exceed the least an allocation reaches.
LOSS_TOLERANCE = 1e-6
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
    a_eq: Rows
    b_eq: np.ndarray
    a_ub: Rows
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
        or case.choices
        or any(i.unit_size is not None for i in case.issues)
        # the rule takes no money (the engine refuses it): its stages state shares only
        or (rule == "risk_sharing" and (case.payments or case.contributions))
    ):
        return []
    n_parties = len(case.stakeholders)
    party_of = {s.id: k for k, s in enumerate(case.stakeholders)}
    owner = np.array([party_of[x.stakeholder] for x in case.interests], dtype=np.int64)
    value = np.array([x.value for x in case.interests], dtype=float)
    kinds = {i.id: i.kind for i in case.issues}
    sign = np.array([-1.0 if kinds[x.issue] == "risk" else 1.0 for x in case.interests])
    among = set(roles(case)[2])
    # the compared parties: a fund (an account) or an observer (no stake) is never compared
    is_party = np.array([s.id in among for s in case.stakeholders], dtype=bool)
    weight = np.array([s.weight for s in case.stakeholders], dtype=float)
    d = np.array([s.disagreement if is_party[p] else 0.0 for p, s in enumerate(case.stakeholders)])
    outcomes = [settlement.parties.get(s.id) for s in case.stakeholders if s.id in among]
    if any(o is None or o.utility is None or o.ideal is None for o in outcomes):
        return []
    # a fund or an observer has no utility: 0 wherever the allocation goes
    utility = np.zeros(n_parties)
    ideal = np.zeros(n_parties)
    utility[is_party] = [o.utility for o in outcomes if o is not None]
    ideal[is_party] = [o.ideal for o in outcomes if o is not None]
    levers = _lever_columns(case, party_of)
    stake = np.bincount(owner, weights=value, minlength=n_parties)
    stake += np.bincount(levers.party, weights=np.abs(levers.coef), minlength=n_parties)
    stake = np.where(stake > 0, stake, 1.0)
    scale = np.maximum(stake, np.abs(d))
    room = ideal - d
    flat = room <= _NO_ROOM * scale
    span = np.where(flat, stake, room)  # each party's own unit
    rational = bool(settlement.provenance.policy.get("individually_rational"))
    normalized = settlement.scale == "normalized" or rule in ("kalai_smorodinsky", "nash")
    rho = span if normalized else np.ones(n_parties)
    compared = is_party & ~flat if (rational or rule == "nash") else is_party
    if rational:  # individual rationality holds every party at its no-deal point
        held = is_party
    else:  # Nash holds the parties that cannot gain (it cannot weigh a gain that cannot be > 0)
        held = is_party & flat if rule == "nash" else np.zeros(n_parties, dtype=bool)
    # utility rows: u = M x, one row per party, over the shares and then the levers
    n = len(value)
    rows_of = np.concatenate([owner, levers.party])
    columns = np.concatenate([np.arange(n), n + levers.column])
    order = np.lexsort((columns, rows_of))
    m = Rows.of(
        np.bincount(rows_of, minlength=n_parties).tolist(),
        columns[order].tolist(),
        np.concatenate([sign * value, levers.coef])[order].tolist(),
        n + len(levers.lower),
    )
    polytope = _polytope(
        case,
        owner,
        sign,
        weight,
        d,
        m,
        levers,
        held=held,
        proportional=bool(settlement.provenance.policy.get("proportional")),
        compared=is_party,
    )
    polytope.deadline = deadline
    if rule == "risk_sharing":
        found = _risk_sharing(case, settlement, polytope, sign, owner)
        if found:
            return found
        # the resources: leximin with the risks' split held as the settlement has it
        share = np.array(
            [settlement.shares[x.issue].get(x.stakeholder, 0.0) for x in case.interests]
        )
        risky = sign < 0
        polytope = replace(
            polytope,
            lower=np.where(risky, np.maximum(polytope.lower, share - 1e-9), polytope.lower),
            upper=np.where(risky, np.minimum(polytope.upper, share + 1e-9), polytope.upper),
        )
    if rule == "nash":
        return _nash(polytope, m, utility, d, weight, compared, span)
    if rule == "utilitarian":
        return _utilitarian(polytope, m, utility, d, np.where(is_party, weight, 0.0), rho, span)
    members = np.flatnonzero(compared)
    if not len(members):
        return []
    names = [x.id for x in case.stakeholders]
    gains = (utility - d) / (rho * weight)
    if rule in ("maximin", "kalai_smorodinsky"):
        return _levels(polytope, m, d, weight, rho, span, members, gains, names, all_levels=False)
    return _levels(polytope, m, d, weight, rho, span, members, gains, names, all_levels=True)


def _risk_sharing(
    case: Case,
    settlement: Settlement,
    polytope: _Polytope,
    sign: np.ndarray,
    owner: np.ndarray,
) -> list[tuple[str, str]]:
    """Check the least total expected loss, and the smallest largest burden at that total."""
    issues = case.issue_by_id
    n_parties = len(case.stakeholders)
    amount = np.array([issues[x.issue].amount for x in case.interests], dtype=float)
    chance = np.array([issues[x.issue].likelihood for x in case.interests], dtype=float)
    control = np.array([x.control or 0.0 for x in case.interests], dtype=float)
    worst = np.where(sign < 0, amount, 0.0)
    loss = worst * chance * (1.0 - case.mitigation * control)
    top = float(loss.max())
    if top <= 0:
        return []
    share = np.array(
        [settlement.shares[x.issue].get(x.stakeholder, 0.0) for x in case.interests], dtype=float
    )
    total = float(loss @ share) / top
    least = _maximize(polytope, -loss / top)
    if least is None:
        return []
    least = -least
    tolerance = float(settlement.provenance.policy.get("loss_tolerance") or 0.0)
    if total > least * (1 + tolerance) + LOSS_TOLERANCE * max(1.0, least):
        return [
            (
                "shares",
                f"the total expected loss {total * top:.9g} is above the least an allocation "
                f"reaches, {least * top:.9g}"
                + (f" (with the tolerance {tolerance:g})" if tolerance else ""),
            )
        ]
    capacity = np.array(
        [np.inf if s.risk_capacity is None else s.risk_capacity for s in case.stakeholders]
    )
    reach = np.bincount(owner, weights=worst, minlength=n_parties)
    basis = np.where(np.isfinite(capacity), capacity, reach)
    basis = np.where(basis > 0, basis, 1.0)
    coef = loss / basis[owner]
    unit = float(coef.max())
    burden = np.bincount(owner, weights=coef * share, minlength=n_parties) / unit
    bearers = np.flatnonzero(np.bincount(owner, weights=coef, minlength=n_parties) > 0)
    n = len(share)
    # minimise z subject to burden_p(x) − z ≤ 0 and loss·x ≤ the settlement's total
    rows = sparse.lil_matrix((len(bearers) + 1, n + 1))
    for r, p in enumerate(bearers):
        for k in np.flatnonzero(owner == p):
            rows[r, k] = coef[k] / unit
        rows[r, n] = -1.0
    rows[len(bearers), :n] = loss / top
    bound = np.zeros(len(bearers) + 1)
    # the rule's own bound on the total, the least times (1 + tolerance), within the solvers'
    # feasibility tolerance only: a looser total would let the largest burden drop by the
    # slack times the burden's trade-off
    bound[-1] = least * (1 + tolerance) + 1e-9 * max(1.0, least)
    objective = np.zeros(n + 1)
    objective[n] = -1.0
    lowest = _maximize(polytope, objective, rows.tocsr(), bound, [(None, None)])
    if lowest is None:
        return []
    worst_burden = float(burden.max())
    if worst_burden > -lowest + LOSS_TOLERANCE * max(1.0, -lowest):
        return [
            (
                "shares",
                f"the largest burden (expected loss ÷ capacity) is {worst_burden * unit:.9g}, "
                f"but an allocation with no more total expected loss reaches "
                f"{-lowest * unit:.9g}",
            )
        ]
    return []


@dataclass(frozen=True)
class _Levers:
    """The columns after the shares: each payment's and contribution's amount ÷ its most.

    ``party``, ``column`` and ``coef`` are the utility entries (party ``party[t]`` gains
    ``coef[t]`` per unit of lever ``column[t]``); ``scale`` turns a column into money;
    ``funding`` lists, per funded issue's position, its contributions' columns.
    """

    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray
    party: np.ndarray
    column: np.ndarray
    coef: np.ndarray
    position: dict[tuple[str, str], int]
    funding: dict[int, list[int]]


def _lever_columns(case: Case, party_of: dict[str, int]) -> _Levers:
    """Return the payment and contribution columns of ``case``, from its own fields."""
    funds = set(roles(case)[0])
    lower: list[float] = []
    scale: list[float] = []
    entries: list[tuple[int, int, float]] = []
    position: dict[tuple[str, str], int] = {}
    for p in case.payments:
        j = position["payment", p.id] = len(lower)
        lower.append(p.min / p.max)
        scale.append(p.max)
        entries.append((party_of[p.payer], j, -p.payer_rate * p.max))
        if p.payee not in funds:  # a fund has no utility
            entries.append((party_of[p.payee], j, p.payee_rate * p.max))
    issue_of = {i.id: q for q, i in enumerate(case.issues)}
    funding: dict[int, list[int]] = {}
    for c in case.contributions:
        j = position["contribution", c.id] = len(lower)
        lower.append(c.min / c.max)
        scale.append(c.max)
        if c.rate:
            entries.append((party_of[c.stakeholder], j, -c.rate * c.max))
        if c.to in issue_of:
            funding.setdefault(issue_of[c.to], []).append(j)
    return _Levers(
        lower=np.array(lower, dtype=float),
        upper=np.ones(len(lower)),
        scale=np.array(scale, dtype=float),
        party=np.array([e[0] for e in entries], dtype=np.int64),
        column=np.array([e[1] for e in entries], dtype=np.int64),
        coef=np.array([e[2] for e in entries], dtype=float),
        position=position,
        funding=funding,
    )


def _polytope(
    case: Case,
    owner: np.ndarray,
    sign: np.ndarray,
    weight: np.ndarray,
    d: np.ndarray,
    m: Rows,
    levers: _Levers,
    *,
    held: np.ndarray,
    proportional: bool,
    compared: np.ndarray,
) -> _Polytope:
    """Return the feasible allocations: the shares, then the levers (``m`` is ``u = M x``)."""
    interests = case.interests
    n = len(interests)
    width = m.width
    value = np.array([x.value for x in interests], dtype=float)
    col = {(x.stakeholder, x.issue): k for k, x in enumerate(interests)}
    issue_of = {i.id: q for q, i in enumerate(case.issues)}
    topic = np.array([issue_of[x.issue] for x in interests], dtype=np.int64)
    amount = np.array([i.amount for i in case.issues], dtype=float)
    # each issue's shares add up to 1; a funded one's (of its amount) to its contributions
    by_issue = np.argsort(topic, kind="stable")
    eq_len = np.bincount(topic, minlength=len(case.issues))
    eq_cols: list[int] = []
    eq_vals: list[float] = []
    eq_rhs = np.ones(len(case.issues))
    starts = np.concatenate([[0], np.cumsum(eq_len)])
    lengths: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []

    def row(terms: list[tuple[int, float]], bound: float) -> None:
        top = max((abs(a) for _, a in terms), default=1.0) or 1.0
        merged: dict[int, float] = {}  # a share named twice counts twice
        for k, a in terms:
            merged[k] = merged.get(k, 0.0) + a / top
        lengths.append(len(merged))
        cols.extend(merged)
        vals.extend(merged.values())
        rhs.append(bound / top)

    if levers.funding:
        counts = eq_len.tolist()
        for q in range(len(case.issues)):
            eq_cols.extend(by_issue[starts[q] : starts[q + 1]].tolist())
            eq_vals.extend([1.0] * int(eq_len[q]))
            given = [(n + j, float(levers.scale[j] / amount[q])) for j in levers.funding.get(q, [])]
            if given:
                counts[q] += len(given)
                eq_cols.extend(k for k, _ in given)
                eq_vals.extend(-a for _, a in given)
                eq_rhs[q] = 0.0
                row(given, 1.0)  # the size is at most the issue's amount
        a_eq = Rows.of(counts, eq_cols, eq_vals, width)
    else:
        a_eq = Rows.of(eq_len.tolist(), by_issue.tolist(), [1.0] * n, width)

    party_index = {s.id: p for p, s in enumerate(case.stakeholders)}
    by_party: dict[int, list[int]] = {}
    for k in range(n):
        by_party.setdefault(int(owner[k]), []).append(k)
    for s in case.stakeholders:
        p = party_index[s.id]
        ks = by_party.get(p, [])
        if s.risk_capacity is not None:
            risky = [(k, float(amount[topic[k]])) for k in ks if sign[k] < 0]
            if risky:
                row(risky, s.risk_capacity)
        utility = m.indices[m.indptr[p] : m.indptr[p + 1]].tolist()
        if held[p] and utility:
            coefs = m.data[m.indptr[p] : m.indptr[p + 1]].tolist()
            row([(k, -a) for k, a in zip(utility, coefs, strict=True)], -float(d[p]))
    for c in case.constraints:
        terms: list[tuple[int, float]] = []
        for t in c.terms:
            kind, *ident = t.column
            if kind == "share":
                terms.append((col[ident[0], ident[1]], t.coef))
            else:  # money: the column is the amount ÷ its most
                j = levers.position[kind, ident[0]]
                terms.append((n + j, t.coef * float(levers.scale[j])))
        if c.sense in ("<=", "=="):
            row(terms, c.rhs)
        if c.sense in (">=", "=="):
            row([(k, -a) for k, a in terms], -c.rhs)
    if proportional:
        # a fund or an observer is no claimant: the compared parties' weights make the whole
        total_weight = float(weight[compared].sum())
        for s in case.stakeholders:
            p = party_index[s.id]
            own = [k for k in by_party.get(p, []) if sign[k] > 0 and value[k] > 0]
            if own and compared[p]:
                fair = weight[p] / total_weight * float(value[own].sum())
                row([(k, -value[k]) for k in own], -fair)
    lower = np.array([x.floor for x in interests], dtype=float)
    upper = np.array([x.cap for x in interests], dtype=float)
    for k, x in enumerate(interests):  # the tighter of a share bound and an amount bound
        if x.min_amount is not None:
            lower[k] = max(lower[k], min(1.0, x.min_amount / amount[topic[k]]))
        if x.max_amount is not None:
            upper[k] = min(upper[k], x.max_amount / amount[topic[k]])
    return _Polytope(
        lower=np.concatenate([lower, levers.lower]),
        upper=np.concatenate([upper, levers.upper]),
        a_eq=a_eq,
        b_eq=eq_rhs,
        a_ub=Rows.of(lengths, cols, vals, width),
        b_ub=np.array(rhs, dtype=float),
    )


def _maximize(
    polytope: _Polytope,
    objective: np.ndarray,
    extra_ub: sparse.csr_matrix | list[Rows] | None = None,
    extra_b: np.ndarray | None = None,
    extra_bounds: list[tuple[float | None, float | None]] | None = None,
) -> float | None:
    """Return the largest ``objective · z`` over the polytope.

    Extra columns and rows (``A z ≤ b``; ``A`` may come in blocks, stacked) are added when
    given; ``None`` when the LP did not solve (no certificate either way).
    """
    rows = [polytope.a_eq, polytope.a_ub]
    row_lower = [polytope.b_eq, np.full(len(polytope.b_ub), -np.inf)]
    row_upper = [polytope.b_eq, polytope.b_ub]
    if extra_ub is not None and extra_b is not None:
        rows += extra_ub if isinstance(extra_ub, list) else [extra_ub]
        row_lower.append(np.full(len(extra_b), -np.inf))
        row_upper.append(extra_b)
    extra = extra_bounds or []
    lower = [-np.inf if lo is None else lo for lo, _ in extra]
    upper = [np.inf if hi is None else hi for _, hi in extra]
    return maximize(
        objective,
        rows,
        np.concatenate(row_lower),
        np.concatenate(row_upper),
        np.concatenate([polytope.lower, lower]),
        np.concatenate([polytope.upper, upper]),
        deadline=polytope.deadline,
        # the interior point is ~4x faster on a large allocation LP (11 s → 3 s at
        # 1,000 x 200); a vertex is not needed, only the value
        ipm=polytope.a_eq.nnz > _IPM_NONZEROS,
    )


def _party_rows(
    m: Rows,
    parties: np.ndarray,
    scale: np.ndarray,
    last: float,
    bound: np.ndarray,
) -> tuple[Rows, np.ndarray]:
    """Return the rows ``[scale_p · M_p | last]`` with bounds ``bound``, each row normalized.

    One row per party in ``parties``: its utility row of ``M`` times ``scale_p``, and ``last``
    in one more column (left out when 0). Each row is divided by its largest coefficient, so
    that the LP sees coefficients of at most 1.
    """
    n = m.width
    heads = m.indptr[parties]
    counts = m.indptr[parties + 1] - heads
    row = np.repeat(np.arange(len(parties)), counts)
    within = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    at = heads[row] + within
    values = m.data[at] * scale[row]
    columns = m.indices[at]
    top = np.zeros(len(parties))
    np.maximum.at(top, row, np.abs(values))
    if last:
        top = np.maximum(top, abs(last))
        # the extra column's entry closes each row
        ends = np.cumsum(counts + 1)
        keep = np.ones(ends[-1] if len(ends) else 0, dtype=bool)
        keep[ends - 1] = False
        full_values = np.full(len(keep), float(last))
        full_columns = np.full(len(keep), n, dtype=np.int64)
        full_values[keep] = values
        full_columns[keep] = columns
        values, columns, counts = full_values, full_columns, counts + 1
        row = np.repeat(np.arange(len(parties)), counts)
    top[top == 0] = 1.0
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return Rows(indptr, columns, values / top[row], n + 1), bound / top


def _levels(
    polytope: _Polytope,
    m: Rows,
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
        free_rows, free_b = _party_rows(m, free, -k, 1.0, -d[free] * k)
        blocks, bounds = [free_rows], [free_b]
        if held:
            h = np.array(held)
            held_rows, held_b = _party_rows(
                m, h, -np.ones(len(h)), 0.0, -(d[h] + rho[h] * weight[h] * gains[h])
            )
            blocks.append(held_rows)
            bounds.append(held_b)
        objective = np.zeros(n + 1)
        objective[n] = 1.0
        best = _maximize(
            polytope,
            objective,
            blocks,
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
    m: Rows,
    utility: np.ndarray,
    d: np.ndarray,
    weight: np.ndarray,
    rho: np.ndarray,
    span: np.ndarray,
) -> list[tuple[str, str]]:
    """No allocation raises ``Σ w_p u_p / ρ_p`` (beyond the tolerance, in ranges)."""
    coef = weight / rho
    objective = m.transposed_times(coef)
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
    m: Rows,
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
    objective = m.transposed_times(gradient)
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
