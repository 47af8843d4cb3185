"""The optimality certificate's LPs: scipy's HiGHS called directly gives linprog's verdicts.

:mod:`mediation.validator.lp` hands the certificate's LPs to the HiGHS that scipy bundles,
skipping :func:`scipy.optimize.linprog`'s own overhead, and falls back on ``linprog`` where
that binding is missing. Both paths must reach the same verdict on optimal settlements and on
settlements that are not optimal (another rule's allocation passed off as this rule's).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest
from conftest import CASE_FILES, LP_RULES, load
from scipy import sparse

from mediation import settle
from mediation.rules import policy_problems
from mediation.validator.lp import Rows, direct, maximize, via_linprog
from mediation.validator.optimality import optimality_problems

STEMS = [p.stem for p in CASE_FILES]


def test_the_direct_path_is_taken_with_this_scipy() -> None:
    assert direct()
    with via_linprog():
        assert not direct()
    assert direct()


@pytest.mark.parametrize("stem", STEMS)
def test_both_paths_certify_every_rules_optimum(stem: str) -> None:
    case = load(stem)
    for rule in LP_RULES:
        if policy_problems(case, case.policy.with_overrides({"rule": rule})):
            continue  # risk sharing takes no payments, contributions or choices
        result = settle(case, rule=rule, check=False)
        if result.status != "optimal":
            continue
        found = optimality_problems(case, result)
        with via_linprog():
            expected = optimality_problems(case, result)
        assert found == expected == []


@pytest.mark.parametrize("stem", ["community-hall-dispute", "river-cleanup-cogovernance"])
def test_both_paths_refuse_another_rules_allocation(stem: str) -> None:
    case = load(stem)
    refused = 0
    for made_by, claimed in [
        ("utilitarian", "leximin"),
        ("utilitarian", "maximin"),
        ("leximin", "utilitarian"),
        ("maximin", "nash"),
    ]:
        result = settle(case, rule=made_by, check=False)
        assert result.status == "optimal"
        passed_off = result.model_copy(update={"rule": claimed})
        found = optimality_problems(case, passed_off)
        with via_linprog():
            expected = optimality_problems(case, passed_off)
        assert bool(found) == bool(expected)
        refused += bool(found)
    assert refused == 4


def test_maximize_solves_a_small_lp_by_hand() -> None:
    # max x + 2y with x + y <= 1, x - y = 0 (as rows), 0 <= x, y <= 1: x = y = 1/2, value 1.5
    rows = Rows.of([2, 2], [0, 1, 0, 1], [1.0, 1.0, 1.0, -1.0], 2)
    for path in (False, True):
        with via_linprog() if path else nullcontext():
            value = maximize(
                np.array([1.0, 2.0]),
                [rows],
                np.array([-np.inf, 0.0]),
                np.array([1.0, 0.0]),
                np.zeros(2),
                np.ones(2),
            )
        assert value == pytest.approx(1.5, abs=1e-9)
    # the same rows as a scipy matrix, and an infeasible LP
    matrix = sparse.csr_matrix(np.array([[1.0, 1.0]]))
    assert (
        maximize(np.ones(2), [matrix], np.array([3.0]), np.array([np.inf]), np.zeros(2), np.ones(2))
        is None
    )


def test_transposed_times_is_the_matrix_product() -> None:
    rows = Rows.of([2, 1], [0, 2, 1], [1.0, 2.0, 3.0], 3)
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    y = np.array([0.5, -2.0])
    assert rows.transposed_times(y).tolist() == (dense.T @ y).tolist()
