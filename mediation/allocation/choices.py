"""What each alternative of a choice would have given: the case settled with it imposed.

A choice's options are exclusive (two lift schemes); the rule picks one together with the
shares, payments and contributions. To explain the pick, each other option is imposed (a
constraint "this option is chosen") and the case settled again under the same policy and
solver: the settlement then shows, option by option, each party's utility, so that a
mediator can say what the chosen scheme gives each household beside what the other would
have.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from ..backends import Backend
from ..case import Case, LinearConstraint, Policy, Term
from ..rules import Rule
from ..settlement import Alternative, ChoiceMade, Settlement
from .prepare import Prepared, prepare
from .timing import Timings

__all__ = ["MAX_ALTERNATIVES", "with_alternatives"]

#: The most options (over all choices) settled one by one to explain a choice: beyond it
#: the settlement says only which option was chosen.
MAX_ALTERNATIVES = 24


def with_alternatives(
    case: Case,
    policy: Policy,
    rule: Rule,
    backend: Backend,
    result: Settlement,
    *,
    deadline: float,
) -> Settlement:
    """Return ``result`` with each choice's alternatives settled (when there are few enough).

    The chosen option's entry is the settlement's own utilities; every other option is
    settled with it imposed, under the same policy, solver and what is left of the time
    limit (shared equally). An option whose settlement fails or runs out of time is
    reported with that status and no utilities.
    """
    from .pipeline import settle_with_policy  # the pipeline calls this module

    options = sum(len(c.options) - 1 for c in case.choices)
    if not case.choices or options > MAX_ALTERNATIVES or not result.choices:
        return result
    own = Alternative(
        status=result.status,
        utilities={p: outcome.utility for p, outcome in result.parties.items()},
    )
    # every alternative is measured on the case's own yardstick: the ideal points over all
    # the options (an option imposed has lower ideals, which would flatter its gains)
    yardstick = np.array(
        [
            -np.inf if (o := result.parties.get(p)) is None or o.ideal is None else o.ideal
            for p in (s.id for s in case.stakeholders)
        ]
    )

    def preparer(case: Case, policy: Policy, rule: Rule, **keywords: Any) -> Prepared:
        prepared = prepare(case, policy, rule, **keywords)
        if prepared.ideal is None:
            return prepared
        return dataclasses.replace(prepared, ideal=np.maximum(yardstick, prepared.ideal))

    made: dict[str, ChoiceMade] = {}
    left = options
    for choice in case.choices:
        chosen = result.choices[choice.id]
        alternatives: dict[str, Alternative] = {}
        for option in choice.options:
            if option.id == chosen.chosen:
                alternatives[option.id] = own
                continue
            seconds = max((deadline - time.perf_counter()) / max(left, 1), 0.05)
            left -= 1
            imposed = _imposed(case, option.id)
            started = time.perf_counter()
            other = settle_with_policy(
                imposed,
                policy,
                rule,
                backend,
                time_limit=seconds,
                check=True,
                started=started,
                timings=Timings(),
                explain=False,
                preparer=preparer,
            )
            if other.diagnosis is not None and other.diagnosis.code == "no_positive_gain":
                # Nash needs every party able to gain: one that gains nothing under this
                # option is held at its no-deal point on the option's own yardstick instead
                other = settle_with_policy(
                    imposed,
                    policy,
                    rule,
                    backend,
                    time_limit=max(deadline - time.perf_counter(), 0.05),
                    check=True,
                    started=time.perf_counter(),
                    timings=Timings(),
                    explain=False,
                )
            alternatives[option.id] = Alternative(
                status=other.status,
                utilities={p: o.utility for p, o in other.parties.items()}
                if other.status in ("optimal", "feasible")
                else {},
            )
        made[choice.id] = chosen.model_copy(update={"alternatives": alternatives})
    return result.model_copy(update={"choices": made})


def _imposed(case: Case, option: str) -> Case:
    """Return the case with ``option`` imposed: a constraint that it is chosen."""
    names = {c.name for c in case.constraints}
    k = 0
    while (name := f"imposed-option-{k}") in names:  # a slug of its own (ids may be 64 long)
        k += 1
    row = LinearConstraint(name=name, terms=[Term(option=option, coef=1.0)], sense="==", rhs=1.0)
    return case.model_copy(update={"constraints": [*case.constraints, row]})
