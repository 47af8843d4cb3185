"""Transforms of a case: concessions made and a party's values rescaled, into a new valid case."""

from __future__ import annotations

import math
from typing import Any

import pytest
from conftest import interest, load, make_case, party, resource, risk, settle_checked

from mediation.case import Case, apply_concessions, scale_party
from mediation.errors import CaseError
from mediation.settlement import Concession


def small_case() -> Case:
    return make_case(
        [party("a", disagreement=-2.0, risk_capacity=5.0), party("b")],
        [resource("hall", 10.0), risk("flood", 8.0)],
        [
            interest("a", "hall", 3.0, min_share=0.6, claim=4.0),
            interest("b", "hall", 1.0, min_share=0.3),
            interest("a", "flood", 2.0),
            interest("b", "flood", 1.0),
        ],
        constraints=[
            {
                "name": "c0",
                "terms": [{"stakeholder": "b", "issue": "hall", "coef": 1.0}],
                "sense": ">=",
                "rhs": 0.2,
            }
        ],
    )


def concession(kind: str, proposed: float, **names: Any) -> Concession:
    return Concession(
        kind=kind,
        current=0.0,
        proposed=proposed,
        change=proposed,
        unit="share",
        **names,
    )


def problems_of(error: pytest.ExceptionInfo[CaseError]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in error.value.problems]


# --- apply_concessions ------------------------------------------------------------------------


def test_each_kind_of_concession_sets_its_red_line() -> None:
    case = small_case()
    fixed = apply_concessions(
        case,
        [
            concession("floor", 0.5, stakeholder="a", issue="hall"),
            concession("cap", 0.9, stakeholder="b", issue="hall"),
            concession("capacity", 7.0, stakeholder="a"),
            concession("disagreement", -3.0, stakeholder="a"),
            concession("constraint", 0.1, constraint="c0"),
        ],
    )
    assert fixed.interest_by_pair["a", "hall"].min_share == 0.5
    assert fixed.interest_by_pair["b", "hall"].max_share == 0.9
    assert fixed.stakeholder_by_id["a"].risk_capacity == 7.0
    assert fixed.stakeholder_by_id["a"].disagreement == -3.0
    assert fixed.constraints[0].rhs == 0.1
    # nothing else changes, and the case given is left as it was
    assert fixed.interest_by_pair["a", "hall"].claim == 4.0
    assert case.interest_by_pair["a", "hall"].min_share == 0.6
    assert apply_concessions(case, []) == case


def test_the_diagnosis_of_the_bundled_infeasible_case_applies() -> None:
    case = load("infeasible-red-lines")
    result = settle_checked(case)
    assert result.diagnosis is not None
    assert settle_checked(apply_concessions(case, result.diagnosis.concessions)).status == "optimal"


def test_concessions_on_unknown_parties_issues_and_constraints_are_each_named() -> None:
    with pytest.raises(CaseError) as error:
        apply_concessions(
            small_case(),
            [
                concession("floor", 0.5, stakeholder="zed", issue="hall"),
                concession("cap", 0.5, stakeholder="a", issue="hal"),
                concession("disagreement", 0.0, stakeholder="c"),
                concession("constraint", 0.0, constraint="c00"),
            ],
        )
    assert problems_of(error) == [
        ("concessions[0].stakeholder", "unknown stakeholder 'zed'"),
        ("concessions[1].issue", "unknown issue 'hal'; did you mean 'hall'?"),
        ("concessions[2].stakeholder", "unknown stakeholder 'c'"),
        ("concessions[3].constraint", "unknown constraint 'c00'; did you mean 'c0'?"),
    ]


def test_a_constraint_concession_on_a_case_without_constraints_is_refused() -> None:
    case = make_case([party("a"), party("b")], [resource("x")], [interest("a", "x", 1.0)])
    with pytest.raises(CaseError) as error:
        apply_concessions(case, [concession("constraint", 0.0, constraint="c0")])
    assert problems_of(error) == [("concessions[0].constraint", "unknown constraint 'c0'")]


def test_a_concession_on_an_interest_that_does_not_exist_is_refused() -> None:
    case = make_case(
        [party("a"), party("b")],
        [resource("x"), resource("y")],
        [interest("a", "x", 1.0), interest("b", "y", 1.0)],
    )
    with pytest.raises(CaseError) as error:
        apply_concessions(case, [concession("floor", 0.2, stakeholder="a", issue="y")])
    assert problems_of(error) == [("concessions[0]", "'a' has no interest in 'y' to change")]


def test_a_concession_that_names_nothing_is_refused() -> None:
    with pytest.raises(CaseError) as error:
        apply_concessions(
            small_case(),
            [
                concession("floor", 0.2, issue="hall"),
                concession("cap", 0.2, stakeholder="a"),
                concession("constraint", 0.2),
            ],
        )
    assert problems_of(error) == [
        ("concessions[0]", "a 'floor' concession must name its stakeholder"),
        ("concessions[1]", "a 'cap' concession must name its issue"),
        ("concessions[2]", "a 'constraint' concession must name its constraint"),
    ]


@pytest.mark.parametrize("kind", ["proportional", "envy"])
def test_a_policy_concession_is_refused(kind: str) -> None:
    with pytest.raises(CaseError, match=f"a '{kind}' concession relaxes the policy"):
        apply_concessions(small_case(), [concession(kind, -1.0, stakeholder="a")])


def test_a_concession_that_breaks_the_case_is_refused_as_the_case() -> None:
    with pytest.raises(CaseError) as error:
        apply_concessions(small_case(), [concession("floor", 0.8, stakeholder="b", issue="hall")])
    ((path, message),) = problems_of(error)
    assert path == "issues[0]"
    assert message.startswith("floors (min_share) on 'hall' sum to 1.4 > 1")


def test_a_case_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown stakeholder 'zed'"):
        apply_concessions(small_case(), [concession("capacity", 1.0, stakeholder="zed")])


# --- scale_party ------------------------------------------------------------------------------


def test_scaling_a_party_scales_its_values_and_disagreement_point_only() -> None:
    case = small_case()
    scaled = scale_party(case, "a", 1000.0)
    assert [(x.stakeholder, x.issue, x.value) for x in scaled.interests] == [
        ("a", "hall", 3000.0),
        ("b", "hall", 1.0),
        ("a", "flood", 2000.0),
        ("b", "flood", 1.0),
    ]
    assert scaled.stakeholder_by_id["a"].disagreement == -2000.0
    assert scaled.stakeholder_by_id["b"].disagreement == 0.0
    # claims and capacities are amounts of the issues, not utilities
    assert scaled.interest_by_pair["a", "hall"].claim == 4.0
    assert scaled.stakeholder_by_id["a"].risk_capacity == 5.0
    assert case.interest_by_pair["a", "hall"].value == 3.0
    assert scale_party(scaled, "a", 1e-3) == case


def test_scaling_an_unknown_party_is_refused() -> None:
    with pytest.raises(CaseError) as error:
        scale_party(small_case(), "zed", 2.0)
    assert problems_of(error) == [("party", "unknown stakeholder 'zed'")]


@pytest.mark.parametrize("factor", [0.0, -2.0, math.nan, math.inf, True])
def test_scaling_by_a_factor_that_is_not_positive_and_finite_is_refused(factor: float) -> None:
    with pytest.raises(CaseError) as error:
        scale_party(small_case(), "b", factor)
    assert problems_of(error) == [
        ("factor", f"must be a positive finite number, got {factor!r}"),
    ]


def test_scaling_out_of_the_numeric_range_is_refused_with_the_field() -> None:
    with pytest.raises(CaseError) as error:
        scale_party(small_case(), "a", 1e12)
    assert ("interests[0].value", "must be at most 1e12") in problems_of(error)
