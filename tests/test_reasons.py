"""The settlement as a contract: typed reasons, a body free of run-to-run noise, clean numbers."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from conftest import CASE_FILES, RULES, load, settle_checked
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from mediation.allocation.assemble import exact_total, tidy
from mediation.case import Case
from mediation.reasons import LeximinLevel, Reason, ReasonCode, reason_models
from mediation.settlement import SCHEMA_VERSION, Settlement
from mediation.validator import validate_settlement

REASON = TypeAdapter(Reason)


def bundled_settlements() -> list[tuple[Case, Settlement]]:
    """Every bundled case under its own policy."""
    out = []
    for path in CASE_FILES:
        case = load(path.stem)
        out.append((case, settle_checked(case)))
    return out


def test_every_code_has_exactly_one_payload_model() -> None:
    models = reason_models()
    assert set(models) == {code.value for code in ReasonCode}
    for code, model in models.items():
        assert model.model_fields["code"].default == code


def test_a_reason_is_parsed_by_its_code_and_refuses_fields_its_code_does_not_have() -> None:
    level = REASON.validate_python(
        {"code": "leximin_level", "rank": 2, "level": 0.5, "parties": ["a"]}
    )
    assert isinstance(level, LeximinLevel)
    assert level.rank == 2
    with pytest.raises(ValidationError, match="extra"):
        REASON.validate_python({"code": "worst_off", "parties": ["a"], "level": 0.1, "rank": 1})
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        REASON.validate_python({"code": "a_code_nobody_knows"})


def test_every_bundled_settlement_round_trips_through_its_json() -> None:
    for _, settlement in bundled_settlements():
        assert settlement.schema_version == SCHEMA_VERSION == "1.3"
        again = Settlement.model_validate_json(settlement.model_dump_json())
        assert again == settlement
        for reason in again.reasons:
            assert type(reason) is reason_models()[reason.code]


@pytest.mark.parametrize("rule", RULES)
def test_two_runs_of_the_same_input_give_byte_identical_bodies(rule: str) -> None:
    case = load(
        "two-party-adjusted-winner" if rule == "adjusted_winner" else "community-hall-dispute"
    )
    if rule == "claims":
        case = load("budget-claims-rationing")
    first, second = settle_checked(case, rule=rule), settle_checked(case, rule=rule)
    assert json.dumps(first.body(), sort_keys=True) == json.dumps(second.body(), sort_keys=True)
    assert "provenance" not in first.body()
    assert first.provenance.input_sha256 == second.provenance.input_sha256
    assert set(first.provenance.timings) >= {"total"}


def _numbers(data: Any) -> list[float]:
    if isinstance(data, dict):
        return [x for v in data.values() for x in _numbers(v)]
    if isinstance(data, list):
        return [x for v in data for x in _numbers(v)]
    if isinstance(data, float):
        return [data]
    return []


def test_shares_sum_exactly_and_no_number_carries_floating_point_noise() -> None:
    for case, settlement in bundled_settlements():
        for issue, shares in settlement.shares.items():
            if shares:
                assert math.fsum(shares.values()) == 1.0, (case.id, issue, shares)
            # every share but the one that closes the issue's sum is rounded as reported
            rounded = sorted(shares.values())[:-1]
            assert all(tidy(x) == x for x in rounded), (case.id, issue, shares)
        outcome = {
            "amounts": settlement.amounts,
            "parties": {
                p: {k: v for k, v in o.model_dump().items() if k != "disagreement"}
                for p, o in settlement.parties.items()
            },
            "fairness": settlement.fairness.model_dump() if settlement.fairness else {},
        }
        for x in _numbers(outcome):
            assert tidy(x) == x, (case.id, x)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_exact_total_makes_a_near_unit_sum_exact_and_moves_nothing_else(raw: list[float]) -> None:
    total = math.fsum(raw)
    if total == 0:
        return
    shares = [x / total for x in raw]
    fixed = exact_total(shares)
    assert math.fsum(fixed) == 1.0
    moved = [abs(a - b) for a, b in zip(shares, fixed, strict=True)]
    assert sum(m > 0 for m in moved) <= 1
    assert max(moved) <= 1e-12
    assert exact_total([0.5, 0.4]) == [0.5, 0.4]  # not a unit sum: left alone


def test_solver_dust_is_snapped_to_the_bound() -> None:
    # a party with a cap of one third: the LP meets it to its tolerance, the settlement
    # reports the cap itself
    case = load("community-hall-dispute")
    result = settle_checked(case)
    for interest in case.interests:
        share = result.shares[interest.issue][interest.stakeholder]
        for bound in (0.0, 1.0, interest.min_share, interest.max_share):
            if bound is not None:
                assert share == bound or abs(share - bound) > 1e-9


def test_the_validator_refuses_a_reason_naming_someone_outside_the_case() -> None:
    case = load("community-hall-dispute")
    result = settle_checked(case)
    stranger = REASON.validate_python({"code": "no_positive_gain", "parties": ["nobody"]})
    forged = result.model_copy(update={"reasons": [*result.reasons, stranger]})
    problems = validate_settlement(case, forged, optimality=False)
    assert [p.path for p in problems] == [f"reasons[{len(result.reasons)}]"]
    assert "'nobody', who is not a party" in problems[0].message
