"""Settle many variants of one case fast, each exactly as :func:`settle` would.

A sweep settles one case many times over with other numbers: values, amounts,
probabilities, capacities, no-deal points, weights, share bounds, constraint coefficients
and right-hand sides. Those variants share one model structure, so the batch path builds the
PuLP model once (:class:`~mediation.allocation.model.ModelTemplate`) and, for each variant,
computes the model's numbers as arrays and loads them into HiGHS, instead of building and
reading a PuLP model each time. Everything after the load is the pipeline
of :func:`settle` itself (ideal points, the rule, the tie-break, the Pareto check, the
figures, the independent validator and the optimality check), so each settlement equals the
one :func:`settle` gives, number for number.

Why every variant starts from scratch: the LPs of a settlement are solved in sequence, each
warm from the last, as :func:`settle` solves them; starting a variant from the previous
variant's basis instead would be faster, but where an optimum is not unique (a degenerate
face of the allocation polytope) the simplex then stops at another vertex. On seeded variants
of the bundled community-hall case, starting the first LP from another basis moved shares by
up to 1.1e-6 in 2 of 149 variants (measured while this module was written), which a sweep
must not see: a scenario's result may not depend on the scenarios before it. So a variant's
model goes to a new HiGHS instance and is solved along exactly :func:`settle`'s path (one
instance reused for every variant drifted: after ~700 variants its solutions differed from a
new instance's by 1e-14, which at a degenerate optimum can become another vertex); what the
batch path saves is building and reading the PuLP model and, with ``reasons=False``, the
explanations.

Where the time of a variant goes, and why the path is not much faster than
:func:`settle` itself: see ``BENCHMARKS.md`` (section *Sweeps*) and ``bench/sweep.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..backends import Backend, HighsBackend, SolverOptions, resolve_backend
from ..case import Case, Policy
from ..errors import PolicyError
from ..numeric import index_case
from ..rules import Rule, get_rule
from ..settlement import Settlement
from .model import ModelTemplate, Structure
from .pipeline import Preparer, settle_with_policy
from .prepare import Prepared, ideal_points, prepare
from .timing import Timings

__all__ = ["TEMPLATES_KEPT", "settle_variants"]

logger = logging.getLogger(__name__)

#: Model templates each thread keeps, the most recently used.
TEMPLATES_KEPT = 8


class _Templates(threading.local):
    """The templates of this thread: their PuLP handles are written to while a case solves."""

    def __init__(self) -> None:
        self.kept: OrderedDict[Structure, ModelTemplate | None] = OrderedDict()

    def get(self, case: Case, policy: Policy, key: Structure) -> ModelTemplate | None:
        """Return the template of ``case``'s structure (``None`` when it cannot be used)."""
        if key in self.kept:
            self.kept.move_to_end(key)
            return self.kept[key]
        template = ModelTemplate(case, policy)
        kept = template if template.usable else None
        if kept is None:
            logger.warning(
                "the model template of case %s does not reproduce its model: its variants "
                "are settled one by one",
                case.id,
            )
        self.kept[key] = kept
        while len(self.kept) > TEMPLATES_KEPT:
            self.kept.popitem(last=False)
        return kept


_TEMPLATES = _Templates()


def settle_variants(
    base: Case,
    variants: Iterable[Case],
    *,
    rule: str | None = None,
    scale: str | None = None,
    individually_rational: bool | None = None,
    envy_free: bool | None = None,
    proportional: bool | None = None,
    method: str | None = None,
    loss_tolerance: float | None = None,
    reasons: bool = True,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
    check: bool = True,
) -> Iterator[Settlement]:
    """Settle each variant of ``base`` as :func:`~mediation.settle` would, but faster.

    Variants of the same structure as ``base`` (the same parties, issues, interests, which
    parties set a risk capacity, constraints' names, senses and terms, and policy; any numbers)
    reuse one model template; any other variant is settled on its own,
    as :func:`~mediation.settle` settles it. Either way a variant's settlement does not
    depend on the variants before it.

    Parameters
    ----------
    base
        The case the variants vary; its structure is the one the template takes.
    variants
        The cases to settle, in order (consumed lazily).
    rule, scale, individually_rational, envy_free, proportional, method, loss_tolerance
        Override each variant's policy, as in :func:`~mediation.settle`.
    reasons
        Explain each allocation. With ``False`` a settlement keeps only the reasons that
        qualify its status (``not_pareto_optimal``, ``time_limit``,
        ``not_certified_optimal``, and those of a settlement without an allocation:
        ``infeasible`` with its diagnosis, ``no_positive_gain``, ``solver_failed``, ...); it
        leaves out the rule's own facts (``leximin_level``, Nash's prices, a procedure's
        steps), the binding red lines with their prices (``floor_binding``, ``cap_binding``,
        ``capacity_binding``, ``constraint_binding``, ``disagreement_binding``) and who got
        what (``issue_awarded``, ``issue_split``, ``risk_borne``, ``no_room``). Everything
        else (status, shares, amounts, parties' outcomes, fairness, diagnosis, provenance)
        is as with ``True``.
    solver, time_limit, check
        As in :func:`~mediation.settle`: ``time_limit`` is each variant's own, and with
        ``check`` every settlement passes the independent validator and, when optimal, its
        optimality check. The template path needs HiGHS; with another solver each variant is
        settled on its own.

    Returns
    -------
    Iterator[Settlement]
        One settlement per variant, in order.

    Raises
    ------
    CaseError
        When an override has a wrong value (raised by this call, before any variant).
    PolicyError
        When the solver is unknown (raised by this call), or when the rule cannot apply to a
        variant (raised when that variant is reached).

    Examples
    --------
    >>> from mediation import settle
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues: [{id: g, name: G, kind: resource, amount: 10}]
    ... interests: [{stakeholder: a, issue: g, value: 3}, {stakeholder: b, issue: g, value: 1}]
    ... ''')
    >>> def with_value(v):
    ...     changed = case.interests[1].model_copy(update={"value": v})
    ...     return case.model_copy(update={"interests": [case.interests[0], changed]})
    >>> variants = [with_value(v) for v in (1.0, 2.0, 5.0)]
    >>> [r.shares["g"]["a"] for r in settle_variants(case, variants, reasons=False)]
    [0.5, 0.5, 0.5]
    >>> settle(variants[2]).shares == next(settle_variants(case, variants[2:])).shares
    True
    """
    overrides = {
        "rule": rule,
        "scale": scale,
        "individually_rational": individually_rational,
        "envy_free": envy_free,
        "proportional": proportional,
        "method": method,
        "loss_tolerance": loss_tolerance,
    }
    policy = base.policy.with_overrides(overrides)
    backend = resolve_backend(solver)
    SolverOptions(solver=backend.name, time_limit=time_limit)  # the time limit is checked now
    return _settle_all(
        base, policy, overrides, variants, backend, time_limit, check=check, explain=reasons
    )


def _settle_all(
    base: Case,
    policy: Policy,
    overrides: dict[str, Any],
    variants: Iterable[Case],
    backend: Backend,
    time_limit: float,
    *,
    check: bool,
    explain: bool,
) -> Iterator[Settlement]:
    key = ModelTemplate.structure(base, policy)
    rules: dict[str, Rule] = {}
    for case in variants:
        started = time.perf_counter()
        timings = Timings()
        # a variant keeping the base's policy keeps its overrides too (validated once)
        own = policy if case.policy == base.policy else case.policy.with_overrides(overrides)
        the_rule = rules.get(own.rule) or rules.setdefault(own.rule, get_rule(own.rule))
        problems = the_rule.problems(case, own)
        if problems:
            raise PolicyError(problems)
        preparer: Preparer = prepare
        if isinstance(backend, HighsBackend) and ModelTemplate.structure(case, own) == key:
            template = _TEMPLATES.get(base, policy, key)
            if template is not None:
                preparer = _TemplatePreparer(template, backend)
        yield settle_with_policy(
            case,
            own,
            the_rule,
            backend,
            time_limit=time_limit,
            check=check,
            started=started,
            timings=timings,
            preparer=preparer,
            explain=explain,
        )


@dataclass
class _TemplatePreparer:
    """:func:`~mediation.allocation.prepare.prepare` from a template: no PuLP model to build."""

    template: ModelTemplate
    backend: HighsBackend

    def __call__(
        self,
        case: Case,
        policy: Policy,
        rule: Rule,
        *,
        options: SolverOptions,
        backend: Backend,
        timings: Timings,
    ) -> Prepared:
        """Index ``case``, compute its model's numbers, load them and find the ideal points."""
        template = self.template
        with timings.clock("build"):
            index = index_case(case)
            model, arrays = template.instance(case, index)
        with timings.clock("ideal"):
            session = self.backend.open_arrays(
                model.problem, model.variables, options, arrays=arrays, rows=template.rows
            )
            ideal = ideal_points(model, session, policy)
        return Prepared(case, policy, rule, options, index, model, session, ideal)
