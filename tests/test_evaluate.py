"""What-if: a proposed split evaluated beside the free settlement (library and command line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CASES_DIR, ROOT, interest, load, make_case, party, resource, risk
from typer.testing import CliRunner, Result

from mediation import settle
from mediation.allocation.evaluate import evaluate
from mediation.case import Case, pin_problems, pinned
from mediation.cli import app
from mediation.errors import WhatIfError
from mediation.evaluation import Evaluation, evaluation_json_schema
from mediation.validator import validate_settlement

PPP = str(CASES_DIR / "ppp-risk-sharing.yaml")
WHATIF = str(CASES_DIR / "whatif" / "ppp-overrun-60.yaml")
EVALUATION_SCHEMA = ROOT / "mediation" / "schema" / "evaluation.schema.json"


def fund() -> Case:
    return make_case(
        [party("a"), party("b")],
        [resource("fund", 100, unit="万元")],
        [interest("a", "fund", 1), interest("b", "fund", 1)],
    )


def by_party(result: Evaluation) -> dict[str, Any]:
    return {p.party: p for p in result.parties}


# --- the library ---------------------------------------------------------------------------------


def test_a_pin_is_measured_against_the_free_ideals() -> None:
    # free: leximin gives 50/50, each at half its possible gain (ideal: the whole fund);
    # pinned 70/30: a at 70%, b at 30% of the same ideal — not of the pinned case's ideal
    result = evaluate(fund(), {"fund": {"a": 0.7}})
    assert result.feasible
    assert result.pinned.shares["fund"] == {"a": 0.7, "b": 0.3}
    a, b = by_party(result)["a"], by_party(result)["b"]
    assert (a.free.normalized_gain, a.pinned.normalized_gain) == (0.5, 0.7)
    assert (b.free.normalized_gain, b.pinned.normalized_gain) == (0.5, 0.3)
    assert b.cost_normalized == pytest.approx(0.2)
    (change,) = b.changes
    assert (change.amount, change.unit) == (pytest.approx(-20), "万元")
    assert result.fairness_pinned is not None
    assert result.fairness_pinned.min_normalized_gain == pytest.approx(0.3)


def test_the_ppp_planners_question() -> None:
    case = load("ppp-risk-sharing")
    result = evaluate(case, {"cost-overrun": {"minzhengju": 0.6}})
    assert result.feasible
    assert not result.complete
    assert result.pinned.shares["cost-overrun"]["minzhengju"] == pytest.approx(0.6)
    assert result.free == settle(case).model_copy(update={"provenance": result.free.provenance})
    held = pinned(case, {"cost-overrun": {"minzhengju": 0.6}})
    assert validate_settlement(held, result.pinned) == []
    (check,) = result.pin_checks
    # the overrun floor of the builder (30%) leaves the bureau at most 70%
    assert (check.low, check.high, check.held, check.feasible) == (0.0, 0.7, "red_lines", True)
    bureau = by_party(result)["minzhengju"]
    worst = [bureau.free.worst_case, bureau.pinned.worst_case]
    free_share = result.free.shares["cost-overrun"]["minzhengju"]
    assert worst[1] - worst[0] == pytest.approx((0.6 - free_share) * 3_000_000)


@pytest.mark.parametrize(
    ("stem", "issue", "party"),
    [
        ("community-hall-dispute", "noise-risk", "wuye"),
        ("micro-renewal-risk-sharing", "delay", "lvye"),
        ("ppp-risk-sharing", "cost-overrun", "minzhengju"),
    ],
)
def test_a_pin_at_the_free_share_changes_nothing(stem: str, issue: str, party: str) -> None:
    # the pinned case is balanced on the free case's yardstick (its ideals), so pinning what
    # the free settlement already gives leaves every party where it was
    case = load(stem)
    free = settle(case)
    result = evaluate(case, {issue: {party: free.shares[issue][party]}})
    for outcome in result.parties:
        assert outcome.free is not None
        scale = max(1.0, abs(outcome.free.utility))
        assert outcome.cost == pytest.approx(0.0, abs=1e-8 * scale), outcome.party
        assert outcome.cost_normalized == pytest.approx(0.0, abs=1e-7), outcome.party


def test_who_is_pinned_more_risk_receives_more_resources() -> None:
    # the risk–reward coupling of the balancing rules: leximin compensates the bureau for
    # the overrun it is made to take with more of the government payments it values
    case = load("ppp-risk-sharing")
    result = evaluate(case, {"cost-overrun": {"minzhengju": 0.6}}, rule="leximin")
    free = result.free.shares
    assert free["cost-overrun"]["minzhengju"] < 0.6
    payments = [s["contract-payments"]["minzhengju"] for s in (free, result.pinned.shares)]
    assert payments[1] > payments[0] + 0.05


def test_pins_that_leave_no_deal_are_named_as_pins() -> None:
    case = load("ppp-risk-sharing")
    pins = {"demand-shortfall": {"kangle": 0.4}, "force-majeure": {"kangle": 1.0}}
    result = evaluate(case, pins)
    assert not result.feasible
    assert result.pinned.status == "infeasible"
    named = {(p.issue, p.party) for b in result.blockers for p in b.pins}
    assert named <= {("demand-shortfall", "kangle"), ("force-majeure", "kangle")}
    assert named
    # no blocker lists a pin as the party's own red line
    for blocker in result.blockers:
        for member in blocker.red_lines:
            assert (member.issue, member.stakeholder) not in {
                ("demand-shortfall", "kangle"),
                ("force-majeure", "kangle"),
            }
    # kangle can bear 500,000: a third of the demand risk, a quarter of force majeure
    ranges = {(c.issue, c.held): (c.low, c.high) for c in result.pin_checks}
    assert ranges[("demand-shortfall", "red_lines_only")] == pytest.approx((0.0, 1 / 3))
    assert ranges[("force-majeure", "red_lines_only")] == pytest.approx((0.0, 0.25))
    assert all(not c.feasible for c in result.pin_checks)


def test_a_complete_split_is_checked_not_completed() -> None:
    result = evaluate(fund(), {"fund": {"a": 0.25, "b": 0.75}})
    assert result.complete
    assert result.pinned.shares["fund"] == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize(
    ("pins", "path", "code"),
    [
        ({"fnd": {"a": 0.5}}, "pins.fnd", "unknown_issue"),
        ({"fund": {"c": 0.5}}, "pins.fund.c", "unknown_stakeholder"),
        ({"fund": {"a": 1.5}}, "pins.fund.a", "out_of_range"),
        ({"fund": {"a": 0.7, "b": 0.6}}, "pins.fund", "pins_above_one"),
        ({"fund": {"a": 0.2, "b": 0.6}}, "pins.fund", "pins_below_one"),
        ({"fund": {"a": 0.95}}, "pins.fund.a", "pin_outside_red_line"),
    ],
)
def test_bad_pins_are_refused_before_any_solving(
    pins: dict[str, dict[str, float]], path: str, code: str
) -> None:
    case = make_case(
        [party("a"), party("b")],
        [resource("fund", 100)],
        [interest("a", "fund", 1, max_share=0.9), interest("b", "fund", 1)],
    )
    with pytest.raises(WhatIfError) as error:
        evaluate(case, pins)
    assert [(p.path, p.code) for p in error.value.problems] == [(path, code)]


def test_a_pin_on_a_pair_with_no_interest_or_an_indivisible_issue() -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("hall", 1, divisible=False), risk("r", 10)],
        [
            interest("a", "hall", 1),
            interest("b", "hall", 1),
            interest("a", "r", 1),
            interest("b", "r", 1),
            interest("c", "r", 1),
        ],
    )
    found = pin_problems(case, {"hall": {"c": 1.0, "a": 0.5}})
    assert [(p.path, p.code) for p in found] == [
        ("pins.hall.c", "unknown_interest"),
        ("pins.hall.a", "indivisible"),
    ]


# --- the command line ---------------------------------------------------------------------------


def run(*args: str) -> Result:
    """Run the command line: an exit code is fine, a traceback is not."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_evaluate_prints_one_comparison_table() -> None:
    result = run("evaluate", PPP, "--pin", "cost-overrun.minzhengju=0.6", "--width", "100")
    assert result.exit_code == 0, result.output
    assert "The settlement without pins beside the pinned one" in result.output
    assert "Hexi District Civil Affairs Bureau" in result.output
    assert "the red lines allow any share from 0% to 70.0%" in result.output


def test_evaluate_reads_a_whatif_file_and_speaks_chinese() -> None:
    result = run("evaluate", PPP, "--whatif", WHATIF, "--lang", "zh", "--width", "100")
    assert result.exit_code == 0, result.output
    assert "基准方案（未固定份额）与固定份额方案对照" in result.output
    assert "建设成本超支风险由河西区民政局承担60.0%" in result.output


def test_evaluate_json_is_the_contract() -> None:
    result = run("evaluate", PPP, "--whatif", WHATIF, "--format", "json")
    assert result.exit_code == 0, result.output
    evaluation = Evaluation.model_validate_json(result.stdout)
    assert evaluation.pins == {"cost-overrun": {"minzhengju": 0.6, "chengjian": 0.4}}
    assert evaluation.complete is False
    assert json.loads(EVALUATION_SCHEMA.read_text(encoding="utf-8")) == evaluation_json_schema()


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (["--pin", "cost-overrun:minzhengju=0.6"], "--pin[0]"),
        (["--pin", "cost-overrun.minzhengju=lots"], "--pin[0]"),
        (["--pin", "cost-overrun.nobody=0.6"], "pins.cost-overrun.nobody"),
        # with the builder's floor of 30%, the bureau can take at most 70%
        (["--pin", "cost-overrun.minzhengju=0.9"], "pins.cost-overrun"),
        (["--pin", "cost-overrun.minzhengju=0.6", "--rule", "fair"], "--rule"),
        ([], "--pin"),
    ],
)
def test_bad_pins_exit_2_with_the_field(args: list[str], path: str) -> None:
    result = run("evaluate", PPP, *args, "--format", "json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert path in [p["path"] for p in error["problems"]]


def test_a_bad_whatif_file_exits_2_with_its_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pins:\n  cost-overrun: {minzhengju: 0.9}\ncolour: red\n", encoding="utf-8")
    result = run("evaluate", PPP, "--whatif", str(bad), "--format", "json")
    assert result.exit_code == 2, result.output
    problems = json.loads(result.stdout)["error"]["problems"]
    assert ("", "extra_forbidden") in [(p["path"], p["code"]) for p in problems]
    assert any("'colour'" in p["message"] for p in problems)
