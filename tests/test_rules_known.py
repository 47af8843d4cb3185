"""Known answers through :func:`mediation.settle`, for every rule.

The answers are those of textbook examples and of small cases worked by hand.

The pure Adjusted Winner and claims algorithms are tested in test_adjusted_winner.py and
test_claims.py; here the same answers must come out of the engine, with the case format, the
policy and the validator in between.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import pytest
from conftest import (
    interest as pick,
)
from conftest import (
    load,
    make_case,
    normalized,
    party,
    reasons,
    resource,
    settle_checked,
    utilities,
)

from mediation.case import Case


def two_party_points(
    points_a: Mapping[str, float], points_b: Mapping[str, float], **policy: object
) -> Case:
    """Two parties a and b spreading points over the same divisible resources."""
    issues = [resource(i) for i in points_a]
    interests = [pick("a", i, v) for i, v in points_a.items()]
    interests += [pick("b", i, v) for i, v in points_b.items()]
    return make_case([party("a"), party("b")], issues, interests, policy=policy)


# --- Adjusted Winner (Brams & Taylor 1996) -------------------------------------------------

# Brams and Taylor's divorce example (Fair Division, 1996, ch. 4), Carol as a and Bob as b.
# Carol wins retirement and cottage (65), Bob home and other (40) and the tied investments
# (he trails): 50. Carol leads by 15; retirement has her lowest ratio 50/40, a whole transfer
# would swing 90 points, so she keeps 1 - 15/90 = 5/6 of it: 56 2/3 points each.
DIVORCE_CAROL = {"retirement": 50, "home": 20, "cottage": 15, "investments": 10, "other": 5}
DIVORCE_BOB = {"retirement": 40, "home": 30, "cottage": 10, "investments": 10, "other": 10}


def test_adjusted_winner_divorce_example() -> None:
    case = two_party_points(DIVORCE_CAROL, DIVORCE_BOB, rule="adjusted_winner")
    result = settle_checked(case)
    assert result.status == "optimal"
    assert result.shares["retirement"]["a"] == pytest.approx(5 / 6)
    assert result.shares["cottage"] == {"a": 1.0, "b": 0.0}
    for issue in ("home", "investments", "other"):
        assert result.shares[issue] == {"a": 0.0, "b": 1.0}
    assert utilities(result) == pytest.approx({"a": 170 / 3, "b": 170 / 3})
    split = reasons(result, "aw_split")
    assert [(r.issue, r.stakeholder) for r in split] == [("retirement", "a")]
    assert split[0].kept == pytest.approx(5 / 6)
    fairness = result.fairness
    assert fairness is not None
    assert fairness.envy_free
    assert fairness.proportional
    assert fairness.pareto_optimal


def test_adjusted_winner_bundled_case() -> None:
    # The case file's own worked answer: jiedao wins 72 points, tongxin 40; staff-hours
    # (ratio 35/30) moves in part, p = 32/65 of it, and both end at 72 - 35 * 32/65.
    result = settle_checked(load("two-party-adjusted-winner"))
    assert result.rule == "adjusted_winner"
    assert result.shares["staff-hours"]["tongxin"] == pytest.approx(32 / 65)
    assert result.shares["activity-room"] == {"jiedao": 0.0, "tongxin": 1.0}
    assert result.shares["management-fee"] == {"jiedao": 1.0, "tongxin": 0.0}
    assert result.shares["office-space"] == {"jiedao": 0.0, "tongxin": 1.0}
    assert result.shares["publicity"] == {"jiedao": 1.0, "tongxin": 0.0}
    points = 72 - 35 * 32 / 65
    assert utilities(result) == pytest.approx({"jiedao": points, "tongxin": points})


def test_adjusted_winner_no_transfer_when_the_winner_phase_is_equitable() -> None:
    case = two_party_points({"x": 60, "y": 40}, {"x": 40, "y": 60}, rule="adjusted_winner")
    result = settle_checked(case)
    assert result.shares == {"x": {"a": 1.0, "b": 0.0}, "y": {"a": 0.0, "b": 1.0}}
    assert reasons(result, "aw_transfer") == []
    assert utilities(result) == pytest.approx({"a": 60, "b": 60})


def test_adjusted_winner_one_split() -> None:
    # a wins x (70 to 50), b wins y (50 to 30): a leads by 20; moving x swings 120 points,
    # so a keeps 1 - 20/120 = 5/6 of it; both end at 58 1/3.
    case = two_party_points({"x": 70, "y": 30}, {"x": 50, "y": 50}, rule="adjusted_winner")
    result = settle_checked(case)
    assert result.shares["x"]["a"] == pytest.approx(5 / 6)
    assert result.shares["y"] == {"a": 0.0, "b": 1.0}
    assert utilities(result) == pytest.approx({"a": 175 / 3, "b": 175 / 3})


# --- the two-party equitable point -----------------------------------------------------------

# With two parties spreading 100 points each, Adjusted Winner's outcome is the efficient point
# of equal points. The egalitarian rules find the same point: on raw points (equal gains), and on
# the normalized scale too, since each party's ideal is its 100 points. Kalai–Smorodinsky's
# point lies on the segment from (0, 0) to the ideal point (100, 100): the same point again.
TWO_PARTY_EXAMPLES = [
    (DIVORCE_CAROL, DIVORCE_BOB, 170 / 3),
    ({"x": 70, "y": 30}, {"x": 50, "y": 50}, 175 / 3),
    ({"x": 60, "y": 40}, {"x": 40, "y": 60}, 60.0),
]


@pytest.mark.parametrize(("points_a", "points_b", "equal_points"), TWO_PARTY_EXAMPLES)
@pytest.mark.parametrize(
    ("rule", "scale"),
    [
        ("adjusted_winner", "normalized"),
        ("leximin", "raw"),
        ("leximin", "normalized"),
        ("maximin", "raw"),
        ("maximin", "normalized"),
        ("kalai_smorodinsky", "normalized"),
    ],
)
def test_two_party_equitable_point(
    points_a: dict[str, float],
    points_b: dict[str, float],
    equal_points: float,
    rule: str,
    scale: str,
) -> None:
    result = settle_checked(two_party_points(points_a, points_b), rule=rule, scale=scale)
    assert utilities(result) == pytest.approx({"a": equal_points, "b": equal_points}, rel=1e-7)
    assert normalized(result) == pytest.approx(
        {"a": equal_points / 100, "b": equal_points / 100}, rel=1e-7
    )


@pytest.mark.parametrize(("wa", "wb"), [(1, 1), (2, 1), (1, 3)])
def test_nash_two_parties_one_good_split_by_weight(wa: float, wb: float) -> None:
    # maximise wa log(x) + wb log(1 - x): x = wa / (wa + wb). The certificate bounds the Nash
    # welfare, not the shares: a welfare within the relative gap g of the optimum leaves the
    # share within about sqrt(2 g / curvature), a few 1e-4 here.
    case = make_case(
        [party("a", weight=wa), party("b", weight=wb)],
        [resource("g")],
        [pick("a", "g", 4), pick("b", "g", 9)],
    )
    result = settle_checked(case, rule="nash")
    best = wa / (wa + wb)
    x = result.shares["g"]["a"]
    assert x == pytest.approx(best, abs=1e-3)
    (certificate,) = reasons(result, "nash_certificate")
    gap = certificate.gap
    assert 0 <= gap <= 1e-6
    welfare = wa * math.log(x) + wb * math.log(1 - x)
    optimum = wa * math.log(best) + wb * math.log(1 - best)
    assert welfare >= optimum - (wa + wb) * math.log1p(gap) - 1e-12


def test_nash_with_disagreement_points_splits_the_surplus() -> None:
    # gains 10x - 2 and 10(1 - x) - 4; Nash equalises them: x = 0.4, each gains 2
    case = make_case(
        [party("a", disagreement=2), party("b", disagreement=4)],
        [resource("g")],
        [pick("a", "g", 10), pick("b", "g", 10)],
    )
    result = settle_checked(case, rule="nash", scale="raw")
    assert result.shares["g"]["a"] == pytest.approx(0.4, rel=1e-3)
    assert utilities(result) == pytest.approx({"a": 4, "b": 6}, rel=1e-3)


def test_nash_linear_market_gives_each_its_favourite() -> None:
    # a values g three times h, b the reverse: the Eisenberg–Gale equilibrium (prices 1, 1)
    # gives each party its favourite good; any trade of g for h lowers a's gain 3 to 1.
    case = make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [pick("a", "g", 3), pick("a", "h", 1), pick("b", "g", 1), pick("b", "h", 3)],
    )
    result = settle_checked(case, rule="nash")
    assert utilities(result) == pytest.approx({"a": 3, "b": 3}, rel=1e-3)


# --- claims rules on small estates (Aumann & Maschler 1985; Thomson 2003) --------------------


def estate_case(estate: float, claims: list[float], method: str) -> Case:
    names = [f"c{k}" for k in range(len(claims))]
    return make_case(
        [party(n) for n in names],
        [resource("estate", estate)],
        [pick(n, "estate", 1, claim=c) for n, c in zip(names, claims, strict=True)],
        policy={"rule": "claims", "method": method},
    )


@pytest.mark.parametrize(
    ("estate", "method", "expected"),
    [
        # the Talmud's three widows, Mishna Ketubot 93a
        (100, "talmud", [100 / 3, 100 / 3, 100 / 3]),
        (200, "talmud", [50, 75, 75]),
        (300, "talmud", [50, 100, 150]),
        (200, "proportional", [200 / 6, 400 / 6, 100]),
        (200, "constrained_equal_awards", [200 / 3, 200 / 3, 200 / 3]),
        (400, "constrained_equal_awards", [100, 150, 150]),
        (200, "constrained_equal_losses", [0, 50, 150]),
        (500, "constrained_equal_losses", [100 - 100 / 3, 200 - 100 / 3, 300 - 100 / 3]),
    ],
)
def test_claims_on_the_talmud_estates(estate: float, method: str, expected: list[float]) -> None:
    result = settle_checked(estate_case(estate, [100, 200, 300], method))
    awards = [result.amounts["estate"][f"c{k}"] for k in range(3)]
    assert awards == pytest.approx(expected, rel=1e-12)
    (reason,) = reasons(result, "claims_awarded")
    assert reason.method == method


def test_claims_contested_garment() -> None:
    # one claims the whole garment, the other half: 75 and 25
    result = settle_checked(estate_case(100, [50, 100], "talmud"))
    assert result.amounts["estate"] == pytest.approx({"c0": 25, "c1": 75})


def test_claims_bundled_budget_case() -> None:
    # the case file's worked answer, Talmud rule on both resources
    result = settle_checked(load("budget-claims-rationing"))
    assert result.amounts["venture-fund"] == pytest.approx(
        {
            "minzhengju": 50_000,
            "anyang": 330_000,
            "xinmiao": 230_000,
            "tongxing": 180_000,
            "lvse": 130_000,
            "hexie": 80_000,
        }
    )
    assert result.amounts["incubator-desks"] == pytest.approx(
        {"anyang": 81.6, "xinmiao": 57.6, "tongxing": 33.6, "lvse": 45.6, "hexie": 21.6}
    )


# --- leximin and maximin on tiny matrices, by hand ------------------------------------------


def test_leximin_gives_each_its_favourite() -> None:
    # the engine's doctest: values (3, 1) and (1, 3), ideals 4 and 4; both reach 3/4
    case = make_case(
        [party("a"), party("b")],
        [resource("g", 10), resource("h")],
        [pick("a", "g", 3), pick("a", "h", 1), pick("b", "g", 1), pick("b", "h", 3)],
    )
    result = settle_checked(case, rule="leximin")
    assert result.shares == {"g": {"a": 1.0, "b": 0.0}, "h": {"a": 0.0, "b": 1.0}}
    assert normalized(result) == pytest.approx({"a": 0.75, "b": 0.75})


def test_leximin_three_parties_chain() -> None:
    # a wants g, c wants h, b wants both (ideals 1, 2, 1 on the normalized scale). With b's
    # shares b_g, b_h: a = 1 - b_g, c = 1 - b_h, b = (b_g + b_h) / 2; all equal at 1/2.
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("g"), resource("h")],
        [pick("a", "g", 1), pick("b", "g", 1), pick("b", "h", 1), pick("c", "h", 1)],
    )
    result = settle_checked(case, rule="leximin")
    assert normalized(result) == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5}, rel=1e-7)
    assert result.shares["g"] == pytest.approx({"a": 0.5, "b": 0.5}, rel=1e-6)


def capped_case() -> Case:
    # a can have at most 0.2 of g; b values g and h; c values h three times as much
    return make_case(
        [party("a"), party("b"), party("c")],
        [resource("g"), resource("h")],
        [
            pick("a", "g", 1, max_share=0.2),
            pick("b", "g", 1),
            pick("b", "h", 1),
            pick("c", "h", 3),
        ],
    )


def test_leximin_raises_the_second_level_where_maximin_stops() -> None:
    # Raw gains. Level 1: a at its cap, 0.2. Then b = 0.8 + y and c = 3 (1 - y) for b's share
    # y of h: leximin equalises them, y = 0.55, both 1.35.
    result = settle_checked(capped_case(), rule="leximin", scale="raw")
    assert utilities(result) == pytest.approx({"a": 0.2, "b": 1.35, "c": 1.35}, rel=1e-7)
    levels = reasons(result, "leximin_level")
    assert [r.parties for r in levels] == [["a"], ["b", "c"]]
    assert [r.level for r in levels] == pytest.approx([0.2, 1.35])


def test_maximin_holds_the_minimum_then_maximises_the_sum() -> None:
    # Maximin keeps a at 0.2 and then maximises the sum: all of h to c (3 per unit, not 1).
    result = settle_checked(capped_case(), rule="maximin", scale="raw")
    assert utilities(result) == pytest.approx({"a": 0.2, "b": 0.8, "c": 3.0}, rel=1e-7)
    (worst,) = reasons(result, "worst_off")
    assert worst.parties == ["a"]
    assert worst.level == pytest.approx(0.2)


def test_utilitarian_gives_each_issue_to_who_values_it_most() -> None:
    result = settle_checked(capped_case(), rule="utilitarian", scale="raw")
    assert utilities(result) == pytest.approx({"a": 0.2, "b": 0.8, "c": 3.0}, rel=1e-7)
    (total,) = reasons(result, "weighted_sum")
    assert total.value == pytest.approx(4.0)


def test_leximin_with_entitlements() -> None:
    # compared gains divided by weight are equalised: x / 2 = (1 - x) / 1, x = 2/3
    case = make_case(
        [party("a", weight=2), party("b")],
        [resource("g")],
        [pick("a", "g", 5), pick("b", "g", 7)],
    )
    result = settle_checked(case, rule="leximin")
    assert result.shares["g"]["a"] == pytest.approx(2 / 3)


# --- indivisible issues (the MIP path) ----------------------------------------------------------

INDIVISIBLE_VALUES = {"a": {"x": 5, "y": 3, "z": 2}, "b": {"x": 4, "y": 4, "z": 2}}


def indivisible_case(values: Mapping[str, Mapping[str, float]]) -> Case:
    parties = list(values)
    issues = list(next(iter(values.values())))
    return make_case(
        [party(p) for p in parties],
        [resource(i, divisible=False) for i in issues],
        [pick(p, i, values[p][i]) for p in parties for i in issues],
    )


def best_sorted_gains(values: Mapping[str, Mapping[str, float]]) -> list[float]:
    """Return the leximin-best sorted normalized gains over every assignment of the items."""
    parties = list(values)
    issues = list(next(iter(values.values())))
    ideal = {p: sum(values[p].values()) for p in parties}
    vectors = []
    for owners in itertools.product(parties, repeat=len(issues)):
        got = dict.fromkeys(parties, 0.0)
        for i, p in zip(issues, owners, strict=True):
            got[p] += values[p][i]
        vectors.append(sorted(got[p] / ideal[p] for p in parties))
    return max(vectors)


def test_indivisible_two_parties_by_hand() -> None:
    # a's bundles: {x} gives (5, 6), the best minimum; every other bundle leaves someone <= 4
    result = settle_checked(indivisible_case(INDIVISIBLE_VALUES), rule="leximin")
    assert result.shares == {
        "x": {"a": 1.0, "b": 0.0},
        "y": {"a": 0.0, "b": 1.0},
        "z": {"a": 0.0, "b": 1.0},
    }
    assert utilities(result) == {"a": 5.0, "b": 6.0}


THREE_BY_FOUR = {
    "a": {"p": 6, "q": 1, "r": 1, "s": 2},
    "b": {"p": 3, "q": 4, "r": 2, "s": 1},
    "c": {"p": 2, "q": 2, "r": 3, "s": 3},
}


@pytest.mark.parametrize("rule", ["leximin", "maximin"])
def test_indivisible_three_parties_against_every_assignment(rule: str) -> None:
    result = settle_checked(indivisible_case(THREE_BY_FOUR), rule=rule)
    assert result.status == "optimal"
    found = sorted(v for v in normalized(result).values() if v is not None)
    best = best_sorted_gains(THREE_BY_FOUR)
    assert found[0] == pytest.approx(best[0], abs=1e-7)
    if rule == "leximin":
        assert found == pytest.approx(best, abs=1e-7)
    for row in result.shares.values():
        assert sorted(row.values()) == [0.0, 0.0, 1.0]


def test_indivisible_bundled_case_gives_the_centre_whole() -> None:
    result = settle_checked(load("elderly-care-purchase"))
    assert sorted(result.shares["day-care-centre"].values()) == [0.0, 1.0]
    # no duals on a MIP: the red lines that bind carry no price
    for code in ("floor_binding", "cap_binding", "capacity_binding", "constraint_binding"):
        assert all(r.dual is None for r in reasons(result, code))


def test_ordered_outcomes_reports_the_levels() -> None:
    result = settle_checked(indivisible_case(THREE_BY_FOUR), rule="leximin")
    levels = [r.level for r in reasons(result, "leximin_level")]
    assert levels == sorted(levels)
    gains = sorted({round(v, 9) for v in normalized(result).values() if v is not None})
    assert levels == pytest.approx(gains)
    assert math.isclose(levels[0], best_sorted_gains(THREE_BY_FOUR)[0], abs_tol=1e-7)
