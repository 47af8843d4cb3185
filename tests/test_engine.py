"""The settlement engine: rules, solvers, reasons, diagnoses, policies and the time limit.

Every rule runs on every bundled case; the reasons come with their prices, and infeasible cases
are diagnosed.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from backends import ScriptedBackend, fails_after, only_first_stopped, stopped, stopped_from
from conftest import (
    LP_RULES,
    RULES,
    interest,
    load,
    make_case,
    nash_welfare,
    normalized,
    party,
    reasons,
    resource,
    risk,
    settle_checked,
    utilities,
)

from mediation import settle
from mediation.case import Case, apply_concessions, dump_case, load_case
from mediation.errors import PolicyError
from mediation.rules import policy_problems
from mediation.settlement import Settlement

INFEASIBLE = {"infeasible-red-lines"}


def certified_gap(result: Settlement) -> float:
    (certificate,) = reasons(result, "nash_certificate")
    gap: float = certificate.gap
    return gap


# --- every rule on every bundled case ---------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_on_every_bundled_case(case_path: Path, rule: str) -> None:
    case = load_case(case_path.read_bytes())
    problems = policy_problems(case, case.policy.with_overrides({"rule": rule}))
    if problems:
        with pytest.raises(PolicyError) as error:
            settle(case, rule=rule)
        assert error.value.problems == tuple(problems)
        return
    result = settle_checked(case, rule=rule)
    assert result.rule == rule
    assert result.case_id == case.id
    if case.id in INFEASIBLE:
        assert result.status == "infeasible"
        assert result.diagnosis is not None
        assert result.shares == {}
        return
    assert result.status == "optimal"
    assert result.fairness is not None
    assert set(result.shares) == {i.id for i in case.issues}
    assert set(result.parties) == set(case.compared)  # funds and observers are apart
    assert result.funds == case.funds
    assert result.observers == case.observers
    if rule in LP_RULES:
        # Pareto optimality is checked, and reported when it fails
        assert result.fairness.pareto_optimal is not None
        assert bool(reasons(result, "not_pareto_optimal")) == (not result.fairness.pareto_optimal)


def test_bundled_cases_under_their_own_policy(case_path: Path) -> None:
    case = load_case(case_path.read_bytes())
    result = settle_checked(case)
    assert result.rule == case.policy.rule
    assert result.provenance.policy == case.policy.model_dump()
    assert result.status == ("infeasible" if case.id in INFEASIBLE else "optimal")


def test_the_balancing_rules_are_pareto_optimal_on_the_bundled_cases() -> None:
    # risk sharing puts the least expected loss first: see test_risk_sharing
    for stem in ("community-hall-dispute", "elderly-care-purchase", "ppp-risk-sharing"):
        for rule in (r for r in LP_RULES if r != "risk_sharing"):
            result = settle_checked(load(stem), rule=rule)
            assert result.fairness is not None
            assert result.fairness.pareto_optimal is True, (stem, rule)


def test_settlement_round_trips_through_json() -> None:
    result = settle_checked(load("community-hall-dispute"))
    assert Settlement.model_validate_json(result.model_dump_json()) == result


def test_input_digest_is_the_same_for_yaml_and_json() -> None:
    case = load("youth-education-project")
    again = load_case(dump_case(case, format="json"), format="json")
    first, second = settle_checked(case), settle_checked(again)
    assert first.provenance.input_sha256 == second.provenance.input_sha256
    raw = settle_checked(case, rule="leximin", scale="raw")
    assert raw.provenance.input_sha256 != first.provenance.input_sha256


# --- CBC agrees with HiGHS --------------------------------------------------------------------


@pytest.mark.parametrize("rule", LP_RULES)
def test_cbc_agrees_with_highs(case_path: Path, rule: str) -> None:
    case = load_case(case_path.read_bytes())
    if policy_problems(case, case.policy.with_overrides({"rule": rule})):
        pytest.skip(f"rule {rule} does not apply to {case.id} (see test_every_rule_...)")
    highs = settle_checked(case, rule=rule)
    cbc = settle_checked(case, rule=rule, solver="cbc")
    assert cbc.provenance.solver.name == "cbc"
    assert cbc.status == highs.status
    if highs.status == "infeasible":
        assert highs.diagnosis is not None
        assert cbc.diagnosis is not None
        assert len(cbc.diagnosis.conflicts) == len(highs.diagnosis.conflicts)
        # the cheapest joint concession is an LP optimum: its size is the same
        size = [sum(abs(c.change) for c in d.concessions) for d in (highs.diagnosis, cbc.diagnosis)]
        assert size[0] == pytest.approx(size[1], rel=1e-6)
        return
    assert highs.fairness is not None
    assert cbc.fairness is not None
    h, c = normalized(highs), normalized(cbc)
    if rule == "leximin":  # the leximin vector is unique
        assert c == pytest.approx(h, abs=1e-6)
    elif rule in ("maximin", "kalai_smorodinsky"):  # the minimum, then the sum, are unique
        assert cbc.fairness.min_normalized_gain == pytest.approx(
            highs.fairness.min_normalized_gain, abs=1e-6
        )
        weight = {s.id: s.weight for s in case.stakeholders}
        total = [sum(weight[p] * g for p, g in r.items() if g is not None) for r in (h, c)]
        assert total[0] == pytest.approx(total[1], rel=1e-6)
    elif rule == "risk_sharing":  # the least expected loss and the largest burden are unique
        for code, field in (("least_expected_loss", "total"), ("burden_level", "level")):
            found = [[getattr(x, field) for x in reasons(r, code)[:1]] for r in (highs, cbc)]
            assert found[1] == pytest.approx(found[0], rel=1e-6, abs=1e-9)
    elif rule == "utilitarian":  # the optimum's value is unique
        (vh,), (vc,) = reasons(highs, "weighted_sum"), reasons(cbc, "weighted_sum")
        assert vc.value == pytest.approx(vh.value, rel=1e-6, abs=1e-9)
    else:  # nash: both within their certified gaps of the one optimum
        slack = sum(s.weight for s in case.stakeholders) * (
            math.log1p(certified_gap(highs)) + math.log1p(certified_gap(cbc))
        )
        assert abs(nash_welfare(case, highs) - nash_welfare(case, cbc)) <= slack + 1e-12
        assert c == pytest.approx(h, abs=2e-3)


@pytest.mark.parametrize("rule", LP_RULES)
def test_cbc_when_nobody_can_gain(rule: str) -> None:
    # leximin and Nash then solve with an empty objective: PuLP writes it with a dummy column
    # that CBC refused in the next solve's file
    case = make_case(
        [party("a"), party("b")], [resource("g")], [interest("a", "g", 0), interest("b", "g", 0)]
    )
    result = settle_checked(case, rule=rule, solver="cbc")
    assert result.status == "optimal"


# --- reasons: what binds, at what price ------------------------------------------------------


def floor_case(floor: float) -> Case:
    # a's floor on g binds: the egalitarian rules would give b and c more of g. b's and c's
    # caps (0.4) are below 1 - floor, so no party's ideal depends on the floor and the
    # normalized scale stays the same when the floor moves.
    return make_case(
        [party("a"), party("b"), party("c")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 1, min_share=floor),
            interest("b", "g", 1, max_share=0.4),
            interest("c", "g", 2, max_share=0.4),
            interest("a", "h", 10),
        ],
    )


def capacity_case(capacity: float) -> Case:
    # a, rich in h, would bear all of the risk under the egalitarian rules; its capacity
    # (yuan of exposure) stops it. b and c can take any part of the risk, so no ideal
    # depends on a's capacity as long as individual rationality does not bound the ideals
    # (with it, b's best needs c to bear the rest of r, which c cannot while it has nothing).
    return make_case(
        [party("a", risk_capacity=capacity), party("b"), party("c")],
        [resource("g"), resource("h"), risk("r", 1000, unit="yuan")],
        [
            interest("b", "g", 1),
            interest("c", "g", 2),
            interest("a", "h", 10),
            interest("a", "r", 4),
            interest("b", "r", 1),
            interest("c", "r", 1),
        ],
    )


def objective(case: Case, result: Settlement, name: str) -> float:
    """Return the rule's objective, recomputed from the settlement."""
    gains = [g for g in normalized(result).values() if g is not None]
    if name in ("min_gain", "min_normalized_gain"):
        return min(gains)
    if name == "weighted_sum":
        return sum(gains)
    assert name == "nash_welfare"
    return nash_welfare(case, result)


@pytest.mark.parametrize(
    ("rule", "step", "rel"),
    [
        ("maximin", 0.01, 1e-6),
        ("leximin", 0.01, 1e-6),
        ("kalai_smorodinsky", 0.01, 1e-6),
        ("utilitarian", 0.01, 1e-6),
        # the Nash welfare is curved: a small step, and the certified gap, limit the match
        ("nash", 0.001, 2e-2),
    ],
)
def test_a_binding_floor_is_reported_with_its_price(rule: str, step: float, rel: float) -> None:
    base = settle_checked(floor_case(0.5), rule=rule)
    (floor,) = reasons(base, "floor_binding")
    assert (floor.stakeholder, floor.issue, floor.bound) == ("a", "g", 0.5)
    assert floor.dual is not None
    assert floor.dual > 0
    relaxed = settle_checked(floor_case(0.5 - step), rule=rule)
    assert [p.ideal for p in relaxed.parties.values()] == [p.ideal for p in base.parties.values()]
    name = floor.objective
    change = objective(floor_case(0.5), relaxed, name) - objective(floor_case(0.5), base, name)
    # the dual is per whole share given way
    assert change / step == pytest.approx(floor.dual, rel=rel)


def test_the_worst_off_gain_rises_by_the_floor_price() -> None:
    # by hand: b and c share 1 - floor within their caps 0.4, b's and c's normalized gains
    # are x_b / 0.4 and x_c / 0.4, so each share given way by a raises the level by 1 / 0.8
    base = settle_checked(floor_case(0.5), rule="maximin")
    (floor,) = reasons(base, "floor_binding")
    assert floor.dual == pytest.approx(1.25)
    assert base.fairness is not None
    assert base.fairness.min_normalized_gain == pytest.approx(0.625)


@pytest.mark.parametrize("rule", ["maximin", "leximin", "kalai_smorodinsky", "utilitarian"])
def test_a_binding_capacity_is_reported_with_its_price(rule: str) -> None:
    base = settle_checked(capacity_case(500), rule=rule, individually_rational=False)
    (capacity,) = reasons(base, "capacity_binding")
    assert (capacity.stakeholder, capacity.bound, capacity.unit) == ("a", 500.0, "yuan")
    assert capacity.dual is not None
    assert capacity.dual > 0
    relaxed = settle_checked(capacity_case(510), rule=rule, individually_rational=False)
    assert [p.ideal for p in relaxed.parties.values()] == [p.ideal for p in base.parties.values()]
    name = capacity.objective
    change = objective(capacity_case(500), relaxed, name) - objective(
        capacity_case(500), base, name
    )
    assert change / 10 == pytest.approx(capacity.dual, rel=1e-6)


def test_capacity_price_by_hand() -> None:
    # maximin: a bears 0.5 of r (its capacity) and c the rest (a unit of risk costs c half a
    # unit of normalized gain, b a whole one). g is split so that b (ideal 1) and c (ideal 2)
    # are level: x = (2 (1 - x) - 0.5) / 2, x = 3/8. One more yuan of capacity takes 1/1000
    # of r off c: x = (1.5 + 1/1000) / 4, the level rises by 1/4000.
    base = settle_checked(capacity_case(500), rule="maximin", individually_rational=False)
    assert base.fairness is not None
    assert base.fairness.min_normalized_gain == pytest.approx(0.375)
    (capacity,) = reasons(base, "capacity_binding")
    assert capacity.dual == pytest.approx(1 / 4000)


def test_individual_rationality_binds_with_its_price() -> None:
    # utilitarian on raw points: b values g ten times more, but a insists on 0.5 points, i.e.
    # half of g; each point a gives up moves a whole g from a to b: +10 - 1 = 9
    def case(d: float) -> Case:
        return make_case(
            [party("a", disagreement=d), party("b")],
            [resource("g")],
            [interest("a", "g", 1), interest("b", "g", 10)],
        )

    base = settle_checked(case(0.5), rule="utilitarian", scale="raw")
    assert base.shares["g"] == pytest.approx({"a": 0.5, "b": 0.5})
    (bind,) = reasons(base, "disagreement_binding")
    assert bind.stakeholder == "a"
    assert bind.dual == pytest.approx(9.0)
    relaxed = settle_checked(case(0.4), rule="utilitarian", scale="raw")
    gained = sum(utilities(relaxed).values()) - sum(utilities(base).values())
    assert gained / 0.1 == pytest.approx(bind.dual)


def test_individually_rational_false_lets_a_party_fall_below_its_disagreement_point() -> None:
    case = make_case(
        [party("a", disagreement=0.5), party("b")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 10)],
    )
    result = settle_checked(case, rule="utilitarian", scale="raw", individually_rational=False)
    assert result.provenance.policy["individually_rational"] is False
    assert result.shares["g"] == {"a": 0.0, "b": 1.0}
    assert utilities(result)["a"] < case.stakeholders[0].disagreement
    assert reasons(result, "disagreement_binding") == []
    held = settle_checked(case, rule="utilitarian", scale="raw")
    assert utilities(held)["a"] == pytest.approx(0.5)


@pytest.mark.parametrize("rule", LP_RULES)
def test_individual_rationality_never_leaves_a_party_below_no_deal(rule: str) -> None:
    for stem in ("community-hall-dispute", "ppp-risk-sharing", "river-cleanup-cogovernance"):
        case = load(stem)
        result = settle_checked(case, rule=rule)
        for s in case.stakeholders:
            assert utilities(result)[s.id] >= s.disagreement - 1e-7 * max(1.0, abs(s.disagreement))


def test_a_binding_extra_constraint_is_reported() -> None:
    result = settle_checked(load("community-hall-dispute"), rule="utilitarian")
    names = {r.constraint for r in reasons(result, "constraint_binding")}
    assert names
    for r in reasons(result, "constraint_binding"):
        assert r.dual is not None
        assert r.dual >= 0


# --- the diagnosis of infeasible cases ---------------------------------------------------------


@pytest.fixture(params=["highs", "cbc"])
def red_lines(request: pytest.FixtureRequest) -> tuple[Case, Settlement, str]:
    case = load("infeasible-red-lines")
    solver: str = request.param
    return case, settle_checked(case, solver=solver), solver


def test_diagnosis_finds_the_two_independent_conflicts(
    red_lines: tuple[Case, Settlement, str],
) -> None:
    _, result, _ = red_lines
    assert result.status == "infeasible"
    assert reasons(result, "infeasible")
    diagnosis = result.diagnosis
    assert diagnosis is not None
    assert diagnosis.code == "red_lines_conflict"
    assert len(diagnosis.conflicts) == 2
    risk_conflict, subsidy_conflict = sorted(
        diagnosis.conflicts, key=lambda c: any(m.kind == "floor" for m in c.constraints)
    )
    # 1. the food-safety risk: the caps (or the capacity standing for huiling's cap) leave
    #    10% of it to nobody
    assert {m.kind for m in risk_conflict.constraints} <= {"cap", "capacity"}
    assert {m.stakeholder for m in risk_conflict.constraints} == {"jiedao", "meishi", "huiling"}
    # 2. the subsidy floors of meishi and huiling against the 60% policy constraint
    assert {(m.kind, m.stakeholder, m.constraint) for m in subsidy_conflict.constraints} == {
        ("floor", "meishi", None),
        ("floor", "huiling", None),
        ("constraint", None, "direct-subsidy-floor"),
    }
    for conflict in diagnosis.conflicts:
        assert conflict.irreducible
        assert conflict.alternatives
    # the cheapest joint concession: 0.1 of the risk's caps and 0.05 of the subsidy, which
    # the case states as amount floors (format 1.1): 0.05 of 300,000 元 is 15,000 元
    shares = [c for c in diagnosis.concessions if c.unit == "share"]
    money = [c for c in diagnosis.concessions if c.unit == "元/年"]
    assert len(shares) + len(money) == len(diagnosis.concessions)
    assert sum(abs(c.change) for c in shares) == pytest.approx(0.1)
    assert sum(abs(c.change) for c in money) == pytest.approx(15000.0)
    assert all(c.basis == "negotiable" for c in diagnosis.concessions)  # the policies hold
    for c in diagnosis.concessions:
        assert c.change == pytest.approx(c.proposed - c.current)


@pytest.mark.parametrize("rule", LP_RULES)
def test_the_joint_concessions_make_the_case_feasible(
    red_lines: tuple[Case, Settlement, str], rule: str
) -> None:
    case, result, solver = red_lines
    assert result.diagnosis is not None
    fixed = apply_concessions(case, result.diagnosis.concessions)
    settled = settle_checked(fixed, rule=rule, solver=solver)
    assert settled.status == "optimal"


def test_one_alternative_per_conflict_makes_the_case_feasible(
    red_lines: tuple[Case, Settlement, str],
) -> None:
    case, result, solver = red_lines
    assert result.diagnosis is not None
    conflicts = result.diagnosis.conflicts
    for choice in itertools.product(*(c.alternatives for c in conflicts)):
        assert (
            settle_checked(apply_concessions(case, list(choice)), solver=solver).status == "optimal"
        )
    # resolving one conflict alone leaves the other
    for k, conflict in enumerate(conflicts):
        for alternative in conflict.alternatives:
            left = settle_checked(apply_concessions(case, [alternative]), solver=solver)
            assert left.status == "infeasible"
            assert left.diagnosis is not None
            assert [
                {(m.kind, m.stakeholder, m.issue, m.constraint) for m in c.constraints}
                for c in left.diagnosis.conflicts
            ] == [
                {
                    (m.kind, m.stakeholder, m.issue, m.constraint)
                    for m in conflicts[1 - k].constraints
                }
            ]


def test_diagnosis_of_disagreement_points_no_deal_can_meet() -> None:
    # a needs 0.6 of g and b 0.5 to reach their no-deal outcomes
    case = make_case(
        [party("a", disagreement=6), party("b", disagreement=5)],
        [resource("g")],
        [interest("a", "g", 10), interest("b", "g", 10)],
    )
    result = settle_checked(case)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    (conflict,) = result.diagnosis.conflicts
    assert {(m.kind, m.stakeholder) for m in conflict.constraints} == {
        ("disagreement", "a"),
        ("disagreement", "b"),
    }
    assert sum(c.change for c in result.diagnosis.concessions) == pytest.approx(-1.0)
    assert settle_checked(apply_concessions(case, result.diagnosis.concessions)).status == "optimal"


def test_nash_without_a_joint_positive_gain_is_infeasible() -> None:
    case = make_case(
        [party("a", disagreement=5), party("b", disagreement=5)],
        [resource("g")],
        [interest("a", "g", 10), interest("b", "g", 10)],
    )
    # without individual rationality each could gain alone, never both: Nash is undefined
    result = settle_checked(case, rule="nash", individually_rational=False)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    assert result.diagnosis.code == "no_positive_gain"
    (stuck,) = reasons(result, "no_positive_gain")
    assert stuck.parties == ["a", "b"]
    # with it the only agreement is the no-deal point, where nobody can gain (ideal = d)
    settled = settle_checked(case, rule="nash")
    assert settled.status == "optimal"
    assert utilities(settled) == pytest.approx({"a": 5, "b": 5})
    assert {r.stakeholder for r in reasons(settled, "no_room")} == {"a", "b"}
    # the egalitarian rules settle it at the disagreement points
    assert utilities(settle_checked(case, rule="leximin")) == pytest.approx({"a": 5, "b": 5})


def test_kalai_smorodinsky_takes_the_ideal_point_over_the_rational_set() -> None:
    # two parties, one good worth 10 to each, b's no-deal outcome 6: under individual
    # rationality a can get at most 4 (b keeps 6), b at most 10; KS equalises (u - d)/(I - d):
    # u_a / 4 = (u_b - 6) / 4 with u_a + u_b = 10, so u = (2, 8), the textbook point (and
    # Nash's, as the segment from d to the ideal point meets the frontier there)
    case = make_case(
        [party("a"), party("b", disagreement=6)],
        [resource("g")],
        [interest("a", "g", 10), interest("b", "g", 10)],
    )
    for rule in ("kalai_smorodinsky", "nash"):
        result = settle_checked(case, rule=rule)
        assert utilities(result) == pytest.approx({"a": 2.0, "b": 8.0}, abs=2e-3)
    ks = settle_checked(case, rule="kalai_smorodinsky")
    assert [p.ideal for p in ks.parties.values()] == pytest.approx([4.0, 10.0])


def test_adjusted_winner_below_a_disagreement_point() -> None:
    case = make_case(
        [party("a", disagreement=80), party("b")],
        [resource("x"), resource("y")],
        [
            interest("a", "x", 60),
            interest("a", "y", 40),
            interest("b", "x", 40),
            interest("b", "y", 60),
        ],
        policy={"rule": "adjusted_winner"},
    )
    result = settle_checked(case)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    assert result.diagnosis.code == "rule_below_disagreement"
    (concession,) = result.diagnosis.concessions
    assert concession.stakeholder == "a"
    assert concession.proposed == pytest.approx(60)
    assert settle_checked(apply_concessions(case, [concession])).status == "optimal"


# --- indivisible issues --------------------------------------------------------------------


def test_indivisible_floor_means_must_receive_and_cap_means_cannot() -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("x", divisible=False), resource("y", divisible=False)],
        [
            interest("a", "x", 1),
            interest("b", "x", 9, max_share=0.5),  # cannot receive x
            interest("c", "x", 9),
            interest("a", "y", 9),
            interest("c", "y", 1, min_share=0.5),  # must receive y
        ],
    )
    for rule in LP_RULES:
        result = settle_checked(case, rule=rule)
        assert result.shares["y"] == {"a": 0.0, "c": 1.0}
        assert result.shares["x"]["b"] == 0.0


def test_a_later_ordered_outcomes_stage_that_fails_is_an_error_that_says_so() -> None:
    # numerical trouble in the second stage of the MIP leximin: the settlement says what
    # failed, not "no solution to read"
    case = make_case(
        [party("a"), party("b")],
        [resource("x", divisible=False), resource("y", divisible=False)],
        [
            interest(p, i, v)
            for p, i, v in (("a", "x", 2), ("a", "y", 1), ("b", "x", 1), ("b", "y", 2))
        ],
    )
    # no solve for the ideals (nothing couples the issues): the first solve is stage 1
    second_stage_fails = ScriptedBackend(fails_after(1))
    result = settle_checked(case, rule="leximin", allow_error=True, solver=second_stage_fails)
    assert result.status == "error"
    (error,) = reasons(result, "solver_error")
    assert "leximin stage 2 became infeasible" in error.message


# --- envy-freeness and proportionality ---------------------------------------------------------


def envy(case: Case, result: Settlement) -> float:
    """Return the largest (weighted) envy over resources, recomputed from the shares.

    Funds and observers neither envy nor are envied (they are never compared).
    """
    weight = {s.id: s.weight for s in case.stakeholders if s.id in case.compared}
    resources = {i.id for i in case.issues if i.kind == "resource"}
    worst = 0.0
    for s, t in itertools.permutations(weight, 2):
        own = theirs = 0.0
        for x in case.interests:
            if x.stakeholder == s and x.issue in resources:
                own += x.value * result.shares[x.issue][s]
                theirs += x.value * result.shares[x.issue].get(t, 0.0)
        worst = max(worst, theirs * weight[s] / weight[t] - own)
    return worst


@pytest.mark.parametrize("rule", LP_RULES)
@pytest.mark.parametrize("policy", ["envy_free", "proportional"])
def test_fairness_policies_on_the_bundled_cases(case_path: Path, rule: str, policy: str) -> None:
    case = load_case(case_path.read_bytes())
    if policy_problems(case, case.policy.with_overrides({"rule": rule})):
        pytest.skip(f"rule {rule} does not apply to {case.id}")
    result = settle_checked(case, rule=rule, **{policy: True})
    assert result.provenance.policy[policy] is True
    if result.status == "infeasible":
        assert result.diagnosis is not None
        return
    assert result.fairness is not None
    if policy == "envy_free":
        assert result.fairness.envy_free
        assert envy(case, result) <= 1e-6 * max(x.value for x in case.interests)
    else:
        assert result.fairness.proportional


def test_envy_freeness_changes_the_utilitarian_allocation() -> None:
    # utilitarian gives all of g and h to a (it values both more); b then envies a
    case = make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 6),
            interest("a", "h", 6),
            interest("b", "g", 5),
            interest("b", "h", 1),
        ],
    )
    plain = settle_checked(case, rule="utilitarian", scale="raw")
    assert plain.fairness is not None
    assert not plain.fairness.envy_free
    fair = settle_checked(case, rule="utilitarian", scale="raw", envy_free=True)
    assert fair.fairness is not None
    assert fair.fairness.envy_free
    assert envy(case, fair) == pytest.approx(0.0, abs=1e-7)
    # with a's shares x: maximise 6 + x_g + 5 x_h subject to b's envy-freeness,
    # 10 x_g + 2 x_h <= 6 (a's, x_g + x_h >= 1, does not bind): x_h = 1, x_g = 0.4
    assert fair.shares["g"]["a"] == pytest.approx(0.4)
    assert utilities(fair) == pytest.approx({"a": 8.4, "b": 3.0})


def test_weighted_proportionality() -> None:
    # a is entitled to 3/4: it must get at least 3/4 of the value it puts on g
    case = make_case(
        [party("a", weight=3), party("b")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 4)],
    )
    result = settle_checked(case, rule="utilitarian", scale="raw", proportional=True)
    assert result.shares["g"]["a"] == pytest.approx(0.75)
    assert result.fairness is not None
    assert result.fairness.proportional


def test_weighted_envy_freeness() -> None:
    # a (weight 2) must not envy b beyond the entitlements: v_a(x_b) * 2 / 1 <= v_a(x_a)
    case = make_case(
        [party("a", weight=2), party("b")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 4)],
    )
    result = settle_checked(case, rule="utilitarian", scale="raw", envy_free=True)
    assert result.shares["g"]["a"] == pytest.approx(2 / 3)


# --- entitlements -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["leximin", "maximin", "kalai_smorodinsky"])
def test_entitlements_scale_the_egalitarian_level(rule: str) -> None:
    # three parties on one good: gains / weight equal, so shares 1 : 2 : 3
    case = make_case(
        [party("a"), party("b", weight=2), party("c", weight=3)],
        [resource("g")],
        [interest(p, "g", v) for p, v in (("a", 2), ("b", 5), ("c", 1))],
    )
    result = settle_checked(case, rule=rule)
    assert result.shares["g"] == pytest.approx({"a": 1 / 6, "b": 2 / 6, "c": 3 / 6}, rel=1e-6)


def test_entitlements_weigh_the_utilitarian_sum() -> None:
    # normalized gains weighted 1 and 3: all of g to b, whatever the values
    case = make_case(
        [party("a"), party("b", weight=3)],
        [resource("g")],
        [interest("a", "g", 100), interest("b", "g", 1)],
    )
    assert settle_checked(case, rule="utilitarian").shares["g"] == {"a": 0.0, "b": 1.0}


# --- parties with no room to gain ------------------------------------------------------------


def flat_case() -> Case:
    # a's no-deal outcome is all it could ever get: it must have the whole of g
    return make_case(
        [party("a", disagreement=10), party("b")],
        [resource("g"), resource("h")],
        [interest("a", "g", 10), interest("b", "g", 5), interest("b", "h", 5)],
    )


@pytest.mark.parametrize("rule", LP_RULES)
def test_a_flat_party_keeps_its_disagreement_point(rule: str) -> None:
    result = settle_checked(flat_case(), rule=rule)
    assert result.status == "optimal"
    a = result.parties["a"]
    assert a.ideal == a.disagreement == 10
    assert a.normalized_gain is None
    assert a.utility == pytest.approx(10)
    # with a held at 10, the most b can get is h: its whole possible gain
    assert result.parties["b"].ideal == pytest.approx(5)
    assert normalized(result)["b"] == pytest.approx(1.0)
    assert result.fairness is not None
    assert result.fairness.min_normalized_gain == pytest.approx(1.0)
    (no_room,) = reasons(result, "no_room")
    assert no_room.stakeholder == "a"


@pytest.mark.parametrize("rule", LP_RULES)
def test_a_flat_party_without_individual_rationality(rule: str) -> None:
    result = settle_checked(flat_case(), rule=rule, individually_rational=False)
    assert result.status == "optimal"
    assert result.parties["a"].normalized_gain is None
    assert reasons(result, "no_room")


@pytest.mark.parametrize("rule", ["maximin", "leximin", "nash"])
def test_nobody_can_gain(rule: str) -> None:
    case = make_case(
        [party("a", disagreement=10), party("b", disagreement=5)],
        [resource("g"), resource("h")],
        [interest("a", "g", 10), interest("b", "h", 5)],
    )
    result = settle_checked(case, rule=rule)
    assert result.status == "optimal"
    assert reasons(result, "nobody_to_compare")
    assert result.fairness is not None
    assert result.fairness.min_normalized_gain is None
    assert utilities(result) == {"a": 10.0, "b": 5.0}


# --- Nash's certificate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "stem",
    [
        "community-hall-dispute",
        "elderly-care-purchase",
        "ppp-risk-sharing",
        "river-cleanup-cogovernance",
        "youth-education-project",
        "budget-claims-rationing",
    ],
)
def test_nash_is_certified_against_every_other_rule(stem: str) -> None:
    # The certificate says no allocation has a Nash welfare more than the gap above the
    # result's; the other rules' allocations (same ideals, same normalization) must agree.
    case = load(stem)
    result = settle_checked(case, rule="nash")
    gap = certified_gap(result)
    assert 0 <= gap <= 1e-6
    assert result.status == "optimal"
    welfare = nash_welfare(case, result)
    slack = sum(s.weight for s in case.stakeholders) * math.log1p(gap) + 1e-12
    for rule in ("utilitarian", "maximin", "leximin", "kalai_smorodinsky"):
        other = settle_checked(case, rule=rule)
        assert nash_welfare(case, other) <= welfare + slack, rule


# --- the time limit -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule", LP_RULES)
def test_solves_stopped_at_the_time_limit_give_a_feasible_settlement(
    case_path: Path, rule: str
) -> None:
    # every HiGHS solve ends as a solve stopped at the time limit with a solution: the
    # status is "feasible" and there are no duals
    case = load_case(case_path.read_bytes())
    if policy_problems(case, case.policy.with_overrides({"rule": rule})):
        pytest.skip(f"rule {rule} does not apply to {case.id}")
    result = settle_checked(case, rule=rule, solver=ScriptedBackend(stopped))
    if case.id in INFEASIBLE:
        assert result.status == "infeasible"
        return
    assert result.status == "feasible"
    (limit,) = reasons(result, "time_limit")
    assert limit.seconds == 60.0
    for code in ("floor_binding", "cap_binding", "capacity_binding"):
        assert all(r.dual is None for r in reasons(result, code))


@pytest.mark.parametrize("rule", LP_RULES)
def test_a_first_solve_stopped_at_the_limit_makes_the_settlement_feasible(rule: str) -> None:
    # Only the first solve stops at the limit (the maximin level, leximin's first level,
    # Nash's first round); the later ones are optimal. A level that may not be the best makes a
    # result that may not be the best.
    first_stopped = ScriptedBackend(only_first_stopped)
    # no coupling: no solves for the ideals
    result = settle_checked(floor_case(0.5), rule=rule, solver=first_stopped)
    if rule == "nash":
        # Nash's certificate comes from its last round, solved to the end: still optimal
        assert result.status == "optimal"
        assert certified_gap(result) <= 1e-6
        return
    assert result.status == "feasible"
    assert reasons(result, "time_limit")


@pytest.mark.parametrize("time_limit", [1e-9, 1e-5, 1e-3, 0.05])
@pytest.mark.parametrize("rule", LP_RULES)
@pytest.mark.parametrize(
    "stem", ["community-hall-dispute", "elderly-care-purchase", "infeasible-red-lines"]
)
def test_a_short_time_limit_never_raises(stem: str, rule: str, time_limit: float) -> None:
    # Whatever the machine's speed: a settlement, infeasible with its diagnosis, or an error
    # status saying why; never an exception, never a result the validator rejects.
    result = settle_checked(load(stem), rule=rule, time_limit=time_limit, allow_error=True)
    assert result.status in ("optimal", "feasible", "infeasible", "error")
    if result.status == "feasible":
        assert reasons(result, "time_limit")
    if result.status == "error":
        (error,) = reasons(result, "solver_error")
        assert error.message


# --- the shape of results ---------------------------------------------------------------------


def test_exposures_and_amounts() -> None:
    result = settle_checked(load("ppp-risk-sharing"))
    case = load("ppp-risk-sharing")
    for s in case.stakeholders:
        worst = expected = 0.0
        for x in case.interests_by_stakeholder[s.id]:
            issue = case.issue_by_id[x.issue]
            if issue.kind == "risk":
                share = result.shares[x.issue][s.id]
                worst += issue.amount * share
                expected += issue.likelihood * issue.amount * share
        exposure = result.parties[s.id].exposure
        assert exposure.worst_case == pytest.approx(worst)
        assert exposure.expected == pytest.approx(expected)
        if s.risk_capacity is not None:
            assert exposure.worst_case <= s.risk_capacity * (1 + 1e-9)


def test_risks_go_to_the_party_best_able_to_control_them_when_it_costs_nobody() -> None:
    # two parties value the risk alike and have the same gain either way: the controller bears it
    case = make_case(
        [party("a"), party("b")],
        [resource("g"), risk("r", 100)],
        [
            interest("a", "g", 1),
            interest("b", "g", 1),
            interest("a", "r", 1, control=0.9),
            interest("b", "r", 1, control=0.1),
        ],
    )
    # a's gain is x_g - x_r and b's the opposite: every allocation with x_g = x_r is leximin
    result = settle_checked(case, rule="leximin")
    assert utilities(result) == pytest.approx({"a": 0.0, "b": 0.0}, abs=1e-7)
    assert result.shares["r"]["a"] == pytest.approx(1.0)
    (borne,) = reasons(result, "risk_borne")
    assert borne.to_controller is True


# --- cases Hypothesis found, kept as examples ----------------------------------------------------


def test_shares_still_sum_to_one_after_a_share_is_clipped_to_its_bound() -> None:
    # the solver leaves p0's share of the risk at -1e-8 (within its tolerance); clipping it to
    # 0 must not leave the risk's shares summing to 1 + 1e-8
    case = make_case(
        [party("p0"), party("p1"), party("p2", disagreement=-1), party("p3", disagreement=-2)],
        [risk("i0"), resource("i1"), resource("i2")],
        [
            interest("p0", "i0", 0),
            interest("p1", "i0", 0),
            interest("p2", "i0", 1),
            interest("p3", "i0", 2),
            interest("p0", "i1", 0),
            interest("p0", "i2", 0),
        ],
    )
    result = settle_checked(case, rule="leximin")
    for row in result.shares.values():
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-12)
        assert min(row.values()) >= 0.0


def test_envy_counts_against_the_value_put_on_resources() -> None:
    # p0 puts 13 on a risk and 1 on resources: its envy of p3 must be measured against 1, the
    # value it can envy, or envy up to 1.4e-6 passes for noise and the validator refuses it
    case = make_case(
        [
            party("p0", weight=3, disagreement=-13),
            party("p1"),
            party("p2"),
            party("p3", weight=2, disagreement=-1),
        ],
        [resource("i0"), risk("i1"), resource("i2")],
        [
            *(interest(p, "i0", 0) for p in ("p0", "p1", "p2", "p3")),
            interest("p0", "i1", 13),
            interest("p1", "i1", 0),
            interest("p2", "i1", 0),
            interest("p3", "i1", 1),
            interest("p0", "i2", 1),
            interest("p1", "i2", 0),
            interest("p2", "i2", 0),
            interest("p3", "i2", 1),
        ],
    )
    for rule in LP_RULES:
        result = settle_checked(case, rule=rule, envy_free=True)
        assert result.fairness is not None
        assert result.fairness.envy_free
        assert envy(case, result) <= 1e-6


def test_leximin_with_envy_rows_added_after_a_level_is_fixed() -> None:
    # an envy row added at a later level must not cut off the allocation that reached the
    # earlier levels (it carried envy below the detection threshold in that pair)
    case = make_case(
        [party("p0"), party("p1"), party("p2", weight=3), party("p3"), party("p4")],
        [resource("i0"), resource("i1"), resource("i2")],
        [
            interest("p1", "i0", 14),
            interest("p0", "i0", 1),
            interest("p2", "i0", 1, min_share=0.1),
            interest("p3", "i1", 0),
            interest("p4", "i1", 0),
            interest("p1", "i1", 0),
            interest("p3", "i2", 1),
        ],
    )
    result = settle_checked(case, rule="leximin", envy_free=True)
    assert result.status == "optimal"
    assert result.fairness is not None
    assert result.fairness.envy_free


def test_a_concession_never_proposes_a_floor_below_zero() -> None:
    # p2 can never reach its no-deal outcome 2 (it values g at 1): the concession drops p1's
    # floor to exactly 0, not to -8e-17, and applying it is a valid case
    case = make_case(
        [party("p0"), party("p1"), party("p2", disagreement=2), party("p3")],
        [resource("i0")],
        [
            interest("p2", "i0", 1),
            interest("p0", "i0", 0),
            interest("p1", "i0", 0, min_share=0.1),
            interest("p3", "i0", 6, min_share=0.2),
        ],
    )
    result = settle_checked(case)
    assert result.diagnosis is not None
    for c in result.diagnosis.concessions:
        if c.kind in ("floor", "cap"):
            assert 0.0 <= c.proposed <= 1.0
    assert settle_checked(apply_concessions(case, result.diagnosis.concessions)).status == (
        "optimal"
    )


def test_the_cheapest_concession_to_envy_freeness_is_found() -> None:
    # a's floor of 0.8 leaves b envying a by 0.6 points of its stake of 101 (cost 0.006),
    # cheaper than lowering the floor to 0.5 (cost 0.3): the joint concession is the envy
    case = make_case(
        [party("a"), party("b", disagreement=-100)],
        [resource("g"), risk("r")],
        [interest("a", "g", 1, min_share=0.8), interest("b", "g", 1), interest("b", "r", 100)],
    )
    result = settle_checked(case, envy_free=True)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    (joint,) = result.diagnosis.concessions
    assert (joint.kind, joint.stakeholder, joint.constraint) == ("envy", "b", "envy:a")
    assert joint.change == pytest.approx(-0.6)
    (conflict,) = result.diagnosis.conflicts
    assert {(c.kind, c.stakeholder) for c in conflict.alternatives} == {
        ("floor", "a"),
        ("envy", "b"),
    }


def test_leximin_recovers_when_the_solver_tolerance_outgrows_a_hold() -> None:
    # Raw gains, values from 1 to 57: the solver meets p1's level only within its tolerance,
    # which p2 (values 4 and 19) receives many times over; the fourth level then came out
    # infeasible ("numerical trouble") until the earlier levels are held more loosely.
    case = make_case(
        [
            party("p0", disagreement=-13),
            party("p1", weight=3, disagreement=-28),
            party("p2", disagreement=-24),
            party("p3", weight=3, disagreement=-2),
            party("p4", disagreement=-1),
        ],
        [risk("i0"), resource("i1")],
        [
            interest("p3", "i0", 2, max_share=0.5),
            interest("p4", "i0", 1, max_share=0.9),
            interest("p1", "i0", 23, max_share=0.9),
            interest("p2", "i0", 19, min_share=0.2, max_share=0.9),
            interest("p0", "i0", 13, max_share=0.5),
            interest("p3", "i1", 55, max_share=0.5),
            interest("p4", "i1", 47),
            interest("p1", "i1", 57, min_share=0.3),
            interest("p2", "i1", 4, min_share=0.3, max_share=0.9),
            interest("p0", "i1", 54, min_share=0.3, max_share=0.5),
        ],
    )
    result = settle_checked(case, rule="leximin", scale="raw")
    assert result.status == "optimal"
    levels = [r.level for r in reasons(result, "leximin_level")]
    assert levels == sorted(levels)
    first = settle_checked(case, rule="maximin", scale="raw")
    (worst,) = reasons(first, "worst_off")
    assert levels[0] == pytest.approx(worst.level)


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"solver": "bogus"}, "solver"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": -1.0}, "time_limit"),
    ],
)
def test_bad_solver_options_are_input_errors(options: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyError) as caught:
        settle(load("community-hall-dispute"), **options)
    assert isinstance(caught.value, ValueError)
    assert [p.path for p in caught.value.problems] == [path]


def test_the_control_tie_break_keeps_envy_freeness() -> None:
    # the tie-break moves shares while holding utilities: it must keep the policy's rows,
    # envy rows included (they are added lazily, as in the rule itself)
    case = make_case(
        [party("a", disagreement=-5), party("b", disagreement=-5)],
        [resource("g1"), resource("g2"), risk("r")],
        [
            interest("a", "g1", 1),
            interest("b", "g1", 1),
            interest("a", "g2", 1),
            interest("b", "g2", 1),
            interest("a", "r", 1, control=1.0),
            interest("b", "r", 1, control=0.0),
        ],
    )
    for rule in ("leximin", "maximin", "nash"):
        result = settle_checked(case, rule=rule, envy_free=True)
        assert result.status == "optimal"
        assert result.fairness is not None
        assert result.fairness.envy_free


def test_nash_without_rationality_when_a_party_cannot_reach_its_no_deal_point() -> None:
    # a's no-deal outcome (2) is above all it could get (1): Nash's product is undefined
    case = make_case(
        [party("a", disagreement=2), party("b"), party("c")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 1), interest("c", "g", 1)],
    )
    result = settle_checked(case, rule="nash", individually_rational=False)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    assert result.diagnosis.code == "no_positive_gain"
    assert reasons(result, "no_positive_gain")[0].parties == ["a"]


def test_a_red_line_holding_back_a_later_level_is_priced_there() -> None:
    # a and d share h (d's floor 0.9 leaves a 0.1); b and c share g (b's floor 0.8 leaves c
    # 0.2): b's floor does not touch the worst-off (a) but holds c, the second level, back
    case = make_case(
        [party("a"), party("b"), party("c"), party("d")],
        [resource("g"), resource("h")],
        [
            interest("a", "h", 1),
            interest("d", "h", 1, min_share=0.9),
            interest("b", "g", 1, min_share=0.8),
            interest("c", "g", 1),
        ],
        policy={"scale": "raw"},
    )
    result = settle_checked(case, rule="leximin")
    floors = {r.stakeholder: r for r in reasons(result, "floor_binding")}
    assert floors["d"].dual == pytest.approx(1.0)
    assert floors["d"].rank == 1
    assert floors["b"].dual == pytest.approx(1.0)
    assert floors["b"].rank == 2


def test_a_warm_re_solve_stopped_by_the_deadline_keeps_its_solution() -> None:
    # Leximin's later levels are warm re-solves; when the settlement's time runs out during
    # one, the solution HiGHS holds is used (status feasible), not turned into an error.
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 1),
            interest("b", "g", 1),
            interest("b", "h", 1),
            interest("c", "h", 1, min_share=0.9),
        ],
    )
    # the time runs out once the first LP is solved: the later ones stop with a solution
    result = settle_checked(case, rule="leximin", solver=ScriptedBackend(stopped_from(1)))
    assert result.status == "feasible"
    assert reasons(result, "time_limit")


@pytest.mark.xfail(
    strict=True,
    reason="open defect found by Hypothesis on 2026-12-04 (present since before 547abc3): "
    "HiGHS's MIP reports an unknown status on this two-party indivisible leximin case, "
    "which CBC solves",
)
def test_highs_leximin_on_a_small_indivisible_case() -> None:
    case = make_case(
        [party("p0"), party("p1", disagreement=-5.0)],
        [resource(f"i{k}", divisible=False) for k in range(4)],
        [
            interest("p1", "i0", 14),
            interest("p0", "i0", 10),
            interest("p0", "i1", 81),
            interest("p1", "i2", 17),
            interest("p1", "i3", 100),
        ],
    )
    assert settle_checked(case, rule="leximin", solver="cbc").status == "optimal"
    assert settle_checked(case, rule="leximin").status == "optimal"
