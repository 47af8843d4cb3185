"""The stages of ``settle`` called on their own, as the what-if and sweep tools will call them."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import LP_RULES, load, utilities

from mediation import settle
from mediation.allocation.pareto import pareto_optimal
from mediation.allocation.pipeline import run_rule
from mediation.allocation.prepare import Unreachable, comparison, prepare
from mediation.allocation.refine import clean_shares, control_tiebreak
from mediation.allocation.timing import Timings
from mediation.backends import SolverOptions, resolve_backend
from mediation.fairness import measure
from mediation.rules import get_rule


@pytest.mark.parametrize("rule", LP_RULES)
def test_the_stages_alone_give_what_settle_gives(rule: str) -> None:
    case = load("community-hall-dispute")
    policy = case.policy.with_overrides({"rule": rule})
    the_rule = get_rule(rule)
    timings = Timings()
    prepared = prepare(
        case,
        policy,
        the_rule,
        options=SolverOptions(solver="highs"),
        backend=resolve_backend("highs"),
        timings=timings,
    )
    assert prepared.ideal is not None
    ctx = comparison(prepared)
    assert not isinstance(ctx, Unreachable)
    outcome = run_rule(the_rule, ctx, SolverOptions(solver="highs"))
    assert outcome.status.solved
    assert outcome.shares is not None
    broken = outcome.shares if outcome.tie_broken else control_tiebreak(ctx, outcome.shares)
    shares = clean_shares(ctx.index, broken)
    gains = ctx.index.utilities(shares)
    pareto = pareto_optimal(ctx.model, ctx.session, gains, ctx.rho)
    fairness, _ = measure(ctx.index, shares, prepared.ideal, pareto=pareto)
    assert set(timings) >= {"build", "ideal"}

    whole = settle(case, rule=rule)
    assert whole.status == "optimal"
    assert utilities(whole) == pytest.approx(
        dict(zip(ctx.index.parties, gains, strict=True)), rel=1e-7, abs=1e-9
    )
    assert whole.fairness is not None
    assert fairness.pareto_optimal == whole.fairness.pareto_optimal
    # risk sharing puts the least expected loss before the parties' utilities
    assert whole.fairness.pareto_optimal is (rule != "risk_sharing")
    assert fairness.envy_free == whole.fairness.envy_free
    assert fairness.min_normalized_gain == pytest.approx(whole.fairness.min_normalized_gain)
    assert np.all((shares >= ctx.index.lower) & (shares <= ctx.index.upper))
