"""The wording registry and what a mediator reads aloud, in English and Chinese.

One table of phrases per language with the same keys; one formatter per reason code; and,
for every bundled case under every rule that applies to it, text a person can read: no
scientific notation, shares of an issue adding up to exactly 100.0%, names rather than ids,
and Chinese with Chinese names for the rules and full-width punctuation.
"""

from __future__ import annotations

import os
import re
import string
from functools import cache

import pytest
from conftest import (
    CASE_FILES,
    LP_RULES,
    RULES,
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
from rich.console import Console, RenderableType
from rich.table import Table

from mediation import render, settle
from mediation.case import Case, Issue, Stakeholder, load_case
from mediation.errors import CaseError, PolicyError
from mediation.reasons import (
    AwEquitable,
    AwSplit,
    AwTransfer,
    AwWinner,
    BurdenLevel,
    CapacityBinding,
    CapBinding,
    ClaimsAwarded,
    ConstraintBinding,
    ContributionGiven,
    DisagreementBinding,
    FloorBinding,
    FundShare,
    Infeasible,
    IssueAwarded,
    IssueFunded,
    IssueSplit,
    LeastExpectedLoss,
    LeximinLevel,
    NashCertificate,
    NashGapNotReached,
    NobodyToCompare,
    NoPositiveGain,
    NoRoom,
    NotCertifiedOptimal,
    NotParetoOptimal,
    OptionChosen,
    PaymentDue,
    Reason,
    ReasonCode,
    RiskBorne,
    RuleBelowDisagreement,
    SolverFailed,
    TimeLimit,
    WeightedSum,
    WorstOff,
)
from mediation.rendering import settlement_tables
from mediation.rendering.phrases import (
    LANGUAGES,
    PHRASES,
    counts_things,
    phrases,
    rule_name,
    scale_name,
    status_name,
    table_words,
)
from mediation.rendering.wording import FORMATTERS, Words
from mediation.settlement import Settlement

#: A number in scientific notation: 2e+04, 7.9e-10, 1E6.
E_NOTATION = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d")
#: A CJK character or full-width punctuation.
_CJK = "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
#: Half-width , : ; ( ) next to Chinese text.
HALF_WIDTH = re.compile(rf"{_CJK}[,:;()]|[,:;()]{_CJK}")
#: English rule, status and scale names, and level words, that Chinese text must not contain.
ENGLISH_NAMES = re.compile(
    r"(?i)(?<![a-z])(leximin|maximin|nash|kalai|smorodinsky|utilitarian|adjusted[ _]?winner"
    r"|claims|talmud|proportional|optimal|feasible|infeasible|normalized|raw|error|round"
    r"|level)(?![a-z])"
)
#: A displayed share of an issue in the allocation table.
SHARE = re.compile(r"(\d+)\.(\d)%")


# --- the phrase tables --------------------------------------------------------------------


def test_english_and_chinese_have_exactly_the_same_keys() -> None:
    assert set(PHRASES) == set(LANGUAGES) == {"en", "zh"}
    assert set(PHRASES["en"]) == set(PHRASES["zh"]), set(PHRASES["en"]) ^ set(PHRASES["zh"])


def test_each_key_has_the_same_placeholders_in_both_languages() -> None:
    fields = string.Formatter()
    for key, english in PHRASES["en"].items():
        names = [{f for _, f, _, _ in fields.parse(t) if f} for t in (english, PHRASES["zh"][key])]
        assert names[0] == names[1], key


def test_the_chinese_phrases_use_full_width_punctuation() -> None:
    for key, text in PHRASES["zh"].items():
        plain = re.sub(r"\{[a-z_]+\}", "", text)
        assert not HALF_WIDTH.search(plain), (key, text)
        assert not ENGLISH_NAMES.search(plain), (key, text)
        assert "一分" not in plain, (key, text)
        assert "层" not in plain, (key, text)


def test_names_of_rules_statuses_and_scales() -> None:
    assert rule_name("leximin", "zh") == "字典序最大最小公平"
    assert rule_name("maximin", "zh") == "最大最小公平"
    assert rule_name("nash", "zh") == "纳什议价解"
    assert rule_name("kalai_smorodinsky", "zh") == "卡莱—斯莫罗金斯基解"
    assert rule_name("utilitarian", "zh") == "功利主义（加权总和最大）"
    assert rule_name("adjusted_winner", "zh") == "调整赢家法"
    assert rule_name("claims", "zh") == "债权分配规则"
    assert [status_name(s, "zh") for s in ("optimal", "feasible", "infeasible", "error")] == [
        "最优",
        "可行",
        "不可行",
        "出错",
    ]
    assert [scale_name(s, "zh") for s in ("raw", "normalized")] == ["原始效用", "归一化收益"]
    for rule in RULES:  # every registered rule has a name of its own in each language
        for lang in LANGUAGES:
            assert f"rule_{rule}" in PHRASES[lang], (rule, lang)
    assert rule_name("a_plugin_rule", "zh") == "a_plugin_rule"  # a plug-in keeps its name


def test_the_tables_read_their_words_from_the_registry() -> None:
    for lang in LANGUAGES:
        words = table_words(lang)
        assert words["allocation"] == PHRASES[lang]["table_allocation"]
        assert set(words) == {k.removeprefix("table_") for k in PHRASES[lang] if k[:6] == "table_"}
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        phrases("fr")


def test_which_units_count_things() -> None:
    for unit in ("个", "名", "人", "岗", "处", "次", "期", "个岗位", "人次", "posts", "hour slots"):
        assert counts_things(unit), unit
    for unit in ("元", "元/年", "元（现值）", "小时/周", "平方米", "亩", "hours", ""):
        assert not counts_things(unit), unit
    assert not counts_things(None)
    assert counts_things("岗（全职）")
    assert counts_things("个/年")


# --- one formatter per reason code ----------------------------------------------------------

#: One reason of each code, naming the parties and issues of community-hall-dispute.
SAMPLES: list[Reason] = [
    WorstOff(parties=["xiyanghong"], level=0.5),
    LeximinLevel(rank=2, level=0.5, parties=["xiyanghong", "wuye"]),
    LeastExpectedLoss(total=6000, unmitigated=8000, unit="元", tolerance=0.0),
    LeastExpectedLoss(total=6000, unmitigated=6000, unit="", tolerance=0.05),
    BurdenLevel(rank=1, level=0.3, parties=["wuye"]),
    BurdenLevel(rank=2, level=0.125, parties=["xiyanghong", "juweihui"]),
    WeightedSum(value=1.5),
    NashCertificate(gap=7.9e-10, rounds=3, cuts=10),
    NashGapNotReached(gap=0.0023, target=1e-6),
    NobodyToCompare(),
    FloorBinding(
        stakeholder="xiyanghong",
        issue="hall-daytime",
        bound=0.4,
        dual=0.2,
        objective="min_gain",
        rank=2,
    ),
    CapBinding(
        stakeholder="wuye", issue="hall-daytime", bound=0.15, dual=0.1, objective="weighted_sum"
    ),
    CapacityBinding(
        stakeholder="guangchangwu", bound=6000, unit="元", dual=1e-5, objective="min_gain"
    ),
    ConstraintBinding(
        constraint="public-interest-first", sense=">=", bound=0.6, dual=0.3, objective="min_gain"
    ),
    DisagreementBinding(stakeholder="wuye", bound=-8, dual=0.01, objective="nash_welfare"),
    NoRoom(stakeholder="juweihui", ideal=0.0, disagreement=0.0),
    RiskBorne(
        issue="noise-risk",
        stakeholder="wuye",
        shares={"wuye": 0.7, "juweihui": 0.3},
        control={"wuye": 0.2, "juweihui": 0.0},
        to_controller=True,
    ),
    IssueAwarded(
        issue="storage-room",
        stakeholder="xiyanghong",
        relative_value=0.5,
        runner_up="yangguang",
        runner_up_value=0.3,
        highest=True,
    ),
    IssueSplit(
        issue="hall-evening",
        shares={"guangchangwu": 0.5, "yangguang": 0.5},
        relative_values={"guangchangwu": 1.0, "yangguang": 1.0},
    ),
    ClaimsAwarded(
        issue="noise-risk",
        method="constrained_equal_awards",
        awards={"wuye": 12000.0, "juweihui": 8000.0},
        claims={"wuye": 15000.0, "juweihui": 8000.0},
        level=12000.0,
    ),
    AwWinner(
        issue="storage-room", stakeholder="xiyanghong", points={"xiyanghong": 30, "yangguang": 20}
    ),
    AwTransfer(
        issue="storage-room", stakeholder="xiyanghong", to="yangguang", ratio=1.5, partial=True
    ),
    AwSplit(issue="storage-room", stakeholder="xiyanghong", kept=0.6),
    AwEquitable(points={"xiyanghong": 50.0, "yangguang": 50.0}),
    NotParetoOptimal(),
    NotCertifiedOptimal(message="a better value"),
    TimeLimit(seconds=5.0),
    Infeasible(),
    NoPositiveGain(parties=["wuye"]),
    RuleBelowDisagreement(parties=["wuye", "juweihui"]),
    SolverFailed(message="HiGHS failed"),
    PaymentDue(
        payment="compensation",
        payer="wuye",
        payee="juweihui",
        amount=5000.0,
        unit="元",
        least=0.0,
        most=8000.0,
        why="balance",
        parties=["wuye", "juweihui"],
    ),
    ContributionGiven(
        contribution="subsidy",
        stakeholder="juweihui",
        choice="scheme",
        amount=3000.0,
        unit="元",
        least=0.0,
        most=3000.0,
        why="max",
        subsidy=True,
        basis="policy",
        source="某办法第八条",
    ),
    IssueFunded(
        issue="hall-daytime", size=40.0, most=60.0, unit="小时/周", contributions={"subsidy": 40.0}
    ),
    OptionChosen(choice="scheme", option="scheme-a", cost=820000.0, unit="元"),
    FundShare(stakeholder="wuye", issue="hall-daytime", share=0.3, amount=18.0, unit="小时/周"),
]


@cache
def hall() -> tuple[Case, Settlement]:
    case = load("community-hall-dispute")
    return case, settle_checked(case)


def test_every_reason_code_has_a_formatter() -> None:
    assert set(FORMATTERS) == set(ReasonCode)
    assert {r.code for r in SAMPLES} == {c.value for c in ReasonCode}  # a sample of each


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("reason", SAMPLES, ids=lambda r: r.code)
def test_every_reason_code_is_told_in_every_language(reason: Reason, lang: str) -> None:
    case, settlement = hall()
    alone = settlement.model_copy(update={"reasons": [reason], "diagnosis": None})
    (line,) = render(alone, lang=lang, case=case)
    assert line.strip()
    assert "{" not in line
    assert "}" not in line
    assert not E_NOTATION.search(line), line
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", line), line  # no code, no snake_case id
    assert line == FORMATTERS[ReasonCode(reason.code)](reason, Words(lang, alone, case))
    assert_no_ids(line, case)
    if lang == "zh":
        assert_reads_as_chinese(line, case)


# --- every bundled case under every rule, as a mediator reads it ----------------------------


@cache
def bundled() -> tuple[tuple[Case, Settlement], ...]:
    """Every bundled case under its own policy with each rule that applies to it."""
    out = []
    for path in CASE_FILES:
        case = load_case(path.read_bytes())
        for rule in RULES:
            try:
                out.append((case, settle_checked(case, rule=rule)))
            except PolicyError:
                continue
    return tuple(out)


def printed(parts: list[RenderableType], width: int) -> str:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(width=width, record=True, file=sink)
        for part in parts:
            console.print(part, crop=False)
    return console.export_text()


def entities(case: Case) -> list[Stakeholder | Issue]:
    return [*case.stakeholders, *case.issues]


def case_texts(case: Case) -> list[str]:
    """Return the case's own words (names, titles, descriptions), longest first."""
    texts = [case.title, *(t.title for t in case.translations.values() if t.title)]
    for entity in entities(case):
        texts.append(entity.name)
        texts.extend(t.name for t in entity.translations.values() if t.name)
    texts.extend(c.description for c in case.constraints if c.description)
    texts.extend(
        c.description.strip().rstrip("。．.！!；;，,") for c in case.constraints if c.description
    )
    return sorted({t for t in texts if t}, key=len, reverse=True)


def without_case_texts(text: str, case: Case) -> str:
    for words in case_texts(case):
        text = text.replace(words, "")
    return text


def assert_no_ids(text: str, case: Case) -> None:
    rest = without_case_texts(text, case)
    for entity in entities(case):
        found = re.search(rf"(?<![A-Za-z0-9_-]){re.escape(entity.id)}(?![A-Za-z0-9_-])", rest)
        assert not found, (entity.id, text)


def assert_reads_as_chinese(text: str, case: Case) -> None:
    rest = without_case_texts(text, case)
    assert not HALF_WIDTH.search(rest), HALF_WIDTH.search(rest)
    assert not ENGLISH_NAMES.search(rest), ENGLISH_NAMES.search(rest)
    assert "一分" not in rest
    assert "第1层" not in rest


def allocation_shares(parts: list[RenderableType], lang: str) -> dict[str, list[str]]:
    """Each issue's cells of displayed shares in the allocation table, by the issue's name."""
    words = table_words(lang)
    for part in parts:
        table = getattr(part, "table", part)
        if isinstance(table, Table) and table.title == words["allocation"]:
            headers = [str(c.header) for c in table.columns]
            issues = table.columns[headers.index(words["issue"])].cells
            given = table.columns[headers.index(words["shares"])].cells
            return {str(i): str(g).splitlines() for i, g in zip(issues, given, strict=True)}
    return {}


def assert_shares_add_up(parts: list[RenderableType], lang: str, wide: str) -> None:
    none = table_words(lang)["none"]
    for issue, lines in allocation_shares(parts, lang).items():
        if lines == [none]:
            continue
        tenths = 0
        for line in lines:
            (found,) = SHARE.findall(line)  # one share per party's line
            tenths += 10 * int(found[0]) + int(found[1])
            assert line in wide, line  # as printed
        assert tenths == 1000, (issue, lines)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tables_and_reasons_read_as_a_person_reads_them(lang: str) -> None:
    for case, settlement in bundled():
        parts = settlement_tables(settlement, case, lang=lang)
        text, wide = printed(parts, 100), printed(parts, 1000)
        lines = render(settlement, lang=lang, case=case)
        for shown in (text, wide, *lines):
            assert not E_NOTATION.search(shown), (settlement.rule, E_NOTATION.search(shown))
        assert_shares_add_up(parts, lang, wide)
        for shown in (wide, *lines):
            assert_no_ids(shown, case)
            if lang == "zh":
                assert_reads_as_chinese(shown, case)


def test_no_bullet_is_left_alone_on_its_line() -> None:
    for case, settlement in bundled():
        for lang in LANGUAGES:
            text = printed(settlement_tables(settlement, case, lang=lang), 100)
            for line in text.splitlines():
                assert line.strip() != "•", (case.id, lang)


# --- random small cases ------------------------------------------------------------------

UNITS = ("", "元", "元/年", "个", "名", "posts", "小时/周")
AMOUNTS = (0.001, 1.0, 3.0, 12.0, 468_000.0, 98_765_432.0, 1e9)


@st.composite
def small_cases(draw: st.DrawFn) -> Case:
    n_parties = draw(st.integers(2, 4))
    pids = [f"p{k}" for k in range(n_parties)]
    issues = []
    for k in range(draw(st.integers(1, 3))):
        make = resource if draw(st.booleans()) else risk
        issues.append(
            make(f"i{k}", draw(st.sampled_from(AMOUNTS)), unit=draw(st.sampled_from(UNITS)))
        )
    stakes = [
        interest(p, i["id"], draw(st.sampled_from((0.0, 1.0, 7.0, 33.3, 100.0))))
        for p in pids
        for i in issues
        if draw(st.booleans())
    ]
    try:
        return make_case(
            [party(p, translations={"zh": {"name": f"甲{p}方"}}) for p in pids], issues, stakes
        )
    except CaseError:
        reject()


@settings(max_examples=25)
@given(case=small_cases(), rule=st.sampled_from(LP_RULES))
def test_random_cases_read_without_e_notation_and_with_whole_issues(case: Case, rule: str) -> None:
    try:
        result = settle(case, rule=rule)
    except (CaseError, PolicyError):
        reject()
    for lang in LANGUAGES:
        parts = settlement_tables(result, case, lang=lang)
        text, wide = printed(parts, 100), printed(parts, 1000)
        for shown in (text, wide, *render(result, lang=lang, case=case)):
            assert not E_NOTATION.search(shown), shown
        assert_shares_add_up(parts, lang, wide)
