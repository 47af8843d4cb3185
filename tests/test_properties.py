"""Hypothesis properties of settlements on small random cases.

Every case has 2-5 parties and 1-4 issues with values from 0 to 100; every settlement goes
through the independent validator (``settle_checked``). Unless a property needs otherwise, each
party's disagreement point is at or below the worst it can get (minus its risks' values), so
that individual rationality never makes a case infeasible and every property applies.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from conftest import (
    LP_RULES,
    make_case,
    nash_gain_tolerance,
    nash_gaps,
    nash_welfare,
    normalized,
    reasons,
    settle_checked,
    utilities,
)
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mediation.case import Case, apply_concessions, parse_case, scale_party
from mediation.rules.base import HOLD
from mediation.rules.leximin import WIDEN
from mediation.settlement import Settlement

FLOORS = (None, None, None, 0.1, 0.2, 0.3)
CAPS = (None, None, None, 0.5, 0.7, 0.9)
values = st.integers(0, 100).map(float)


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    max_parties: int = 5,
    max_issues: int = 4,
    risks: bool = True,
    bounds: bool = True,
    weights: bool = False,
    divisible: bool = True,
    safe_disagreement: bool = True,
    coupled: bool = False,
) -> Case:
    """Return a small random case that the loader accepts.

    Floors sum to at most 1 on every issue, caps to at least 1. ``coupled`` adds risk
    capacities and an extra constraint, which may make the case infeasible.
    """
    n = draw(st.integers(2, max_parties))
    m = draw(st.integers(1, max_issues))
    parties = [f"p{k}" for k in range(n)]
    issues: list[dict[str, Any]] = []
    holders: list[list[str]] = []
    for q in range(m):
        kind = draw(st.sampled_from(["resource", "resource", "risk"])) if risks else "resource"
        issue: dict[str, Any] = {
            "id": f"i{q}",
            "name": f"I{q}",
            "kind": kind,
            "amount": draw(st.sampled_from([1.0, 10.0, 1000.0])),
        }
        if not divisible:
            issue["divisible"] = False
        issues.append(issue)
        holders.append(draw(st.lists(st.sampled_from(parties), min_size=1, unique=True)))
    for p in parties:  # every party has a stake in something
        if not any(p in h for h in holders):
            holders[draw(st.integers(0, m - 1))].append(p)
    interests: list[dict[str, Any]] = []
    for issue, who in zip(issues, holders, strict=True):
        rows = [{"stakeholder": p, "issue": issue["id"], "value": draw(values)} for p in who]
        if bounds and divisible:
            floors = [draw(st.sampled_from(FLOORS)) for _ in rows]
            caps = [draw(st.sampled_from(CAPS)) for _ in rows]
            if sum(f or 0.0 for f in floors) <= 1.0:
                for row, f in zip(rows, floors, strict=True):
                    if f is not None:
                        row["min_share"] = f
            if sum(1.0 if c is None else c for c in caps) >= 1.0:
                for row, c in zip(rows, caps, strict=True):
                    if c is not None and c >= row.get("min_share", 0.0):
                        row["max_share"] = c
            if sum(row.get("max_share", 1.0) for row in rows) < 1.0:
                for row in rows:
                    row.pop("max_share", None)
        interests += rows
    stakeholders = []
    for p in parties:
        s: dict[str, Any] = {"id": p, "name": p.upper(), "kind": "other"}
        burden = sum(
            x["value"]
            for x, issue in ((x, issues[int(x["issue"][1:])]) for x in interests)
            if x["stakeholder"] == p and issue["kind"] == "risk"
        )
        if safe_disagreement:
            s["disagreement"] = -burden - draw(st.sampled_from([0.0, 0.0, 5.0]))
        else:
            s["disagreement"] = float(draw(st.integers(-30, 60)))
        if weights:
            s["weight"] = float(draw(st.sampled_from([1, 1, 2, 3])))
        if coupled and burden > 0 and draw(st.booleans()):
            exposure = sum(
                issues[int(x["issue"][1:])]["amount"]
                for x in interests
                if x["stakeholder"] == p and issues[int(x["issue"][1:])]["kind"] == "risk"
            )
            s["risk_capacity"] = exposure * draw(st.sampled_from([0.0, 0.3, 0.6]))
        stakeholders.append(s)
    constraints = []
    if coupled and draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(interests), min_size=1, max_size=2, unique_by=id))
        constraints.append(
            {
                "name": "c0",
                "terms": [
                    {
                        "stakeholder": x["stakeholder"],
                        "issue": x["issue"],
                        "coef": draw(st.sampled_from([1.0, -1.0, 0.5])),
                    }
                    for x in picked
                ],
                "sense": draw(st.sampled_from(["<=", ">="])),
                "rhs": draw(st.sampled_from([0.0, 0.3, 0.6])),
            }
        )
    return make_case(stakeholders, issues, interests, constraints=constraints)


def with_twin(case: Case, party: str) -> Case:
    """``case`` with a copy of ``party`` (same interests, weight and disagreement point)."""
    data = case.model_dump(mode="json", exclude_none=True)
    (original,) = (s for s in data["stakeholders"] if s["id"] == party)
    data["stakeholders"].append({**original, "id": "twin", "name": "TWIN"})
    data["interests"] += [
        {**x, "stakeholder": "twin"} for x in data["interests"] if x["stakeholder"] == party
    ]
    return parse_case(data)


def compared_minimum(case: Case, result: Settlement) -> float:
    """Return the smallest normalized gain divided by entitlement, over the parties with room.

    It is infinite when no party has room to gain.
    """
    weight = {s.id: s.weight for s in case.stakeholders}
    gains = [g / weight[p] for p, g in normalized(result).items() if g is not None]
    return min(gains, default=math.inf)


def leximin_tolerance(case: Case, *results: Settlement) -> float:
    """How far leximin's normalized gains may be from the exact leximin's.

    Each level is held within ``HOLD`` of each party's own range; a later party may receive
    that much times the trade-off between them (at most 100 here, the largest value over
    the smallest nonzero one) and the ratio of their weights, per level. When the solver's
    tolerance puts a later level out of reach, the holds are widened (``WIDEN``): the first
    widening is allowed for.
    """
    weight = {s.id: s.weight for s in case.stakeholders}
    error = 0.0
    for result in results:
        # holds are relative to each party's own range, so only the weights and the trade-off
        # between parties (values up to 100) pass them on, never the units
        scales = [
            weight[p]
            for p, o in result.parties.items()
            if o.normalized_gain is not None and o.ideal is not None
        ]
        if scales:
            error = max(error, len(scales) * WIDEN[0] * HOLD * 100 * max(scales) / min(scales))
    return error * max(weight.values()) + 1e-9


def pareto_improvement(case: Case, result: Settlement) -> float:
    """Return how much a Pareto improvement on the settlement can add to ``Σ u_s / stake_s``.

    That is, how much an allocation under the hard constraints can add while leaving nobody
    below the settlement's utility: 0 for a Pareto-optimal settlement.

    An LP of its own (scipy's linprog) over the shares, written from the case alone: bounds,
    one equality per issue, the utility rows. Divisible issues, no capacities or extra
    constraints (the strategy makes none).
    """
    assert not case.constraints
    assert all(s.risk_capacity is None for s in case.stakeholders)
    parties = [s.id for s in case.stakeholders]
    issue_kind = {i.id: i.kind for i in case.issues}
    k = len(case.interests)
    bounds = [(x.floor, x.cap) for x in case.interests]
    a_eq = np.zeros((len(case.issues), k))
    for j, x in enumerate(case.interests):
        a_eq[[i.id for i in case.issues].index(x.issue), j] = 1.0
    utility = np.zeros((len(parties), k))
    for j, x in enumerate(case.interests):
        sign = -1.0 if issue_kind[x.issue] == "risk" else 1.0
        utility[parties.index(x.stakeholder), j] = sign * x.value
    stake = np.maximum(np.abs(utility).sum(axis=1), 1.0)
    current = np.array([utilities(result)[p] for p in parties])
    slack = 1e-9 * stake
    solved = linprog(
        -(utility / stake[:, None]).sum(axis=0),
        A_ub=-utility,
        b_ub=-(current - slack),
        A_eq=a_eq,
        b_eq=np.ones(len(case.issues)),
        bounds=bounds,
        method="highs",
        # the settlement itself is a feasible point, but presolve may call a sliver this thin
        # infeasible
        options={"presolve": False},
    )
    assert solved.status == 0, solved.message
    return float(-solved.fun - (current / stake).sum())


# --- conservation and bounds --------------------------------------------------------------------


@settings(max_examples=60)
@given(case=cases(weights=True), rule=st.sampled_from(LP_RULES))
def test_conservation_and_bounds(case: Case, rule: str) -> None:
    result = settle_checked(case, rule=rule)
    assert result.status == "optimal"
    by_id = case.issue_by_id
    for issue in case.issues:
        row = result.shares[issue.id]
        assert math.fsum(row.values()) == pytest.approx(1.0, abs=1e-9)
        for pid, share in row.items():
            assert result.amounts[issue.id][pid] == pytest.approx(share * issue.amount)
    for x in case.interests:
        share = result.shares[x.issue][x.stakeholder]
        assert x.floor - 1e-9 <= share <= x.cap + 1e-9
    for s in case.stakeholders:
        total = math.fsum(
            (-1 if by_id[x.issue].kind == "risk" else 1) * x.value * result.shares[x.issue][s.id]
            for x in case.interests_by_stakeholder[s.id]
        )
        outcome = result.parties[s.id]
        assert outcome.utility == pytest.approx(total, abs=1e-9 * max(1.0, total))
        assert outcome.gain == pytest.approx(total - s.disagreement, abs=1e-7)
        if outcome.normalized_gain is not None:
            assert outcome.ideal is not None
            assert -1e-7 <= outcome.normalized_gain <= 1 + 1e-7


@settings(max_examples=60)
@given(case=cases(coupled=True, safe_disagreement=False), rule=st.sampled_from(LP_RULES))
def test_capacities_and_constraints_or_a_diagnosis_that_works(case: Case, rule: str) -> None:
    # with capacities, an extra constraint and any disagreement points: either a settlement
    # within them all (the validator checks), or a diagnosis whose joint concessions, made,
    # let the case settle
    result = settle_checked(case, rule=rule)
    event(result.status)
    if result.status == "optimal":
        return
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    if result.diagnosis.code == "no_positive_gain":  # Nash needs every party to gain at once
        assert rule == "nash"
        assert settle_checked(case, rule="leximin").status == "optimal"
        return
    assert result.diagnosis.concessions
    fixed = apply_concessions(case, result.diagnosis.concessions)
    assert settle_checked(fixed, rule="leximin").status == "optimal"


@settings(max_examples=20)
@given(case=cases(weights=True, coupled=True, safe_disagreement=False))
def test_cbc_agrees_with_highs(case: Case) -> None:
    # CBC runs as a subprocess per solve: few examples, leximin only (its answer is unique)
    highs = settle_checked(case, rule="leximin")
    cbc = settle_checked(case, rule="leximin", solver="cbc")
    assert cbc.status == highs.status
    if highs.status == "optimal":
        tolerance = 2 * leximin_tolerance(case, highs, cbc) + 1e-7
        assert normalized(cbc) == pytest.approx(normalized(highs), abs=tolerance)


# --- symmetry ------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(case=cases(max_parties=4, bounds=False), data=st.data())
def test_identical_parties_get_equal_utilities(case: Case, data: st.DataObject) -> None:
    party = data.draw(st.sampled_from([s.id for s in case.stakeholders]))
    rule = data.draw(st.sampled_from(["leximin", "nash"]))
    twins = with_twin(case, party)
    result = settle_checked(twins, rule=rule)
    gains = normalized(result)
    if gains[party] is None:
        assert gains["twin"] is None
        assert utilities(result)["twin"] == pytest.approx(utilities(result)[party])
        return
    mine, theirs = gains[party], gains["twin"]
    assert mine is not None
    assert theirs is not None
    if rule == "leximin":  # the optimum is unique
        assert theirs == pytest.approx(mine, abs=2 * leximin_tolerance(twins, result))
    else:  # certified on the welfare: each gain near the one optimum
        weight = twins.stakeholder_by_id[party].weight
        tolerance = 2 * nash_gain_tolerance(twins, nash_gaps(result), max(mine, theirs), weight)
        assert theirs == pytest.approx(mine, abs=tolerance)


@settings(max_examples=30)
@given(case=cases(max_parties=4, weights=True))
def test_party_order_does_not_matter(case: Case) -> None:
    data = case.model_dump(mode="json", exclude_none=True)
    data["stakeholders"].reverse()
    data["interests"].reverse()
    backwards = parse_case(data)
    results = settle_checked(case, rule="leximin"), settle_checked(backwards, rule="leximin")
    first, second = (normalized(r) for r in results)
    tolerance = 2 * leximin_tolerance(case, *results)
    assert second == pytest.approx(first, abs=tolerance)


# --- Pareto optimality ---------------------------------------------------------------------


@settings(max_examples=50)
@given(case=cases(weights=True), rule=st.sampled_from(["leximin", "nash", "utilitarian"]))
def test_pareto_optimal(case: Case, rule: str) -> None:
    result = settle_checked(case, rule=rule)
    assert result.fairness is not None
    assert result.fairness.pareto_optimal is True
    assert not reasons(result, "not_pareto_optimal")
    assert pareto_improvement(case, result) <= 1e-6 * len(case.stakeholders)


# --- individual rationality ----------------------------------------------------------------


@settings(max_examples=40)
@given(case=cases(safe_disagreement=False))
def test_individual_rationality_when_asked(case: Case) -> None:
    result = settle_checked(case, rule="leximin")
    if result.status == "optimal":
        for s in case.stakeholders:
            assert utilities(result)[s.id] >= s.disagreement - 1e-7 * max(1.0, abs(s.disagreement))
        return
    # no deal meets every no-deal outcome: the diagnosis says what to concede, and conceding
    # it is enough
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    assert result.diagnosis.concessions
    assert {c.kind for c in result.diagnosis.concessions} <= {"disagreement", "floor", "cap"}
    fixed = apply_concessions(case, result.diagnosis.concessions)
    assert settle_checked(fixed, rule="leximin").status == "optimal"


@settings(max_examples=30)
@given(case=cases(safe_disagreement=False), rule=st.sampled_from(["leximin", "utilitarian"]))
def test_without_individual_rationality_every_case_settles(case: Case, rule: str) -> None:
    # the red lines the strategy draws are compatible: only no-deal outcomes can block a deal
    result = settle_checked(case, rule=rule, individually_rational=False)
    assert result.status == "optimal"
    assert result.provenance.policy["individually_rational"] is False


# --- scale invariance ----------------------------------------------------------------------


#: Per-party multipliers from 1e-6 to 1e9: a party valuing in 万元 beside one valuing in 元
#: or in points (values reach 1e11, within the format's 1e12).
FACTORS = st.sampled_from([1e-6, 1e-3, 0.01, 0.5, 7.0, 1000.0, 1e6, 1e8, 1e9])


@settings(max_examples=40)
@given(
    case=cases(weights=True),
    rule=st.sampled_from(["leximin", "maximin", "kalai_smorodinsky", "utilitarian"]),
    factor=FACTORS,
    data=st.data(),
)
def test_normalized_rules_are_scale_invariant(
    case: Case, rule: str, factor: float, data: st.DataObject
) -> None:
    party = data.draw(st.sampled_from([s.id for s in case.stakeholders]))
    before = settle_checked(case, rule=rule)
    after = settle_checked(scale_party(case, party, factor), rule=rule)
    g0, g1 = normalized(before), normalized(after)
    assert [g is None for g in g0.values()] == [g is None for g in g1.values()]
    if rule == "leximin":  # the whole vector of normalized gains is unique
        assert g1 == pytest.approx(g0, abs=2 * leximin_tolerance(case, before, after))
    elif rule == "utilitarian":  # the optimum's value is
        (v0,), (v1,) = reasons(before, "weighted_sum"), reasons(after, "weighted_sum")
        value = v0.value
        assert v1.value == pytest.approx(value, rel=1e-6, abs=1e-9)
    else:  # the minimum is
        assert compared_minimum(case, after) == pytest.approx(
            compared_minimum(case, before), abs=1e-6
        )


def reweighted(case: Case, factor: float) -> Case:
    """``case`` with every weight multiplied by ``factor``."""
    data = case.model_dump(mode="json", exclude_none=True)
    for s in data["stakeholders"]:
        s["weight"] = s.get("weight", 1.0) * factor
    return parse_case(data)


@settings(max_examples=40)
@given(
    case=cases(weights=True),
    rule=st.sampled_from(LP_RULES),
    factor=st.sampled_from([1e-5, 1e-3, 0.1, 10.0, 1e3, 1e5]),
)
def test_only_the_ratios_of_weights_matter(case: Case, rule: str, factor: float) -> None:
    # weights from 1 to 3 times 1e-5…1e5: within the format's 1e-6…1e6
    other = reweighted(case, factor)
    before = settle_checked(case, rule=rule)
    after = settle_checked(other, rule=rule)
    assert after.status == before.status
    g0, g1 = normalized(before), normalized(after)
    assert [g is None for g in g0.values()] == [g is None for g in g1.values()]
    if rule == "nash":
        gaps = nash_gaps(before, after)
        for p, gain in g0.items():
            if gain is not None:
                weight = case.stakeholder_by_id[p].weight
                tolerance = nash_gain_tolerance(case, gaps, gain, weight)
                assert g1[p] == pytest.approx(gain, abs=tolerance)
    elif rule == "leximin":
        assert g1 == pytest.approx(g0, abs=2 * leximin_tolerance(case, before, after))
    elif rule == "utilitarian":
        (v0,), (v1,) = reasons(before, "weighted_sum"), reasons(after, "weighted_sum")
        value = v0.value * factor
        assert v1.value == pytest.approx(value, rel=1e-6, abs=1e-9)
    else:
        assert compared_minimum(other, after) * factor == pytest.approx(
            compared_minimum(case, before), rel=1e-6, abs=1e-9
        )


@settings(max_examples=40)
@given(case=cases(weights=True), factor=FACTORS, data=st.data())
def test_nash_is_invariant_to_scaling_a_party(
    case: Case, factor: float, data: st.DataObject
) -> None:
    party = data.draw(st.sampled_from([s.id for s in case.stakeholders]))
    other = scale_party(case, party, factor)
    before = settle_checked(case, rule="nash")
    after = settle_checked(other, rule="nash")
    gaps = nash_gaps(before, after)
    total_weight = sum(s.weight for s in case.stakeholders)
    # both are within their certified gaps of the same optimum
    assert (
        abs(nash_welfare(case, before) - nash_welfare(other, after))
        <= total_weight * sum(math.log1p(g) for g in gaps) + 1e-12
    )
    g0, g1 = normalized(before), normalized(after)
    for p, gain in g0.items():
        if gain is None:
            assert g1[p] is None
        else:
            weight = case.stakeholder_by_id[p].weight
            assert g1[p] == pytest.approx(gain, abs=nash_gain_tolerance(case, gaps, gain, weight))


# --- leximin and maximin -----------------------------------------------------------------------


@settings(max_examples=50)
@given(case=cases(weights=True), scale=st.sampled_from(["normalized", "raw"]))
def test_leximin_minimum_equals_maximin_minimum(case: Case, scale: str) -> None:
    lex = settle_checked(case, rule="leximin", scale=scale)
    top = settle_checked(case, rule="maximin", scale=scale)
    if reasons(top, "nobody_to_compare"):  # no party has room to gain
        assert reasons(lex, "nobody_to_compare")
        return
    (worst,) = reasons(top, "worst_off")
    first = reasons(lex, "leximin_level")[0]
    level = worst.level
    assert first.level == pytest.approx(level, abs=1e-7 * max(1, abs(level)))
    if scale == "normalized":
        assert compared_minimum(case, lex) == pytest.approx(compared_minimum(case, top), abs=1e-7)


@settings(max_examples=40)
@given(case=cases(weights=True))
def test_no_rule_raises_the_minimum_above_leximin(case: Case) -> None:
    lex = compared_minimum(case, settle_checked(case, rule="leximin"))
    for rule in ("utilitarian", "nash", "kalai_smorodinsky"):
        other = compared_minimum(case, settle_checked(case, rule=rule))
        assert other <= lex + 1e-7 * max(1.0, abs(lex)), rule


@settings(max_examples=30)
@given(case=cases(risks=False, weights=True))
def test_relaxing_red_lines_never_lowers_the_minimum(case: Case) -> None:
    # Raw gains: dropping every floor and cap only enlarges the set of allocations, so the
    # smallest gain (per entitlement) cannot fall. A party with no room to gain is held at
    # its no-deal outcome (gain 0); relaxing red lines can only give it room.
    data = case.model_dump(mode="json", exclude_none=True)
    for x in data["interests"]:
        x.pop("min_share", None)
        x.pop("max_share", None)
    free = parse_case(data)

    def smallest(result: Settlement) -> float:
        u = utilities(result)
        return min((u[s.id] - s.disagreement) / s.weight for s in case.stakeholders)

    bound = smallest(settle_checked(case, rule="leximin", scale="raw"))
    loose = smallest(settle_checked(free, rule="leximin", scale="raw"))
    assert loose >= bound - 1e-7 * max(1.0, abs(bound))


# --- indivisible issues, against every assignment ------------------------------------------------


@settings(max_examples=30)
@given(case=cases(max_parties=3, divisible=False, risks=False))
def test_indivisible_leximin_and_maximin_against_brute_force(case: Case) -> None:
    parties = [s.id for s in case.stakeholders]
    holders = {i.id: [x.stakeholder for x in case.interests_by_issue[i.id]] for i in case.issues}
    value = {(x.stakeholder, x.issue): x.value for x in case.interests}
    d = {s.id: s.disagreement for s in case.stakeholders}
    ideal = {p: sum(v for (q, _), v in value.items() if q == p) for p in parties}
    room = {p: ideal[p] - d[p] for p in parties}
    best: list[float] | None = None
    for owners in itertools.product(*(holders[i.id] for i in case.issues)):
        got = dict.fromkeys(parties, 0.0)
        for issue, p in zip(case.issues, owners, strict=True):
            got[p] += value[p, issue.id]
        vector = sorted((got[p] - d[p]) / room[p] for p in parties if room[p] > 1e-9)
        best = vector if best is None or vector > best else best
    assume(best)
    assert best is not None
    lex = settle_checked(case, rule="leximin")
    found = sorted(g for g in normalized(lex).values() if g is not None)
    assert found == pytest.approx(best, abs=1e-6)
    top = settle_checked(case, rule="maximin")
    assert min(g for g in normalized(top).values() if g is not None) == pytest.approx(
        best[0], abs=1e-6
    )


# --- envy-freeness and proportionality -------------------------------------------------------


@settings(max_examples=40)
@given(case=cases(weights=True, bounds=False), rule=st.sampled_from(LP_RULES))
def test_envy_free_policy(case: Case, rule: str) -> None:
    # without red lines the weighted equal split is envy-free: a deal always exists
    result = settle_checked(case, rule=rule, envy_free=True)
    assert result.status == "optimal"
    assert result.fairness is not None
    assert result.fairness.envy_free
    weight = {s.id: s.weight for s in case.stakeholders}
    for s, t in itertools.permutations(weight, 2):
        own = theirs = worth = 0.0
        for x in case.interests_by_stakeholder[s]:
            if case.issue_by_id[x.issue].kind == "resource":
                own += x.value * result.shares[x.issue][s]
                theirs += x.value * result.shares[x.issue].get(t, 0.0)
                worth += x.value
        # noise below 1e-6 of what s puts on all resources is no envy
        assert theirs * weight[s] / weight[t] <= own + 1e-6 * max(1.0, worth)


@settings(max_examples=40)
@given(case=cases(weights=True, bounds=False), rule=st.sampled_from(LP_RULES))
def test_proportional_policy(case: Case, rule: str) -> None:
    result = settle_checked(case, rule=rule, proportional=True)
    assert result.status == "optimal"
    assert result.fairness is not None
    assert result.fairness.proportional
    total_weight = sum(s.weight for s in case.stakeholders)
    for s in case.stakeholders:
        mine = [
            x
            for x in case.interests_by_stakeholder[s.id]
            if case.issue_by_id[x.issue].kind == "resource"
        ]
        due = s.weight / total_weight * sum(x.value for x in mine)
        got = sum(x.value * result.shares[x.issue][s.id] for x in mine)
        assert got >= due - 1e-6 * max(1.0, due)


@settings(max_examples=30)
@given(case=cases(weights=True), policy=st.sampled_from(["envy_free", "proportional"]))
def test_fairness_policies_with_red_lines(case: Case, policy: str) -> None:
    # with red lines a deal may not exist: then the diagnosis says what to concede
    result = settle_checked(case, rule="leximin", **{policy: True})
    if result.status == "optimal":
        assert result.fairness is not None
        assert getattr(result.fairness, policy)
    else:
        assert result.status == "infeasible"
        assert result.diagnosis is not None
        kinds = {m.kind for c in result.diagnosis.conflicts for m in c.constraints}
        assert kinds & {"envy", "proportional"}
