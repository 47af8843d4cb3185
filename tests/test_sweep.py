"""Scenario sweeps in the library: the sweep file, the plan, the runner, the summary, the hooks."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest
from conftest import CASES_DIR, interest, load, make_case, party, resource, risk
from hypothesis import given
from hypothesis import strategies as st

from mediation.case import Case
from mediation.errors import PolicyError, SweepError
from mediation.sweep import (
    SummaryAccumulator,
    SweepPlan,
    iter_rows,
    load_sweep,
    parse_sweep,
    plan_sweep,
    robust_scenarios,
    run_sweep,
)
from mediation.sweep.summary import _ExactSum
from mediation.validator import validate_settlement


def tiny() -> Case:
    """Two parties, a resource and a risk; b can bear at most 30 of the risk's 100."""
    return make_case(
        [party("a", disagreement=-1), party("b", disagreement=-1, risk_capacity=30)],
        [resource("x", 10), risk("r", 100, probability=0.5)],
        [
            interest("a", "x", 1),
            interest("b", "x", 1),
            interest("a", "r", 1),
            interest("b", "r", 1),
        ],
    )


def sweep(*parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"sweep_version": "1.0", "seed": 11, "parameters": list(parameters), **fields}


def problems(case: Case, document: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the (path, code) of every problem the sweep has on ``case``."""
    with pytest.raises(SweepError) as caught:
        plan_sweep(case, parse_sweep(document))
    return [(p.path, p.code) for p in caught.value.problems]


def messages(case: Case, document: dict[str, Any]) -> str:
    with pytest.raises(SweepError) as caught:
        plan_sweep(case, parse_sweep(document))
    return str(caught.value)


# --- the sweep file on its own -------------------------------------------------------------


def test_the_bundled_sweep_files_are_valid_on_their_cases() -> None:
    ppp = plan_sweep(
        load("ppp-risk-sharing"),
        load_sweep((CASES_DIR / "sweeps/ppp-risk-sharing.sweep.yaml").read_text(encoding="utf-8")),
    )
    hall = plan_sweep(
        load("community-hall-dispute"),
        load_sweep((CASES_DIR / "sweeps/community-hall.sweep.yaml").read_text(encoding="utf-8")),
    )
    assert (ppp.scenarios, hall.scenarios) == (300, 600)
    assert (ppp.spec.robust, hall.spec.robust) == (True, False)


def test_a_malformed_sweep_lists_every_problem_with_its_path() -> None:
    with pytest.raises(SweepError) as caught:
        parse_sweep(
            {
                "sweep_version": "2.0",
                "seed": -1,
                "sampels": 3,
                "parameters": [
                    {"path": "issues.x.amount", "grid": []},
                    {"path": "issues.x.amount", "distribution": {"kind": "poisson"}},
                    {"path": "issues.x.amount", "distribution": {"kind": "uniform", "lo": 1}},
                    {"path": "issues.x.amount", "grid": [1], "distribution": {"kind": "choice"}},
                ],
            }
        )
    found = {(p.path, p.code): p.message for p in caught.value.problems}
    assert found["sweep_version", "literal_error"] == 'must be "1.0"'
    assert found["seed", "greater_than_equal"] == "must be at least 0"
    assert "allowed: sweep_version, seed, samples, parameters" in found["", "extra_forbidden"]
    assert ("parameters[0].grid", "too_short") in found
    poisson = found["parameters[1].distribution.kind", "union_tag_invalid"]
    assert "unknown distribution kind 'poisson'" in poisson
    assert "uniform, triangular, normal, choice" in poisson
    assert "allowed: kind, low, high" in found["parameters[2].distribution", "extra_forbidden"]
    assert ("parameters[2].distribution.low", "missing") in found
    assert ("parameters[3].distribution.values", "missing") in found


@pytest.mark.parametrize(
    ("distribution", "where", "says"),
    [
        ({"kind": "uniform", "low": 3, "high": 2}, "high", "must be above low (3)"),
        ({"kind": "triangular", "low": 1, "mode": 5, "high": 2}, "mode", "[1, 2]"),
        ({"kind": "normal", "mean": 5, "sd": 1, "low": 0, "high": 2}, "mean", "[0, 2]"),
        ({"kind": "normal", "mean": 1, "sd": 0}, "sd", "greater than 0"),
        ({"kind": "choice", "values": [1, 2], "weights": [1]}, "weights", "one weight per"),
        ({"kind": "choice", "values": [1, 2], "weights": [0, 0]}, "weights", "not all be 0"),
    ],
)
def test_a_distribution_with_bounds_out_of_order_is_refused(
    distribution: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(SweepError) as caught:
        parse_sweep(sweep({"path": "issues.x.amount", "distribution": distribution}))
    [problem] = caught.value.problems
    assert problem.path == f"parameters[0].distribution.{where}"
    assert says in problem.message


def test_samples_without_any_distribution_would_repeat_the_same_scenario() -> None:
    with pytest.raises(SweepError, match="no parameter has a distribution"):
        parse_sweep(sweep({"path": "issues.x.amount", "grid": [1, 2]}, samples=5))


def test_a_sweep_too_large_is_refused_before_anything_is_planned() -> None:
    grid = {"grid": [float(v) for v in range(1, 1001)]}
    with pytest.raises(SweepError, match="above the limit of 10000000"):
        parse_sweep(sweep(*({"path": f"issues.x{k}.amount", **grid} for k in range(3))))


# --- the sweep against its case ------------------------------------------------------------


def test_unknown_paths_are_named_with_a_suggestion() -> None:
    found = messages(
        tiny(),
        sweep(
            {"path": "isues.x.amount", "grid": [1]},
            {"path": "issues.xx.amount", "grid": [1]},
            {"path": "issues.x.size", "grid": [1]},
            {"path": "issues.x.probability", "grid": [0.5]},
            {"path": "interests.a.x.control", "grid": [0.5]},
            {"path": "stakeholders.a", "grid": [1]},
            {"path": "constraints.c.rhs", "grid": [1]},
            {"path": "issues.r.amount", "grid": [50]},
            {"path": "issues.r.amount", "grid": [60]},
        ),
    )
    assert "parameters[0].path: unknown parameter path 'isues.x.amount'" in found
    assert "parameters[1].path: unknown issue 'xx'" in found
    assert "parameters[2].path: 'issues.x.size': a sweep cannot vary 'size'" in found
    assert "it may vary amount, probability" in found
    assert "parameters[3].path: 'x' is a resource: probability applies to risks only" in found
    assert "parameters[4].path: 'x' is a resource: control applies to risks only" in found
    assert "parameters[5].path: 'stakeholders.a' does not have the form" in found
    assert "parameters[6].path: unknown constraint 'c'" in found
    assert "parameters[8].path: repeats the path of parameters[7]" in found
    hall = messages(
        load("community-hall-dispute"), sweep({"path": "pins.noise-risks.wuye", "grid": [0.3]})
    )
    assert "parameters[0].path: unknown issue 'noise-risks'; did you mean 'noise-risk'?" in hall


@pytest.mark.parametrize(
    ("parameter", "path", "says"),
    [
        (
            {
                "path": "issues.r.probability",
                "distribution": {"kind": "uniform", "low": 0.5, "high": 1.2},
            },
            "parameters[0].distribution.high",
            "1.2 is outside the valid range of issues.r.probability, (0, 1]",
        ),
        (
            {"path": "issues.r.probability", "grid": [0, 0.5]},
            "parameters[0].grid[0]",
            "0 is outside the valid range of issues.r.probability, (0, 1]",
        ),
        (
            {
                "path": "issues.x.amount",
                "distribution": {"kind": "triangular", "low": -1, "mode": 1, "high": 2},
            },
            "parameters[0].distribution.low",
            "-1 is outside the valid range of issues.x.amount",
        ),
        (
            {
                "path": "stakeholders.a.weight",
                "distribution": {"kind": "choice", "values": [1, 2e6]},
            },
            "parameters[0].distribution.values[1]",
            "2e+06 is outside the valid range of stakeholders.a.weight, [1e-6, 1e6]",
        ),
        (
            {
                "path": "stakeholders.b.risk_capacity",
                "distribution": {"kind": "normal", "mean": -5, "sd": 1},
            },
            "parameters[0].distribution.mean",
            "the normal distribution is centred on values inside it",
        ),
        (
            {"path": "interests.a.x.value", "grid": [1e-12]},
            "parameters[0].grid[0]",
            "0 or at least 1e-9 in absolute value",
        ),
    ],
)
def test_a_value_outside_the_field_s_range_is_refused(
    parameter: dict[str, Any], path: str, says: str
) -> None:
    with pytest.raises(SweepError) as caught:
        plan_sweep(tiny(), parse_sweep(sweep(parameter)))
    [problem] = caught.value.problems
    assert problem.path == path
    assert says in problem.message


def test_pins_must_have_an_interest_and_keep_within_red_lines() -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("x"), resource("y", divisible=False)],
        [
            interest("a", "x", 1, max_share=0.5),
            interest("b", "x", 1, min_share=0.3),
            interest("c", "y", 1),
            interest("a", "y", 1),
        ],
    )
    found = problems(
        case,
        sweep(
            {"path": "pins.x.c", "grid": [0.1]},
            {"path": "pins.x.a", "grid": [0.2, 0.6]},
            {"path": "pins.x.b", "distribution": {"kind": "uniform", "low": 0.1, "high": 0.6}},
            {"path": "pins.y.c", "distribution": {"kind": "uniform", "low": 0, "high": 1}},
            {"path": "pins.y.a", "grid": [0.5]},
        ),
    )
    assert found == [
        ("parameters[0].path", "unknown_interest"),
        ("parameters[1].grid[1]", "pin_outside_red_line"),
        ("parameters[2].distribution.low", "pin_outside_red_line"),
        ("parameters[3].distribution", "indivisible"),
        ("parameters[4].grid[0]", "indivisible"),
    ]
    text = messages(case, sweep({"path": "pins.x.a", "grid": [0.6]}))
    assert "the pin 0.6 is above a's own cap of 0.5 on 'x'; pin at most 0.5" in text
    text = messages(case, sweep({"path": "pins.x.c", "grid": [0.5]}))
    assert "c has no interest in 'x': only a party with an interest" in text


def test_pins_on_one_issue_must_leave_it_whole_with_the_other_red_lines() -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("x")],
        [interest("a", "x", 1), interest("b", "x", 1), interest("c", "x", 1, min_share=0.2)],
    )
    text = messages(
        case,
        sweep({"path": "pins.x.a", "grid": [0.3, 0.7]}, {"path": "pins.x.b", "grid": [0.1, 0.4]}),
    )
    assert "parameters[1]: the pins on 'x' (1.1) and the other parties' floors on it (0.2)" in text
    assert "(the largest values of parameters[0], parameters[1])" in text
    found = problems(case, sweep({"path": "pins.x.a", "grid": [0.3, 0.9]}))
    assert found == [("parameters[0].grid[1]", "pins_above_one")]
    # two pins on one issue above 1 though each fits alone
    two = make_case(
        [party("a"), party("b")], [resource("x")], [interest("a", "x", 1), interest("b", "x", 1)]
    )
    found = problems(
        two, sweep({"path": "pins.x.a", "grid": [0.5, 0.6]}, {"path": "pins.x.b", "grid": [0.5]})
    )
    assert found == [("parameters[1]", "pins_above_one")]
    # pinning every party of an issue must pin it whole in every scenario
    found = problems(
        two, sweep({"path": "pins.x.a", "grid": [0.5]}, {"path": "pins.x.b", "grid": [0.3, 0.5]})
    )
    assert found == [("parameters[1]", "pins_below_one")]


def test_a_party_s_values_may_not_span_more_than_the_case_format_allows() -> None:
    case = make_case(
        [party("a"), party("b")],
        [resource("x"), resource("y")],
        [
            interest("a", "x", 1e6),
            interest("a", "y", 1),
            interest("b", "x", 1),
            interest("b", "y", 1),
        ],
    )
    text = messages(
        case,
        sweep(
            {
                "path": "interests.a.y.value",
                "distribution": {"kind": "uniform", "low": 0, "high": 1},
            }
        ),
    )
    assert "parameters[0]: 'a''s values can reach 1e+06" in text
    assert "start it above 0 or use a choice" in text
    plan_sweep(
        case,
        parse_sweep(
            sweep(
                {
                    "path": "interests.a.y.value",
                    "distribution": {"kind": "uniform", "low": 0.5, "high": 1},
                }
            )
        ),
    )
    plan_sweep(case, parse_sweep(sweep({"path": "interests.a.y.value", "grid": [0, 1]})))


def test_the_policy_of_a_sweep_is_checked_against_the_case() -> None:
    with pytest.raises(SweepError) as caught:
        plan_sweep(
            tiny(),
            parse_sweep(sweep({"path": "issues.x.amount", "grid": [1]}, policy={"rule": "lexmin"})),
        )
    assert caught.value.problems[0].path == "policy.rule"
    three = make_case(
        [party("a"), party("b"), party("c")],
        [resource("x")],
        [interest("a", "x", 1), interest("b", "x", 1), interest("c", "x", 1)],
    )
    with pytest.raises(PolicyError):
        plan_sweep(
            three,
            parse_sweep(
                sweep({"path": "issues.x.amount", "grid": [1]}, policy={"rule": "adjusted_winner"})
            ),
        )
    plan = plan_sweep(
        tiny(),
        parse_sweep(sweep({"path": "issues.x.amount", "grid": [1]}, policy={"rule": "nash"})),
    )
    assert plan.case.policy.rule == "nash"
    assert plan.case.canonical_digest != tiny().canonical_digest


# --- scenarios -----------------------------------------------------------------------------


def hall_plan(samples: int = 4, seed: int = 3) -> SweepPlan:
    return plan_sweep(
        load("community-hall-dispute"),
        parse_sweep(
            {
                "sweep_version": "1.0",
                "seed": seed,
                "samples": samples,
                "parameters": [
                    {
                        "path": "issues.noise-risk.amount",
                        "distribution": {
                            "kind": "triangular",
                            "low": 10000,
                            "mode": 20000,
                            "high": 40000,
                        },
                    },
                    {
                        "path": "issues.noise-risk.probability",
                        "distribution": {"kind": "normal", "mean": 0.4, "sd": 0.3},
                    },
                    {"path": "stakeholders.guangchangwu.risk_capacity", "grid": [2000, 8000]},
                    {"path": "pins.noise-risk.wuye", "grid": [0.2, 0.4]},
                ],
            }
        ),
    )


def test_grid_points_are_a_cartesian_product_and_share_their_samples() -> None:
    plan = hall_plan(samples=3)
    assert plan.scenarios == 12
    scenarios = [plan.scenario(i) for i in range(plan.scenarios)]
    assert [(s.grid_point, s.sample) for s in scenarios[:4]] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert [s.values[2:] for s in scenarios[::3]] == [
        (2000, 0.2),
        (2000, 0.4),
        (8000, 0.2),
        (8000, 0.4),
    ]
    # common random numbers: sample k draws the same values at every grid point
    for s in scenarios:
        assert s.values[:2] == scenarios[s.sample].values[:2]
    assert len({s.values[:2] for s in scenarios}) == 3


def test_a_scenario_s_draws_depend_on_the_seed_and_its_number_only() -> None:
    first, again, other = hall_plan(seed=3), hall_plan(seed=3), hall_plan(seed=4)
    assert [first.scenario(i) for i in (7, 2, 5)] == [again.scenario(i) for i in (7, 2, 5)]
    assert first.scenario(1).values != other.scenario(1).values
    rng = np.random.default_rng([3, 1])
    assert first.scenario(1).values[0] == rng.triangular(10000, 20000, 40000)
    with pytest.raises(SweepError, match="no scenario 16"):
        first.scenario(16)


@given(seed=st.integers(0, 2**63 - 1), sample=st.integers(0, 10**6))
def test_every_draw_stays_within_its_field_s_range(seed: int, sample: int) -> None:
    plan = plan_sweep(
        tiny(),
        parse_sweep(
            {
                "sweep_version": "1.0",
                "seed": seed,
                "samples": sample + 1,
                "parameters": [
                    {
                        "path": "issues.r.probability",
                        "distribution": {"kind": "normal", "mean": 0.02, "sd": 0.5},
                    },
                    {
                        "path": "stakeholders.a.disagreement",
                        "distribution": {"kind": "uniform", "low": -1e-9, "high": 1e-9},
                    },
                    {
                        "path": "pins.r.b",
                        "distribution": {"kind": "normal", "mean": 0.2, "sd": 1, "high": 0.3},
                    },
                    {
                        "path": "stakeholders.a.weight",
                        "distribution": {
                            "kind": "choice",
                            "values": [1, 2, 3],
                            "weights": [1, 0, 1],
                        },
                    },
                ],
            }
        ),
    )
    probability, disagreement, pin, weight = plan.scenario(sample).values
    assert 0 < probability <= 1
    assert disagreement == 0 or 1e-9 <= abs(disagreement) <= 1e-9 * (1 + 1e-12)
    assert 0 <= pin <= 0.3
    assert weight in (1, 3)
    built = plan.scenario_case(plan.scenario(sample).values)
    assert built.issue_by_id["r"].probability == probability
    assert (
        built.interest_by_pair["b", "r"].min_share
        == built.interest_by_pair["b", "r"].max_share
        == pin
    )


def test_draws_follow_their_distributions() -> None:
    plan = plan_sweep(
        tiny(),
        parse_sweep(
            {
                "sweep_version": "1.0",
                "seed": 1,
                "samples": 4000,
                "parameters": [
                    {
                        "path": "issues.x.amount",
                        "distribution": {"kind": "uniform", "low": 10, "high": 20},
                    },
                    {
                        "path": "issues.r.amount",
                        "distribution": {"kind": "triangular", "low": 0.5, "mode": 1, "high": 3},
                    },
                    {
                        "path": "issues.r.probability",
                        "distribution": {"kind": "normal", "mean": 0.5, "sd": 0.1},
                    },
                    {
                        "path": "stakeholders.a.weight",
                        "distribution": {"kind": "choice", "values": [1, 2], "weights": [3, 1]},
                    },
                ],
            }
        ),
    )
    values = np.array([plan.scenario(i).values for i in range(plan.scenarios)])
    assert values[:, 0].mean() == pytest.approx(15, abs=0.2)
    assert values[:, 1].mean() == pytest.approx((0.5 + 1 + 3) / 3, abs=0.05)
    assert values[:, 2].mean() == pytest.approx(0.5, abs=0.01)
    assert values[:, 2].std() == pytest.approx(0.1, abs=0.01)
    assert (values[:, 3] == 2).mean() == pytest.approx(0.25, abs=0.03)


# --- running -------------------------------------------------------------------------------


def test_every_row_is_a_settlement_the_validator_accepts() -> None:
    plan = hall_plan(samples=2)
    rows = list(iter_rows(plan))
    assert [r["scenario"] for r in rows] == list(range(8))
    assert set(rows[0]) == set(plan.columns)
    from mediation import settle

    for row in rows[:4]:
        case = plan.scenario_case(plan.scenario(row["scenario"]).values)
        result = settle(case)
        assert validate_settlement(case, result) == []
        assert row["status"] == result.status
        if result.shares:
            assert row["share.noise-risk.wuye"] == result.shares["noise-risk"]["wuye"]
            assert row["worst_exposure.wuye"] == result.parties["wuye"].exposure.worst_case


class Synchronous(Executor):
    """Runs each task when it is submitted; counts what it was given."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_rows_stream_out_before_the_sweep_is_done_with_few_batches_pending() -> None:
    plan = plan_sweep(
        tiny(),
        parse_sweep(sweep({"path": "pins.x.a", "grid": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]})),
    )
    executor = Synchronous()
    seen: list[tuple[int, int]] = []
    run_sweep(
        plan,
        executor=executor,
        batch_size=2,
        max_pending=2,
        on_row=lambda row: seen.append((row["scenario"], executor.submitted)),
    )
    assert [s for s, _ in seen] == list(range(7))
    assert seen[0][1] == 2  # the first row came out when two of the four batches were given
    assert executor.submitted == 4


def test_the_same_rows_whatever_the_batches_and_the_executor() -> None:
    plan = hall_plan(samples=3)
    serial = list(iter_rows(plan, batch_size=5))
    assert list(iter_rows(plan, batch_size=1)) == serial
    assert list(iter_rows(plan, batch_size=12, executor=Synchronous())) == serial
    import multiprocessing

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert list(iter_rows(plan, batch_size=2, executor=pool)) == serial
    assert {r["status"] for r in serial} == {"optimal", "infeasible"}


def test_the_same_rows_on_a_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    plan = hall_plan(samples=3)
    serial = list(iter_rows(plan))
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        rows = list(iter_rows(plan, batch_size=4, executor=client.get_executor(pure=False)))
        summary = run_sweep(plan, executor=client.get_executor(pure=False), batch_size=3)
    assert rows == serial
    assert summary == run_sweep(plan)


def test_the_batch_path_gives_the_rows_that_settling_each_case_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = hall_plan(samples=3)
    batched = list(iter_rows(plan))
    monkeypatch.setitem(sys.modules, "mediation.allocation.batch", None)  # not installed
    assert list(iter_rows(plan)) == batched


def test_a_resumed_sweep_has_the_same_summary_and_settles_only_the_rest() -> None:
    plan = hall_plan(samples=3)
    complete = run_sweep(plan)
    rows = list(iter_rows(plan))
    settled: list[int] = []
    resumed = run_sweep(plan, done=rows[:5], on_row=lambda r: settled.append(r["scenario"]))
    assert settled == list(range(5, 12))
    assert resumed == complete


# --- the summary ---------------------------------------------------------------------------


def tiny_plan() -> SweepPlan:
    return plan_sweep(
        tiny(),
        parse_sweep(
            sweep(
                {"path": "pins.x.a", "grid": [0.2, 0.6]},
                {"path": "pins.r.b", "grid": [0.1, 0.2, 0.4]},
            )
        ),
    )


def test_the_summary_of_a_tiny_sweep_by_hand() -> None:
    # every share is pinned: a gets p of x and 1 − q of r, b the rest; disagreement −1 each.
    # b's capacity of 30 rules out q = 0.4 (scenarios 2 and 5: an exposure of 40)
    summary = run_sweep(tiny_plan())
    assert summary.statuses == {"infeasible": 2, "optimal": 4}
    assert (summary.settled, summary.feasible, summary.infeasible) == (6, 4, 2)
    assert summary.infeasible_share == pytest.approx(1 / 3)
    assert [(b.path, b.kind, b.scenarios, b.share) for b in summary.blamed] == [
        ("pins.r.b", "pin", 2, 1.0),
        ("stakeholders.b.risk_capacity", "capacity", 2, 1.0),
    ]
    a, b = summary.parties["a"], summary.parties["b"]
    # gains of a: p − (1 − q) + 1 over (p, q) = (.2,.1), (.2,.2), (.6,.1), (.6,.2)
    assert a.gain.model_dump() == pytest.approx(
        {"count": 4, "mean": 0.55, "min": 0.3, "p5": 0.315, "p50": 0.55, "p95": 0.785, "max": 0.8}
    )
    assert b.gain.model_dump() == pytest.approx(
        {"count": 4, "mean": 1.45, "min": 1.2, "p5": 1.215, "p50": 1.45, "p95": 1.685, "max": 1.7}
    )
    assert a.shares["x"].mean == pytest.approx(0.4)
    assert b.shares["r"].p50 == pytest.approx(0.15)
    assert b.worst_exposure.mean == pytest.approx(15)
    assert b.expected_exposure.mean == pytest.approx(7.5)
    assert b.capacity_used.mean == pytest.approx(0.5)
    assert b.capacity_used.max == pytest.approx(20 / 30)
    assert a.capacity_used.count == 0  # no capacity, nothing to use
    assert a.normalized_gain.mean == pytest.approx(1.0)  # all pinned: the ideal is the outcome
    assert [w.scenario for w in a.worst] == [0, 1, 3]
    assert [w.scenario for w in b.worst] == [4, 3, 1]
    assert b.worst[0].parameters == {"pins.x.a": 0.6, "pins.r.b": 0.2}
    assert summary.quantiles == "exact"


def test_the_summary_does_not_depend_on_the_order_of_the_rows() -> None:
    plan = hall_plan(samples=3)
    rows = list(iter_rows(plan))
    expected = run_sweep(plan)
    for seed in range(3):
        random.Random(seed).shuffle(rows)
        accumulator = SummaryAccumulator(plan)
        for row in rows:
            accumulator.add(row)
        assert accumulator.summary() == expected


def test_percentiles_of_a_large_sweep_come_from_a_fixed_even_subset() -> None:
    plan = hall_plan(samples=3)
    rows = list(iter_rows(plan))
    shuffled = rows[::-1]
    summaries = []
    for order in (rows, shuffled):
        accumulator = SummaryAccumulator(plan, quantile_limit=5)
        for row in order:
            accumulator.add(row)
        summaries.append(accumulator.summary())
    assert summaries[0] == summaries[1]
    summary = summaries[0]
    assert (summary.quantiles, summary.quantile_scenarios) == ("subset", 5)
    exact = run_sweep(plan)
    party = "wuye"
    # the means and extremes are still over every scenario; the percentiles over at most five
    assert summary.parties[party].gain.mean == exact.parties[party].gain.mean
    assert summary.parties[party].gain.count == exact.parties[party].gain.count
    kept = [i for i in range(12) if (i * accumulator._multiplier) % 12 < 5]
    assert len(kept) == 5
    feasible = [
        r["gain.wuye"] for r in rows if r["scenario"] in kept and r["gain.wuye"] is not None
    ]
    assert summary.parties[party].gain.p50 == pytest.approx(float(np.percentile(feasible, 50)))


@given(st.lists(st.floats(-1e12, 1e12, allow_nan=False), max_size=60), st.randoms())
def test_exact_sums_do_not_depend_on_the_order(values: list[float], rng: random.Random) -> None:
    forwards, shuffled = _ExactSum(), _ExactSum()
    for v in values:
        forwards.add(v)
    order = list(values)
    rng.shuffle(order)
    for v in order:
        shuffled.add(v)
    assert forwards.value() == shuffled.value() == math.fsum(values)


# --- the robust split's hook ---------------------------------------------------------------


def test_the_robust_split_gets_each_data_scenario_once_without_the_pins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = plan_sweep(
        tiny(),
        parse_sweep(
            sweep(
                {"path": "pins.x.a", "grid": [0.2, 0.6]},
                {
                    "path": "issues.r.amount",
                    "distribution": {"kind": "uniform", "low": 50, "high": 100},
                },
                samples=3,
                robust=True,
            )
        ),
    )
    chosen, complete = robust_scenarios(plan, set())
    assert (chosen, complete) == ([0, 1, 2], True)  # scenarios 3-5 repeat them with another pin
    subset, complete = robust_scenarios(plan, {5}, limit=3)
    assert not complete
    assert subset == [0, 5]  # 0 and 3 evenly spread, 5 the worst; 3 repeats 0 with another pin
    from mediation.allocation import robust

    calls: list[tuple[Case, list[Case]]] = []
    real = robust.robust_split

    def recorded(base: Case, scenarios: list[Case], **options: Any) -> Any:
        calls.append((base, list(scenarios)))
        return real(base, scenarios, **options)

    monkeypatch.setattr(robust, "robust_split", recorded)
    summary = run_sweep(plan)
    assert summary.robust is not None
    assert (summary.robust.status, summary.robust.scenarios) == ("computed", 3)
    assert summary.robust.scenario_numbers == [0, 1, 2]
    [(base, cases)] = calls
    assert base == plan.case
    amounts = [c.issue_by_id["r"].amount for c in cases]
    assert amounts == [plan.scenario(i).values[1] for i in range(3)]
    assert all(c.interest_by_pair["a", "x"].min_share is None for c in cases)
    split = summary.robust.result
    assert split is not None
    assert split.status == "optimal"
    # one split within b's capacity of 30 in every scenario: the largest amount decides
    assert split.shares["r"]["b"] * max(amounts) <= 30 + 1e-6
    assert split == real(plan.case, cases)


def test_without_the_robust_lp_the_summary_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediation.allocation.robust", None)
    summary = run_sweep(tiny_plan(), robust=True)
    assert summary.robust is not None
    assert summary.robust.status == "unavailable"
    assert run_sweep(tiny_plan()).robust is None


# --- what the library loads ----------------------------------------------------------------


def test_the_library_and_the_sweep_command_load_neither_dask_nor_pyarrow() -> None:
    code = (
        "import sys, mediation, mediation.sweep, mediation.cli.sweep\n"
        "from mediation.sweep import run_sweep\n"
        "print(sorted(m for m in ('dask', 'distributed', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
