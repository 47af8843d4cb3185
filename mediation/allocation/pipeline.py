"""Settle a case: a pipeline of stages, each taking and returning values.

prepare (index the case, build the model, the ideal points) → the rule → refine (the
tie-break, noise clipped) → measure (fairness, numpy only) → explain → assemble → the
independent check. The stages live in their own modules and can be called on their own.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np

from ..backends import Backend, SolverOptions, Status, resolve_backend
from ..case import Case, Policy
from ..errors import PolicyError, SolverError, TimeLimitError
from ..fairness import no_room
from ..reasons import (
    IssueAwarded,
    IssueSplit,
    NotCertifiedOptimal,
    NotParetoOptimal,
    Reason,
    TimeLimit,
)
from ..rules import Rule, get_rule
from ..rules.base import Context, NoPositiveGain, RuleResult
from ..settlement import Settlement
from ..validator import validate_settlement
from ..validator.optimality import optimality_problems
from .assemble import (
    Stamp,
    assemble,
    below_disagreement,
    engine_version,
    error,
    infeasible,
    no_positive_gain,
)
from .choices import with_alternatives
from .diagnosis import diagnose
from .explain import allocation_reasons, binding_reasons, lever_reasons
from .pareto import pareto_optimal
from .prepare import Prepared, Unreachable, comparison, prepare, trouble
from .refine import clean_shares, control_tiebreak
from .timing import Timings

__all__ = [
    "DEADLINE_MARGIN",
    "Preparer",
    "engine_version",
    "run_rule",
    "settle",
    "settle_with_policy",
]

#: Seconds a settlement may run past its time limit: the checks after the last solve.
DEADLINE_MARGIN = 1.0

logger = logging.getLogger(__name__)


def settle(
    case: Case,
    *,
    rule: str | None = None,
    scale: str | None = None,
    individually_rational: bool | None = None,
    envy_free: bool | None = None,
    proportional: bool | None = None,
    method: str | None = None,
    loss_tolerance: float | None = None,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
    check: bool = True,
) -> Settlement:
    """Propose a settlement of ``case`` under its policy, with any policy key overridden.

    Parameters
    ----------
    case
        A validated case (see :func:`mediation.parse_case`).
    rule, scale, individually_rational, envy_free, proportional, method, loss_tolerance
        Override the case's policy for this call (``None`` keeps the case's value).
    solver
        A backend's name from :data:`mediation.backends.BACKENDS` (``highs``, the default,
        in-process; ``cbc``) or a :class:`~mediation.backends.Backend` object.
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
        When the rule cannot apply to this case (e.g. Adjusted Winner with three parties),
        or the solver is unknown.

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
    timings = Timings()
    policy = case.policy.with_overrides(
        {
            "rule": rule,
            "scale": scale,
            "individually_rational": individually_rational,
            "envy_free": envy_free,
            "proportional": proportional,
            "method": method,
            "loss_tolerance": loss_tolerance,
        }
    )
    the_rule = get_rule(policy.rule)
    problems = the_rule.problems(case, policy)
    if problems:
        raise PolicyError(problems)
    return settle_with_policy(
        case,
        policy,
        the_rule,
        resolve_backend(solver),
        time_limit=time_limit,
        check=check,
        started=started,
        timings=timings,
    )


#: Indexes a case, builds its model, opens a session and finds the ideal points, with the
#: keywords of :func:`prepare` (which is the default; a sweep passes its model template's).
Preparer = Callable[..., Prepared]


def settle_with_policy(
    case: Case,
    policy: Policy,
    rule: Rule,
    backend: Backend,
    *,
    time_limit: float,
    check: bool,
    started: float,
    timings: Timings,
    preparer: Preparer = prepare,
    explain: bool = True,
) -> Settlement:
    """Settle ``case`` under ``policy`` (overrides applied, the rule's preconditions met).

    :func:`settle` after its checks of the call; the sweep's batch path
    (:mod:`mediation.allocation.batch`) calls it with its own ``preparer``, and with
    ``explain=False`` when only the allocation and its figures are wanted: the reasons then
    keep only those that qualify the status (``not_pareto_optimal``, ``time_limit``,
    ``not_certified_optimal``, and those of a settlement without an allocation).
    ``started`` is the ``time.perf_counter()`` instant the time limit runs from.
    """
    options = SolverOptions(
        solver=backend.name,
        time_limit=time_limit,
        deadline=started + time_limit if isinstance(time_limit, int | float) else None,
    )
    stamp = Stamp(
        case,
        policy,
        "normalized" if rule.compares == "normalized" else policy.scale,
        backend,
        timings,
    )
    try:
        result = _settle(case, policy, rule, options, stamp, preparer=preparer, explain=explain)
    except SolverError as exc:
        logger.warning("solver error on case %s: %s", case.id, exc)
        result = error(stamp, str(exc))
    if check and result.status in ("optimal", "feasible", "infeasible"):
        result = _checked(case, result, stamp, options)
    if explain and case.choices and result.status in ("optimal", "feasible"):
        with timings.clock("alternatives"):
            result = with_alternatives(
                case, policy, rule, backend, result, deadline=options.deadline or math.inf
            )
    timings["total"] = time.perf_counter() - started
    provenance = result.provenance.model_copy(update={"timings": dict(timings)})
    return result.model_copy(update={"provenance": provenance})


def _settle(
    case: Case,
    policy: Policy,
    rule: Rule,
    options: SolverOptions,
    stamp: Stamp,
    *,
    preparer: Preparer = prepare,
    explain: bool = True,
) -> Settlement:
    """Prepare → rule → refine → measure → explain → assemble."""
    timings = stamp.timings
    prepared = preparer(case, policy, rule, options=options, backend=stamp.backend, timings=timings)
    stamp.session, stamp.index = prepared.session, prepared.index
    ideal = prepared.ideal
    if ideal is None:
        return _infeasible(stamp, prepared, None)
    if rule.kind == "procedural":
        return _procedural(stamp, prepared, ideal, explain=explain)
    ctx = comparison(prepared)
    if isinstance(ctx, Unreachable):
        if ctx.rational:
            return _infeasible(stamp, prepared, ideal)
        return no_positive_gain(stamp, ideal, ctx.parties)
    if options.expired():
        raise TimeLimitError(
            "the time limit ran out while the model was built and the ideal points were "
            "found, before any allocation; raise it"
        )
    with timings.clock("solve"):
        outcome = run_rule(rule, ctx, options)
    if not outcome.status.solved:
        if isinstance(outcome.details, NoPositiveGain):
            return no_positive_gain(stamp, ideal, outcome.details.parties)
        if outcome.status == Status.UNKNOWN:
            raise trouble(options)
        return _infeasible(stamp, prepared, ideal)
    assert outcome.shares is not None
    stopped = outcome.stopped or options.expired()
    shares = outcome.shares
    if not stopped and not outcome.tie_broken:  # refinements only while time remains
        with timings.clock("solve"):
            shares = control_tiebreak(ctx, shares)
    shares = clean_shares(ctx.index, shares)
    utilities = ctx.index.utilities(shares)
    with timings.clock("fairness"):
        pareto: bool | None = None
        if not stopped:
            certified = outcome.certificate is not None and outcome.certificate.proves(
                ctx.index, ctx.rho
            )
            pareto = certified or pareto_optimal(ctx.model, ctx.session, utilities, ctx.rho)
    with timings.clock("reasons"):
        reasons: list[Reason] = []
        if explain:
            reasons += outcome.reasons()
            reasons += binding_reasons(
                case,
                ctx.index,
                shares,
                utilities,
                individually_rational=policy.individually_rational,
                prices=outcome.prices,
            )
            reasons += allocation_reasons(case, ctx.index, shares, ctx.rho, ideal, ctx.flat)
            reasons += lever_reasons(case, ctx.index, shares, utilities, outcome.prices)
        if pareto is False:
            reasons.append(NotParetoOptimal())
        if outcome.status == Status.FEASIBLE and not outcome.short:
            reasons.append(TimeLimit(seconds=options.time_limit))
    return assemble(stamp, outcome.status.value, shares, ideal, pareto, reasons)


def run_rule(rule: Rule, ctx: Context, options: SolverOptions) -> RuleResult:
    """Run an LP rule, falling back on its last stage solved when the time limit stops it.

    A rule stopped by the time limit falls back on the allocation of its last stage solved
    (every stage keeps the hard and policy constraints).
    """
    try:
        result = rule.solve(ctx)
    except TimeLimitError:
        if ctx.last_shares is None:
            raise
        # a later stage ran out of time: the allocation of the last stage solved stands
        return RuleResult(
            Status.FEASIBLE, shares=ctx.last_shares, lps=ctx.session.solves, stopped=True
        )
    if (
        result.status == Status.UNKNOWN
        and ctx.last_shares is not None
        and options.seconds_left() <= 2e-3
    ):
        # the last solve was cut short by the deadline, not by numerical trouble
        return RuleResult(Status.FEASIBLE, shares=ctx.last_shares, lps=result.lps, stopped=True)
    return result


def _procedural(
    stamp: Stamp, prepared: Prepared, ideal: np.ndarray, *, explain: bool = True
) -> Settlement:
    index, policy = prepared.index, prepared.policy
    ctx = Context(
        case=prepared.case,
        policy=policy,
        index=index,
        model=prepared.model,
        session=prepared.session,
        ideal=ideal,
        rho=np.ones(len(index.parties)),
        compared=np.ones(len(index.parties), dtype=bool),
        flat=np.zeros(len(index.parties), dtype=bool),
    )
    with stamp.timings.clock("solve"):
        outcome = prepared.rule.solve(ctx)
    assert outcome.shares is not None
    shares = outcome.shares
    utilities = index.utilities(shares)
    gains = utilities - index.disagreement
    if policy.individually_rational and np.any(gains < -1e-9 * index.stake):
        return below_disagreement(stamp, ideal, utilities)
    flat = no_room(ideal, index.disagreement, index.stake)
    rho = np.where(flat, index.stake, ideal - index.disagreement)
    with stamp.timings.clock("fairness"):
        pareto = pareto_optimal(prepared.model, prepared.session, utilities, rho)
    if not explain:
        return assemble(stamp, "optimal", shares, ideal, pareto, [])
    with stamp.timings.clock("reasons"):
        reasons = outcome.reasons()
        # a procedure's own steps, when it gives them, say who got what and why: a balance
        # of gains it never sought would mislead (a claims award is not an LP's balance)
        stepped = bool(reasons)
        reasons += [
            r
            for r in allocation_reasons(prepared.case, index, shares, rho, ideal, flat)
            if not (stepped and isinstance(r, IssueSplit | IssueAwarded))
        ]
    return assemble(stamp, "optimal", shares, ideal, pareto, reasons)


def _infeasible(stamp: Stamp, prepared: Prepared, ideal: np.ndarray | None) -> Settlement:
    with stamp.timings.clock("diagnosis"):
        diagnosis = diagnose(
            prepared.case, prepared.policy, prepared.options, prepared.index, stamp.backend
        )
    if diagnosis is None:
        return error(stamp, "the solver found no allocation, yet the red lines are compatible")
    return infeasible(stamp, ideal, diagnosis)


def _checked(case: Case, result: Settlement, stamp: Stamp, options: SolverOptions) -> Settlement:
    """Return the settlement as the independent validator's verdict leaves it.

    A failure is an error; a sound allocation the optimality certificate beats is
    ``feasible``, never ``optimal``.
    """
    with stamp.timings.clock("validate"):
        # the optimality check's LPs share what is left of the time limit (at least 1 s:
        # the documented margin)
        found = validate_settlement(case, result, optimality=False)
        if not found and result.status == "optimal":
            worse = optimality_problems(
                case, result, time_limit=max(options.seconds_left(), DEADLINE_MARGIN)
            )
            if worse:
                logger.warning("settlement of %s is not optimal: %s", case.id, worse)
                reason = NotCertifiedOptimal(message=worse[0][1])
                result = result.model_copy(
                    update={"status": "feasible", "reasons": [*result.reasons, reason]}
                )
    if found:
        logger.error("settlement of %s failed validation: %s", case.id, found)
        return error(
            stamp,
            "the settlement failed the independent validator: "
            + "; ".join(str(p) for p in found[:5]),
        )
    return result
