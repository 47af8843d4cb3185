"""One case, many lenses: `mediation compare`, the comparison contract and the uniqueness check.

The share ranges of :func:`allocation_range` are restated here with scipy from the case alone
(no engine code), on the bundled cases and on random small ones.
"""

from __future__ import annotations

import json
import math
import os
import re
from functools import cache

import numpy as np
import pytest
from conftest import (
    CASE_FILES,
    CASES_DIR,
    interest,
    load,
    make_case,
    party,
    resource,
    risk,
    settle_checked,
)
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console, RenderableType
from scipy.optimize import Bounds, LinearConstraint, milp
from typer.testing import CliRunner, Result

from mediation import settle
from mediation.allocation.compare import (
    SAME_SHARE,
    SAME_UTILITY,
    RuleSettlements,
    compare,
    comparison_of,
    rules_to_compare,
    settle_rules,
)
from mediation.allocation.ranges import (
    RANGE_SHARE_TOLERANCE,
    RANGE_UTILITY_TOLERANCE,
    allocation_range,
)
from mediation.case import Case, Issue, Stakeholder, load_case
from mediation.case.format11 import levered_problems
from mediation.cli import app
from mediation.comparison import Comparison, comparison_json_schema
from mediation.errors import CaseError, PolicyError, RenderError
from mediation.rendering.compare_tables import comparison_sentences, comparison_tables
from mediation.rendering.phrases import PHRASES, rule_name
from mediation.rules import rule_names
from mediation.settlement import Settlement
from mediation.validator import validate_settlement

HALL = str(CASES_DIR / "community-hall-dispute.yaml")
PPP = str(CASES_DIR / "ppp-risk-sharing.yaml")

#: Chinese output must not carry these English words (names of rules, statuses, yes/no).
ENGLISH = re.compile(
    r"(?i)(?<![a-z])(leximin|maximin|nash|kalai|smorodinsky|utilitarian|adjusted|winner|claims"
    r"|optimal|feasible|infeasible|yes|no|rule|share|allocation|unique)(?![a-z])"
)
_CJK = "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
HALF_WIDTH = re.compile(rf"{_CJK}[,:;()]|[,:;()]{_CJK}")
E_NOTATION = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d")


def run(*args: str, columns: int = 250) -> Result:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, list(args))
    if result.exception is not None:  # an exit code is fine, a traceback is not
        assert isinstance(result.exception, SystemExit), result.exception
    return result


def printed(parts: list[RenderableType], width: int) -> str:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(width=width, record=True, file=sink)
        for part in parts:
            console.print(part, crop=False)
    return console.export_text()


def twins(floor: float | None = None, **policy: object) -> Case:
    """Two parties who value two goods alike: each gets one good's worth, in any mix.

    ``floor`` is a floor on a's share of g.
    """
    return make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 1.0, **({} if floor is None else {"min_share": floor})),
            interest("a", "h", 1.0),
            interest("b", "g", 1.0),
            interest("b", "h", 1.0),
        ],
        policy=policy,
    )


def apart() -> Case:
    """Each party values a different good most: the leximin allocation is unique."""
    return make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 3.0),
            interest("a", "h", 1.0),
            interest("b", "g", 1.0),
            interest("b", "h", 3.0),
        ],
    )


@cache
def bundled(stem: str) -> tuple[Case, Comparison, dict[str, Settlement]]:
    case = load(stem)
    found = settle_rules(case)
    return case, comparison_of(case, found), found.settled


# --- an independent restatement of the share ranges (scipy, from the case alone) ------------


def scipy_ranges(
    case: Case, settlement: Settlement, hold: float = RANGE_UTILITY_TOLERANCE
) -> dict[tuple[str, str], tuple[float, float]]:
    """Min and max of each contested share with every utility held, by scipy's MILP."""
    interests = case.interests
    n = len(interests)
    kind = {i.id: i for i in case.issues}
    whole = np.array([not kind[x.issue].divisible for x in interests])
    # the red lines in force: an amount bound counts as the share of the issue it is
    low = np.array([x.floor_of(case.issue_by_id[x.issue].amount) for x in interests])
    high = np.array([x.cap_of(case.issue_by_id[x.issue].amount) for x in interests])
    low = np.where(whole, np.ceil(low), low)
    high = np.where(whole, np.floor(high), high)
    rows: list[np.ndarray] = []
    lbs: list[float] = []
    ubs: list[float] = []

    def add(row: np.ndarray, lb: float, ub: float) -> None:
        rows.append(row)
        lbs.append(lb)
        ubs.append(ub)

    for issue in case.issues:
        add(np.array([1.0 if x.issue == issue.id else 0.0 for x in interests]), 1.0, 1.0)
    for s in case.stakeholders:
        if s.id not in settlement.parties:  # an observer (no interest): never compared
            continue
        sign = [-1.0 if kind[x.issue].kind == "risk" else 1.0 for x in interests]
        row = np.array(
            [
                g * x.value if x.stakeholder == s.id else 0.0
                for g, x in zip(sign, interests, strict=True)
            ]
        )
        out = settlement.parties[s.id]
        assert out.utility is not None
        stake = sum(x.value for x in interests if x.stakeholder == s.id) or 1.0
        room = None if out.ideal is None else out.ideal - s.disagreement
        span = room if room is not None and room > 1e-9 * max(stake, abs(s.disagreement)) else stake
        add(row, out.utility - hold * span, out.utility + hold * span)
        if s.risk_capacity is not None:
            exposure = np.array(
                [
                    kind[x.issue].amount
                    if x.stakeholder == s.id and kind[x.issue].kind == "risk"
                    else 0.0
                    for x in interests
                ]
            )
            if exposure.any():
                add(exposure, -math.inf, s.risk_capacity)
    position = {(x.stakeholder, x.issue): k for k, x in enumerate(interests)}
    for c in case.constraints:
        row = np.zeros(n)
        for t in c.terms:
            row[position[str(t.stakeholder), str(t.issue)]] += t.coef
        lb = c.rhs if c.sense in (">=", "==") else -math.inf
        ub = c.rhs if c.sense in ("<=", "==") else math.inf
        add(row, lb, ub)
    constraints = LinearConstraint(np.array(rows), lbs, ubs)
    found = {}
    for k, x in enumerate(interests):
        if len(case.interests_by_issue[x.issue]) < 2:
            continue
        ends = []
        for sign_ in (1.0, -1.0):
            cost = np.zeros(n)
            cost[k] = sign_
            result = milp(
                cost,
                constraints=constraints,
                bounds=Bounds(low, high),
                integrality=whole.astype(int),
                options={"mip_rel_gap": 1e-9},
            )
            assert result.status == 0, (case.id, x, result.message)
            ends.append(float(result.x[k]))
        found[x.issue, x.stakeholder] = (ends[0], ends[1])
    return found


def assert_ranges_agree(case: Case, settlement: Settlement, tolerance: float = 1e-5) -> None:
    mine = allocation_range(case, settlement)
    assert mine.complete
    theirs = scipy_ranges(case, settlement)
    assert {(r.issue, r.stakeholder) for r in mine.ranges} == set(theirs)
    for r in mine.ranges:
        low, high = theirs[r.issue, r.stakeholder]
        assert r.low == pytest.approx(low, abs=tolerance), (case.id, settlement.rule, r)
        assert r.high == pytest.approx(high, abs=tolerance), (case.id, settlement.rule, r)
    assert mine.unique == all(h - lo <= RANGE_SHARE_TOLERANCE for lo, h in theirs.values())


# --- the uniqueness check ---------------------------------------------------------------


def test_two_parties_valuing_two_goods_alike_have_a_whole_segment_of_allocations() -> None:
    case = twins()
    result = settle_checked(case)
    found = allocation_range(case, result)
    assert found.unique is False
    assert found.complete
    # each party's share of either good can be anything: the other good makes up for it
    assert [(r.issue, r.stakeholder, r.low, r.high) for r in found.ranges] == [
        ("g", "a", 0.0, 1.0),
        ("h", "a", 0.0, 1.0),
        ("g", "b", 0.0, 1.0),
        ("h", "b", 0.0, 1.0),
    ]
    assert found.wide == found.ranges


def test_a_floor_narrows_the_ranges_by_what_it_holds() -> None:
    # a must get at least 30% of g; on the raw scale each still gets one good's worth, so a's
    # share of g runs from 0.3 to 1 and b's from 0 to 0.7 (h makes up the rest)
    case = twins(0.3, scale="raw")
    found = allocation_range(case, settle_checked(case))
    ends = {
        (r.issue, r.stakeholder, end): getattr(r, end)
        for r in found.ranges
        for end in ("low", "high")
    }
    expected = {
        ("g", "a"): (0.3, 1.0),
        ("h", "a"): (0.0, 0.7),
        ("g", "b"): (0.0, 0.7),
        ("h", "b"): (0.3, 1.0),
    }
    assert ends == pytest.approx(
        {
            (i, p, end): v
            for (i, p), pair in expected.items()
            for end, v in zip(("low", "high"), pair, strict=True)
        },
        abs=1e-7,
    )
    assert found.unique is False


def test_an_allocation_that_is_the_only_optimum_is_not_flagged() -> None:
    case = apart()
    result = settle_checked(case)
    found = allocation_range(case, result)
    assert found.unique is True
    assert found.complete
    assert found.wide == []
    assert all(r.width <= 1e-6 for r in found.ranges)
    comparison = compare(case, ["leximin"])
    assert comparison.outcomes[0].allocation == found
    assert comparison_sentences(comparison, case) == [PHRASES["en"]["compare_all_unique"]]


def test_the_settlements_own_shares_lie_in_their_ranges_on_every_bundled_case() -> None:
    for path in CASE_FILES:
        case, comparison, settled = bundled(path.stem)
        for outcome in comparison.outcomes:
            if outcome.allocation is None:
                # ranges are of shares alone: not given for payments, choices, whole units
                assert outcome.status in ("infeasible", "error") or levered_problems(case, "")
                continue
            assert outcome.allocation.complete, (case.id, outcome.rule)
            shares = settled[outcome.rule].shares
            for r in outcome.allocation.ranges:
                assert r.low - 1e-9 <= shares[r.issue][r.stakeholder] <= r.high + 1e-9


@pytest.mark.parametrize("stem", [p.stem for p in CASE_FILES])
def test_the_ranges_agree_with_an_lp_written_from_the_case(stem: str) -> None:
    case, _, settled = bundled(stem)
    if levered_problems(case, ""):
        pytest.skip("allocation ranges are of shares alone (no payments, choices, whole units)")
    checked = 0
    for settlement in settled.values():
        if settlement.status in ("optimal", "feasible"):
            assert_ranges_agree(case, settlement)
            checked += 1
    assert checked or stem == "infeasible-red-lines"


def test_bundled_cases_with_several_optima_are_found() -> None:
    # the claims case: three organisations' shares of the incubator desks can move while
    # every utility stays as leximin (and maximin) leaves it; the hall's allocation is unique
    _, comparison, _ = bundled("budget-claims-rationing")
    leximin = comparison.outcome("leximin")
    assert leximin is not None
    assert leximin.allocation is not None
    assert leximin.allocation.unique is False
    assert "incubator-desks" in {r.issue for r in leximin.allocation.wide}
    _, hall, _ = bundled("community-hall-dispute")
    for rule in ("leximin", "maximin", "utilitarian", "nash", "kalai_smorodinsky"):
        found = hall.outcome(rule)
        assert found is not None
        assert found.allocation is not None
        assert found.allocation.unique is True, rule


def test_the_range_check_refuses_a_settlement_without_allocation_or_of_another_case() -> None:
    red = load("infeasible-red-lines")
    with pytest.raises(PolicyError, match="infeasible: it has no allocation"):
        allocation_range(red, settle(red))
    with pytest.raises(PolicyError, match="of case 't', not of") as caught:
        allocation_range(load("community-hall-dispute"), settle(twins()))
    assert caught.value.problems[0].path == "settlement.case_id"
    with pytest.raises(PolicyError, match="share_tolerance: must be a positive number"):
        allocation_range(twins(), settle(twins()), share_tolerance=0.0)


def test_a_range_check_stopped_by_its_time_limit_says_it_did_not_finish() -> None:
    case = twins()
    found = allocation_range(case, settle(case), time_limit=1e-9)
    assert found.complete is False
    assert found.unique is None  # nothing wide found before it stopped: no verdict


@st.composite
def tied_cases(draw: st.DrawFn) -> Case:
    """Small cases whose values repeat, so that optima often form a face."""
    n = draw(st.integers(2, 3))
    pids = [f"p{k}" for k in range(n)]
    issues = [
        (resource if draw(st.booleans()) or k == 0 else risk)(
            f"i{k}", draw(st.sampled_from((1.0, 10.0)))
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    stakes = []
    for p in pids:
        for i in issues:
            if draw(st.integers(0, 3)):
                floor = draw(st.sampled_from((None, None, 0.2)))
                extra = {} if floor is None else {"min_share": floor}
                stakes.append(interest(p, i["id"], draw(st.sampled_from((1.0, 2.0))), **extra))
    disagreement = draw(st.sampled_from((0.0, -5.0)))
    try:
        return make_case([party(p, disagreement=disagreement) for p in pids], issues, stakes)
    except CaseError:
        reject()


@settings(max_examples=30)
@given(case=tied_cases(), rule=st.sampled_from(("leximin", "utilitarian", "nash")))
def test_ranges_of_random_cases_agree_with_the_restated_lp(case: Case, rule: str) -> None:
    try:
        result = settle_checked(case, rule=rule, allow_error=True)
    except PolicyError:
        reject()
    if result.status not in ("optimal", "feasible"):
        reject()
    assert_ranges_agree(case, result)


# --- the comparison -----------------------------------------------------------------------


def same_allocation(comparison: Comparison, *rules: str) -> bool:
    return any(
        c.kind == "same_allocation" and set(rules) <= set(c.rules) for c in comparison.coincidences
    )


@pytest.mark.parametrize("stem", [p.stem for p in CASE_FILES])
def test_maximin_and_kalai_smorodinsky_are_flagged_where_they_coincide(stem: str) -> None:
    case, comparison, settled = bundled(stem)
    a, b = settled["maximin"], settled["kalai_smorodinsky"]
    if a.status not in ("optimal", "feasible"):
        assert not same_allocation(comparison, "maximin", "kalai_smorodinsky")
        return
    # on the normalized scale (every bundled case's) the two are the same LP
    apart_by = max(abs(a.shares[i][p] - b.shares[i][p]) for i in a.shares for p in a.shares[i])
    assert apart_by <= SAME_SHARE
    assert same_allocation(comparison, "maximin", "kalai_smorodinsky")
    text = printed(comparison_tables(comparison, case), 100)
    assert "maximin" in text
    assert "give the same allocation" in text


def test_on_the_raw_scale_maximin_and_kalai_smorodinsky_part() -> None:
    case = make_case(
        [party("a"), party("b")],
        [resource("g")],
        [interest("a", "g", 4.0), interest("b", "g", 1.0)],
        policy={"scale": "raw"},
    )
    found = compare(case, ["maximin", "kalai_smorodinsky"])
    assert found.coincidences == []
    maximin, ks = found.outcome("maximin"), found.outcome("kalai_smorodinsky")
    assert maximin is not None
    assert ks is not None
    assert maximin.shares["g"] == pytest.approx({"a": 0.2, "b": 0.8}, abs=1e-8)
    assert ks.shares["g"] == pytest.approx({"a": 0.5, "b": 0.5}, abs=1e-8)


def test_same_utilities_by_different_allocations_is_its_own_flag() -> None:
    # twins: leximin and maximin both give each one good's worth, by whichever vertex their LP
    # ends at; a third rule with its own utilities stays out of the flag
    case = twins()
    found = settle_rules(case, ["leximin", "maximin", "utilitarian"])
    shares = {r: s.shares for r, s in found.settled.items()}
    comparison = comparison_of(case, found)
    lex, maxi = shares["leximin"], shares["maximin"]
    equal = all(abs(lex[i][p] - maxi[i][p]) <= SAME_SHARE for i in lex for p in lex[i])
    kinds = {(c.kind, tuple(c.rules)) for c in comparison.coincidences}
    if equal:
        assert ("same_allocation", ("leximin", "maximin")) in kinds
    else:
        assert ("same_utilities", ("leximin", "maximin")) in kinds
    # a different allocation with the same utilities, made by hand, is flagged as such
    swapped = found.settled["leximin"].model_copy(
        update={
            "shares": {"g": {"a": 0.25, "b": 0.75}, "h": {"a": 0.75, "b": 0.25}},
            "amounts": {"g": {"a": 0.25, "b": 0.75}, "h": {"a": 0.75, "b": 0.25}},
        }
    )
    assert validate_settlement(case, swapped, optimality=False) == []
    hand = comparison_of(
        case,
        RuleSettlements(settled={"leximin": found.settled["leximin"], "by_hand": swapped}),
        ranges=False,
    )
    (flag,) = hand.coincidences
    assert flag.kind == "same_utilities"
    assert flag.tolerance == SAME_UTILITY
    assert flag.rules == ["leximin", "by_hand"]


def test_every_compared_settlement_passes_the_validator() -> None:
    for path in CASE_FILES:
        case = load_case(path.read_bytes())
        found = settle_rules(case)
        assert found.settled, path.stem
        for rule, settlement in found.settled.items():
            assert settlement.rule == rule
            assert validate_settlement(case, settlement) == [], (path.stem, rule)
            assert settlement.status != "error", (path.stem, rule, settlement.reasons)


def test_rules_that_do_not_apply_are_listed_with_their_reasons() -> None:
    case, comparison, _ = bundled("community-hall-dispute")
    listed = {na.rule: na for na in comparison.not_applicable}
    assert set(listed) >= {"adjusted_winner", "claims"}
    assert "two parties" in listed["adjusted_winner"].problems[0].message
    assert {o.rule for o in comparison.outcomes} | set(listed) == set(rule_names())
    text = printed(comparison_tables(comparison, case), 120)
    assert "Adjusted Winner does not apply to this case: it is for two parties" in text
    zh = printed(comparison_tables(comparison, case, lang="zh"), 120)
    assert "调整赢家法不适用于本案：该方法只适用于权重相同的两方" in zh


def test_an_explicit_rule_that_does_not_apply_is_listed_not_refused() -> None:
    found = compare(load("community-hall-dispute"), ["adjusted_winner", "leximin"])
    assert [o.rule for o in found.outcomes] == ["leximin"]
    assert [na.rule for na in found.not_applicable] == ["adjusted_winner"]


def test_unknown_rules_are_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        rules_to_compare(["leximin", "fair_share", "nash"])
    (problem,) = caught.value.problems
    assert problem.path == "rules[1]"
    assert problem.code == "unknown_rule"
    assert "unknown rule 'fair_share'; choose from " + ", ".join(rule_names()) in problem.message
    with pytest.raises(PolicyError, match="no rule to compare"):
        rules_to_compare([])


def test_the_contract_round_trips_and_has_a_schema() -> None:
    _, comparison, _ = bundled("ppp-risk-sharing")
    again = Comparison.model_validate_json(comparison.model_dump_json())
    assert again == comparison
    schema = comparison_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["properties"]) == set(Comparison.model_fields)
    assert comparison.contested == [i.id for i in load("ppp-risk-sharing").issues]
    assert comparison.tolerances.range_share == RANGE_SHARE_TOLERANCE


def test_infeasible_cases_are_compared_without_allocations() -> None:
    case, comparison, _ = bundled("infeasible-red-lines")
    assert comparison.outcomes
    assert all(o.status == "infeasible" for o in comparison.outcomes)
    assert all(o.allocation is None and o.shares == {} for o in comparison.outcomes)
    assert comparison.coincidences == []
    lines = comparison_sentences(comparison, case)
    assert any("no allocation meets every red line" in line for line in lines)


def test_rendering_refuses_another_case_or_language() -> None:
    _, comparison, _ = bundled("ppp-risk-sharing")
    with pytest.raises(RenderError, match="not of 't'"):
        comparison_tables(comparison, twins())
    with pytest.raises(RenderError, match="unknown language 'fr'"):
        comparison_tables(comparison, load("ppp-risk-sharing"), lang="fr")


# --- the command line ---------------------------------------------------------------------


def test_compare_prints_one_table_and_the_flags() -> None:
    result = run("compare", HALL)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.count("┏") == 1  # one table
    for words in (
        "Hepingli Residents' Committee",
        "Shares of the contested issues",
        "Kalai–Smorodinsky",
        "What the comparison shows",
        "Maximin, leximin and Kalai–Smorodinsky give the same allocation",
        "50.9%",
    ):
        assert words in text, words


def test_compare_json_is_the_comparison() -> None:
    result = run("compare", PPP, "--format", "json", "--rules", "leximin,maximin, nash")
    assert result.exit_code == 0, result.stderr
    printed_ = Comparison.model_validate_json(result.stdout)
    assert [o.rule for o in printed_.outcomes] == ["leximin", "maximin", "nash"]
    assert printed_ == compare(load("ppp-risk-sharing"), ["leximin", "maximin", "nash"])


def test_compare_refuses_an_unknown_rule_with_exit_2() -> None:
    result = run("compare", HALL, "--rules", "leximin,bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown rule 'bogus'; choose from" in result.stderr
    assert "adjusted_winner" in result.stderr
    as_json = run("compare", HALL, "--rules", "bogus", "--format", "json")
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["kind"] == "policy_error"
    assert error["exit_code"] == 2
    assert error["problems"][0]["code"] == "unknown_rule"


def test_compare_refuses_a_missing_case_file() -> None:
    result = run("compare", "no-such-case.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_bundled_comparison_fits_80_columns_and_reads_as_a_person_reads(lang: str) -> None:
    for path in CASE_FILES:
        case, comparison, _ = bundled(path.stem)
        text = printed(comparison_tables(comparison, case, lang=lang), 80)
        for line in text.splitlines():
            assert cell_len(line.rstrip()) <= 80, (path.stem, line)
        assert not E_NOTATION.search(text), (path.stem, E_NOTATION.search(text))
        # names, not ids: what is left of the text without the case's names holds no id
        rest = printed(comparison_tables(comparison, case, lang=lang), 1000)
        entities: list[Stakeholder | Issue] = [*case.stakeholders, *case.issues]
        for name in sorted({e.label(lang) for e in entities}, key=len, reverse=True):
            rest = rest.replace(name, "")
        for entity in entities:
            found = re.search(rf"(?<![\w-]){re.escape(entity.id)}(?![\w-])", rest)
            assert not found, (path.stem, entity.id)


def test_chinese_comparison_reads_as_chinese() -> None:
    result = run("compare", HALL, "--lang", "zh", columns=100)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    case = load("community-hall-dispute")
    for words in ("各规则方案对照", "争议议题的分配份额", "和平里社区居民委员会", "对照结果"):
        assert words in text, words
    assert rule_name("kalai_smorodinsky", "zh")[:3] in text
    names = [s.label("zh") for s in case.stakeholders] + [i.label("zh") for i in case.issues]
    rest = text
    for name in names:
        rest = rest.replace(name, "")
    rest = rest.replace("mediation settle", "")
    assert not ENGLISH.search(rest), ENGLISH.search(rest)
    lines = comparison_sentences(bundled("community-hall-dispute")[1], case, lang="zh")
    for line in lines:
        plain = line
        for name in names:
            plain = plain.replace(name, "")
        assert not HALF_WIDTH.search(plain), line
        assert plain.endswith("。"), line


def test_the_phrases_of_the_comparison_exist_in_both_languages() -> None:
    keys = {k for k in PHRASES["en"] if k.startswith("compare_")}
    assert keys == {k for k in PHRASES["zh"] if k.startswith("compare_")}
    assert {"compare_title", "compare_same_allocation", "compare_not_unique"} <= keys


def test_a_table_too_wide_for_the_console_is_spread_over_parts() -> None:
    # the rules' columns cannot all sit beside the labels in 40 columns: the table is split
    case, comparison, _ = bundled("youth-education-project")
    text = printed(comparison_tables(comparison, case), 40)
    assert text.count("┏") > 1
    assert all(cell_len(line.rstrip()) <= 40 for line in text.splitlines())
