"""Bad input in case format 1.1: each load check names its field, what is wrong, what is allowed.

The checks are those of :mod:`mediation.case.format11` and the 1.1 models of
:mod:`mediation.case.model` (payments, contributions, choices and options, the term's forms,
amount bounds with their basis, funds and observers, whole units), the format version, ids
unique across sections, and the size limits of the new sections.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

import pytest

from mediation.case import limits, load_case, parse_case, yaml_reader
from mediation.case import parse as case_parse
from mediation.case.limits import (
    MAX_CHOICES,
    MAX_CONTRIBUTIONS,
    MAX_MAGNITUDE,
    MAX_PAYMENTS,
    MAX_UNITS,
    MIN_MAGNITUDE,
)
from mediation.case.model import Choice, Contribution, Interest, Issue, Option, Payment
from mediation.errors import CaseError

Doc = dict[str, Any]

#: A small valid case of format 1.1 that the tests break one way each: a lift retrofit with a
#: payment, a subsidy and a household's share of a choice's cost, whole units, an amount floor
#: with its legal basis, a fund, a funded issue and an observer.
BASE: Doc = {
    "format_version": "1.1",
    "id": "lift",
    "title": "加装电梯",
    "stakeholders": [
        {"id": "upper", "name": "高层住户", "kind": "resident_group"},
        {"id": "ground", "name": "低层住户", "kind": "resident_group"},
        {"id": "street", "name": "街道办", "kind": "government"},
        {"id": "repair", "name": "维修基金", "kind": "fund"},
        {"id": "bureau", "name": "区住建局", "kind": "government"},
    ],
    "issues": [
        {"id": "posts", "name": "保洁岗位", "kind": "resource", "amount": 3, "unit": "个",
         "unit_size": 1},
        {"id": "pool", "name": "改造资金池", "kind": "resource", "amount": 100000, "unit": "元"},
        {"id": "leak", "name": "漏水风险", "kind": "risk", "amount": 1000, "probability": 0.1},
    ],
    "interests": [
        {"stakeholder": "upper", "issue": "posts", "value": 30},
        {"stakeholder": "ground", "issue": "posts", "value": 30, "min_amount": 1,
         "basis": "legal", "source": "某条例第3条"},
        {"stakeholder": "repair", "issue": "posts"},
        {"stakeholder": "upper", "issue": "pool", "value": 50},
        {"stakeholder": "ground", "issue": "pool", "value": 80},
        {"stakeholder": "upper", "issue": "leak"},
    ],
    "constraints": [
        {"name": "comp-cap", "sense": "<=", "rhs": 50000,
         "terms": [{"payment": "comp", "coef": 1}]},
    ],
    "payments": [
        {"id": "comp", "payer": "upper", "payee": "ground", "max": 60000, "unit": "元",
         "payer_rate": 0.001, "payee_rate": 0.001},
    ],
    "contributions": [
        {"id": "sub", "stakeholder": "street", "to": "scheme", "max": 200000, "rate": 0},
        {"id": "up-pay", "stakeholder": "upper", "to": "scheme", "max": 800000, "rate": 0.001},
        {"id": "grant", "stakeholder": "street", "to": "pool", "max": 50000, "rate": 0},
    ],
    "choices": [
        {"id": "scheme", "name": "方案", "unit": "元", "options": [
            {"id": "a", "name": "方案A", "cost": 820000, "values": {"upper": 900, "ground": -100}},
            {"id": "b", "name": "方案B", "cost": 680000, "values": {"upper": 700, "ground": -20}},
        ]},
    ],
}  # fmt: skip


def _doc() -> Doc:
    return copy.deepcopy(BASE)


def _problems(data: object) -> list[tuple[str, str]]:
    """Return the (path, message) pairs of the CaseError that ``parse_case(data)`` must raise."""
    with pytest.raises(CaseError) as info:
        parse_case(data)
    return [(p.path, p.message) for p in info.value.problems]


def _codes(data: object) -> list[tuple[str, str]]:
    with pytest.raises(CaseError) as info:
        parse_case(data)
    return [(p.path, p.code) for p in info.value.problems]


def _node(doc: Doc, path: str) -> tuple[Any, str | int]:
    """Return the container of the field at the dotted ``path`` and the field's key."""
    *head, last = path.split(".")
    node: Any = doc
    for part in head:
        node = node[int(part)] if part.isdigit() else node[part]
    return node, int(last) if last.isdigit() else last


def put(path: str, value: object) -> Callable[[Doc], None]:
    """Return a change that sets the field at ``path`` (dotted, list positions as numbers)."""

    def change(doc: Doc) -> None:
        node, key = _node(doc, path)
        node[key] = value

    return change


def drop(path: str) -> Callable[[Doc], None]:
    """Return a change that removes the field at ``path``."""

    def change(doc: Doc) -> None:
        node, key = _node(doc, path)
        del node[key]

    return change


def both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for one in changes:
            one(doc)

    return change


def _term(term: Doc) -> Callable[[Doc], None]:
    return put("constraints.0.terms", [term])


def test_the_base_case_loads_with_its_funds_observers_and_levers() -> None:
    case = parse_case(_doc())
    assert case.funds == ["repair"]
    assert case.observers == ["bureau"]  # no interest, payment, contribution or option value
    assert case.compared == ["upper", "ground", "street"]  # street contributes: a party
    assert case.levered
    assert sorted(case.contributions_to) == ["pool", "scheme"]
    assert case.interest_by_pair["repair", "posts"].value == 0.0  # a fund's: no utility
    assert case.constraints[0].terms[0].column == ("payment", "comp")
    assert case.option_by_id["b"][1].cost == 680000.0


#: (id, the change, the problems: each its path and the words its message must hold)
REFUSED: list[tuple[str, Callable[[Doc], None], list[tuple[str, list[str]]]]] = [
    # --- payments ---
    ("payment-max-missing", drop("payments.0.max"),
     [("payments[0].max", ["required field is missing"])]),
    ("payment-max-zero", put("payments.0.max", 0), [("payments[0].max", ["greater than 0"])]),
    ("payment-min-above-max", put("payments.0.min", 70000),
     [("payments[0].min", ["70000 is above max 60000"])]),
    ("payment-negative-min", put("payments.0.min", -1), [("payments[0].min", ["at least 0"])]),
    ("payer-rate-zero", put("payments.0.payer_rate", 0),
     [("payments[0].payer_rate", ["greater than 0"])]),
    ("payee-rate-zero", put("payments.0.payee_rate", 0),
     [("payments[0].payee_rate", ["greater than 0"])]),
    ("payment-basis", put("payments.0.basis", "law"),
     [("payments[0].basis", ["must be one of 'negotiable', 'policy' or 'legal'"])]),
    ("payment-source-empty", put("payments.0.source", ""),
     [("payments[0].source", ["must not be empty"])]),
    ("payment-source-long", put("payments.0.source", "条" * 201),
     [("payments[0].source", ["at most 200 characters"])]),
    ("payment-id", both(put("payments.0.id", "a b"), drop("constraints")),
     [("payments[0].id", ["must be an identifier: letters, digits, '-' and '_' only"])]),
    ("payer-near-miss", put("payments.0.payer", "uper"),
     [("payments[0].payer", ["unknown stakeholder 'uper'", "did you mean 'upper'?"])]),
    ("payee-unknown", put("payments.0.payee", "nobody"),
     [("payments[0].payee", ["unknown stakeholder 'nobody'"])]),
    ("self-payment", put("payments.0.payee", "upper"),
     [("payments[0].payee", ["'upper' cannot pay itself"])]),
    ("fund-pays", put("payments.0.payer", "repair"),
     [("payments[0].payer", ["'repair' is a fund", "only as a share of an issue"])]),
    ("fund-payee-rate", put("payments.0.payee", "repair"),
     [("payments[0].payee_rate", ["'repair' is a fund", "no utility"])]),
    # --- contributions ---
    ("contribution-max-missing", drop("contributions.0.max"),
     [("contributions[0].max", ["required field is missing"])]),
    ("contribution-rate-negative", put("contributions.0.rate", -1),
     [("contributions[0].rate", ["must be at least 0"])]),
    ("contribution-min-above-max", put("contributions.0.min", 300000),
     [("contributions[0].min", ["300000 is above max 200000"])]),
    ("contributor-near-miss", put("contributions.0.stakeholder", "stret"),
     [("contributions[0].stakeholder", ["unknown stakeholder 'stret'", "'street'?"])]),
    ("fund-contributes", put("contributions.0.stakeholder", "repair"),
     [("contributions[0].stakeholder", ["'repair' is a fund: it cannot contribute"])]),
    ("contribution-target-near-miss", put("contributions.0.to", "shceme"),
     [("contributions[0].to", ["unknown resource issue or choice 'shceme'", "'scheme'?"])]),
    ("contribution-to-risk", put("contributions.0.to", "leak"),
     [("contributions[0].to", ["'leak' is a risk", "fund a resource issue or a choice"])]),
    # --- funded issues and choices ---
    ("funded-min-share", put("interests.3.min_share", 0.2),
     [("interests[3].min_share", ["'pool' is funded by contributions", "(min_amount)"])]),
    ("funded-unit-size", put("issues.1.unit_size", 1),
     [("issues[1].unit_size", ["'pool' is funded", "whole units need a fixed amount"])]),
    ("funded-indivisible", put("issues.1.divisible", False),
     [("issues[1].divisible", ["'pool' is funded", "drop divisible: false"])]),
    ("contributions-above-amount", both(put("contributions.2.min", 150000),
                                        put("contributions.2.max", 200000)),
     [("contributions[2].min", ["give at least 150000, more than it can hold (100000"])]),
    ("floors-above-contributions", put("interests.3.min_amount", 60000),
     [("contributions[2].max", ["floors on 'pool' (min_amount) add up to 60000",
                                "more than the contributions can give (50000)"])]),
    ("choice-unfunded", put("contributions.1.max", 300000),
     [("contributions[0]", ["give between 0 and 500000", "costs: 820000, 680000",
                            "must be met exactly"])]),
    # --- choices and options ---
    ("one-option", put("choices.0.options", [{"id": "a", "name": "A"}]),
     [("choices[0].options", ["at least 2 item(s)"])]),
    ("fifty-one-options", put("choices.0.options", [{"id": f"o{k}", "name": "O"}
                                                    for k in range(51)]),
     [("choices[0].options", ["must have at most 50 items, got 51"])]),
    ("choice-name-missing", drop("choices.0.name"),
     [("choices[0].name", ["required field is missing"])]),
    ("option-cost-negative", put("choices.0.options.0.cost", -1),
     [("choices[0].options[0].cost", ["must be at least 0"])]),
    ("option-value-near-miss", put("choices.0.options.0.values", {"uper": 1}),
     [("choices[0].options[0].values.uper", ["unknown stakeholder 'uper'", "'upper'?"])]),
    ("option-value-of-fund", put("choices.0.options.0.values", {"repair": 1}),
     [("choices[0].options[0].values.repair", ["a fund ('repair') has no utility"])]),
    ("option-value-text", put("choices.0.options.0.values", {"upper": "多"}),
     [("choices[0].options[0].values.upper", ["must be a number, got a string ('多')"])]),
    ("option-value-key", put("choices.0.options.0.values", {"a b": 1}),
     [("choices[0].options[0].values", ["'a b' is not a stakeholder id"])]),
    # --- the term's forms ---
    ("term-share-and-payment", _term({"stakeholder": "upper", "issue": "posts",
                                      "payment": "comp", "coef": 1}),
     [("constraints[0].terms[0]", ["a term names one column", "or payment, or contribution"])]),
    ("term-payment-and-option", _term({"payment": "comp", "option": "a", "coef": 1}),
     [("constraints[0].terms[0]", ["a term names one column"])]),
    ("term-issue-missing", _term({"stakeholder": "upper", "coef": 1}),
     [("constraints[0].terms[0]", ["needs both stakeholder and issue (issue is missing)"])]),
    ("term-stakeholder-missing", _term({"issue": "posts", "coef": 1}),
     [("constraints[0].terms[0]", ["(stakeholder is missing)"])]),
    ("term-no-column", _term({"coef": 1}),
     [("constraints[0].terms[0]", ["a term needs stakeholder and issue (a share), or payment"])]),
    ("term-payment-near-miss", _term({"payment": "compp", "coef": 1}),
     [("constraints[0].terms[0].payment", ["unknown payment 'compp'", "'comp'?"])]),
    ("term-contribution-near-miss", _term({"contribution": "subb", "coef": 1}),
     [("constraints[0].terms[0].contribution", ["unknown contribution 'subb'", "'sub'?"])]),
    ("term-option-unknown", _term({"option": "c", "coef": 1}),
     [("constraints[0].terms[0].option", ["unknown option 'c'"])]),
    ("term-option-is-a-choice", _term({"option": "scheme", "coef": 1}),
     [("constraints[0].terms[0].option", ["'scheme' is a choice, not an option",
                                          "one of its options (a, b)"])]),
    ("term-repeated", put("constraints.0.terms", [{"payment": "comp", "coef": 1},
                                                  {"payment": "comp", "coef": 2}]),
     [("constraints[0].terms[1]", ["repeats the term of payment 'comp' (terms[0])"])]),
    ("constraint-basis", put("constraints.0.basis", "red"),
     [("constraints[0].basis", ["must be one of 'negotiable', 'policy' or 'legal'"])]),
    # --- amount bounds and their basis ---
    ("min-amount-above-max-amount", both(put("interests.1.min_amount", 2),
                                         put("interests.1.max_amount", 1)),
     [("interests[1].min_amount", ["2 is above max_amount 1", "a floor cannot exceed its cap"])]),
    ("min-amount-above-the-issue", put("interests.1.min_amount", 4),
     [("issues[0]", ["floors (min_share, min_amount ÷ amount) on 'posts' sum to 1.33333 > 1",
                     "ground 1.33333 = 4 个"])]),
    ("min-amount-above-max-share", both(put("interests.1.min_amount", 2),
                                        put("interests.1.max_share", 0.5)),
     [("interests[1].min_amount", ["2 is above max_share × amount (1.5)"])]),
    ("max-amount-below-min-share", both(put("interests.0.max_amount", 1),
                                        put("interests.0.min_share", 0.5)),
     [("interests[0].max_amount", ["1 is below min_share × amount (1.5)"])]),
    ("min-amount-negative", put("interests.1.min_amount", -1),
     [("interests[1].min_amount", ["must be at least 0"])]),
    ("interest-basis", put("interests.1.basis", "red"),
     [("interests[1].basis", ["must be one of 'negotiable', 'policy' or 'legal'"])]),
    ("basis-without-bounds", put("interests.0.basis", "policy"),
     [("interests[0].basis", ["basis (policy) of bounds the interest does not state"])]),
    ("source-without-bounds", put("interests.0.source", "某文件"),
     [("interests[0].source", ["names the source of bounds the interest does not state"])]),
    ("interest-source-long", put("interests.1.source", "条" * 201),
     [("interests[1].source", ["at most 200 characters"])]),
    # --- whole units (unit_size) ---
    ("unit-size-zero", put("issues.0.unit_size", 0),
     [("issues[0].unit_size", ["must be greater than 0"])]),
    ("unit-size-not-whole", put("issues.0.unit_size", 2),
     [("issues[0].unit_size", ["the amount 3 is not a whole number of units of 2"])]),
    ("unit-size-above-the-amount", put("issues.0.unit_size", 5),
     [("issues[0].unit_size", ["the amount 3 is not a whole number of units of 5"])]),
    ("unit-size-indivisible", put("issues.0.divisible", False),
     [("issues[0].unit_size", ["an indivisible issue already goes whole to one party"])]),
    ("too-many-units", both(put("issues.0.amount", MAX_UNITS + 1)),
     [("issues[0].unit_size", [f"{MAX_UNITS + 1} units, above the limit of {MAX_UNITS}"])]),
    # 1.5 rounds up to 2 units, 1.8 down to 1: no whole number of posts lies between
    ("whole-units-between-floor-and-cap", both(put("interests.1.min_amount", 1.5),
                                               put("interests.1.max_amount", 1.8)),
     [("interests[1].min_amount", ["at least 1.5 个 and at most 1.8 个", "whole units of 1 个",
                                   "rounds up to 2, the cap down to 1"])]),
    # 1.5 + 1.5 is 3, the amount; rounded up, 2 + 2 = 4 posts of 3
    ("whole-unit-floors-above-the-amount", both(put("interests.0.min_amount", 1.5),
                                                put("interests.1.min_amount", 1.5)),
     [("issues[0]", ["rounded up to whole units of 1 个, need 4 个 (upper 2, ground 2)",
                     "more than its amount 3 个", "give way by 1 个"])]),
    # --- funds, observers, parties ---
    ("fund-weight", put("stakeholders.3.weight", 2),
     [("stakeholders[3].weight", ["a fund ('repair') is an account", "no weight"])]),
    ("fund-disagreement", put("stakeholders.3.disagreement", -5),
     [("stakeholders[3].disagreement", ["no disagreement"])]),
    ("fund-risk-capacity", put("stakeholders.3.risk_capacity", 0),
     [("stakeholders[3].risk_capacity", ["no risk_capacity"])]),
    ("fund-value", put("interests.2.value", 5),
     [("interests[2].value", ["a fund ('repair') has no utility: leave value out"])]),
    ("fund-claim", put("interests.2.claim", 1),
     [("interests[2].claim", ["a fund has no claim or control"])]),
    ("fund-on-a-risk", put("interests.5.stakeholder", "repair"),
     [("interests[5].issue", ["a fund ('repair') holds money, it cannot bear the risk 'leak'"])]),
    ("kind", put("stakeholders.3.kind", "account"),
     [("stakeholders[3].kind", ["must be one of 'government'", "'other' or 'fund'"]),
      ("interests[2].value", ["required on a resource"])]),  # not a fund, so it needs a value
    ("capacity-basis", put("stakeholders.0.capacity_basis", "law"),
     [("stakeholders[0].capacity_basis", ["must be one of 'negotiable', 'policy' or 'legal'"])]),
    ("capacity-basis-without-capacity", put("stakeholders.0.capacity_basis", "legal"),
     [("stakeholders[0].capacity_basis", ["basis (legal) of a risk_capacity the party does not"])]),
    ("fund-capacity-basis", put("stakeholders.3.capacity_basis", "policy"),
     [("stakeholders[3].capacity_basis", ["a risk_capacity the fund does not state"])]),
    ("capacity-source-without-capacity", put("stakeholders.0.capacity_source", "某文件"),
     [("stakeholders[0].capacity_source", ["source of a risk_capacity the party does not state"])]),
    # --- the format's version ---
    ("version-unknown", put("format_version", "1.2"),
     [("format_version", ["must be one of '1.0' or '1.1'"])]),
    ("version-as-a-number", put("format_version", 1.1),
     [("format_version", ["must be one of '1.0' or '1.1'", 'write "1.1" in quotes',
                          "1.1 is a number"])]),
    # --- ids unique across sections ---
    ("payment-id-of-a-party", both(put("payments.0.id", "upper"),
                                   put("constraints.0.terms.0.payment", "upper")),
     [("payments[0].id", ["duplicate id 'upper' (also stakeholders[0])",
                          "unique across stakeholders, issues, payments, contributions"])]),
    ("payment-id-of-an-issue", both(put("payments.0.id", "posts"),
                                    put("constraints.0.terms.0.payment", "posts")),
     [("payments[0].id", ["duplicate id 'posts' (also issues[0])"])]),
    ("contribution-id-of-a-payment", put("contributions.0.id", "comp"),
     [("contributions[0].id", ["duplicate id 'comp' (also payments[0])"])]),
    ("contribution-ids", put("contributions.1.id", "sub"),
     [("contributions[1].id", ["duplicate id 'sub' (also contributions[0])"])]),
    ("choice-id-of-a-payment", both(put("payments.0.id", "scheme"),
                                    put("constraints.0.terms.0.payment", "scheme")),
     [("choices[0].id", ["duplicate id 'scheme' (also payments[0])"])]),
    ("option-id-of-an-option", put("choices.0.options.1.id", "a"),
     [("choices[0].options[1].id", ["duplicate id 'a' (also choices[0].options[0])"])]),
    ("option-id-of-its-choice", put("choices.0.options.1.id", "scheme"),
     [("choices[0].options[1].id", ["duplicate id 'scheme' (also choices[0])"])]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "expected"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_each_load_check_names_the_field_and_says_why(
    change: Callable[[Doc], None], expected: list[tuple[str, list[str]]]
) -> None:
    doc = _doc()
    change(doc)
    problems = _problems(doc)
    assert [path for path, _ in problems] == [path for path, _ in expected], problems
    for (_, message), (_, words) in zip(problems, expected, strict=True):
        for word in words:
            assert word in message, message


def test_no_stakeholder_with_a_stake_is_refused() -> None:
    doc = _doc()
    doc["stakeholders"] = [
        {"id": "office", "name": "街道办", "kind": "government"},
        {"id": "repair", "name": "维修基金", "kind": "fund"},
    ]
    doc["issues"] = [doc["issues"][0]]
    doc["interests"] = [{"stakeholder": "repair", "issue": "posts"}]
    for section in ("constraints", "payments", "contributions", "choices"):
        del doc[section]
    assert _codes(doc) == [("stakeholders", "no_party")]
    ((_, message),) = _problems(doc)
    assert "every stakeholder is a fund or an observer" in message


def test_a_funds_interest_is_not_reported_without_a_value_beside_other_problems() -> None:
    # the fund's interest states no value; when another part of the case fails validation,
    # the checks of the parts that did validate must still know it is a fund's
    doc = _doc()
    doc["payments"][0]["max"] = 0
    assert _problems(doc) == [("payments[0].max", "must be greater than 0")]


def test_unknown_ids_of_valid_parts_are_reported_beside_invalid_parts() -> None:
    # one payment does not validate; the ids the other parts name are still checked, and
    # with "did you mean" as when the whole case validates
    doc = _doc()
    doc["payments"].append({"id": "extra", "payer": "upper", "payee": "ground", "max": -1})
    doc["contributions"][1]["to"] = "shceme"
    doc["choices"][0]["options"][1]["values"] = {"uper": 1}
    doc["constraints"][0]["terms"] = [
        {"option": "bb", "coef": 1},
        {"contribution": "su", "coef": 1},
    ]
    assert _codes(doc) == [
        ("constraints[0].terms[0].option", "unknown_option"),
        ("constraints[0].terms[1].contribution", "unknown_contribution"),
        ("payments[1].max", "greater_than"),
        ("contributions[1].to", "unknown_target"),
        ("choices[0].options[1].values.uper", "unknown_stakeholder"),
    ]
    messages = dict(_problems(doc))
    assert messages["contributions[1].to"].endswith("did you mean 'scheme'?")
    assert messages["choices[0].options[1].values.uper"].endswith("did you mean 'upper'?")


def test_whole_units_round_inward_within_a_relative_tolerance() -> None:
    doc = _doc()
    doc["issues"][0].update(amount=0.3, unit_size=0.1)  # 0.3 / 0.1 = 2.9999999999999996
    doc["interests"][1]["min_amount"] = 0.1
    assert parse_case(doc).issues[0].unit_size == 0.1
    doc["interests"][1].update(min_amount=0.15, max_amount=0.2)  # 2 units fit: 0.2
    parse_case(doc)
    doc["interests"][1].update(min_amount=0.15, max_amount=0.19)  # neither 1 nor 2 units
    assert _codes(doc) == [("interests[1].min_amount", "floor_above_cap")]


def test_whole_units_up_to_the_limit_are_accepted() -> None:
    doc = _doc()
    doc["issues"][0]["amount"] = MAX_UNITS  # a million posts of 1
    assert parse_case(doc).issues[0].amount == MAX_UNITS
    doc["issues"][0].update(amount=1.0, unit_size=1 / MAX_UNITS)
    doc["interests"][1]["min_amount"] = 0.5
    parse_case(doc)


def test_a_payee_fund_receives_money_without_a_rate() -> None:
    doc = _doc()
    doc["payments"][0]["payee"] = "repair"
    del doc["payments"][0]["payee_rate"]
    case = parse_case(doc)
    assert case.payments[0].payee == "repair"
    assert case.funds == ["repair"]


def test_a_subsidy_from_an_earmarked_budget_may_cost_its_giver_nothing() -> None:
    case = parse_case(_doc())
    assert [c.rate for c in case.contributions] == [0.0, 0.001, 0.0]


# --- format_version: "1.0" refuses what 1.1 added -------------------------------------------

NEEDS = "needs format_version 1.1 (the case states 1.0)"


def _v10() -> Doc:
    """Return a case that uses nothing of format 1.1 and says it is of format 1.0."""
    return {
        "format_version": "1.0",
        "id": "hall",
        "title": "活动大厅",
        "stakeholders": [
            {"id": "a", "name": "甲", "kind": "government"},
            {"id": "b", "name": "乙", "kind": "resident_group"},
        ],
        "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
        "interests": [
            {"stakeholder": "a", "issue": "hall", "value": 1, "max_share": 0.8},
            {"stakeholder": "b", "issue": "hall", "value": 2},
        ],
        "constraints": [
            {"name": "c", "sense": "<=", "rhs": 0.7,
             "terms": [{"stakeholder": "a", "issue": "hall", "coef": 1}]},
        ],
    }  # fmt: skip


VERSIONED: list[tuple[str, Callable[[Doc], None], str, str]] = [
    ("capacity_basis", both(put("stakeholders.0.risk_capacity", 5),
                            put("stakeholders.0.capacity_basis", "legal")),
     "stakeholders[0].capacity_basis", NEEDS),
    ("capacity_source", both(put("stakeholders.0.risk_capacity", 5),
                             put("stakeholders.0.capacity_source", "x")),
     "stakeholders[0].capacity_source", NEEDS),
    ("fund", put("stakeholders.1.kind", "fund"), "stakeholders[1].kind",
     "fund needs format_version 1.1"),
    ("unit_size", put("issues.0.unit_size", 1), "issues[0].unit_size", NEEDS),
    ("min_amount", put("interests.0.min_amount", 4), "interests[0].min_amount", NEEDS),
    ("max_amount", put("interests.0.max_amount", 30), "interests[0].max_amount", NEEDS),
    ("interest-basis", put("interests.0.basis", "policy"), "interests[0].basis", NEEDS),
    ("interest-source", put("interests.0.source", "x"), "interests[0].source", NEEDS),
    ("constraint-basis", put("constraints.0.basis", "legal"), "constraints[0].basis", NEEDS),
    ("constraint-source", put("constraints.0.source", "x"), "constraints[0].source", NEEDS),
    ("payments", put("payments", [{"id": "p", "payer": "a", "payee": "b", "max": 5}]),
     "payments", NEEDS),
    ("contributions", put("contributions", [{"id": "c", "stakeholder": "a", "to": "hall",
                                             "max": 5}]),
     "contributions", NEEDS),
    ("choices", put("choices", [{"id": "ch", "name": "选", "options": [
        {"id": "x", "name": "X", "values": {"a": 1}}, {"id": "y", "name": "Y"}]}]),
     "choices", NEEDS),
    ("option-term", both(put("choices", [{"id": "ch", "name": "选", "options": [
        {"id": "x", "name": "X"}, {"id": "y", "name": "Y"}]}]),
                         put("constraints.0.terms", [{"option": "x", "coef": 1}])),
     "constraints[0].terms[0]", "a term on a payment, contribution or option needs"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "path", "words"), [v[1:] for v in VERSIONED], ids=[v[0] for v in VERSIONED]
)
def test_a_case_of_format_1_0_refuses_each_key_of_1_1_at_that_key(
    change: Callable[[Doc], None], path: str, words: str
) -> None:
    doc = _v10()
    parse_case(doc)  # valid as it is
    change(doc)
    problems = _problems(doc)
    assert any(p == path and words in m for p, m in problems), problems
    doc["format_version"] = "1.1"
    assert path not in [p for p, _ in _problems_or_none(doc)]


def _problems_or_none(doc: Doc) -> list[tuple[str, str]]:
    try:
        parse_case(doc)
    except CaseError as exc:
        return [(p.path, p.message) for p in exc.problems]
    return []


def test_a_case_of_format_1_0_is_the_case_without_a_version() -> None:
    doc = _v10()
    stated = parse_case(doc)
    del doc["format_version"]
    unstated = parse_case(doc)
    assert stated.format_version == "1.0"
    assert unstated.format_version is None
    assert stated.model_dump(exclude={"format_version"}) == unstated.model_dump(
        exclude={"format_version"}
    )


# --- unknown keys list the keys allowed -----------------------------------------------------

UNKNOWN_KEYS: list[tuple[str, str, list[str]]] = [
    ("payments.0", "payments[0]", list(Payment.model_fields)),
    ("contributions.0", "contributions[0]", list(Contribution.model_fields)),
    ("choices.0", "choices[0]", list(Choice.model_fields)),
    ("choices.0.options.0", "choices[0].options[0]", list(Option.model_fields)),
    ("constraints.0.terms.0", "constraints[0].terms[0]",
     ["stakeholder", "issue", "payment", "contribution", "option", "coef"]),
    ("interests.1", "interests[1]", list(Interest.model_fields)),
    ("issues.0", "issues[0]", list(Issue.model_fields)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "path", "allowed"), UNKNOWN_KEYS, ids=[u[1] for u in UNKNOWN_KEYS]
)
def test_an_unknown_key_lists_the_keys_allowed_there(
    where: str, path: str, allowed: list[str]
) -> None:
    doc = _doc()
    node, key = _node(doc, where)
    node[key]["amount_paid"] = 5
    ((got_path, message),) = _problems(doc)
    assert got_path == path
    # a term has no extensions of its own: own data goes under the case's
    where = "'extensions'" if "extensions" in allowed else "the case's 'extensions'"
    assert message == (
        f"unknown key 'amount_paid' (allowed: {', '.join(allowed)}; put your own data under "
        f"{where})"
    )


def test_an_unknown_key_in_an_options_translation_lists_a_translations_keys() -> None:
    doc = _doc()
    doc["choices"][0]["options"][0]["translations"] = {"en": {"name": "Scheme A", "title": "A"}}
    assert _problems(doc) == [
        (
            "choices[0].options[0].translations.en",
            "unknown key 'title' (allowed: name, description; put your own data under the "
            "case's 'extensions')",
        )
    ]


def test_a_top_level_unknown_key_lists_the_sections_of_1_1() -> None:
    doc = _doc()
    doc["transfers"] = []
    ((path, message),) = _problems(doc)
    assert path == ""
    for key in ("format_version", "payments", "contributions", "choices"):
        assert key in message


# --- magnitudes: 0 or 1e-9 to 1e12 ----------------------------------------------------------

TINY = math.nextafter(MIN_MAGNITUDE, 0)
BEYOND = math.nextafter(MAX_MAGNITUDE, math.inf)

#: (model, a valid record, field, values it takes, values it refuses)
MAGNITUDES: list[tuple[Any, Doc, str, list[float], list[float]]] = [
    (Payment, {"id": "p", "payer": "a", "payee": "b", "max": 1}, "max",
     [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, 0.0]),
    (Payment, {"id": "p", "payer": "a", "payee": "b", "max": 1}, "min",
     [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY]),
    (Payment, {"id": "p", "payer": "a", "payee": "b", "max": 1}, "payer_rate",
     [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY]),
    (Payment, {"id": "p", "payer": "a", "payee": "b", "max": 1}, "payee_rate",
     [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
    (Contribution, {"id": "c", "stakeholder": "a", "to": "x", "max": 1}, "max",
     [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
    (Contribution, {"id": "c", "stakeholder": "a", "to": "x", "max": 1}, "rate",
     [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY]),
    (Option, {"id": "o", "name": "O"}, "cost",
     [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
    (Issue, {"id": "i", "name": "I", "kind": "resource", "amount": 1}, "unit_size",
     [MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
    (Interest, {"stakeholder": "a", "issue": "i", "value": 1}, "min_amount",
     [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
    (Interest, {"stakeholder": "a", "issue": "i", "value": 1}, "max_amount",
     [0.0, MIN_MAGNITUDE, MAX_MAGNITUDE], [TINY, BEYOND]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "record", "field", "edges", "beyond"),
    MAGNITUDES,
    ids=[f"{m[0].__name__}.{m[2]}" for m in MAGNITUDES],
)
def test_new_magnitudes_load_at_the_edge_of_their_range_and_not_beyond(
    model: Any, record: Doc, field: str, edges: list[float], beyond: list[float]
) -> None:
    for value in edges:
        assert getattr(model.model_validate({**record, field: value}), field) == value
    for value in beyond:
        with pytest.raises(ValueError, match=re.escape(field)):
            model.model_validate({**record, field: value})


#: Where each new magnitude lives in BASE, and the message its values beyond the range get.
IN_THE_CASE: list[tuple[str, float, str]] = [
    ("payments.0.max", BEYOND, "must be at most 1e12"),
    ("payments.0.max", TINY, "must be at least 1e-9, got"),
    ("payments.0.min", TINY, "must be 0 or at least 1e-9 in absolute value"),
    ("payments.0.payer_rate", BEYOND, "must be at most 1e12"),
    ("contributions.0.rate", TINY, "must be 0 or at least 1e-9 in absolute value"),
    ("contributions.0.max", BEYOND, "must be at most 1e12"),
    ("choices.0.options.0.cost", BEYOND, "must be at most 1e12"),
    ("choices.0.options.0.values.upper", -BEYOND, "must be at least -1e12"),
    ("choices.0.options.0.values.upper", -TINY, "must be 0 or at least 1e-9 in absolute value"),
    ("issues.0.unit_size", TINY, "must be at least 1e-9, got"),
    ("interests.1.min_amount", TINY, "must be 0 or at least 1e-9 in absolute value"),
    ("interests.1.max_amount", BEYOND, "must be at most 1e12"),
]


@pytest.mark.parametrize(("where", "value", "words"), IN_THE_CASE, ids=[i[0] for i in IN_THE_CASE])
def test_a_magnitude_out_of_range_in_a_case_names_its_path(
    where: str, value: float, words: str
) -> None:
    doc = _doc()
    put(where, value)(doc)
    ((path, message),) = _problems(doc)
    assert path == re.sub(r"\.(\d+)", r"[\1]", where)
    assert words in message, message


def test_option_values_may_be_negative_and_join_the_partys_value_span() -> None:
    # ground's smallest coefficient is its value of option b, -20 (its others: 30 and 80 for
    # the posts and the pool, 0.001 × 60000 = 60 for the payment): option a may harm it by
    # 20 × 1e10 = 2e11 and no more
    doc = _doc()
    doc["choices"][0]["options"][0]["values"]["ground"] = -2e11
    assert parse_case(doc).choices[0].options[0].values["ground"] == -2e11
    doc["choices"][0]["options"][0]["values"]["ground"] = -2.0000001e11
    ((path, message),) = _problems(doc)
    assert path == "choices[0].options[1].values.ground"
    for words in (
        "'ground' weighs choices[0].options[1].values.ground at 20",
        "choices[0].options[0].values.ground at 2e+11",
        "a factor of at most 1e10",
    ):
        assert words in message, message


# --- sizes of the new sections --------------------------------------------------------------

SECTIONS = [
    ("payments", MAX_PAYMENTS, {"id": "p{k}", "payer": "upper", "payee": "ground", "max": 1}),
    ("contributions", MAX_CONTRIBUTIONS,
     {"id": "c{k}", "stakeholder": "street", "to": "pool", "max": 1, "rate": 0}),
    ("choices", MAX_CHOICES, {"id": "ch{k}", "name": "选", "options": [
        {"id": "ch{k}-x", "name": "X", "values": {"upper": 1}}, {"id": "ch{k}-y", "name": "Y"}]}),
]  # fmt: skip


def _items(template: Doc, count: int) -> list[Doc]:
    import json

    text = json.dumps(template)
    return [json.loads(text.replace("{k}", str(k))) for k in range(count)]


@pytest.mark.parametrize(("section", "limit", "template"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_a_new_section_over_its_limit_is_refused_before_validation(
    section: str, limit: int, template: Doc
) -> None:
    assert limits.SECTION_LIMITS[section] == limit
    doc = _doc()
    doc[section] = _items(template, limit + 1)
    doc["title"] = 5  # not a string: never looked at, the size is checked first
    assert _problems(doc) == [(section, f"{limit + 1} items, above the limit of {limit}")]


@pytest.mark.parametrize(("section", "limit", "template"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_a_new_section_at_its_limit_is_accepted(section: str, limit: int, template: Doc) -> None:
    doc = _doc()
    doc["contributions"] = [c for c in doc["contributions"] if c["to"] != "scheme"]
    for other in ("choices", "constraints"):
        del doc[other]
    doc[section] = _items(template, limit)
    case = parse_case(doc)
    assert len(getattr(case, section)) == limit


YAML_CASE = """\
format_version: "1.1"
id: lift
title: 加装电梯
stakeholders:
  - {id: upper, name: 高层住户, kind: resident_group}
  - {id: ground, name: 低层住户, kind: resident_group}
issues:
  - {id: posts, name: 保洁岗位, kind: resource, amount: 3, unit_size: 1}
interests:
  - {stakeholder: upper, issue: posts, value: 30}
  - {stakeholder: ground, issue: posts, value: 30}
"""

ITEMS = {
    "payments": "{{id: p{k}, payer: upper, payee: ground, max: 1}}",
    "contributions": "{{id: c{k}, stakeholder: upper, to: posts, max: 1}}",
    "choices": "{{id: ch{k}, name: 选, options: [{{id: x{k}, name: X}}, {{id: y{k}, name: Y}}]}}",
}


def _doc_problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(CaseError) as info:
        load_case(text)
    return [(p.path, p.message) for p in info.value.problems]


@pytest.mark.parametrize("section", list(ITEMS))
def test_yaml_stops_reading_at_the_first_item_over_a_new_sections_limit(
    section: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yaml_reader, "SECTION_LIMITS", {**limits.SECTION_LIMITS, section: 3})
    items = "".join(f"  - {ITEMS[section].format(k=k)}\n" for k in range(4))
    text = YAML_CASE + f"{section}:\n" + items + "  - [this is never read\n"
    line = YAML_CASE.count("\n") + 1 + 4  # the fourth item's line
    assert _doc_problems(text) == [
        (section, f"more than 3 items, above the limit of 3 (at line {line}, column 5)")
    ]


@pytest.mark.parametrize(("section", "limit", "template"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_yaml_with_one_item_too_many_is_refused_at_the_real_limit(
    section: str, limit: int, template: Doc
) -> None:
    first = ITEMS[section].format(k=0)
    text = YAML_CASE + f"{section}:\n  - &x {first}\n" + "  - *x\n" * limit
    ((path, message),) = _doc_problems(text)
    assert path == section
    assert message.startswith(f"more than {limit} items, above the limit of {limit} (at line")


def test_the_parsed_sizes_of_the_new_sections_are_checked_before_the_document_is_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(case_parse, "SECTION_LIMITS", {**limits.SECTION_LIMITS, "choices": 0})
    doc = _doc()
    junk: list[object] = []
    for _ in range(limits.MAX_DEPTH + 5):
        junk = [junk]
    doc["extensions"] = {"junk": junk}
    assert _problems(doc) == [("choices", "1 items, above the limit of 0")]
