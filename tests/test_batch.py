"""The sweep's batch path: every variant settled as ``settle`` settles it, whatever came before.

:func:`mediation.allocation.batch.settle_variants` computes each variant's numbers through a
model template and loads them into HiGHS instead of building a PuLP model per case. These
tests hold it to :func:`mediation.settle` on random variants of every bundled case under
every rule (infeasible variants included: the same diagnosis), to its own answers in any
order, and check that variants of another structure are settled on their own; also that
the template states the numbers :func:`build_model` states, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import CASE_FILES, LP_RULES, RULES, load
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mediation.allocation.batch as batch
import mediation.allocation.pipeline as pipeline
from mediation import settle
from mediation.allocation.batch import settle_variants
from mediation.allocation.model import ModelTemplate, add_policy_constraints, build_model
from mediation.backends import model_arrays
from mediation.case import Case, parse_case
from mediation.errors import CaseError, PolicyError
from mediation.numeric import index_case
from mediation.rules import get_rule
from mediation.settlement import Settlement
from mediation.validator import optimality_problems, validate_settlement

STEMS = [p.stem for p in CASE_FILES]
#: The reasons a settlement keeps without ``reasons``: those that qualify its status.
STATUS_REASONS = {
    "not_pareto_optimal",
    "time_limit",
    "not_certified_optimal",
    "infeasible",
    "no_positive_gain",
    "rule_below_disagreement",
    "solver_failed",
}


# --- variants -------------------------------------------------------------------------------


def scaled(value: float, factor: float) -> float:
    """``value × factor``, written 0 below the case format's smallest magnitude."""
    out = value * factor
    return 0.0 if abs(out) < 1e-9 else out


def variant(
    case: Case, factors: list[float], zero: int | None = None, *, points: bool = False
) -> Case:
    """Return ``case`` with every number it states moved by the next factor of ``factors``.

    Values, amounts, probabilities, capacities, no-deal points, weights, controls, share
    bounds, constraint coefficients and right-hand sides all move; ``zero`` sets that
    interest's value to 0; ``points`` keeps each party's total value and weight (Adjusted
    Winner's 100 points each). Raises :class:`CaseError` when the numbers make no valid case.
    """
    stream = iter(factors * (1 + 200 // max(1, len(factors))))

    def f() -> float:
        return next(stream)

    data: dict[str, Any] = case.model_dump(mode="json", exclude_none=True)
    for s in data["stakeholders"]:
        weight = min(1e6, s.get("weight", 1.0) * f())
        if not points:  # Adjusted Winner's parties weigh the same
            s["weight"] = weight
        if s.get("disagreement"):
            s["disagreement"] = scaled(s["disagreement"], f())
        if "risk_capacity" in s:
            s["risk_capacity"] = scaled(s["risk_capacity"], f())
    for i in data["issues"]:
        i["amount"] = i["amount"] * f()
        if "probability" in i:
            i["probability"] = min(1.0, max(0.01, i["probability"] * f()))
    for k, x in enumerate(data["interests"]):
        if "value" in x:
            x["value"] = 0.0 if k == zero else scaled(x["value"], f())
        if "control" in x:
            x["control"] = min(1.0, x["control"] * f())
        if "min_share" in x:
            x["min_share"] = min(1.0, x["min_share"] * f())
        if "max_share" in x:
            x["max_share"] = min(1.0, x["max_share"] * f())
        if "claim" in x:
            x["claim"] = scaled(x["claim"], f())
    for c in data.get("constraints", []):
        for t in c["terms"]:
            t["coef"] = scaled(t["coef"], f())
        c["rhs"] = scaled(c["rhs"], f()) if c["rhs"] else 0.0
    if points:
        for s in case.stakeholders:
            own = [x for x in data["interests"] if x["stakeholder"] == s.id and "value" in x]
            total = sum(x["value"] for x in own)
            wanted = sum(x.value for x in case.interests if x.stakeholder == s.id)
            for x in own:
                x["value"] = x["value"] * wanted / total if total else x["value"]
    return parse_case(data)


def variants_of(
    case: Case, draws: list[list[float]], zero: int | None = None, *, points: bool = False
) -> list[Case]:
    """Return the valid variants among those the factor lists give."""
    out = []
    for factors in draws:
        try:
            out.append(variant(case, factors, zero, points=points))
        except CaseError:
            continue
    return out


FACTOR = st.floats(0.4, 1.6, allow_nan=False)
DRAWS = st.lists(st.lists(FACTOR, min_size=5, max_size=12), min_size=2, max_size=4)


def same(found: Settlement, expected: Settlement) -> None:
    """Assert that the two settlements agree in everything but their timings."""
    assert found.body() == expected.body()
    a, b = found.provenance, expected.provenance
    assert (a.input_sha256, a.policy, a.engine_version) == (
        b.input_sha256,
        b.policy,
        b.engine_version,
    )
    assert (a.solver.name, a.solver.version, a.solver.solves) == (
        b.solver.name,
        b.solver.version,
        b.solver.solves,
    )


def applicable(case: Case, rule: str) -> bool:
    """Whether ``rule`` can settle ``case`` (Adjusted Winner: two parties, 100 points each)."""
    return not get_rule(rule).problems(case, case.policy.with_overrides({"rule": rule}))


# --- the template ---------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("proportional", [False, True])
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draws=DRAWS, zero=st.none() | st.integers(0, 30))
def test_the_template_states_the_numbers_build_model_states(
    stem: str, proportional: bool, draws: list[list[float]], zero: int | None
) -> None:
    base = load(stem)
    policy = base.policy.with_overrides({"proportional": proportional})
    template = ModelTemplate(base, policy)
    index = index_case(base)
    if len(index.levers) or index.funded.any():
        # payments, contributions, choices and whole units: each variant is settled alone
        assert not template.usable
        return
    assert template.usable
    for case in variants_of(base, draws, zero):
        if ModelTemplate.structure(case, policy) != template.key:
            continue  # a zero value changed which proportionality rows exist
        model = build_model(case)
        add_policy_constraints(model, policy)
        expected = model_arrays(model.variables, model.problem.constraints())
        found = template.arrays(case, index_case(case))
        assert found.same_as(expected)


def test_the_structure_is_the_case_without_its_numbers() -> None:
    base = load("community-hall-dispute")
    policy = base.policy
    moved = variant(base, [1.1, 0.9, 1.2])
    assert ModelTemplate.structure(moved, policy) == ModelTemplate.structure(base, policy)
    data = base.model_dump(mode="json", exclude_none=True)
    data["stakeholders"][0]["risk_capacity"] = 100.0  # a capacity row appears
    assert ModelTemplate.structure(parse_case(data), policy) != ModelTemplate.structure(
        base, policy
    )
    other = policy.with_overrides({"rule": "maximin"})
    assert ModelTemplate.structure(base, other) != ModelTemplate.structure(base, policy)


# --- the same settlements as settle ---------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draws=DRAWS, zero=st.none() | st.integers(0, 30))
def test_every_variant_settles_as_settle_settles_it(
    stem: str, rule: str, draws: list[list[float]], zero: int | None
) -> None:
    base = load(stem)
    if not applicable(base, rule):
        return
    if any(i.unit_size is not None for i in base.issues):
        return  # scaled amounts are no longer whole units: no variant is valid
    points = rule == "adjusted_winner"
    zero = None if points else zero
    cases = [c for c in variants_of(base, draws, zero, points=points) if applicable(c, rule)]
    assume(cases)
    found = list(settle_variants(base, cases, rule=rule))
    assert len(found) == len(cases)
    for case, result in zip(cases, found, strict=True):
        same(result, settle(case, rule=rule))
        if result.status != "error":
            assert validate_settlement(case, result) == []


@pytest.mark.parametrize("rule", LP_RULES)
@settings(max_examples=10)
@given(draws=st.lists(st.lists(FACTOR, min_size=5, max_size=12), min_size=6, max_size=8))
def test_a_variant_does_not_depend_on_the_variants_before_it(
    rule: str, draws: list[list[float]]
) -> None:
    base = load("community-hall-dispute")
    cases = variants_of(base, draws)
    assume(len(cases) >= 2)
    forward = list(settle_variants(base, cases, rule=rule))
    backward = list(settle_variants(base, cases[::-1], rule=rule))[::-1]
    alone = [next(settle_variants(base, [c], rule=rule)) for c in cases]
    for a, b, c in zip(forward, backward, alone, strict=True):
        same(a, b)
        same(a, c)


def infeasible_variants(base: Case) -> Iterator[Case]:
    """Variants of the community hall whose red lines cannot all hold, in several ways."""
    data = base.model_dump(mode="json", exclude_none=True)
    for floor in (0.75, 0.8, 0.95):  # the elderly centre's daytime floor against the others'
        moved = {**data, "interests": [dict(x) for x in data["interests"]]}
        moved["interests"][0]["min_share"] = floor
        moved["constraints"] = [dict(c) for c in data["constraints"]]
        moved["constraints"][0]["rhs"] = floor + 0.3
        yield parse_case(moved)
    for capacity in (100.0, 1500.0):  # the dancers cannot bear their part of the noise
        moved = {**data, "stakeholders": [dict(s) for s in data["stakeholders"]]}
        moved["stakeholders"][1]["risk_capacity"] = capacity
        yield parse_case(moved)


def test_infeasible_variants_get_the_same_diagnosis() -> None:
    base = load("community-hall-dispute")
    cases = list(infeasible_variants(base))
    found = list(settle_variants(base, cases))
    assert [r.status for r in found] == ["infeasible"] * len(cases)
    for case, result in zip(cases, found, strict=True):
        assert result.diagnosis is not None
        same(result, settle(case))


def test_variants_of_another_structure_are_settled_on_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = load("community-hall-dispute")
    data = base.model_dump(mode="json", exclude_none=True)
    more = {
        **data,
        "interests": [
            *data["interests"],
            {"stakeholder": "juweihui", "issue": "storage-room", "value": 5.0},
        ],
    }
    fewer = {**data, "constraints": data["constraints"][:1]}
    capacity = {**data, "stakeholders": [dict(s) for s in data["stakeholders"]]}
    capacity["stakeholders"][0]["risk_capacity"] = 3000.0
    others = [parse_case(d) for d in (more, fewer, capacity)]
    kept = variant(base, [1.2, 0.8, 1.1])
    used: list[str] = []
    original = batch._TemplatePreparer.__call__

    def spy(self: Any, case: Case, *args: Any, **kwargs: Any) -> Any:
        used.append(case.model_dump_json())
        return original(self, case, *args, **kwargs)

    monkeypatch.setattr(batch._TemplatePreparer, "__call__", spy)
    cases = [kept, *others, kept]
    found = list(settle_variants(base, cases))
    for case, result in zip(cases, found, strict=True):
        same(result, settle(case))
    assert used == [kept.model_dump_json()] * 2  # the others never met the template


def test_another_policy_is_another_structure() -> None:
    base = load("community-hall-dispute")
    data = base.model_dump(mode="json", exclude_none=True)
    data["policy"] = {**data["policy"], "individually_rational": False}
    other = parse_case(data)
    found = list(settle_variants(base, [other, base]))
    same(found[0], settle(other))
    same(found[1], settle(base))


# --- what the batch path leaves out, and keeps --------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_without_reasons_only_the_explanations_go(stem: str) -> None:
    base = load(stem)
    points = base.policy.rule == "adjusted_winner"
    cases = [base, *variants_of(base, [[1.2, 0.9, 1.1], [0.8, 1.3]], points=points)]
    full = list(settle_variants(base, cases))
    lean = list(settle_variants(base, cases, reasons=False))
    for case, a, b in zip(cases, full, lean, strict=True):
        assert {r.code for r in b.reasons} <= STATUS_REASONS
        assert {r.code for r in b.reasons} == {r.code for r in a.reasons} & STATUS_REASONS
        # a choice's alternatives explain it: they go with the reasons
        lean_choices = {k: {**v, "alternatives": {}} for k, v in a.body()["choices"].items()}
        assert b.body() == {**a.body(), "reasons": b.body()["reasons"], "choices": lean_choices}
        if b.status != "error":
            assert validate_settlement(case, b) == []


def test_every_result_goes_through_the_validator_and_the_optimality_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"validate": 0, "optimality": 0}
    validate, optimality = validate_settlement, optimality_problems

    def counted_validate(*args: Any, **kwargs: Any) -> Any:
        calls["validate"] += 1
        return validate(*args, **kwargs)

    def counted_optimality(*args: Any, **kwargs: Any) -> Any:
        calls["optimality"] += 1
        return optimality(*args, **kwargs)

    monkeypatch.setattr(pipeline, "validate_settlement", counted_validate)
    monkeypatch.setattr(pipeline, "optimality_problems", counted_optimality)
    base = load("community-hall-dispute")
    cases = [*variants_of(base, [[1.1, 0.9], [0.7, 1.3], [1.2]]), *infeasible_variants(base)]
    found = list(settle_variants(base, cases, reasons=False))
    assert calls["validate"] == len(cases)
    assert calls["optimality"] == sum(r.status == "optimal" for r in found) > 0
    calls.update(validate=0, optimality=0)
    list(settle_variants(base, cases, check=False))
    assert calls == {"validate": 0, "optimality": 0}


def test_a_settlement_the_validator_rejects_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediation.errors import Problem

    monkeypatch.setattr(
        pipeline, "validate_settlement", lambda *a, **k: [Problem("shares", "made up")]
    )
    base = load("community-hall-dispute")
    (result,) = settle_variants(base, [base])
    assert result.status == "error"
    assert "made up" in result.reasons[0].model_dump()["message"]


# --- the call ------------------------------------------------------------------------------


def test_wrong_arguments_are_refused_at_the_call() -> None:
    base = load("community-hall-dispute")
    with pytest.raises(CaseError, match="rule"):
        settle_variants(base, [base], rule="fairest")
    with pytest.raises(PolicyError, match="solver"):
        settle_variants(base, [base], solver="gurobi")
    with pytest.raises(PolicyError, match="time_limit"):
        settle_variants(base, [base], time_limit=-1.0)


def test_a_variant_the_rule_cannot_apply_to_stops_the_iteration_there() -> None:
    two = load("two-party-adjusted-winner")
    three = load("community-hall-dispute")
    results = settle_variants(two, [two, three], rule="adjusted_winner")
    assert next(results).status == "optimal"
    with pytest.raises(PolicyError):
        next(results)


def test_the_variants_are_consumed_lazily() -> None:
    base = load("community-hall-dispute")
    made: list[int] = []

    def stream() -> Iterator[Case]:
        for k in range(3):
            made.append(k)
            yield base

    results = settle_variants(base, stream())
    assert made == []
    next(results)
    assert made == [0]


def test_cbc_settles_each_variant_on_its_own() -> None:
    base = load("two-party-adjusted-winner")
    cases = variants_of(base, [[1.1, 0.9], [0.8, 1.2]], points=True)
    assert cases
    for case, result in zip(cases, settle_variants(base, cases, solver="cbc"), strict=True):
        same(result, settle(case, solver="cbc"))


def test_settlements_of_variants_pickle() -> None:
    import pickle

    base = load("community-hall-dispute")
    cases = variants_of(base, [[1.1, 0.9], [0.8, 1.2]])
    for case, result in zip(cases, settle_variants(base, cases), strict=True):
        assert pickle.loads(pickle.dumps(result)) == result
        assert pickle.loads(pickle.dumps(case)) == case


def test_the_numbers_reach_the_settlement() -> None:
    """A known answer: halving one party's values halves nothing of its share under leximin."""
    base = load("two-party-adjusted-winner")
    data = base.model_dump(mode="json", exclude_none=True)
    for x in data["interests"]:
        if x["stakeholder"] == data["stakeholders"][0]["id"]:
            x["value"] = x["value"] / 2
    halved = parse_case(data)
    a, b = settle_variants(base, [base, halved], rule="leximin")
    # normalized gains do not see a party's unit: the same split
    for issue, row in a.shares.items():
        for party, share in row.items():
            assert math.isclose(b.shares[issue][party], share, rel_tol=1e-9, abs_tol=1e-12)
    first = data["stakeholders"][0]["id"]
    before, after = a.parties[first].utility, b.parties[first].utility
    assert before is not None
    assert after is not None
    assert after == pytest.approx(before / 2, rel=1e-9)


def test_a_long_run_ends_as_it_began() -> None:
    """Hundreds of variants later a variant still settles bit for bit as ``settle`` settles it.

    One HiGHS instance loaded with variant after variant drifted (after ~700 community-hall
    variants its solutions differed from a new instance's by 1e-14): each variant gets its
    own instance.
    """
    base = load("community-hall-dispute")
    rng = np.random.default_rng(1)
    draws = [rng.uniform(0.6, 1.4, size=12).tolist() for _ in range(1500)]
    cases = variants_of(base, draws)
    list(settle_variants(base, cases, reasons=False, check=False))
    probes = cases[-20:]
    for case, result in zip(probes, settle_variants(base, probes), strict=True):
        same(result, settle(case))
