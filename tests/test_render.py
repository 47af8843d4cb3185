"""Settlements in words: every reason code the engine produces, in English and Chinese."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from functools import cache
from typing import TypedDict

import pytest
from backends import ScriptedBackend, raises, stopped
from conftest import (
    CASE_FILES,
    LP_RULES,
    RULES,
    interest,
    load,
    make_case,
    party,
    reasons,
    resource,
    risk,
    settle_checked,
)
from rich.console import RenderableType
from rich.table import Table

from mediation import render
from mediation.case import Case, load_case
from mediation.errors import MediationError, PolicyError, RenderError, SolverError
from mediation.reasons import IssueSplit, ReasonCode
from mediation.rendering import settlement_tables
from mediation.rendering.phrases import table_words
from mediation.rendering.wording import FORMATTERS, LANGUAGES, PHRASES, Words, render_diagnosis
from mediation.settlement import Settlement

#: A reason code, or any other snake_case identifier, left in the text.
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


class Overrides(TypedDict, total=False):
    """Policy keys that :func:`mediation.settle` overrides."""

    envy_free: bool
    proportional: bool
    scale: str
    individually_rational: bool


#: Each bundled case is settled under its own policy and under these overrides.
VARIANTS: tuple[Overrides, ...] = (
    {},
    {"envy_free": True},
    {"proportional": True},
    {"scale": "raw"},
    {"individually_rational": False},
)


@cache
def bundled_settlements() -> tuple[tuple[Case, Settlement], ...]:
    """Every bundled case under every rule that applies and each policy variant."""
    out = []
    for path in CASE_FILES:
        case = load_case(path.read_bytes())
        for rule in RULES:
            for variant in VARIANTS:
                try:
                    out.append((case, settle_checked(case, rule=rule, **variant)))
                except PolicyError:
                    continue
    return tuple(out)


def constructed_settlements() -> Iterator[tuple[Case, Settlement]]:
    """Cases made to produce the reason codes the bundled cases do not."""
    flat = make_case(
        [party("a", disagreement=10), party("b", disagreement=5)],
        [resource("g"), resource("h")],
        [interest("a", "g", 10), interest("b", "h", 5)],
    )
    yield flat, settle_checked(flat, rule="leximin")  # no_room, nobody_to_compare
    stuck = make_case(
        [party("a", disagreement=5), party("b", disagreement=5)],
        [resource("g")],
        [interest("a", "g", 10), interest("b", "g", 10)],
    )
    yield stuck, settle_checked(stuck, rule="nash", individually_rational=False)  # no_positive_gain
    below = make_case(
        [party("a", disagreement=80), party("b")],
        [resource("x"), resource("y")],
        [
            interest("a", "x", 60),
            interest("a", "y", 40),
            interest("b", "x", 40),
            interest("b", "y", 60),
        ],
        policy={"rule": "adjusted_winner"},
    )
    yield below, settle_checked(below)  # rule_below_disagreement
    envy = make_case(
        [party("a"), party("b")],
        [resource("g"), risk("r", 100, unit="元")],
        [
            interest("a", "g", 6),
            interest("b", "g", 5, min_share=0.2),
            interest("a", "r", 1, control=0.1),
            interest("b", "r", 1, control=0.9, max_share=0.5),
        ],
        policy={"rule": "utilitarian", "envy_free": True},
    )
    yield envy, settle_checked(envy)  # not_pareto_optimal, risk_borne with control


@cache
def all_settlements() -> tuple[tuple[Case, Settlement], ...]:
    return (*bundled_settlements(), *constructed_settlements())


def produced_codes() -> set[str]:
    return {r.code for _, s in all_settlements() for r in s.reasons}


def test_phrase_tables_agree() -> None:
    assert set(LANGUAGES) == set(PHRASES)
    assert set(PHRASES["en"]) == set(PHRASES["zh"])
    fields = string.Formatter()
    for key, english in PHRASES["en"].items():
        chinese = PHRASES["zh"][key]
        names = [{f for _, f, _, _ in fields.parse(text) if f} for text in (english, chinese)]
        assert names[0] == names[1], key


def test_every_reason_code_has_words() -> None:
    codes = produced_codes()
    # the codes these cases must reach, so that this test covers them
    assert codes >= {
        "leximin_level",
        "worst_off",
        "weighted_sum",
        "nash_certificate",
        "floor_binding",
        "cap_binding",
        "capacity_binding",
        "constraint_binding",
        "disagreement_binding",
        "issue_awarded",
        "issue_split",
        "risk_borne",
        "no_room",
        "nobody_to_compare",
        "no_positive_gain",
        "rule_below_disagreement",
        "not_pareto_optimal",
        "infeasible",
        "aw_winner",
        "aw_transfer",
        "aw_split",
        "aw_equitable",
        "claims_awarded",
    }
    assert codes <= {code.value for code in FORMATTERS}, codes - set(FORMATTERS)
    for lang in LANGUAGES:  # every code these cases produce is told in every language
        for case, settlement in all_settlements():
            for reason in settlement.reasons:
                told = FORMATTERS[ReasonCode(reason.code)](reason, Words(lang, settlement, case))
                assert told is None or told.strip(), reason


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_raw_codes_or_placeholders_in_the_text(lang: str) -> None:
    for case, settlement in all_settlements():
        lines = render(settlement, lang=lang, case=case)
        assert lines
        for line in lines:
            assert line.strip()
            assert not RAW_CODE.findall(line), (settlement.rule, line)
            for leftover in ("{", "}", "None", "-0.0%"):
                assert leftover not in line, (settlement.rule, line)
            assert not re.search(r"\b(nan|inf)\b", line), line


@pytest.mark.parametrize("lang", LANGUAGES)
def test_names_are_used_when_the_case_is_given(lang: str) -> None:
    for case, settlement in bundled_settlements():
        ids = {s.id for s in case.stakeholders} | {i.id for i in case.issues}
        labels = [s.label(lang) for s in case.stakeholders] + [i.label(lang) for i in case.issues]
        # the one-time lines naming observers and funds come with any reason: set them aside
        listed = set(
            render(
                settlement.model_copy(update={"reasons": [], "diagnosis": None}),
                lang=lang,
                case=case,
            )
        )
        for reason in settlement.reasons:
            alone = settlement.model_copy(update={"reasons": [reason], "diagnosis": None})
            (line,) = [t for t in render(alone, lang=lang, case=case) if t not in listed]
            named = reason.model_dump()
            if named.get("stakeholder") is not None:
                assert case.stakeholder_by_id[named["stakeholder"]].label(lang) in line, line
            if named.get("issue") is not None:
                assert case.issue_by_id[named["issue"]].label(lang) in line, line
            rest = line
            for label in sorted(labels, key=len, reverse=True):
                rest = rest.replace(label, "")
            for name in ids:  # an id left once the names are taken out
                assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", rest), (name, line)


def test_chinese_names_in_the_chinese_text() -> None:
    case = load("community-hall-dispute")
    text = "\n".join(render(settle_checked(case), lang="zh", case=case))
    assert "夕阳红养老服务中心" in text
    assert "大厅晚间时段（18:00—21:00）" in text
    assert "Xiyanghong" not in text
    english = "\n".join(render(settle_checked(case), lang="en", case=case))
    assert "Xiyanghong Elderly-care Centre" in english
    assert "夕阳红" not in english


def test_without_the_case_ids_stand_for_names() -> None:
    case = load("community-hall-dispute")
    text = "\n".join(render(settle_checked(case), lang="zh"))
    assert "xiyanghong" in text


def test_unknown_language_is_refused() -> None:
    result = settle_checked(load("two-party-adjusted-winner"))
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render(result, lang="fr")


def test_an_unknown_language_is_a_render_error_wherever_it_is_asked_for() -> None:
    case = load("two-party-adjusted-winner")
    result = settle_checked(case)
    message = "unknown language 'fr'; choose one of en, zh"
    for call in (render, render_diagnosis):
        with pytest.raises(RenderError, match=message) as info:
            call(result, lang="fr")
        assert isinstance(info.value, MediationError)
        assert isinstance(info.value, ValueError)
    with pytest.raises(RenderError, match="unknown language 'fr'"):
        settlement_tables(result, case, lang="fr")


def test_the_price_of_a_floor_in_words() -> None:
    # the floor's dual is 1.25 worst-off share per whole share: 1.25 percentage points of the
    # worst-off party's possible gain per percentage point given way
    case = make_case(
        [party("a", translations={"zh": {"name": "甲方"}}), party("b"), party("c")],
        [resource("g", translations={"zh": {"name": "经费"}}), resource("h")],
        [
            interest("a", "g", 1, min_share=0.5),
            interest("b", "g", 1, max_share=0.4),
            interest("c", "g", 2, max_share=0.4),
            interest("a", "h", 10),
        ],
    )
    result = settle_checked(case, rule="maximin")
    (floor,) = reasons(result, "floor_binding")
    alone = result.model_copy(update={"reasons": [floor]})
    (english,) = render(alone, lang="en", case=case)
    assert english == (
        "A's floor of 50.0% of G binds: each percentage point of that floor costs "
        "the worst-off party 1.25 percentage points of its possible gain."
    )
    (chinese,) = render(alone, lang="zh", case=case)
    assert chinese == (
        "甲方的底线起了作用：经费至少50.0%；这条底线每多一个百分点，"
        "处境最差的一方就要少得其可能收益的1.25个百分点。"
    )


def test_the_price_of_a_capacity_in_words() -> None:
    # one more yuan of capacity raises the worst-off normalized gain by 1/4000: 0.025
    # percentage points (ideals without individual rationality: b's is 1, c's 2)
    case = make_case(
        [party("a", risk_capacity=500), party("b"), party("c")],
        [resource("g"), resource("h"), risk("r", 1000, unit="yuan")],
        [
            interest("b", "g", 1),
            interest("c", "g", 2),
            interest("a", "h", 10),
            interest("a", "r", 4),
            interest("b", "r", 1),
            interest("c", "r", 1),
        ],
    )
    result = settle_checked(case, rule="maximin", individually_rational=False)
    (capacity,) = reasons(result, "capacity_binding")
    (line,) = render(result.model_copy(update={"reasons": [capacity]}), lang="en", case=case)
    # priced per 10 yuan: a power of ten of at most a tenth of the capacity
    assert line == (
        "A's risk capacity of 500 yuan is used up: each 10 yuan of capacity it lacks costs the "
        "worst-off party 0.25 percentage points of its possible gain."
    )


def test_the_diagnosis_in_words() -> None:
    case = load("infeasible-red-lines")
    result = settle_checked(case)
    english = render_diagnosis(result, lang="en", case=case)
    assert english[0] == "These red lines cannot all hold together."
    assert [line.split(":")[0] for line in english if line.startswith("Conflict")] == [
        "Conflict 1",
        "Conflict 2",
    ]
    assert english[-1].startswith("Smallest joint concessions: ")
    chinese = render_diagnosis(result, lang="zh", case=case)
    assert chinese[0] == "这些红线无法同时成立。"
    assert any(line.startswith("冲突2：") for line in chinese)
    assert any("美食汇餐饮管理有限公司" in line for line in chinese)
    assert chinese[-1].startswith("最小的共同让步：")
    # render() appends the diagnosis to the reasons
    assert render(result, lang="zh", case=case)[-len(chinese) :] == chinese
    assert render_diagnosis(settle_checked(load("two-party-adjusted-winner"))) == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("rule", LP_RULES)
def test_a_level_at_zero_is_not_negative(lang: str, rule: str) -> None:
    # both parties are held at their no-deal outcomes: a level of exactly nothing to gain
    case = make_case(
        [party("a", disagreement=5), party("b", disagreement=5)],
        [resource("g")],
        [interest("a", "g", 10), interest("b", "g", 10)],
    )
    result = settle_checked(case, rule=rule)
    for line in render(result, lang=lang, case=case):
        assert "-0.0%" not in line


@pytest.mark.parametrize("lang", LANGUAGES)
def test_time_limit_and_solver_error_in_words(lang: str) -> None:
    case = load("community-hall-dispute")
    # every solve stopped at the limit, with a solution
    limited = settle_checked(case, time_limit=5, solver=ScriptedBackend(stopped))
    (limit,) = reasons(limited, "time_limit")
    (line,) = render(limited.model_copy(update={"reasons": [limit]}), lang=lang, case=case)
    assert "5" in line
    assert not RAW_CODE.findall(line)

    failing = ScriptedBackend(raises(SolverError("HiGHS failed: Solve error")))
    failed = settle_checked(case, allow_error=True, solver=failing)
    assert failed.status == "error"
    (line,) = render(failed, lang=lang, case=case)
    assert line.endswith("HiGHS failed: Solve error")
    assert line.startswith("The solver failed" if lang == "en" else "求解器出错")


# --- what a mediator reads aloud ------------------------------------------------------------


def test_parties_with_no_stake_are_named_once_in_one_line() -> None:
    # a and b cannot gain from any deal (no_room, held at their no-deal outcomes); o has no
    # interest at all: one line names the three, and nothing else is said of them
    case = make_case(
        [
            party("a", disagreement=10, translations={"zh": {"name": "甲"}}),
            party("b", disagreement=5, translations={"zh": {"name": "乙"}}),
            party("o", translations={"zh": {"name": "丙"}}),
        ],
        [resource("g"), resource("h")],
        [interest("a", "g", 10), interest("b", "h", 5)],
    )
    result = settle_checked(case, rule="leximin")
    assert {r.code for r in result.reasons} >= {"no_room", "disagreement_binding"}
    english = render(result, lang="en", case=case)
    assert "Observers (no deal can give them more than their no-deal outcome): A, B and O." in (
        english
    )
    # b is named once more, as who gets h: that line is about the issue, not a filler
    about_b = [line for line in english if re.search(r"\bB\b", line)]
    assert about_b[1:] == ["H: all of it to B, who values it relatively most."]
    assert not any("gets exactly its no-deal outcome" in line for line in english)
    assert not any("cannot gain from any deal" in line for line in english)
    chinese = render(result, lang="zh", case=case)
    assert "旁观方（任何协议都不能使其超出无协议时的结果）：甲、乙和丙。" in chinese
    assert sum("乙" in line for line in chinese) == 2  # the observers' line, and who gets h
    assert not any("恰好得到其无协议时的结果" in line for line in chinese)


def test_observers_with_no_interest_at_all() -> None:
    case = make_case(
        [party("a"), party("b"), party("x", translations={"zh": {"name": "观察员"}}), party("y")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 2)],
    )
    result = settle_checked(case, rule="maximin")
    english = render(result, lang="en", case=case)
    assert english.count("Observers (no stake in any issue): X and Y.") == 1
    assert "旁观方（在各议题上均无利益）：观察员和Y。" in render(result, lang="zh", case=case)
    alone = make_case(
        [party("a"), party("b"), party("x")],
        [resource("g")],
        [interest("a", "g", 1), interest("b", "g", 2)],
    )
    assert "Observer (no stake in any issue): X." in render(
        settle_checked(alone, rule="maximin"), lang="en", case=alone
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_constraint_is_told_by_its_description_and_never_priced(lang: str) -> None:
    case = load("community-hall-dispute")
    result = settle_checked(case, rule="utilitarian")
    (binding,) = reasons(result, "constraint_binding")
    assert binding.dual  # the solve priced it; the sentence does not
    (line,) = render(result.model_copy(update={"reasons": [binding]}), lang=lang, case=case)
    assert "谁使用谁负责：广场舞队承担的噪声风险份额不低于其晚间时段份额的一半" in line
    assert "user-bears-noise" not in line
    assert "costs" not in line
    assert "少得" not in line
    # without a description: its name and bound, in words
    bare = case.model_copy(
        update={
            "constraints": [c.model_copy(update={"description": None}) for c in case.constraints]
        }
    )
    (line,) = render(result.model_copy(update={"reasons": [binding]}), lang=lang, case=bare)
    assert line == (
        "The constraint 'user-bears-noise' (at least 0) binds."
        if lang == "en"
        else "约束“user-bears-noise”（不低于0）起了作用。"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_thirds_are_shown_adding_up_to_exactly_100_percent(lang: str) -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("g", 3, unit="posts")],
        [interest("a", "g", 1), interest("b", "g", 1), interest("c", "g", 1)],
    )
    result = settle_checked(case, rule="leximin")
    (split,) = reasons(result, "issue_split")
    (line,) = render(result.model_copy(update={"reasons": [split]}), lang=lang, case=case)
    assert sorted(re.findall(r"\d+\.\d%", line)) == ["33.3%", "33.3%", "33.4%"]
    (cell,) = allocation_cells(settlement_tables(result, case, lang=lang), lang).values()
    assert sorted(re.findall(r"\d+\.\d%", cell)) == ["33.3%", "33.3%", "33.4%"]
    # a whole post each: a count unit shows whole numbers
    assert cell.count("(1 posts)" if lang == "en" else "（1 posts）") == 3


def test_dust_is_nobody_s_share() -> None:
    # solver noise of 3e-9 given to a party that gets nothing: said neither in the sentence
    # nor in the table, and the others' shares still add up to 100%
    case = load("community-hall-dispute")
    result = settle_checked(case)
    split = reasons(result, "issue_split")[0]
    row = dict(result.shares[split.issue])
    top = max(row, key=lambda p: row[p])
    outsider = next(s.id for s in case.stakeholders if row.get(s.id, 0.0) == 0.0)
    row[top] -= 3e-9
    row[outsider] = 3e-9
    dusty = result.model_copy(
        update={
            "shares": {**result.shares, split.issue: row},
            "reasons": [IssueSplit(issue=split.issue, shares=row, relative_values={})],
        }
    )
    for lang in LANGUAGES:
        name = case.stakeholder_by_id[outsider].label(lang)
        (line,) = render(dusty, lang=lang, case=case)
        assert name not in line
        given = allocation_cells(settlement_tables(dusty, case, lang=lang), lang)
        cell = given[case.issue_by_id[split.issue].label(lang)]
        assert name not in cell
        assert sum(float(v) for v in re.findall(r"(\d+\.\d)%", cell)) == pytest.approx(100)


def allocation_cells(parts: list[RenderableType], lang: str) -> dict[str, str]:
    """Return the allocation table's "who gets what" cell of each issue, by its name."""
    words = table_words(lang)
    for part in parts:
        table = getattr(part, "table", None)
        if isinstance(table, Table) and table.title == words["allocation"]:
            issues, _, given = (column.cells for column in table.columns)
            return {str(i): str(g) for i, g in zip(issues, given, strict=True)}
    raise AssertionError("no allocation table")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_party_reaches_and_several_reach(lang: str) -> None:
    case = load("elderly-care-purchase")
    result = settle_checked(case, rule="leximin")
    lines = render(result, lang=lang, case=case)
    rounds = [line for line in lines if line.startswith(("Round", "第"))]
    assert len(rounds) >= 2
    for line, reason in zip(rounds, reasons(result, "leximin_level"), strict=True):
        several = len(reason.parties) > 1
        if lang == "en":
            assert (" reach " in line) == several, line
            assert ("of their possible gain" in line) == several, line
            assert (" reaches " in line) != several, line
        else:
            assert ("都达到各自可能收益" in line) == several, line


def test_a_later_round_s_price_names_the_parties_of_that_round() -> None:
    case = load("community-hall-dispute")
    result = settle_checked(case, rule="leximin", scale="raw")
    later = [r for r in reasons(result, "floor_binding") if r.rank > 1 and r.dual]
    assert later
    (level,) = [r for r in reasons(result, "leximin_level") if r.rank == later[0].rank]
    where = result.reasons.index(later[0])
    line = render(result, lang="en", case=case)[where]
    names = [case.stakeholder_by_id[p].label("en") for p in level.parties]
    assert f"(round {later[0].rank})" in line
    assert all(n in line for n in names), line
    assert "points of gain" in line  # raw scale: points, not percentage points


def test_no_fen_in_a_money_case() -> None:
    # 一分 reads as one fen: prices are said 每一个百分点, per unit of the issue, or per point
    priced = 0
    for case, settlement in bundled_settlements():
        text = "".join(render(settlement, lang="zh", case=case))
        assert "一分" not in text
        assert not re.search(r"每[降低少多高]*[0-9一]分", text)
        priced += text.count("就要少得")
    assert priced  # the bundled cases do price red lines
