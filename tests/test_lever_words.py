"""The words of case format 1.1: payments, contributions, choices, whole units, bases, funds.

Each feature on a small case whose figures are worked out by hand in the comments: the typed
reason the engine gives, the sentence a mediator reads aloud in English and in Chinese, and
the rows of the tables. Utilities are raw points unless a case says otherwise.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import interest, party, resource, risk, settle_checked
from pydantic import TypeAdapter
from rich.console import RenderableType
from rich.table import Table

from mediation import render
from mediation.case import Case, parse_case
from mediation.reasons import (
    ContributionGiven,
    FloorBinding,
    FundShare,
    IssueFunded,
    IssueSplit,
    OptionChosen,
    PaymentDue,
    Reason,
    ReasonCode,
)
from mediation.rendering import settlement_tables
from mediation.rendering.numbers import format_amount
from mediation.rendering.phrases import table_words
from mediation.rendering.wording import FORMATTERS, Words
from mediation.settlement import Alternative, Settlement, settlement_json_schema
from mediation.validator.reasons import check_reasons

REASON: TypeAdapter[Reason] = TypeAdapter(Reason)
RAW = {"rule": "leximin", "scale": "raw"}


def make(**fields: Any) -> Case:
    """Return a validated case of format 1.1 from its parts (id and title ``t``)."""
    return parse_case({"id": "t", "title": "t", **fields})


def told(case: Case, settlement: Settlement, code: str) -> tuple[Any, str, str]:
    """Return the one reason with ``code`` and its English and Chinese sentences."""
    (reason,) = [r for r in settlement.reasons if r.code == code]
    say = FORMATTERS[ReasonCode(code)]
    en, zh = (say(reason, Words(lang, settlement, case)) for lang in ("en", "zh"))
    assert en is not None
    assert zh is not None
    lines = render(settlement, lang="en", case=case) + render(settlement, lang="zh", case=case)
    assert en in lines
    assert zh in lines
    return reason, en, zh


def rows(parts: list[RenderableType], title: str) -> list[list[str]]:
    """Return the cells of the table titled ``title``, row by row, as plain text."""
    for part in parts:
        table = getattr(part, "table", part)
        if isinstance(table, Table) and table.title == title:
            columns = [[str(cell) for cell in column.cells] for column in table.columns]
            return [list(row) for row in zip(*columns, strict=True)]
    raise AssertionError(f"no table titled {title!r}")


def titles(parts: list[RenderableType]) -> list[str]:
    found = []
    for part in parts:
        table = getattr(part, "table", part)
        if isinstance(table, Table):
            found.append(str(table.title))
    return found


def problems(case: Case, settlement: Settlement) -> list[str]:
    found: list[str] = []
    check_reasons(case, settlement, lambda where, message: found.append(message))
    return found


# --- payments ------------------------------------------------------------------------------


def payment_case(payment: dict[str, Any], *, both_value_g: bool = False, **fields: Any) -> Case:
    """Return a case where A values G at 10 (B too, with ``both_value_g``) and may pay B."""
    interests = [interest("a", "g", 10)]
    if both_value_g:
        interests.append(interest("b", "g", 10))
    stakeholders = fields.pop("stakeholders", [party("a"), party("b")])
    return make(
        stakeholders=stakeholders,
        issues=[resource("g")],
        interests=interests,
        payments=[{"id": "pay", "payer": "a", "payee": "b", "unit": "元", **payment}],
        policy=fields.pop("policy", RAW),
        **fields,
    )


def test_a_payment_at_its_most_is_held_by_that_bound_and_priced() -> None:
    # A keeps G (10 points) and pays p ≤ 2 to B, who has nothing else: leximin on raw gains
    # lifts B first, min(10 − p, p), so p = 2 (A 8, B 2). One 元 more of the limit would lift
    # the worst-off B by 1 point: the price is 1 point per 元.
    case = payment_case({"max": 2})
    result = settle_checked(case)
    reason, en, zh = told(case, result, "payment_due")
    assert isinstance(reason, PaymentDue)
    assert reason.model_dump() == {
        "code": "payment_due",
        "payment": "pay",
        "payer": "a",
        "payee": "b",
        "amount": 2.0,
        "unit": "元",
        "least": 0.0,
        "most": 2.0,
        "why": "max",
        "constraint": None,
        "parties": [],
        "dual": pytest.approx(1.0),
        "objective": "min_gain",
        "rank": 1,
        "basis": "negotiable",
        "source": None,
    }
    assert result.payments["pay"].amount == 2.0
    assert en == (
        "A pays B 2 元, the agreed maximum: each 1 元 that the limit holds back costs the "
        "worst-off party 1 point of gain."
    )
    assert zh == "A向B支付2元，已达约定上限；这一上限每收紧1元，处境最差的一方就要少得1点收益。"


def test_a_payment_in_between_balances_the_gains_of_the_two_parties() -> None:
    # with up to 10 元 allowed, 10 − p = p at p = 5: both reach 5 points
    case = payment_case({"max": 10})
    reason, en, zh = told(case, settle_checked(case), "payment_due")
    assert (reason.why, reason.amount, reason.parties) == ("balance", 5.0, ["a", "b"])
    assert reason.dual is None
    assert en == "A pays B 5 元: the amount that balances the gains of A and B under leximin."
    assert zh == "A向B支付5元：在字典序最大最小公平规则下，这一数额使A和B的收益达到平衡。"


def test_a_payment_of_nothing_is_said_in_one_short_sentence() -> None:
    # both value G at 10 and split it 50/50; a payment costs A 1 point per 元 and gives B
    # only 0.001: any payment lowers the level both reach, so none is made
    case = payment_case({"max": 5, "payee_rate": 0.001}, both_value_g=True)
    result = settle_checked(case)
    reason, en, zh = told(case, result, "payment_due")
    assert (reason.why, reason.amount, reason.most) == ("zero", 0.0, 5.0)
    assert result.payments["pay"].amount == 0.0
    assert en == "A pays B nothing (it could pay up to 5 元)."
    assert zh == "A无需向B付款（最多可付5元）。"


def test_a_legal_minimum_is_named_with_its_source_never_as_a_demand() -> None:
    # the law makes A pay at least 3 元; paying is waste (B gets 0.001 a 元), so exactly 3:
    # 10 s − 3 = 10 (1 − s) + 0.003 gives s = 0.65015 and a level of 3.5015. One 元 more
    # costs A 1 and gives B 0.001: the level falls by 0.999 / 2 = 0.4995
    payment = {"min": 3, "max": 10, "payee_rate": 0.001, "basis": "legal", "source": "某条例第5条"}
    case = payment_case(payment, both_value_g=True)
    reason, en, zh = told(case, settle_checked(case), "payment_due")
    assert (reason.why, reason.amount, reason.basis, reason.source) == (
        "min",
        3.0,
        "legal",
        "某条例第5条",
    )
    assert reason.dual == pytest.approx(0.4995)
    assert en == (
        "A pays B 3 元, the least the law requires (某条例第5条): each 1 元 of that minimum "
        "costs the worst-off party 0.5 points of gain."
    )
    assert zh == (
        "A向B支付3元，即法律要求的最低数额（某条例第5条）；这一下限每提高1元，"
        "处境最差的一方就要少得0.5点收益。"
    )
    assert "agreed" not in en
    assert "约定" not in zh


def test_a_payment_an_extra_constraint_sets_says_so() -> None:
    # a wasteful payment (as above) that a constraint holds at no less than 4 元
    constraint = {
        "name": "at-least-4",
        "terms": [{"payment": "pay", "coef": 1}],
        "sense": ">=",
        "rhs": 4,
        "basis": "policy",
        "source": "补偿办法第2条",
    }
    case = payment_case(
        {"max": 10, "payee_rate": 0.001}, both_value_g=True, constraints=[constraint]
    )
    result = settle_checked(case)
    reason, en, zh = told(case, result, "payment_due")
    assert (reason.why, reason.amount, reason.constraint) == ("constraint", 4.0, "at-least-4")
    assert en == "A pays B 4 元, as the constraint 'at-least-4' (at least 4) requires."
    assert zh == "A向B支付4元，以满足约束“at-least-4”（不低于4）。"
    bound, en, zh = told(case, result, "constraint_binding")
    assert (bound.basis, bound.source) == ("policy", "补偿办法第2条")
    assert en == "The policy constraint 'at-least-4' (at least 4) (补偿办法第2条) binds."
    assert zh == "政策约束“at-least-4”（不低于4）（补偿办法第2条）起了作用。"


def test_a_payment_that_leaves_the_payer_at_its_no_deal_outcome_says_so() -> None:
    # utilitarian on raw gains: each 元 costs A 1 and gives B 2, so A pays as much as its
    # no-deal outcome of 6 allows: 10 − p = 6, p = 4 (within the most, 10)
    case = payment_case(
        {"max": 10, "payee_rate": 2},
        stakeholders=[party("a", disagreement=6), party("b")],
        policy={"rule": "utilitarian", "scale": "raw"},
    )
    reason, en, zh = told(case, settle_checked(case), "payment_due")
    assert (reason.why, reason.amount, reason.parties) == ("disagreement", 4.0, ["a"])
    assert en == "A pays B 4 元, which leaves A exactly at its no-deal outcome."
    assert zh == "A向B支付4元，这一数额使A恰好得到其无协议时的结果。"


def test_a_payment_into_a_fund_is_money_set_aside() -> None:
    # A must pay at least 5 元 into the fund F, which has no utility: it pays exactly that
    # (B, with no stake, is an observer)
    case = payment_case(
        {"payee": "f", "min": 5, "max": 8},
        stakeholders=[party("a"), party("b"), party("f", kind="fund")],
    )
    result = settle_checked(case)
    reason, en, zh = told(case, result, "payment_due")
    assert (reason.payee, reason.why, reason.amount) == ("f", "min", 5.0)
    # each 元 of the minimum is a point A, the only party compared, does not keep
    assert en == (
        "A pays 5 元 into F, the agreed minimum: each 1 元 of that minimum costs the worst-off "
        "party 1 point of gain."
    )
    assert zh == "A向F缴存5元，即约定的最低数额；这一下限每提高1元，处境最差的一方就要少得1点收益。"
    assert "f" not in result.parties
    lines = render(result, lang="en", case=case)
    assert (
        lines.count("Fund (an account that holds money set aside; never compared as a party): F.")
        == 1
    )


# --- contributions and choices -------------------------------------------------------------


def scheme_case() -> Case:
    """Return a case where A chooses a scheme, paying its cost with C's subsidy; O watches.

    X costs 100 元 and is worth 300 to A, Y costs 50 and is worth 200; C's subsidy (rate 0,
    a policy's cap of 30) costs C nothing. A also values the hall at 1. Under X, A pays
    100 − 30 = 70: 301 − 70 = 231; under Y, 50 − 30 = 20: 201 − 20 = 181. X is chosen.
    """
    return make(
        stakeholders=[party("a"), party("c", kind="government"), party("o", kind="government")],
        issues=[resource("hall")],
        interests=[interest("a", "hall", 1)],
        choices=[
            {
                "id": "scheme",
                "name": "SCHEME",
                "unit": "元",
                "options": [
                    {"id": "x", "name": "X", "cost": 100, "values": {"a": 300}},
                    {"id": "y", "name": "Y", "cost": 50, "values": {"a": 200}},
                ],
            }
        ],
        contributions=[
            {"id": "own", "stakeholder": "a", "to": "scheme", "max": 100},
            {
                "id": "sub",
                "stakeholder": "c",
                "to": "scheme",
                "max": 30,
                "rate": 0,
                "basis": "policy",
                "source": "补助办法第八条",
            },
        ],
    )


def with_alternatives(result: Settlement, alternatives: dict[str, Alternative]) -> Settlement:
    made = result.choices["scheme"].model_copy(update={"alternatives": alternatives})
    return result.model_copy(update={"choices": {"scheme": made}})


def test_a_choice_says_which_option_and_what_each_alternative_would_give() -> None:
    case = scheme_case()
    result = with_alternatives(
        settle_checked(case),
        {
            "x": Alternative(status="optimal", utilities={"a": 231.0, "c": 0.0}),
            "y": Alternative(status="optimal", utilities={"a": 181.0, "c": 0.0}),
        },
    )
    reason, en, zh = told(case, result, "option_chosen")
    assert reason == OptionChosen(choice="scheme", option="x", cost=100.0, unit="元")
    # C gains nothing whichever is chosen (it is told once, as left aside): not listed
    assert en == (
        "SCHEME: “X” is chosen, at a cost of 100 元 that the contributions meet exactly. "
        "With “X”, the utilities are A 231 points; with “Y” (50 元) they would be A 181 points."
    )
    assert zh == (
        "SCHEME：选定“X”，费用100元由各方出资恰好凑齐。"
        "选“X”时，各方效用为A231点；若选“Y”（50元），则为A181点。"
    )


def test_a_choice_without_its_alternatives_says_only_which_was_chosen() -> None:
    case = scheme_case()
    bare = with_alternatives(settle_checked(case), {})
    _, en, zh = told(case, bare, "option_chosen")
    assert en == "SCHEME: “X” is chosen, at a cost of 100 元 that the contributions meet exactly."
    assert zh == "SCHEME：选定“X”，费用100元由各方出资恰好凑齐。"
    failed = with_alternatives(
        bare,
        {
            "x": Alternative(status="optimal", utilities={"a": 231.0, "c": 0.0}),
            "y": Alternative(status="infeasible", utilities={"a": None, "c": None}),
        },
    )
    _, en, zh = told(case, failed, "option_chosen")
    assert en.endswith(
        "With “X”, the utilities are A 231 points; with “Y” (50 元) no allocation would keep "
        "every red line and leave every party at least its no-deal outcome."
    )
    assert zh.endswith(
        "选“X”时，各方效用为A231点；若选“Y”（50元），则没有既满足所有红线、"
        "又不使任何一方低于其无协议结果的方案。"
    )


def test_a_subsidy_is_a_contribution_never_a_risk_or_a_loss() -> None:
    case = scheme_case()
    result = settle_checked(case)
    subsidy, own = sorted(
        (r for r in result.reasons if isinstance(r, ContributionGiven)),
        key=lambda r: not r.subsidy,
    )
    assert subsidy == ContributionGiven(
        contribution="sub",
        stakeholder="c",
        choice="scheme",
        amount=30.0,
        unit="元",
        least=0.0,
        most=30.0,
        why="max",
        subsidy=True,
        basis="policy",
        source="补助办法第八条",
    )
    assert (own.amount, own.why, own.subsidy) == (70.0, "cost", False)
    say = FORMATTERS[ReasonCode.CONTRIBUTION_GIVEN]
    en, zh = Words("en", result, case), Words("zh", result, case)
    assert [say(subsidy, en), say(own, en)] == [
        "C gives a subsidy of 30 元 towards SCHEME, the most that policy allows (补助办法第八条).",
        "A gives 70 元 towards SCHEME.",
    ]
    assert [say(subsidy, zh), say(own, zh)] == [
        "C为SCHEME提供补贴30元，已达政策允许的上限（补助办法第八条）。",
        "A为SCHEME出资70元。",
    ]
    for line in render(result, lang="en", case=case) + render(result, lang="zh", case=case):
        if "subsidy" in line or "补贴" in line:
            for word in ("risk", "loss", "exposure", "风险", "损失", "敞口"):
                assert word not in line, line
    assert result.parties["c"].exposure.worst_case == 0.0


def test_the_observer_and_the_party_left_aside_are_told_once() -> None:
    case = scheme_case()
    result = settle_checked(case)
    assert result.observers == ["o"]
    assert "o" not in result.parties
    en = render(result, lang="en", case=case)
    zh = render(result, lang="zh", case=case)
    assert "Observer (no stake in any issue): O." in en
    assert "旁观方（在各议题上均无利益）：O。" in zh
    # C gives a subsidy: it takes part in the deal, so it is not called an observer
    assert (
        "C cannot gain from any deal beyond its no-deal outcome, so the balance leaves it aside."
        in en
    )
    assert "C在任何协议下都不能超出其无协议时的结果，因此不参与收益的平衡。" in zh
    # O is named once, in its line, and in no other sentence
    named = re.compile(r"(?<![A-Z])O(?![A-Z])")
    assert [line for line in en if named.search(line)] == ["Observer (no stake in any issue): O."]
    assert [line for line in zh if named.search(line)] == ["旁观方（在各议题上均无利益）：O。"]


def test_the_tables_show_the_money_and_what_each_option_gives() -> None:
    case = scheme_case()
    result = with_alternatives(
        settle_checked(case),
        {
            "x": Alternative(status="optimal", utilities={"a": 231.0, "c": 0.0}),
            "y": Alternative(status="infeasible", utilities={"a": None, "c": None}),
        },
    )
    for lang, money, options in (
        (
            "en",
            [["A", "SCHEME", "70 元", "contribution"], ["C", "SCHEME", "30 元", "subsidy"]],
            [["X (chosen)", "100 元", "231"], ["Y (infeasible)", "50 元", "—"]],
        ),
        (
            "zh",
            [["A", "SCHEME", "70元", "出资"], ["C", "SCHEME", "30元", "补贴"]],
            [["X（选定）", "100元", "231"], ["Y（不可行）", "50元", "—"]],
        ),
    ):
        words = table_words(lang)
        parts = settlement_tables(result, case, lang=lang)
        assert rows(parts, words["money"]) == money
        # the party no option can lift (C) has no column: it gets 0 under each
        assert rows(parts, words["options"].format(choice="SCHEME")) == options
        parties = [row[0] for row in rows(parts, words["parties"])]
        assert parties == ["A", "C"]  # the observer O is no party
    bare = with_alternatives(result, {})
    parts = settlement_tables(bare, case, lang="en")
    assert rows(parts, "Choices") == [["SCHEME", "X", "100 元"]]


# --- a funded issue, a fund and a legal floor ----------------------------------------------


def pool_case() -> Case:
    """C's subsidy (up to 600 元, rate 0) funds a pool of at most 1,000 元.

    The fund F must receive at least 120 元 by law; A and B value the pool alike. More
    subsidy only helps A and B, so the pool is 600 元; F takes its 120 (20%) and A and B
    240 each (40%): 1,000 × 240 / 1,000 of a possible 480 each, half their possible gain.
    """
    return make(
        stakeholders=[
            party("a"),
            party("b"),
            party("c", kind="government"),
            party("f", kind="fund"),
        ],
        issues=[resource("pool", 1000, unit="元")],
        interests=[
            interest("a", "pool", 1000),
            interest("b", "pool", 1000),
            {
                "stakeholder": "f",
                "issue": "pool",
                "min_amount": 120,
                "basis": "legal",
                "source": "条例第46条",
            },
        ],
        contributions=[{"id": "sub", "stakeholder": "c", "to": "pool", "max": 600, "rate": 0}],
    )


def test_a_funded_issue_tells_its_size_and_a_fund_its_money_set_aside() -> None:
    case = pool_case()
    result = settle_checked(case)
    assert result.sizes == {"pool": 600.0}
    assert result.funds == ["f"]
    assert "f" not in result.parties
    funded, en, zh = told(case, result, "issue_funded")
    assert funded == IssueFunded(
        issue="pool", size=600.0, most=1000.0, unit="元", contributions={"sub": 600.0}
    )
    assert en == (
        "POOL holds 600 元, the sum of the contributions to it (it can hold up to 1,000 元)."
    )
    assert zh == "POOL的规模为600元，即各方出资之和（至多1000元）。"
    share, en, zh = told(case, result, "fund_share")
    assert isinstance(share, FundShare)
    assert (share.stakeholder, share.issue, share.amount, share.unit) == ("f", "pool", 120.0, "元")
    assert share.share == pytest.approx(0.2)
    assert en == "F receives 120 元 of POOL (20.0%): money set aside, not a party's gain."
    assert zh == "F存入POOL中的120元（20.0%）：这是留存的资金，不计为任何一方的收益。"
    split, en, zh = told(case, result, "issue_split")
    # of the pool's size, as the settlement's shares; the fund's share is told apart
    assert isinstance(split, IssueSplit)
    assert split.shares == {"a": pytest.approx(0.4), "b": pytest.approx(0.4)}
    assert en == (
        "POOL: besides what is set aside, shared as A 40.0% and B 40.0%; the balance between "
        "these parties runs through it."
    )
    assert zh == "POOL除留存资金外，由A40.0%和B40.0%分享：各方收益的平衡点落在这一项上。"


def test_a_legal_floor_in_money_is_stated_in_the_issue_unit_with_its_source() -> None:
    # one 元 more of F's floor takes 1/2 元 from each of A and B: 0.5 / 480 of their possible
    # gain, so 10 元 cost the worst-off 10 × 0.5 / 480 = 1.04 percentage points
    case = pool_case()
    floor, en, zh = told(case, settle_checked(case), "floor_binding")
    assert (floor.stakeholder, floor.bound, floor.amount) == ("f", pytest.approx(0.12), 120.0)
    assert (floor.basis, floor.source) == ("legal", "条例第46条")
    assert en == (
        "The legal floor of 120 元 of POOL for F (条例第46条) binds: each 10 元 of that floor "
        "costs the worst-off party 1.04 percentage points of its possible gain."
    )
    assert zh == (
        "法定底线起了作用：F在POOL中至少120元（条例第46条）；这条底线每多10元，"
        "处境最差的一方就要少得其可能收益的1.04个百分点。"
    )
    assert "F's" not in en
    assert "F的" not in zh


def test_the_allocation_table_marks_the_fund_and_shows_the_funded_size() -> None:
    case = pool_case()
    result = settle_checked(case)
    for lang, cells in (
        (
            "en",
            [
                "POOL",
                "600 元 (at most 1,000 元)",
                "A 40.0% (240 元)\nB 40.0% (240 元)\nF 20.0% (120 元, set aside)",
            ],
        ),
        (
            "zh",
            [
                "POOL",
                "600元（至多1000元）",
                "A 40.0%（240元）\nB 40.0%（240元）\nF 20.0%（120元，留存）",
            ],
        ),
    ):
        words = table_words(lang)
        parts = settlement_tables(result, case, lang=lang)
        assert rows(parts, words["allocation"]) == [cells]
        assert [row[0] for row in rows(parts, words["parties"])] == ["A", "B", "C"]
        assert words["money"] in titles(parts)


def test_an_amount_cap_and_a_legal_risk_capacity_read_in_money() -> None:
    # raw gains: A may receive at most 400 元 of the 1,000 (it values the whole at 1,000), B
    # the rest; A, the worse off, bears as little of R as B's cap of half allows: 50% of
    # 1,000 元, exactly its legal capacity of 500 元. Each 10 元 more of A's cap would give A
    # 10 points; the capacity costs nothing (B's cap, not it, keeps A's share up)
    case = make(
        stakeholders=[
            party("a", risk_capacity=500, capacity_basis="legal", capacity_source="风险条例第9条"),
            party("b"),
        ],
        issues=[resource("money", 1000, unit="元"), risk("r", 1000, unit="元")],
        interests=[
            interest("a", "money", 1000, max_amount=400),
            interest("b", "money", 1000),
            interest("a", "r", 1),
            interest("b", "r", 1, max_share=0.5),
        ],
        policy=RAW,
    )
    result = settle_checked(case)
    (cap,) = [r for r in result.reasons if r.code == "cap_binding" and r.stakeholder == "a"]
    assert cap.bound == pytest.approx(0.4)
    assert (cap.amount, cap.basis) == (400.0, "negotiable")
    en, zh = (
        FORMATTERS[ReasonCode.CAP_BINDING](cap, Words(lang, result, case)) for lang in ("en", "zh")
    )
    assert en == (
        "A's cap of 400 元 of MONEY binds: each 10 元 that the cap holds back costs the worst-off "
        "party 10 points of gain."
    )
    assert (
        zh
        == "A的上限起了作用：MONEY至多400元；这条上限每收紧10元，处境最差的一方就要少得10点收益。"
    )
    capacity, en, zh = told(case, result, "capacity_binding")
    assert (capacity.bound, capacity.basis, capacity.source) == (500.0, "legal", "风险条例第9条")
    assert en == (
        "The legal limit of 500 元 on the risk A bears (风险条例第9条) is used up; this costs the "
        "others nothing at the margin."
    )
    assert (
        zh
        == "法律对A承担风险的上限500元（风险条例第9条）已经用足；在边际上，这对其他各方没有代价。"
    )


# --- whole units ---------------------------------------------------------------------------


def posts_case() -> Case:
    """Five posts in whole units: A values them at 10, B at 20, B has a policy floor of 2.

    Leximin on raw gains: with k posts to A, min(2k, 4 (5 − k)) is largest at k = 3 (6
    against 8); divisible posts would give A 3.33. B's 2 posts are exactly its floor.
    """
    return make(
        stakeholders=[party("a"), party("b")],
        issues=[resource("posts", 5, unit="个", unit_size=1)],
        interests=[
            interest("a", "posts", 10),
            interest("b", "posts", 20, min_amount=2, basis="policy", source="合同第3条"),
        ],
        policy=RAW,
    )


def test_whole_units_are_told_as_whole_units() -> None:
    case = posts_case()
    result = settle_checked(case)
    assert result.amounts["posts"] == {"a": 3.0, "b": 2.0}
    _, en, zh = told(case, result, "issue_split")
    assert (
        en
        == "POSTS: shared as A 3 个 and B 2 个; the balance between these parties runs through it."
    )
    assert zh == "POSTS由A3个和B2个分享：各方收益的平衡点落在这一项上。"
    floor, en, zh = told(case, result, "floor_binding")
    assert floor == FloorBinding(
        stakeholder="b",
        issue="posts",
        bound=0.4,
        amount=2.0,
        basis="policy",
        source="合同第3条",
    )
    assert en == "The policy floor of 2 个 of POSTS for B (合同第3条) binds."
    assert zh == "政策底线起了作用：B在POSTS中至少2个（合同第3条）。"


def test_solver_noise_on_whole_units_never_shows() -> None:
    case = posts_case()
    result = settle_checked(case)
    noisy = result.model_copy(update={"amounts": {"posts": {"a": 2.9999999, "b": 2.0000001}}})
    words = Words("en", noisy, case)
    assert words.quantity(2.9999999, "posts") == "3 个"
    assert words.share_list("posts", noisy.shares["posts"]) == "A 3 个 and B 2 个"
    parts = settlement_tables(noisy, case, lang="zh")
    (row,) = rows(parts, table_words("zh")["allocation"])
    assert row == ["POSTS", "5个", "A 60.0%（3个）\nB 40.0%（2个）"]
    assert format_amount(3.9999999, "posts", unit_size=1) == "4 posts"
    assert format_amount(7.4999999, "小时", lang="zh", unit_size=0.5) == "7.5小时"
    assert format_amount(3.2, "个", unit_size=1) == "3.2 个"  # not a whole number of units


# --- 1.0 stays as it was, and the contract ------------------------------------------------


def test_a_negotiable_share_floor_reads_as_before() -> None:
    # a 1.0 floor: basis negotiable, no source, no amount: the sentence of settlement 1.2.
    # Equal values on raw gains: B's floor of 70% holds it there, A has the rest (0.3), and
    # each percentage point of the floor costs A, the worst-off, 0.01 points
    case = make(
        stakeholders=[party("a"), party("b")],
        issues=[resource("g")],
        interests=[interest("a", "g", 1), interest("b", "g", 1, min_share=0.7)],
        policy=RAW,
    )
    floor, en, zh = told(case, settle_checked(case), "floor_binding")
    assert (floor.basis, floor.source, floor.amount) == ("negotiable", None, None)
    assert en == (
        "B's floor of 70.0% of G binds: each percentage point of that floor costs the worst-off "
        "party 0.01 points of gain."
    )
    assert (
        zh
        == "B的底线起了作用：G至少70.0%；这条底线每多一个百分点，处境最差的一方就要少得0.01点收益。"
    )


def test_the_new_reasons_are_in_the_contract_and_round_trip() -> None:
    schema = str(settlement_json_schema())
    for code in ("payment_due", "contribution_given", "issue_funded", "option_chosen"):
        assert code in schema
    assert "fund_share" in schema
    for case in (scheme_case(), pool_case(), posts_case()):
        result = settle_checked(case)
        again = Settlement.model_validate_json(result.model_dump_json())
        assert again == result
        for reason in result.reasons:
            assert REASON.validate_python(reason.model_dump()) == reason
        assert problems(case, result) == []


def test_the_validator_refuses_a_lever_reason_that_does_not_match_the_settlement() -> None:
    case = scheme_case()
    result = settle_checked(case)
    (subsidy,) = [r for r in result.reasons if isinstance(r, ContributionGiven) and r.subsidy]
    (chosen,) = [r for r in result.reasons if isinstance(r, OptionChosen)]
    forged = [
        subsidy.model_copy(update={"amount": 25.0}),  # not the settlement's 30, nor its max
        subsidy.model_copy(update={"subsidy": False}),  # rate 0 is a subsidy
        chosen.model_copy(update={"option": "y"}),  # the settlement chose X
    ]
    for reason in forged:
        bad = result.model_copy(update={"reasons": [reason]})
        assert problems(case, bad), reason
    pool = pool_case()
    funded = settle_checked(pool)
    (share,) = [r for r in funded.reasons if isinstance(r, FundShare)]
    bad = funded.model_copy(update={"reasons": [share.model_copy(update={"stakeholder": "a"})]})
    assert any("'a' is not a fund" in p for p in problems(pool, bad))
    payer = payment_case({"max": 2})
    paid = settle_checked(payer)
    (due,) = [r for r in paid.reasons if isinstance(r, PaymentDue)]
    bad = paid.model_copy(update={"reasons": [due.model_copy(update={"payer": "b"})]})
    assert any("is paid by 'a' to 'b'" in p for p in problems(payer, bad))
