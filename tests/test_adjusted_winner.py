"""Adjusted Winner: worked examples by hand and the properties Brams and Taylor prove."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mediation.errors import PolicyError
from mediation.rules.adjusted_winner import AdjustedWinnerOutcome, adjusted_winner

TOL = 1e-7  # points; the procedure treats differences below 1e-9 points as rounding

Dispute = tuple[dict[str, float], dict[str, float]]


def test_brams_taylor_divorce_example() -> None:
    # Carol (a) and Bob (b) in Brams and Taylor's divorce example.
    # Winner phase: Carol wins retirement (50 > 40) and cottage (15 > 10): 65 points; Bob wins
    # home (30 > 20) and other (10 > 5): 40 points. Investments are tied (10 = 10) and go to
    # Bob, who trails: 50 points.
    # Adjusted phase: Carol leads; her ratios are retirement 50/40 = 1.25, cottage 15/10 = 1.5.
    # Moving all of retirement would overshoot (65 - 50 < 50 + 40), so it is split: Carol keeps
    # p with 15 + 50p = 50 + 40(1 - p), p = 75/90 = 5/6. Both end with 15 + 250/6 = 170/3.
    carol = {"retirement": 50, "home": 20, "cottage": 15, "investments": 10, "other": 5}
    bob = {"retirement": 40, "home": 30, "cottage": 10, "investments": 10, "other": 10}
    outcome = adjusted_winner(carol, bob)
    assert outcome.initial_winner == {
        "retirement": "a",
        "home": "b",
        "cottage": "a",
        "investments": "b",
        "other": "b",
    }
    assert outcome.transfers == ["retirement"]
    assert outcome.split_issue == "retirement"
    assert outcome.split_fraction == pytest.approx(5 / 6)
    assert outcome.share_a == pytest.approx(
        {"retirement": 5 / 6, "home": 0, "cottage": 1, "investments": 0, "other": 0}
    )
    assert outcome.points_a == pytest.approx(170 / 3)
    assert outcome.points_b == pytest.approx(170 / 3)
    assert outcome.ratios == pytest.approx(
        {"retirement": 1.25, "home": 2 / 3, "cottage": 1.5, "investments": 1, "other": 0.5}
    )


# Six items; a whole transfer comes before the split.
# Winner phase: a wins house (40 > 25), pension (27 > 10), savings (13 > 10): 80 points;
# b wins car (15 > 5), furniture (10 > 5), dog (30 > 10): 55 points.
# Adjusted phase: a's ratios savings 1.3, house 1.6, pension 2.7.
#   savings: 80 - 13 = 67 >= 55 + 10 = 65, moved whole; a 67, b 65.
#   house: 67 - 40 = 27 < 65 + 25 = 90, split: a keeps p with 27 + 40p = 65 + 25(1 - p),
#   65p = 63, p = 63/65. Both end with 27 + 40 * 63/65 = 4275/65 = 855/13.
DIVORCE_A = {"house": 40, "car": 5, "pension": 27, "furniture": 5, "savings": 13, "dog": 10}
DIVORCE_B = {"house": 25, "car": 15, "pension": 10, "furniture": 10, "savings": 10, "dog": 30}


def test_divorce_with_a_whole_transfer_then_a_split() -> None:
    outcome = adjusted_winner(DIVORCE_A, DIVORCE_B)
    assert outcome.initial_winner == {
        "house": "a",
        "car": "b",
        "pension": "a",
        "furniture": "b",
        "savings": "a",
        "dog": "b",
    }
    assert outcome.transfers == ["savings", "house"]
    assert outcome.split_issue == "house"
    assert outcome.split_fraction == pytest.approx(63 / 65)
    assert outcome.share_a == pytest.approx(
        {"house": 63 / 65, "car": 0, "pension": 1, "furniture": 0, "savings": 0, "dog": 0}
    )
    assert outcome.points_a == pytest.approx(855 / 13)
    assert outcome.points_b == pytest.approx(855 / 13)


def test_divorce_with_the_parties_swapped() -> None:
    # b now leads and moves issues to a; the split fraction is what the initial winner keeps.
    outcome = adjusted_winner(DIVORCE_B, DIVORCE_A)
    assert outcome.transfers == ["savings", "house"]
    assert outcome.split_issue == "house"
    assert outcome.split_fraction == pytest.approx(63 / 65)
    assert outcome.share_a["house"] == pytest.approx(2 / 65)
    assert outcome.initial_winner["house"] == "b"
    assert outcome.points_a == pytest.approx(855 / 13)


def test_equal_after_a_whole_transfer_needs_no_split() -> None:
    # a wins house, pension, savings (40 + 25 + 15 = 80), b the rest (15 + 10 + 28 = 53).
    # savings (ratio 15/12, the lowest) moved whole: a 80 - 15 = 65, b 53 + 12 = 65. Done.
    a = {"house": 40, "car": 5, "pension": 25, "furniture": 5, "savings": 15, "dog": 10}
    b = {"house": 25, "car": 15, "pension": 10, "furniture": 10, "savings": 12, "dog": 28}
    outcome = adjusted_winner(a, b)
    assert outcome.transfers == ["savings"]
    assert outcome.split_issue is None
    assert outcome.split_fraction is None
    assert outcome.share_a == {
        "house": 1,
        "car": 0,
        "pension": 1,
        "furniture": 0,
        "savings": 0,
        "dog": 0,
    }
    assert outcome.points_a == pytest.approx(65)
    assert outcome.points_b == pytest.approx(65)


def test_equal_after_the_winner_phase() -> None:
    outcome = adjusted_winner({"x": 60, "y": 40}, {"x": 40, "y": 60})
    assert outcome.share_a == {"x": 1, "y": 0}
    assert outcome.transfers == []
    assert outcome.split_issue is None
    assert (outcome.points_a, outcome.points_b) == (60, 60)


def test_all_points_equal() -> None:
    # Every issue tied and no outright wins: the ties go to a, which then hands over issues of
    # ratio 1 in issue-id order: x (a 80, b 20), then y (a 50, b 50).
    points = {"z": 50, "y": 30, "x": 20}
    outcome = adjusted_winner(points, points)
    assert outcome.initial_winner == {"z": "a", "y": "a", "x": "a"}
    assert outcome.transfers == ["x", "y"]
    assert outcome.split_issue is None
    assert outcome.share_a == {"z": 1, "y": 0, "x": 0}
    assert (outcome.points_a, outcome.points_b) == (50, 50)


def test_single_issue_is_halved() -> None:
    outcome = adjusted_winner({"land": 100}, {"land": 100})
    assert outcome.split_issue == "land"
    assert outcome.share_a == {"land": 0.5}
    assert (outcome.points_a, outcome.points_b) == (50, 50)


def test_issue_neither_values_stays_put() -> None:
    # a wins x (70), b wins y (60); z (0 = 0) goes to b, who trails, and is never moved.
    # x is split: a keeps p with 70p = 60 + 40(1 - p), p = 100/110 = 10/11; both get 700/11.
    outcome = adjusted_winner({"x": 70, "y": 30, "z": 0}, {"x": 40, "y": 60, "z": 0})
    assert outcome.initial_winner["z"] == "b"
    assert outcome.share_a["z"] == 0
    assert outcome.ratios["z"] == 1
    assert outcome.transfers == ["x"]
    assert outcome.split_fraction == pytest.approx(10 / 11)
    assert outcome.points_a == pytest.approx(700 / 11)
    assert outcome.points_b == pytest.approx(700 / 11)


def test_tied_issue_can_make_the_trailer_lead() -> None:
    # Outright: a wins x (40), b wins y (60). The tie t goes to a, who trails, and a leads
    # 70 to 60. a moves t first (ratio 1 < 4) and splits it: 40 + 30p = 60 + 30(1 - p),
    # p = 5/6; both get 65.
    outcome = adjusted_winner({"x": 40, "y": 30, "t": 30}, {"x": 10, "y": 60, "t": 30})
    assert outcome.initial_winner == {"x": "a", "y": "b", "t": "a"}
    assert outcome.transfers == ["t"]
    assert outcome.share_a["t"] == pytest.approx(5 / 6)
    assert outcome.points_a == pytest.approx(65)
    assert outcome.points_b == pytest.approx(65)


def test_issue_only_one_party_values() -> None:
    # b wins x (100 > 60), a wins y (40 > 0, ratio infinite). b leads 100 to 40 and splits x:
    # it keeps p with 100p = 40 + 60(1 - p), p = 5/8; both get 62.5.
    outcome = adjusted_winner({"x": 60, "y": 40}, {"x": 100, "y": 0})
    assert outcome.ratios == {"x": 0.6, "y": math.inf}
    assert outcome.initial_winner == {"x": "b", "y": "a"}
    assert outcome.split_fraction == pytest.approx(5 / 8)
    assert outcome.share_a == pytest.approx({"x": 3 / 8, "y": 1})
    assert outcome.points_a == pytest.approx(62.5)
    assert outcome.points_b == pytest.approx(62.5)


def test_totals_within_tolerance_are_accepted() -> None:
    # The 5e-7 excess is accepted as given, not rounded away: a's lead of 5e-7 is still evened
    # out, by moving a sliver of x.
    outcome = adjusted_winner({"x": 60 + 5e-7, "y": 40}, {"x": 40, "y": 60})
    assert outcome.split_issue == "x"
    assert outcome.points_a == pytest.approx(outcome.points_b, abs=1e-12)


@pytest.mark.parametrize(
    ("points_a", "points_b", "paths", "words"),
    [
        ({"x": 60, "y": 40}, {"x": 100}, ["points_b['y']"], "party b does not"),
        ({"x": 100}, {"x": 60, "y": 40}, ["points_a['y']"], "party a does not"),
        ({"x": 98.5}, {"x": 100}, ["points_a"], "party a's points add up to 98.5, not 100"),
        ({"x": 100}, {"x": 100.1}, ["points_b"], "party b's points add up to 100.1"),
        ({"x": 110, "y": -10}, {"x": 50, "y": 50}, ["points_a['y']"], "-10"),
        ({"x": math.nan}, {"x": 100}, ["points_a['x']"], "nan"),
        ({}, {}, ["points_a", "points_b"], "add up to 0.0"),
    ],
)
def test_invalid_points_are_rejected_with_every_reason(
    points_a: dict[str, float], points_b: dict[str, float], paths: list[str], words: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        adjusted_winner(points_a, points_b)
    assert [p.path for p in caught.value.problems] == paths
    assert words in str(caught.value)


@st.composite
def hundred_points(draw: st.DrawFn, n: int) -> list[float]:
    """N non-negative scores adding up to 100: integers (ties and zeros) or arbitrary floats."""
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1)))
        return [float(hi - lo) for lo, hi in itertools.pairwise([0, *cuts, 100])]
    weights = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n).filter(any))
    total = sum(weights)
    return [100 * w / total for w in weights]


@st.composite
def disputes(draw: st.DrawFn) -> Dispute:
    """Two parties' points on the same 1 to 7 issues, the ids not in sorted order."""
    n = draw(st.integers(1, 7))
    ids = [f"issue-{k}" for k in draw(st.permutations(range(n)))]
    a = draw(hundred_points(n))
    b = draw(hundred_points(n))
    return dict(zip(ids, a, strict=True)), dict(zip(ids, b, strict=True))


def utilities(
    share_a: dict[str, float], a: dict[str, float], b: dict[str, float]
) -> tuple[float, float]:
    return (
        math.fsum(share_a[i] * a[i] for i in a),
        math.fsum((1 - share_a[i]) * b[i] for i in b),
    )


@given(dispute=disputes())
def test_equitable_and_reports_its_totals(dispute: Dispute) -> None:
    a, b = dispute
    outcome = adjusted_winner(a, b)
    assert outcome.points_a == pytest.approx(outcome.points_b, abs=TOL)
    assert (outcome.points_a, outcome.points_b) == pytest.approx(
        utilities(outcome.share_a, a, b), abs=1e-9
    )


@given(dispute=disputes())
def test_envy_free(dispute: Dispute) -> None:
    a, b = dispute
    outcome = adjusted_winner(a, b)
    a_envies = math.fsum((1 - outcome.share_a[i]) * a[i] for i in a)
    b_envies = math.fsum(outcome.share_a[i] * b[i] for i in b)
    assert outcome.points_a >= a_envies - TOL
    assert outcome.points_b >= b_envies - TOL
    assert min(outcome.points_a, outcome.points_b) >= 50 - TOL


@given(dispute=disputes())
def test_at_most_one_issue_split(dispute: Dispute) -> None:
    a, b = dispute
    outcome = adjusted_winner(a, b)
    split = [i for i, s in outcome.share_a.items() if 0 < s < 1]
    assert all(0 <= s <= 1 for s in outcome.share_a.values())
    assert split == ([] if outcome.split_issue is None else [outcome.split_issue])
    if outcome.split_issue is None:
        assert outcome.split_fraction is None
    else:
        assert outcome.split_fraction is not None
        assert 0 < outcome.split_fraction < 1
        assert outcome.transfers[-1] == outcome.split_issue
        kept = outcome.share_a[outcome.split_issue]
        if outcome.initial_winner[outcome.split_issue] == "b":
            kept = 1 - kept
        assert kept == pytest.approx(outcome.split_fraction)


@given(dispute=disputes())
def test_transfers_follow_the_ratio_order(dispute: Dispute) -> None:
    a, b = dispute
    outcome = adjusted_winner(a, b)
    if not outcome.transfers:
        return
    leader = outcome.initial_winner[outcome.transfers[0]]
    lead, follow = (a, b) if leader == "a" else (b, a)
    keys = []
    for i in outcome.transfers:
        assert outcome.initial_winner[i] == leader
        assert lead[i] >= follow[i]
        keys.append((lead[i] / follow[i] if follow[i] else math.inf, i))
    assert keys == sorted(keys)
    for i in outcome.transfers[:-1] if outcome.split_issue else outcome.transfers:
        assert outcome.share_a[i] == (0 if leader == "a" else 1)


@given(dispute=disputes())
def test_efficient_by_the_ratio_characterisation(dispute: Dispute) -> None:
    # With two parties and additive points, a division is efficient exactly when no exchange
    # helps both: every issue a holds any of has a ratio a/b at least that of every issue b
    # holds any of (compared by cross-multiplying, so zeros and infinities need no care),
    # and no party holds part of an issue that only the other values.
    a, b = dispute
    outcome = adjusted_winner(a, b)
    held_by_a = [i for i, s in outcome.share_a.items() if s > 0 and (a[i] or b[i])]
    held_by_b = [i for i, s in outcome.share_a.items() if s < 1 and (a[i] or b[i])]
    for i in held_by_a:
        assert not (a[i] == 0 < b[i])
        for j in held_by_b:
            assert a[i] * b[j] >= a[j] * b[i] - 1e-9
    for j in held_by_b:
        assert not (b[j] == 0 < a[j])


@given(dispute=disputes(), data=st.data())
def test_no_division_dominates(dispute: Dispute, data: st.DataObject) -> None:
    # Brute force, independent of the characterisation: no whole-issue division and no random
    # fractional one gives both parties at least as much and one of them more.
    a, b = dispute
    outcome = adjusted_winner(a, b)
    issues = list(a)
    fractional = data.draw(st.lists(st.floats(0, 1), min_size=len(a), max_size=len(a)))
    candidates = [*itertools.product((0.0, 1.0), repeat=len(issues)), fractional]
    for shares in candidates:
        u_a, u_b = utilities(dict(zip(issues, shares, strict=True)), a, b)
        no_worse = u_a >= outcome.points_a - 1e-9 and u_b >= outcome.points_b - 1e-9
        better = u_a > outcome.points_a + TOL or u_b > outcome.points_b + TOL
        assert not (no_worse and better)


def swapped(outcome: AdjustedWinnerOutcome) -> AdjustedWinnerOutcome:
    flip = {"a": "b", "b": "a"}
    return AdjustedWinnerOutcome(
        share_a={i: 1 - s for i, s in outcome.share_a.items()},
        initial_winner={i: flip[w] for i, w in outcome.initial_winner.items()},
        transfers=outcome.transfers,
        split_issue=outcome.split_issue,
        split_fraction=outcome.split_fraction,
        points_a=outcome.points_b,
        points_b=outcome.points_a,
        ratios={i: 1 / r if r else math.inf for i, r in outcome.ratios.items()},
    )


@given(dispute=disputes())
def test_anonymous(dispute: Dispute) -> None:
    # The labels decide only when tied issues meet equal outright totals (then ties go to a).
    a, b = dispute
    outright_a = math.fsum(a[i] for i in a if a[i] > b[i])
    outright_b = math.fsum(b[i] for i in b if b[i] > a[i])
    assume(outright_a != outright_b or all(a[i] != b[i] for i in a))
    outcome, mirrored = adjusted_winner(a, b), adjusted_winner(b, a)
    expected = swapped(outcome)
    assert mirrored.share_a == pytest.approx(expected.share_a, abs=1e-12)
    assert mirrored.initial_winner == expected.initial_winner
    assert mirrored.transfers == expected.transfers
    assert mirrored.split_issue == expected.split_issue
    assert mirrored.split_fraction == expected.split_fraction
    assert (mirrored.points_a, mirrored.points_b) == pytest.approx(
        (expected.points_a, expected.points_b), abs=1e-9
    )
    assert mirrored.ratios == pytest.approx(expected.ratios)


def test_labels_decide_only_the_degenerate_tie() -> None:
    # Equal outright totals (0 and 0) with a tied issue: the ties go to a in both orders,
    # so swapping the parties does not swap the outcome, but both are equitable.
    a = {"x": 50, "y": 50}
    b = {"x": 50, "y": 50}
    assert adjusted_winner(a, b).initial_winner == {"x": "a", "y": "a"}
    assert adjusted_winner(b, a).initial_winner == {"x": "a", "y": "a"}
