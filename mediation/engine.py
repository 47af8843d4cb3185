"""Settle a case: choose the rule, solve, explain, check, and assemble the settlement."""

from __future__ import annotations

import hashlib
import logging
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pulp

from .case import Case, Policy
from .diagnosis import diagnose
from .errors import PolicyError, SolverError, TimeLimitError
from .explain import allocation_reasons, binding_reasons
from .fairness import (
    envy_matrix,
    gini,
    is_envy_free,
    is_proportional,
    no_room,
    normalized_gains,
    own_scale,
    pareto_optimal,
)
from .formulation import (
    AllocationModel,
    CaseIndex,
    add_policy_constraints,
    build_model,
    index_case,
    separable_ideals,
)
from .optimality import optimality_problems
from .rules import LP_RULES, PROCEDURAL_RULES, policy_problems
from .rules.base import Context, Outcome
from .settlement import (
    Concession,
    Conflict,
    ConflictSet,
    Diagnosis,
    Exposure,
    Fairness,
    PartyOutcome,
    Reason,
    Settlement,
    SolverInfo,
)
from .solver import Session, SolverOptions, Status, open_session, solver_version
from .validator import validate_settlement

__all__ = ["DEADLINE_MARGIN", "REACH", "engine_version", "settle"]

#: A no-deal point above what a party can reach by less than this fraction of its own scale
#: counts as reached (the party is held at its ideal): the diagnosis cannot tell so small a
#: gap from solver noise, and a case 1e-7 short ended in "error" instead of a settlement.
REACH = 1e-7
#: Seconds a settlement may run past its time limit: the checks after the last solve.
DEADLINE_MARGIN = 1.0

logger = logging.getLogger(__name__)

#: Slack, relative to a party's unit of comparison, when its utility is held while something
#: else is optimised (the risk-control tie-break).
HOLD_UTILITY = 1e-9


def engine_version() -> str:
    try:
        return version("mediation")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


def settle(
    case: Case,
    *,
    rule: str | None = None,
    scale: str | None = None,
    individually_rational: bool | None = None,
    envy_free: bool | None = None,
    proportional: bool | None = None,
    method: str | None = None,
    solver: str = "highs",
    time_limit: float = 60.0,
    check: bool = True,
) -> Settlement:
    """Propose a settlement of ``case`` under its policy, with any policy key overridden.

    Parameters
    ----------
    case
        A validated case (see :func:`mediation.parse_case`).
    rule, scale, individually_rational, envy_free, proportional, method
        Override the case's policy for this call (``None`` keeps the case's value).
    solver
        ``highs`` (default, in-process) or ``cbc``.
    time_limit
        Seconds for the whole settlement, shared by all its solves (the ideal points, the
        rule's LPs, the checks and any diagnosis): a settlement stopped by it gives status
        ``feasible`` when it has an allocation, ``error`` when it has none.
    check
        Run the independent validator on the result; a failure turns the status into
        ``error`` with the problems as reasons (a safety net: it never happens on a sound
        solve).

    Returns
    -------
    Settlement
        Status ``optimal`` or ``feasible`` with an allocation, ``infeasible`` with a
        diagnosis, or ``error`` when the solver failed (the reasons say how).

    Raises
    ------
    CaseError
        When an override has a wrong value.
    PolicyError
        When the rule cannot apply to this case (e.g. Adjusted Winner with three parties).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues:
    ...   - {id: g, name: G, kind: resource, amount: 10}
    ...   - {id: h, name: H, kind: resource, amount: 1}
    ... interests:
    ...   - {stakeholder: a, issue: g, value: 3}
    ...   - {stakeholder: a, issue: h, value: 1}
    ...   - {stakeholder: b, issue: g, value: 1}
    ...   - {stakeholder: b, issue: h, value: 3}
    ... ''')
    >>> result = settle(case, rule="leximin")
    >>> result.status, result.shares["g"], result.shares["h"]
    ('optimal', {'a': 1.0, 'b': 0.0}, {'a': 0.0, 'b': 1.0})
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    policy = case.policy.with_overrides(
        {
            "rule": rule,
            "scale": scale,
            "individually_rational": individually_rational,
            "envy_free": envy_free,
            "proportional": proportional,
            "method": method,
        }
    )
    problems = policy_problems(case, policy)
    if problems:
        raise PolicyError(problems)
    options = SolverOptions(
        solver=solver,  # type: ignore[arg-type]
        time_limit=time_limit,
        deadline=started + time_limit if isinstance(time_limit, int | float) else None,
    )
    run = _Run(case, policy, options, timings)
    try:
        result = run.settle()
    except SolverError as exc:
        logger.warning("solver error on case %s: %s", case.id, exc)
        result = run.error(str(exc))
    if check and result.status in ("optimal", "feasible", "infeasible"):
        with run.clock("validate"):
            # the optimality check's LPs share what is left of the time limit (at least 1 s:
            # the documented margin)
            found = validate_settlement(case, result, optimality=False)
            if not found and result.status == "optimal":
                worse = optimality_problems(
                    case, result, time_limit=max(options.seconds_left(), DEADLINE_MARGIN)
                )
                if worse:
                    # a sound allocation that is not the rule's optimum: never "optimal"
                    logger.warning("settlement of %s is not optimal: %s", case.id, worse)
                    reason = Reason.model_validate(
                        {"code": "not_certified_optimal", "message": worse[0][1]}
                    )
                    result = result.model_copy(
                        update={"status": "feasible", "reasons": [*result.reasons, reason]}
                    )
        if found:
            logger.error("settlement of %s failed validation: %s", case.id, found)
            result = run.error(
                "the settlement failed the independent validator: "
                + "; ".join(str(p) for p in found[:5])
            )
    timings["total"] = time.perf_counter() - started
    solver_info = result.solver.model_copy(update={"timings": dict(timings)})
    result = result.model_copy(update={"solver": solver_info})
    return result


class _Clock:
    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.timings[self.name] = (
            self.timings.get(self.name, 0.0) + time.perf_counter() - self.start
        )


class _Run:
    """One settlement in the making (keeps the timings and the solver state together)."""

    def __init__(
        self, case: Case, policy: Policy, options: SolverOptions, timings: dict[str, float]
    ) -> None:
        self.case, self.policy, self.options, self.timings = case, policy, options, timings
        self.index: CaseIndex | None = None
        self.session: Session | None = None
        self.extra_solver_seconds = 0.0
        self.extra_solves = 0
        self.scale_name = (
            "normalized" if policy.rule in ("kalai_smorodinsky", "nash") else policy.scale
        )

    def clock(self, name: str) -> _Clock:
        return _Clock(self.timings, name)

    # -- the main path ----------------------------------------------------------------------
    def settle(self) -> Settlement:
        case, policy = self.case, self.policy
        with self.clock("build"):
            self.index = index = index_case(case)
            model = build_model(case, index)
            add_policy_constraints(model, policy)
        with self.clock("ideal"):
            session = self.session = open_session(model.problem, model.variables, self.options)
            ideal = self._ideals(model, session)
        if ideal is None:
            return self._infeasible(None)
        if policy.rule in PROCEDURAL_RULES:
            return self._procedural(model, session, ideal)

        disagreement = index.disagreement
        room = ideal - disagreement
        flat = no_room(ideal, disagreement, index.stake)
        scale = own_scale(index.stake, disagreement)
        below = room < -REACH * scale  # not even the no-deal outcome is within reach
        if policy.individually_rational and below.any():
            return self._infeasible(ideal)
        nash = policy.rule == "nash"
        if nash and below.any():
            # Nash's product needs every gain positive; these parties cannot gain at all
            return self._no_positive_gain(ideal, np.flatnonzero(below).tolist())
        rho = (
            np.where(flat, index.stake, room)
            if self.scale_name == "normalized"
            else np.ones_like(room)
        )
        # who takes part in the comparisons, and who is held at its disagreement point: with
        # individual rationality everybody is held and a party with no room is left out of
        # the comparisons (its gain is fixed at 0); Nash holds such parties (it cannot weigh
        # a gain that cannot be positive); otherwise everybody is compared and nobody held
        if policy.individually_rational:
            compared, held = ~flat, np.ones_like(flat)
        elif nash:
            compared, held = ~flat, flat
        else:
            compared, held = np.ones_like(flat), np.zeros_like(flat)
        if held.any():
            # a no-deal point within REACH above the ideal is held at the ideal
            lower = np.where(held, np.minimum(disagreement, ideal), -np.inf)
            session.set_bounds(model.u, lower, np.full(len(lower), np.inf))
        ctx = Context(
            case=case,
            policy=policy,
            index=index,
            model=model,
            session=session,
            ideal=ideal,
            rho=rho,
            compared=compared,
            flat=flat,
        )
        if self.options.expired():
            raise TimeLimitError(
                "the time limit ran out while the model was built and the ideal points were "
                "found, before any allocation; raise it"
            )
        with self.clock("solve"):
            try:
                outcome = LP_RULES[policy.rule].solve(ctx)
            except TimeLimitError:
                if ctx.last_shares is None:
                    raise
                # a later stage ran out of time: the allocation of the last stage solved stands
                outcome = Outcome(Status.FEASIBLE, lps=session.solves, shares=ctx.last_shares)
        if (
            outcome.status == Status.UNKNOWN
            and ctx.last_shares is not None
            and self.options.seconds_left() <= 2e-3
        ):
            # the last solve was cut short by the deadline, not by numerical trouble
            outcome = Outcome(Status.FEASIBLE, lps=outcome.lps, shares=ctx.last_shares)
        if not outcome.status.solved:
            if outcome.details.get("no_positive_gain"):
                return self._no_positive_gain(ideal, outcome.details["no_positive_gain"])
            if outcome.status == Status.UNKNOWN:
                raise self._trouble()
            return self._infeasible(ideal)
        status = outcome.status
        stopped = outcome.shares is not None or self.options.expired()
        shares = session.values(model.x) if outcome.shares is None else outcome.shares
        if not stopped:  # refinements and checks only while time remains
            with self.clock("solve"):
                shares = self._control_tiebreak(ctx, shares)
        shares = self._clean(shares)
        utilities = index.utilities(shares)
        with self.clock("fairness"):
            pareto: bool | None = None
            if not stopped:
                pareto = ctx.certified_pareto_optimal() or self._pareto(
                    model, session, utilities, rho
                )
        with self.clock("reasons"):
            reasons = list(ctx.reasons)
            reasons += binding_reasons(
                case,
                index,
                shares,
                utilities,
                individually_rational=policy.individually_rational,
                prices=ctx.prices,
            )
            reasons += allocation_reasons(case, index, shares, rho, ideal, flat)
            if pareto is False:
                reasons.append({"code": "not_pareto_optimal"})
            if status == Status.FEASIBLE and not outcome.details.get("short"):
                reasons.append({"code": "time_limit", "seconds": self.options.time_limit})
        return self._assemble(status.value, shares, ideal, pareto, reasons)

    def _trouble(self) -> SolverError:
        """The error for a solve that ended without an answer: the deadline, when it has
        passed (the solve was cut short), else numerical trouble."""
        if self.options.seconds_left() <= 2e-3:
            return TimeLimitError(
                "the time limit ran out before any allocation was found; raise it"
            )
        return SolverError("the solver ran into numerical trouble; try the other solver")

    def _ideals(self, model: AllocationModel, session: Session) -> np.ndarray | None:
        """Each party's best utility under the hard constraints, and under individual
        rationality when the policy asks for it (``None``: no allocation meets them).

        With individual rationality the ideal point is taken over the allocations that leave
        nobody below its disagreement point, as in Kalai & Smorodinsky (1975). Issue by
        issue (no LP) when issues do not interact and no disagreement point can bind (all
        at most 0 and no risks); otherwise one LP per party, re-solved warm.
        """
        index = model.index
        rational = self.policy.individually_rational
        binding = rational and (bool(np.any(index.disagreement > 0)) or bool(index.is_risk.any()))
        if not index.coupled and not binding:
            return separable_ideals(index)
        released = model.policy_release
        if released:
            session.set_bounds(released, np.zeros(len(released)), np.full(len(released), np.inf))
        floors = [index.disagreement] if rational else [np.full(len(index.parties), -np.inf)]
        if rational:  # no-deal points within REACH of reachable count as reached
            floors.append(index.disagreement - REACH * own_scale(index.stake, index.disagreement))
        ideal = np.empty(len(index.parties))
        for floor in floors:
            session.set_bounds(model.u, floor, np.full(len(index.parties), np.inf))
            for p, u in enumerate(model.u):
                session.set_objective(pulp.LpAffineExpression([(u, 1.0)]), maximize=True)
                status = session.solve()
                if status == Status.UNKNOWN:
                    raise self._trouble()
                if not status.solved:
                    break
                ideal[p] = session.objective_value()
            else:
                break
        else:
            return None
        if released:
            session.set_bounds(released, np.zeros(len(released)), np.zeros(len(released)))
        return ideal

    def _control_tiebreak(self, ctx: Context, shares: np.ndarray) -> np.ndarray:
        """Among allocations giving every party the same utility, put risks on the parties best
        able to control them (the PPP principle); a no-op when no risk interest has ``control``.

        The policy's constraints stay (envy rows are still added as needed, through
        ``ctx.solve``); if the refinement fails, the rule's allocation stands.
        """
        model, session = ctx.model, ctx.session
        terms = [
            (model.x[k], float(x.control))
            for k, x in enumerate(self.case.interests)
            if x.control is not None and x.control > 0
        ]
        if not terms:
            return shares
        utilities = session.values(model.u)
        session.set_bounds(
            model.u, utilities - HOLD_UTILITY * ctx.rho, np.full(len(utilities), np.inf)
        )
        session.set_objective(pulp.LpAffineExpression(terms), maximize=True)
        try:
            status = ctx.solve()
        except SolverError:
            return shares
        return session.values(model.x) if status.solved else shares

    def _pareto(
        self, model: AllocationModel, session: Session, utilities: np.ndarray, scale: np.ndarray
    ) -> bool | None:
        """The Pareto LP, or ``None`` when it cannot be settled (time limit, solver trouble)."""
        try:
            return pareto_optimal(model, session, utilities, scale)
        except SolverError:
            return None

    def _clean(self, shares: np.ndarray) -> np.ndarray:
        """Clip solver noise: shares within their bounds, indivisible issues exactly 0 or 1."""
        assert self.index is not None
        index = self.index
        shares = np.clip(shares, index.lower, index.upper)
        whole = ~index.divisible[index.pair_issue]
        shares = np.where(whole, np.round(shares), shares)
        shares = np.where(np.abs(shares) < 1e-12, 0.0, shares)
        # clipping a share the solver left just outside its bound (within its feasibility
        # tolerance, ~1e-8) moves the issue's total off 1: give the difference back to the
        # shares with room for it
        residual = 1.0 - np.bincount(index.pair_issue, weights=shares, minlength=len(index.issues))
        for q in np.flatnonzero((np.abs(residual) > 1e-12) & index.divisible).tolist():
            ks = index.interests_of_issue[q]
            up = residual[q] > 0
            room = index.upper[ks] - shares[ks] if up else shares[ks] - index.lower[ks]
            left = abs(float(residual[q]))
            for j in np.argsort(-room, kind="stable").tolist():
                step = min(left, float(room[j]))
                shares[ks[j]] += step if up else -step
                left -= step
                if left <= 0.0:
                    break
        return shares

    # -- procedural rules -------------------------------------------------------------------
    def _procedural(
        self, model: AllocationModel, session: Session, ideal: np.ndarray
    ) -> Settlement:
        assert self.index is not None
        index, policy = self.index, self.policy
        with self.clock("solve"):
            shares, reasons = PROCEDURAL_RULES[policy.rule].allocate(self.case, policy, index)
        utilities = index.utilities(shares)
        gains = utilities - index.disagreement
        if policy.individually_rational and np.any(gains < -1e-9 * index.stake):
            return self._below_disagreement(ideal, utilities)
        flat = no_room(ideal, index.disagreement, index.stake)
        rho = np.where(flat, index.stake, ideal - index.disagreement)
        with self.clock("fairness"):
            pareto = self._pareto(model, session, utilities, rho)
        with self.clock("reasons"):
            reasons += allocation_reasons(self.case, index, shares, rho, ideal, flat)
        return self._assemble("optimal", shares, ideal, pareto, reasons)

    # -- results ----------------------------------------------------------------------------
    def _assemble(
        self,
        status: str,
        shares: np.ndarray,
        ideal: np.ndarray,
        pareto: bool | None,
        reasons: list[dict[str, Any]],
    ) -> Settlement:
        assert self.index is not None
        index = self.index
        with self.clock("assemble"):
            utilities = index.utilities(shares)
            flat = no_room(ideal, index.disagreement, index.stake)
            normalized = normalized_gains(utilities, index.disagreement, ideal, flat)
            envy = envy_matrix(index, shares)
            valid = normalized[~np.isnan(normalized)]
            fairness = Fairness(
                min_normalized_gain=float(valid.min()) if valid.size else None,
                gini=gini(valid),
                envy_free=is_envy_free(index, envy),
                max_envy=max(float(envy.max()), 0.0) if envy.size else 0.0,
                proportional=is_proportional(index, shares),
                pareto_optimal=pareto,
            )
            parties = self._parties(shares, utilities, ideal, normalized)
            share_map, amount_map = self._share_maps(shares)
        return self._settlement(status, share_map, amount_map, parties, fairness, reasons, None)

    def _share_maps(
        self, shares: np.ndarray
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
        assert self.index is not None
        index = self.index
        share_map: dict[str, dict[str, float]] = {}
        amount_map: dict[str, dict[str, float]] = {}
        for q, issue in enumerate(self.case.issues):
            ks = index.interests_of_issue[q]
            names = [index.parties[p] for p in index.pair_party[ks].tolist()]
            values = shares[ks].tolist()
            share_map[issue.id] = dict(zip(names, values, strict=True))
            amount_map[issue.id] = {n: v * issue.amount for n, v in zip(names, values, strict=True)}
        return share_map, amount_map

    def _parties(
        self,
        shares: np.ndarray,
        utilities: np.ndarray | None,
        ideal: np.ndarray | None,
        normalized: np.ndarray | None,
    ) -> dict[str, PartyOutcome]:
        assert self.index is not None
        index = self.index
        risk = index.sign < 0
        money = index.amount[index.pair_issue] * shares * risk
        worst = np.bincount(index.pair_party, weights=money, minlength=len(index.parties))
        expected = np.bincount(
            index.pair_party,
            weights=money * index.likelihood[index.pair_issue],
            minlength=len(index.parties),
        )
        out = {}
        for p, party in enumerate(index.parties):
            d = float(index.disagreement[p])
            u = None if utilities is None else float(utilities[p])
            ng = None if normalized is None or np.isnan(normalized[p]) else float(normalized[p])
            out[party] = PartyOutcome(
                utility=u,
                disagreement=d,
                gain=None if u is None else u - d,
                ideal=None if ideal is None else float(ideal[p]),
                normalized_gain=ng,
                exposure=Exposure(expected=float(expected[p]), worst_case=float(worst[p])),
            )
        return out

    def _settlement(
        self,
        status: str,
        shares: dict[str, dict[str, float]],
        amounts: dict[str, dict[str, float]],
        parties: dict[str, PartyOutcome],
        fairness: Fairness | None,
        reasons: list[dict[str, Any]],
        diagnosis: Diagnosis | None,
    ) -> Settlement:
        session = self.session
        seconds = (session.seconds if session is not None else 0.0) + self.extra_solver_seconds
        solves = (session.solves if session is not None else 0) + self.extra_solves
        return Settlement(
            case_id=self.case.id,
            rule=self.policy.rule,
            scale=self.scale_name,
            status=status,
            shares=shares,
            amounts=amounts,
            parties=parties,
            fairness=fairness,
            reasons=[Reason.model_validate(_plain(r)) for r in reasons],
            diagnosis=diagnosis,
            solver=SolverInfo(
                name=self.options.solver,
                version=solver_version(self.options.solver),
                seconds=seconds,
                solves=solves,
                timings=dict(self.timings),
            ),
            engine_version=engine_version(),
            input_sha256=input_sha256(self.case, self.policy),
            policy=self.policy.model_dump(),
        )

    def _empty_parties(self, ideal: np.ndarray | None) -> dict[str, PartyOutcome]:
        if self.index is None:
            self.index = index_case(self.case)
        return self._parties(np.zeros(len(self.index.value)), None, ideal, None)

    def _infeasible(self, ideal: np.ndarray | None) -> Settlement:
        with self.clock("diagnosis"):
            diagnosis = diagnose(self.case, self.policy, self.options, self.index)
        if diagnosis is None:
            return self.error("the solver found no allocation, yet the red lines are compatible")
        reasons: list[dict[str, Any]] = [{"code": "infeasible"}]
        return self._settlement(
            "infeasible", {}, {}, self._empty_parties(ideal), None, reasons, diagnosis
        )

    def _no_positive_gain(self, ideal: np.ndarray, parties: list[int]) -> Settlement:
        """Nash's rule needs every compared party to gain; some cannot, all together."""
        assert self.index is not None
        index = self.index
        stuck = ConflictSet(
            constraints=[
                Conflict(
                    kind="disagreement",
                    stakeholder=index.parties[p],
                    bound=float(index.disagreement[p]),
                )
                for p in parties
            ],
            irreducible=False,
            alternatives=[],
        )
        diagnosis = Diagnosis(code="no_positive_gain", conflicts=[stuck], concessions=[])
        reasons: list[dict[str, Any]] = [
            {"code": "no_positive_gain", "parties": [index.parties[p] for p in parties]}
        ]
        return self._settlement(
            "infeasible", {}, {}, self._empty_parties(ideal), None, reasons, diagnosis
        )

    def _below_disagreement(self, ideal: np.ndarray, utilities: np.ndarray) -> Settlement:
        """A procedural rule left a party below its disagreement point under individual
        rationality: the concession is that party accepting what the rule gives."""
        assert self.index is not None
        index = self.index
        below = [
            p
            for p in range(len(index.parties))
            if utilities[p] < index.disagreement[p] - 1e-9 * index.stake[p]
        ]
        concessions = [
            Concession(
                kind="disagreement",
                stakeholder=index.parties[p],
                current=float(index.disagreement[p]),
                proposed=float(utilities[p]),
                change=float(utilities[p] - index.disagreement[p]),
                unit="points",
            )
            for p in below
        ]
        conflicts = [
            ConflictSet(
                constraints=[
                    Conflict(
                        kind="disagreement",
                        stakeholder=index.parties[p],
                        bound=float(index.disagreement[p]),
                    )
                ],
                irreducible=True,
                alternatives=[c],
            )
            for p, c in zip(below, concessions, strict=True)
        ]
        diagnosis = Diagnosis(
            code="rule_below_disagreement", conflicts=conflicts, concessions=concessions
        )
        reasons: list[dict[str, Any]] = [
            {"code": "rule_below_disagreement", "parties": [index.parties[p] for p in below]}
        ]
        return self._settlement(
            "infeasible", {}, {}, self._empty_parties(ideal), None, reasons, diagnosis
        )

    def error(self, message: str) -> Settlement:
        reasons: list[dict[str, Any]] = [{"code": "solver_error", "message": message}]
        return self._settlement("error", {}, {}, self._empty_parties(None), None, reasons, None)


def input_sha256(case: Case, policy: Policy) -> str:
    """SHA-256 of the digest of the validated case's canonical JSON followed by the policy
    applied.

    The validated model fixes key order and number formatting, so the same case gives the
    same digest whether it arrived as YAML or JSON.
    """
    digest = hashlib.sha256(case.canonical_digest)
    digest.update(b"\n")
    digest.update(policy.model_dump_json().encode())
    return str(digest.hexdigest())


def _plain(value: Any) -> Any:
    """Reasons as JSON-ready data (numpy scalars to Python numbers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None or k == "dual"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
