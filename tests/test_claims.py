"""Claims rules: known answers from the Talmud and the literature, and their axioms."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediation.case import CLAIMS_METHODS
from mediation.errors import PolicyError
from mediation.rules.claims import METHODS, award, equal_awards_level, equal_losses_level

# Rounding in sums of n claims is a few n * 2**-52 of the total claim; 1e-12 of it is ample.
REL = 1e-12

claim_values = st.one_of(
    st.integers(0, 100).map(float),  # small integers make equal claims common
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False),
)
claim_lists = st.lists(claim_values, max_size=12)
fractions = st.floats(0, 1, allow_nan=False, allow_subnormal=False)


@st.composite
def problems(draw: st.DrawFn) -> tuple[float, list[float]]:
    """Return a rationing problem: claims and an estate between 0 and their total."""
    claims = draw(claim_lists)
    return draw(fractions) * math.fsum(claims), claims


def tolerance(claims: list[float]) -> float:
    return REL * max(1.0, math.fsum(claims))


def test_methods_are_those_of_the_case_format() -> None:
    assert set(METHODS) == set(CLAIMS_METHODS)


# The estate table of Mishna Ketubot 93a, as explained by Aumann and Maschler (1985): a man
# with three wives whose marriage contracts specify 100, 200 and 300.
@pytest.mark.parametrize(
    ("estate", "expected"),
    [
        (100, [100 / 3, 100 / 3, 100 / 3]),
        (200, [50, 75, 75]),
        (300, [50, 100, 150]),
    ],
)
def test_talmud_estate_table(estate: float, expected: list[float]) -> None:
    assert award(estate, [100, 200, 300], "talmud") == pytest.approx(expected, rel=REL)


def test_contested_garment() -> None:
    # One claims the whole garment (100), the other half (50): the second concedes 50 to
    # the first, the contested 50 is split equally, giving 25 and 75.
    assert award(100, [50, 100], "talmud") == pytest.approx([25, 75], rel=REL)


# Hand computations for claims 10, 20, 30, 40 (total 100):
# estate 50: proportional rate 1/2.  CEA: 4λ = 50 gives λ = 12.5 > 10, so claim 10 is paid and
#   10 + 3λ = 50, λ = 40/3.  CEL: the top three lose μ, 90 - 3μ = 50, μ = 40/3 (>= 10, so
#   claim 10 gets nothing).  Talmud: 50 = half the total claim, so each gets half its claim.
# estate 80: proportional rate 4/5.  CEA: 10 + 20 + 2λ = 80, λ = 25.  CEL: all four lose μ,
#   100 - 4μ = 80, μ = 5.  Talmud: each first gets c/2 (sum 50), the surplus 30 goes by CEL
#   on the halves 5, 10, 15, 20: the top three lose μ, 45 - 3μ = 30, μ = 5, i.e. extras 0, 5,
#   10, 15 and awards 5, 15, 25, 35.
@pytest.mark.parametrize(
    ("estate", "method", "expected"),
    [
        (50, "proportional", [5, 10, 15, 20]),
        (50, "constrained_equal_awards", [10, 40 / 3, 40 / 3, 40 / 3]),
        (50, "constrained_equal_losses", [0, 20 / 3, 50 / 3, 80 / 3]),
        (50, "talmud", [5, 10, 15, 20]),
        (80, "proportional", [8, 16, 24, 32]),
        (80, "constrained_equal_awards", [10, 20, 25, 25]),
        (80, "constrained_equal_losses", [5, 15, 25, 35]),
        (80, "talmud", [5, 15, 25, 35]),
    ],
)
def test_hand_computed_awards(estate: float, method: str, expected: list[float]) -> None:
    assert award(estate, [10, 20, 30, 40], method) == pytest.approx(expected, rel=REL)


def test_awards_keep_the_order_of_the_claims() -> None:
    assert award(80, [40, 10, 30, 20], "constrained_equal_awards") == [25, 10, 25, 20]


def test_default_method_is_proportional() -> None:
    assert award(50, [10, 20, 30, 40]) == pytest.approx([5, 10, 15, 20], rel=REL)


@pytest.mark.parametrize(
    ("estate", "awards_level", "losses_level"),
    [(50, 40 / 3, 40 / 3), (80, 25, 5), (0, 0, 40), (100, 40, 0)],
)
def test_levels(estate: float, awards_level: float, losses_level: float) -> None:
    claims = [10, 20, 30, 40]
    assert equal_awards_level(estate, claims) == pytest.approx(awards_level, rel=REL)
    assert equal_losses_level(estate, claims) == pytest.approx(losses_level, rel=REL)


@pytest.mark.parametrize("method", METHODS)
def test_no_claims_and_zero_claims(method: str) -> None:
    assert award(0, [], method) == []
    assert award(0, [0, 0], method) == [0, 0]
    assert equal_awards_level(0, []) == 0
    assert equal_losses_level(0, [0, 0]) == 0


@pytest.mark.parametrize("method", METHODS)
def test_full_estate_pays_every_claim(method: str) -> None:
    claims = [0.1, 0.2, 0.3]
    # The caller's own sum 0.1 + 0.2 + 0.3 rounds above the exact total; that is not a surplus.
    assert award(sum(claims), claims, method) == pytest.approx(claims, rel=REL)


@pytest.mark.parametrize(
    ("estate", "claims", "method", "paths", "words"),
    [
        (-1, [1, 2], "talmud", ["estate"], "-1"),
        (math.nan, [1, 2], "talmud", ["estate"], "nan"),
        (1, [1, -2, math.inf], "talmud", ["claims[1]", "claims[2]"], "claimant 1's claim"),
        (4, [1, 2], "talmud", ["estate"], "the estate 4 exceeds the total claim 3"),
        (1, [1, 2], "lottery", ["method"], "'lottery'"),
        (-1, [-1], "lottery", ["estate", "claims[0]", "method"], "claimant 0"),
    ],
)
def test_invalid_problems_are_rejected_with_every_reason(
    estate: float, claims: list[float], method: str, paths: list[str], words: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        award(estate, claims, method)
    assert [p.path for p in caught.value.problems] == paths
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("level", [equal_awards_level, equal_losses_level])
def test_levels_reject_a_surplus(level: Callable[[float, Sequence[float]], float]) -> None:
    with pytest.raises(PolicyError, match="exceeds the total claim"):
        level(7, [1, 2, 3])


@pytest.mark.parametrize("method", METHODS)
@given(problem=problems())
def test_efficient_and_bounded(method: str, problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    awards = award(estate, claims, method)
    assert len(awards) == len(claims)
    assert math.fsum(awards) == pytest.approx(estate, abs=tolerance(claims))
    for given_, claim in zip(awards, claims, strict=True):
        assert 0 <= given_ <= claim


@pytest.mark.parametrize("method", METHODS)
@given(problem=problems())
def test_order_preserving_in_awards_and_losses(
    method: str, problem: tuple[float, list[float]]
) -> None:
    estate, claims = problem
    awards = award(estate, claims, method)
    tol = tolerance(claims)
    for ci, ai in zip(claims, awards, strict=True):
        for cj, aj in zip(claims, awards, strict=True):
            if ci <= cj:
                assert ai <= aj
                assert ci - ai <= cj - aj + tol


@pytest.mark.parametrize("method", METHODS)
@given(problem=problems())
def test_equal_claims_get_equal_awards(method: str, problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    awards = award(estate, claims, method)
    for ci, ai in zip(claims, awards, strict=True):
        for cj, aj in zip(claims, awards, strict=True):
            if ci == cj:
                assert ai == aj


@pytest.mark.parametrize("method", METHODS)
@given(claims=claim_lists, low=fractions, high=fractions)
def test_resource_monotone(method: str, claims: list[float], low: float, high: float) -> None:
    low, high = sorted((low, high))
    total = math.fsum(claims)
    smaller = award(low * total, claims, method)
    larger = award(high * total, claims, method)
    tol = tolerance(claims)
    for s, g in zip(smaller, larger, strict=True):
        assert s <= g + tol


@given(problem=problems())
def test_equal_awards_and_equal_losses_are_dual(problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    losses = award(math.fsum(claims) - estate, claims, "constrained_equal_awards")
    expected = [c - lost for c, lost in zip(claims, losses, strict=True)]
    got = award(estate, claims, "constrained_equal_losses")
    assert got == pytest.approx(expected, abs=tolerance(claims))


@given(problem=problems())
def test_talmud_is_self_dual(problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    losses = award(math.fsum(claims) - estate, claims, "talmud")
    expected = [c - lost for c, lost in zip(claims, losses, strict=True)]
    assert award(estate, claims, "talmud") == pytest.approx(expected, abs=tolerance(claims))


@given(problem=problems())
def test_talmud_half_claims(problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    half_total = math.fsum(claims) / 2
    awards = award(estate, claims, "talmud")
    for claim, given_ in zip(claims, awards, strict=True):
        if estate < half_total:
            assert given_ <= claim / 2
        elif estate > half_total:
            assert given_ >= claim / 2
        else:
            assert given_ == pytest.approx(claim / 2, abs=tolerance(claims))


@given(claims=st.lists(claim_values, min_size=2, max_size=2), share=fractions)
def test_talmud_for_two_is_concede_and_divide(claims: list[float], share: float) -> None:
    # Aumann and Maschler's contested-garment principle: each concedes to the other what it
    # does not claim, the rest is split equally.
    c1, c2 = claims
    estate = share * (c1 + c2)
    conceded_to_1, conceded_to_2 = max(0.0, estate - c2), max(0.0, estate - c1)
    contested = estate - conceded_to_1 - conceded_to_2
    expected = [conceded_to_1 + contested / 2, conceded_to_2 + contested / 2]
    assert award(estate, claims, "talmud") == pytest.approx(expected, abs=tolerance(claims))


@given(problem=problems())
def test_proportional_awards_are_proportional(problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    total = math.fsum(claims)
    for claim, given_ in zip(claims, award(estate, claims, "proportional"), strict=True):
        assert given_ * total == pytest.approx(estate * claim, abs=REL * max(1.0, total) ** 2)


@given(problem=problems())
def test_levels_solve_their_equations(problem: tuple[float, list[float]]) -> None:
    estate, claims = problem
    tol = tolerance(claims)
    awards_level = equal_awards_level(estate, claims)
    losses_level = equal_losses_level(estate, claims)
    assert math.fsum(min(c, awards_level) for c in claims) == pytest.approx(estate, abs=tol)
    assert math.fsum(max(0.0, c - losses_level) for c in claims) == pytest.approx(estate, abs=tol)
    assert 0 <= awards_level <= max(claims, default=0.0)
    assert 0 <= losses_level <= max(claims, default=0.0)
