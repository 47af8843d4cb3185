"""The robust split: one set of shares for many scenarios, checked without the engine.

Every split is held to each scenario's constraints restated from the scenario cases; its
worst case is compared with a brute-force LP over all the scenarios at once (scipy), with
each scenario's own maximin settlement, and, for a single scenario equal to the base case,
with the maximin settlement itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from conftest import interest, load, make_case, party, resource, risk, settle_checked
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from mediation.allocation.robust import MAX_BINDING, RobustSplit, robust_split
from mediation.case import Case
from mediation.errors import CaseError, PolicyError
from mediation.robustness import robust_json_schema

#: Divisible bundled cases with risks, capacities or extra constraints.
BUNDLED = ("community-hall-dispute", "ppp-risk-sharing", "river-cleanup-cogovernance")


def perturbed(case: Case, count: int, *, seed: int = 0, spread: float = 0.3) -> list[Case]:
    """Return ``count`` variants of ``case``, its numbers each scaled by ``1 ± spread``.

    The numbers are the values, amounts, no-deal points and capacities.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):

        def f() -> float:
            return float(1 + spread * (2 * rng.random() - 1))

        out.append(
            case.model_copy(
                update={
                    "interests": [
                        x.model_copy(update={"value": x.value * f()}) for x in case.interests
                    ],
                    "issues": [
                        i.model_copy(update={"amount": i.amount * f()}) for i in case.issues
                    ],
                    "stakeholders": [
                        s.model_copy(
                            update={
                                "disagreement": s.disagreement * f(),
                                "risk_capacity": None
                                if s.risk_capacity is None
                                else s.risk_capacity * f(),
                            }
                        )
                        for s in case.stakeholders
                    ],
                }
            )
        )
    return out


def utility(case: Case, shares: dict[str, dict[str, float]], pid: str) -> float:
    total = 0.0
    for x in case.interests_by_stakeholder[pid]:
        sign = -1.0 if case.issue_by_id[x.issue].kind == "risk" else 1.0
        total += sign * x.value * shares[x.issue][pid]
    return total


def assert_meets_every_scenario(split: RobustSplit, scenarios: Sequence[Case]) -> None:
    """Each scenario's hard constraints hold; the worst cases are as reported."""
    assert split.status in ("optimal", "feasible"), split
    shares = split.shares
    for s, case in enumerate(scenarios):
        for issue in case.issues:
            total = math.fsum(shares[issue.id].values())
            assert total == pytest.approx(1.0, abs=1e-12), (s, issue.id)
        for x in case.interests:
            share = shares[x.issue][x.stakeholder]
            assert x.floor - 1e-9 <= share <= x.cap + 1e-9, (s, x)
            if not case.issue_by_id[x.issue].divisible:
                assert share in (0.0, 1.0)
        for p in case.stakeholders:
            if p.risk_capacity is None:
                continue
            exposure = sum(
                case.issue_by_id[x.issue].amount * shares[x.issue][p.id]
                for x in case.interests_by_stakeholder[p.id]
                if case.issue_by_id[x.issue].kind == "risk"
            )
            assert exposure <= p.risk_capacity * (1 + 1e-7) + 1e-9, (s, p.id, exposure)
        for c in case.constraints:
            lhs = sum(t.coef * shares[str(t.issue)][str(t.stakeholder)] for t in c.terms)
            scale = max(abs(c.rhs), sum(abs(t.coef) for t in c.terms))
            if c.sense == ">=":
                assert lhs >= c.rhs - 1e-7 * scale, (s, c.name)
            elif c.sense == "<=":
                assert lhs <= c.rhs + 1e-7 * scale, (s, c.name)
            else:
                assert abs(lhs - c.rhs) <= 1e-7 * scale, (s, c.name)
    for p in scenarios[0].stakeholders:
        gains = [
            utility(case, shares, p.id) - case.stakeholder_by_id[p.id].disagreement
            for case in scenarios
        ]
        normalized = [g / split.rho[p.id] for g in gains]
        worst = split.worst[p.id]
        assert worst.normalized_gain == pytest.approx(min(normalized), rel=1e-9, abs=1e-12)
        assert normalized[worst.scenario] == pytest.approx(min(normalized), rel=1e-9, abs=1e-12)
        assert worst.gain == pytest.approx(gains[worst.scenario], rel=1e-9, abs=1e-12)
    compared = [p for p, w in split.worst.items() if w.compared]
    if compared:
        levels = [
            (utility(case, shares, p) - case.stakeholder_by_id[p].disagreement)
            / (split.rho[p] * case.stakeholder_by_id[p].weight)
            for case in scenarios
            for p in compared
        ]
        assert split.level == pytest.approx(min(levels), rel=1e-9, abs=1e-12)


def brute_force(
    scenarios: Sequence[Case], rho: dict[str, float], compared: list[str]
) -> tuple[float, float]:
    """Solve the robust LP with every scenario's rows at once (scipy).

    Return the best worst case, and the best average weighted sum of gains holding it.
    """
    base = scenarios[0]
    interests = base.interests
    n = len(interests)
    whole = np.array([not base.issue_by_id[x.issue].divisible for x in interests] + [False])
    low = np.max([[x.floor for x in c.interests] for c in scenarios], axis=0)
    high = np.min([[x.cap for x in c.interests] for c in scenarios], axis=0)
    rows: list[list[float]] = []
    lbs: list[float] = []
    ubs: list[float] = []
    for issue in base.issues:
        rows.append([1.0 if x.issue == issue.id else 0.0 for x in interests] + [0.0])
        lbs.append(1.0)
        ubs.append(1.0)
    position = {(x.stakeholder, x.issue): k for k, x in enumerate(interests)}
    objective = np.zeros(n + 1)
    for case in scenarios:
        sign = [-1.0 if case.issue_by_id[x.issue].kind == "risk" else 1.0 for x in case.interests]
        for p in case.stakeholders:
            row = [
                g * x.value if x.stakeholder == p.id else 0.0
                for g, x in zip(sign, case.interests, strict=True)
            ]
            objective[:n] += np.array(row) * p.weight / rho[p.id] / len(scenarios)
            if p.id in compared:
                rows.append([*row, -rho[p.id] * p.weight])
                lbs.append(p.disagreement)
                ubs.append(math.inf)
            if p.risk_capacity is not None:
                exposure = [
                    case.issue_by_id[x.issue].amount
                    if x.stakeholder == p.id and case.issue_by_id[x.issue].kind == "risk"
                    else 0.0
                    for x in case.interests
                ]
                rows.append([*exposure, 0.0])
                lbs.append(-math.inf)
                ubs.append(p.risk_capacity)
        for c in case.constraints:
            row = [0.0] * (n + 1)
            for t in c.terms:
                row[position[str(t.stakeholder), str(t.issue)]] += t.coef
            rows.append(row)
            lbs.append(c.rhs if c.sense in (">=", "==") else -math.inf)
            ubs.append(c.rhs if c.sense in ("<=", "==") else math.inf)
    bounds = Bounds([*low, -1e9], [*high, 1e9])
    constraints = LinearConstraint(np.array(rows), lbs, ubs)
    first = milp(
        np.r_[np.zeros(n), -1.0],
        constraints=constraints,
        bounds=bounds,
        integrality=whole.astype(int),
    )
    assert first.status == 0, first.message
    level = float(first.x[n])
    held = Bounds([*low, level - 1e-9], [*high, 1e9])
    second = milp(-objective, constraints=constraints, bounds=held, integrality=whole.astype(int))
    assert second.status == 0, second.message
    return level, float(-second.fun)


def weighted_sum(split: RobustSplit, scenarios: Sequence[Case]) -> float:
    return sum(
        p.weight / split.rho[p.id] * utility(case, split.shares, p.id)
        for case in scenarios
        for p in case.stakeholders
    ) / len(scenarios)


def assert_optimal(split: RobustSplit, scenarios: Sequence[Case]) -> None:
    assert split.status == "optimal", split.message
    assert_meets_every_scenario(split, scenarios)
    compared = [p for p, w in split.worst.items() if w.compared]
    level, best_sum = brute_force(scenarios, split.rho, compared)
    assert split.level == pytest.approx(level, abs=1e-7)
    assert weighted_sum(split, scenarios) == pytest.approx(best_sum, rel=1e-6, abs=1e-7)


# --- known answers ------------------------------------------------------------------------


def noise(amount: float, capacity_a: float = 20.0, disagreement_b: float = 0.0) -> Case:
    """Return a hall and a noise risk; b can bear at most 20 of the noise's cost."""
    return make_case(
        [
            party("a", risk_capacity=capacity_a),
            party("b", risk_capacity=20.0, disagreement=disagreement_b),
        ],
        [resource("hall"), risk("noise", amount)],
        [
            interest("a", "hall", 2.0),
            interest("b", "hall", 2.0),
            interest("a", "noise", 1.0),
            interest("b", "noise", 1.0),
        ],
        policy={"individually_rational": False},
    )


def test_a_capacity_binding_in_one_scenario_only_shapes_the_split() -> None:
    # the noise costs 10 or 30; in the second scenario a can bear at most 12 of 30 (40%) and
    # b at most 20 (two thirds): the split must keep a's share of the noise within [1/3, 0.4]
    scenarios = [noise(10.0, 12.0), noise(30.0, 12.0)]
    split = robust_split(noise(10.0, 12.0), scenarios)
    assert_optimal(split, scenarios)
    assert 1 / 3 - 1e-9 <= split.shares["noise"]["a"] <= 0.4 + 1e-9
    # the gains add up to 1 (2 for the hall, less 1 for the noise) and each party could get 2
    # (all of the hall, none of the noise): each reaches a quarter of its possible gain
    assert split.level == pytest.approx(0.25)
    assert {(r.kind, r.scenario) for r in split.binding} >= {("worst_gain", 0)}
    assert split.rows_used <= split.rows_total == 8


def test_a_higher_no_deal_point_in_one_scenario_is_that_partys_worst_case() -> None:
    scenarios = [noise(10.0), noise(10.0, disagreement_b=0.3)]
    split = robust_split(noise(10.0), scenarios)
    assert_optimal(split, scenarios)
    assert split.worst["b"].scenario == 1
    # the gains add up to 1 less b's no-deal point: u_a = u_b − 0.3 = 0.35, each of 2 possible
    assert split.level == pytest.approx(0.175)
    assert split.worst["a"].normalized_gain == pytest.approx(0.175)
    assert split.worst["b"].gain == pytest.approx(0.35)


def test_one_scenario_equal_to_the_base_case_is_the_maximin_settlement() -> None:
    for stem in BUNDLED:
        case = load(stem)
        split = robust_split(case, [case])
        maximin = settle_checked(case, rule="maximin")
        for p, outcome in maximin.parties.items():
            assert outcome.utility is not None
            span = abs(outcome.ideal - outcome.disagreement) if outcome.ideal is not None else 1
            assert utility(case, split.shares, p) == pytest.approx(outcome.utility, abs=1e-6 * span)
            assert split.rho[p] == pytest.approx(span, rel=1e-9)
        assert split.level == pytest.approx(maximin.fairness.min_normalized_gain, abs=1e-7)  # type: ignore[union-attr]


@pytest.mark.parametrize("stem", BUNDLED)
def test_bundled_cases_over_perturbed_scenarios_match_the_brute_force_lp(stem: str) -> None:
    case = load(stem)
    scenarios = perturbed(case, 40, seed=1, spread=0.1)
    split = robust_split(case, scenarios)
    assert_optimal(split, scenarios)
    assert split.rows_used < split.rows_total
    assert len(split.binding) <= MAX_BINDING
    used = {r.scenario for r in split.binding}
    assert used <= set(range(len(scenarios)))


def test_weights_and_the_bounds_of_extra_constraints_may_vary_too() -> None:
    case = load("community-hall-dispute")
    scenarios = []
    for k, (rhs, weight) in enumerate([(0.55, 1.0), (0.6, 2.0), (0.7, 1.0), (0.65, 0.5)]):
        (varied,) = perturbed(case, 1, seed=k, spread=0.1)
        constraints = [
            c.model_copy(update={"rhs": rhs}) if c.name == "public-interest-first" else c
            for c in varied.constraints
        ]
        stakeholders = [
            s.model_copy(update={"weight": weight}) if s.id == "juweihui" else s
            for s in varied.stakeholders
        ]
        scenarios.append(
            varied.model_copy(update={"constraints": constraints, "stakeholders": stakeholders})
        )
    split = robust_split(case, scenarios)
    assert_optimal(split, scenarios)
    daytime = split.shares["hall-daytime"]
    assert daytime["xiyanghong"] + daytime["juweihui"] >= 0.7 - 1e-9  # the tightest scenario's


def test_many_scenarios_need_few_rows() -> None:
    case = load("community-hall-dispute")
    scenarios = perturbed(case, 3_000, seed=2, spread=0.3)
    split = robust_split(case, scenarios)
    assert_meets_every_scenario(split, scenarios)
    assert split.status == "optimal"
    assert split.rows_total == 3_000 * 11  # 5 gain rows, 4 capacities, 2 constraints each
    assert split.rows_used < 100
    # the brute-force LP over all 33,000 rows agrees
    compared = [p for p, w in split.worst.items() if w.compared]
    level, best = brute_force(scenarios, split.rho, compared)
    assert split.level == pytest.approx(level, abs=1e-7)
    assert weighted_sum(split, scenarios) == pytest.approx(best, rel=1e-6)


# --- infeasible scenarios -----------------------------------------------------------------


def feasible(
    scenarios: Sequence[Case], drop: set[int], members: list[tuple[int, str, str]]
) -> bool:
    """Whether the members of a conflict but those in ``drop`` can hold together (scipy)."""
    base = scenarios[0]
    interests = base.interests
    n = len(interests)
    low, high = np.zeros(n), np.ones(n)
    rows, lbs, ubs = [], [], []
    for issue in base.issues:
        rows.append([1.0 if x.issue == issue.id else 0.0 for x in interests])
        lbs.append(1.0)
        ubs.append(1.0)
    for k, (s, kind, who) in enumerate(members):
        if k in drop:
            continue
        case = scenarios[s]
        if kind == "capacity":
            p = case.stakeholder_by_id[who]
            rows.append(
                [
                    case.issue_by_id[x.issue].amount
                    if x.stakeholder == who and case.issue_by_id[x.issue].kind == "risk"
                    else 0.0
                    for x in case.interests
                ]
            )
            lbs.append(-math.inf)
            assert p.risk_capacity is not None
            ubs.append(p.risk_capacity)
        else:
            pid, iid = who.split("/")
            k_ = next(j for j, x in enumerate(interests) if (x.stakeholder, x.issue) == (pid, iid))
            x = case.interests[k_]
            if kind == "floor":
                low[k_] = max(low[k_], x.floor)
            else:
                high[k_] = min(high[k_], x.cap)
    if np.any(low > high):
        return False
    result = milp(
        np.zeros(n),
        constraints=LinearConstraint(np.array(rows), lbs, ubs),
        bounds=Bounds(low, high),
    )
    return bool(result.status == 0)


def test_capacities_no_split_can_meet_name_their_scenarios() -> None:
    # in scenario 1 the noise costs 50 and a and b can bear 20 each: nobody can carry the rest
    scenarios = [noise(10.0), noise(50.0)]
    split = robust_split(noise(10.0), scenarios)
    assert split.status == "infeasible"
    assert split.shares == {}
    assert split.level is None
    assert split.infeasibility is not None
    conflict = split.infeasibility.conflict
    assert split.infeasibility.irreducible
    assert {(c.scenario, c.kind, c.stakeholder) for c in conflict} == {
        (1, "capacity", "a"),
        (1, "capacity", "b"),
    }
    assert {c.bound for c in conflict} == {20.0}


def test_a_floor_of_one_scenario_above_a_cap_of_another_is_named() -> None:
    def case(floor: float | None, cap: float | None) -> Case:
        share = {} if floor is None else {"min_share": floor}
        share |= {} if cap is None else {"max_share": cap}
        return make_case(
            [party("a"), party("b")],
            [resource("g")],
            [interest("a", "g", 1.0, **share), interest("b", "g", 1.0)],
        )

    scenarios = [case(None, None), case(0.6, None), case(None, 0.4)]
    split = robust_split(scenarios[0], scenarios)
    assert split.status == "infeasible"
    assert split.infeasibility is not None
    assert [
        (c.scenario, c.kind, c.stakeholder, c.issue, c.bound) for c in split.infeasibility.conflict
    ] == [
        (1, "floor", "a", "g", 0.6),
        (2, "cap", "a", "g", 0.4),
    ]


def test_the_conflict_of_perturbed_scenarios_is_irreducible() -> None:
    case = load("ppp-risk-sharing")
    scenarios = perturbed(case, 400, seed=0, spread=0.3)
    split = robust_split(case, scenarios)
    assert split.status == "infeasible", split.status
    assert split.infeasibility is not None
    members: list[tuple[int, str, str]] = [
        (
            c.scenario,
            c.kind,
            str(c.stakeholder) if c.kind == "capacity" else f"{c.stakeholder}/{c.issue}",
        )
        for c in split.infeasibility.conflict
    ]
    assert members
    assert all(c.kind in ("capacity", "floor", "cap") for c in split.infeasibility.conflict)
    assert not feasible(scenarios, set(), members)  # together they conflict
    for k in range(len(members)):  # and each is needed
        assert feasible(scenarios, {k}, members), members[k]


# --- bad input ----------------------------------------------------------------------------


def test_scenarios_must_share_the_base_cases_structure() -> None:
    base = noise(10.0)
    other = make_case(
        [party("a"), party("c")],
        [resource("hall"), risk("noise")],
        [interest("a", "hall", 1.0), interest("c", "noise", 1.0)],
    )
    with pytest.raises(CaseError) as caught:
        robust_split(base, [base, other])
    paths = [p.path for p in caught.value.problems]
    assert paths == ["scenarios[1].stakeholders", "scenarios[1].interests"]
    assert "only numbers may differ" in caught.value.problems[0].message
    with pytest.raises(CaseError, match="no scenario given"):
        robust_split(base, [])
    with pytest.raises(CaseError, match=r"scenarios\[0\]: expected a validated Case, got dict"):
        robust_split(base, [{"id": "x"}])  # type: ignore[list-item]
    with pytest.raises(PolicyError, match="unknown solver"):
        robust_split(base, [base], solver="gurobi")
    with pytest.raises(PolicyError, match="time_limit"):
        robust_split(base, [base], time_limit=0)


def test_a_split_stopped_by_the_time_limit_is_never_optimal() -> None:
    scenarios = [noise(10.0), noise(30.0)]
    split = robust_split(noise(10.0), scenarios, time_limit=1e-6)
    assert split.status in ("feasible", "error")
    if split.status == "feasible":
        assert_meets_every_scenario(split, scenarios)
    else:
        assert split.message
        assert "time limit" in split.message


def test_the_contract_round_trips() -> None:
    scenarios = perturbed(load("community-hall-dispute"), 20, seed=3)
    split = robust_split(scenarios[0], scenarios)
    assert RobustSplit.model_validate_json(split.model_dump_json()) == split
    assert set(robust_json_schema()["properties"]) == set(RobustSplit.model_fields)


# --- properties ---------------------------------------------------------------------------


@st.composite
def scenario_sets(draw: st.DrawFn) -> tuple[Case, list[Case]]:
    """Return a small random case (raw scale, no individual rationality) and its variants."""
    n = draw(st.integers(2, 3))
    pids = [f"p{k}" for k in range(n)]
    issues = [resource("r0", 1.0)] + [
        (resource if draw(st.booleans()) else risk)(f"i{k}", 10.0)
        for k in range(draw(st.integers(0, 2)))
    ]
    capacities = [draw(st.sampled_from((None, 6.0, 12.0))) for _ in pids]
    stakes = [
        interest(p, i["id"], draw(st.floats(0.5, 5.0)))
        for p in pids
        for i in issues
        if i["id"] == "r0" or draw(st.booleans())
    ]
    try:
        base = make_case(
            [party(p, risk_capacity=c) for p, c in zip(pids, capacities, strict=True)],
            issues,
            stakes,
            policy={"scale": "raw", "individually_rational": False},
        )
    except CaseError:
        reject()
    count = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    return base, perturbed(base, count, seed=seed, spread=0.5)


@settings(max_examples=30)
@given(data=scenario_sets())
def test_the_robust_worst_case_is_no_better_than_any_scenarios_own_optimum(
    data: tuple[Case, list[Case]],
) -> None:
    base, scenarios = data
    split = robust_split(base, scenarios)
    if split.status == "infeasible":
        reject()
    assert_optimal(split, scenarios)
    assert split.level is not None
    for case in scenarios:
        own = settle_checked(case, rule="maximin", allow_error=True)
        if own.status != "optimal":
            continue
        fair = own.fairness
        assert fair is not None
        # raw scale, no individual rationality: maximin's level is the least gain ÷ weight
        levels = [
            (o.utility - o.disagreement) / case.stakeholder_by_id[p].weight
            for p, o in own.parties.items()
            if o.utility is not None
        ]
        assert split.level <= min(levels) + 1e-7
        alone = robust_split(base, [case])
        assert split.level <= alone.level + 1e-7  # type: ignore[operator]


@st.composite
def resource_cases(draw: st.DrawFn) -> Case:
    """Return random divisible resources of positive values: every party has room to gain."""
    n = draw(st.integers(2, 4))
    pids = [f"p{k}" for k in range(n)]
    issues = [resource(f"i{k}", 1.0) for k in range(draw(st.integers(1, 3)))]
    stakes = [interest(p, i["id"], draw(st.floats(0.1, 10.0))) for p in pids for i in issues]
    return make_case(
        [party(p, weight=draw(st.sampled_from((1.0, 2.0)))) for p in pids], issues, stakes
    )


@settings(max_examples=30)
@given(case=resource_cases())
def test_a_single_scenario_equal_to_the_base_case_gives_the_maximin_utilities(case: Case) -> None:
    split = robust_split(case, [case])
    maximin = settle_checked(case, rule="maximin")
    assert split.status == "optimal"
    for p, outcome in maximin.parties.items():
        assert outcome.utility is not None
        assert outcome.ideal is not None
        span = outcome.ideal - outcome.disagreement
        assert utility(case, split.shares, p) == pytest.approx(outcome.utility, abs=1e-6 * span)
