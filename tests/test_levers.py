"""Case format 1.1 in the engine: known answers built by hand, and properties.

Payments, choices, whole units, amount bounds, funds and observers, each on a case small
enough to solve by hand (the arithmetic is in each test's comments); every settlement also
passes the independent validator (``settle`` runs it: a failure would be status ``error``).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediation import settle
from mediation.case import load_case, parse_case
from mediation.errors import CaseError, PolicyError
from mediation.validator import validate_settlement

LP_RULES = ["leximin", "maximin", "kalai_smorodinsky", "nash", "utilitarian"]

TRANSFER = """
id: transfer
title: 转移支付
stakeholders:
  - {id: a, name: 甲, kind: resident_group}
  - {id: b, name: 乙, kind: resident_group}
issues:
  - {id: g, name: 场地, kind: resource, amount: 1}
interests:
  - {stakeholder: a, issue: g, value: 300}
  - {stakeholder: b, issue: g, value: 100}
payments:
  - {id: pay, payer: a, payee: b, max: 1000, unit: 元}
"""


@pytest.mark.parametrize("scale", ["raw", "normalized"])
@pytest.mark.parametrize("rule", ["leximin", "maximin", "kalai_smorodinsky", "nash"])
def test_a_transfer_equalises_the_gains(rule: str, scale: str) -> None:
    # u_a = 300 x − p, u_b = 100 (1 − x) + p: the sum 100 + 200 x is largest with x = 1
    # (the site to a, who values it most), and p = 150 equalises 300 − p and p. Under the
    # normalized scale the ideals are 300 (a keeps all, pays nothing) and 300 (a pays all it
    # gains: individual rationality holds a at 0), so the gains are equal there too.
    result = settle(load_case(TRANSFER), rule=rule, scale=scale)
    assert result.status == "optimal"
    assert result.shares["g"] == {"a": 1.0, "b": 0.0}
    paid = result.payments["pay"]
    assert (paid.payer, paid.payee, paid.unit) == ("a", "b", "元")
    tolerance = 1e-3 if rule == "nash" else 1e-9  # Nash's cutting planes stop at a gap
    assert paid.amount == pytest.approx(150.0, rel=tolerance)
    assert result.parties["a"].utility == pytest.approx(150.0, rel=tolerance)
    assert result.parties["b"].utility == pytest.approx(150.0, rel=tolerance)


def test_the_utilitarian_rule_is_indifferent_to_money_at_equal_rates() -> None:
    # at equal rates a payment moves utility from one party to the other: the sum is 300
    # for every p, so only the site's split matters (all to a)
    result = settle(load_case(TRANSFER), rule="utilitarian")
    assert result.status == "optimal"
    assert result.shares["g"]["a"] == 1.0
    assert sum(p.utility or 0.0 for p in result.parties.values()) == pytest.approx(300.0)


def test_rates_price_money_on_each_partys_scale() -> None:
    # a values the site at 300 points and a 元 at 0.1 points, b at 1 point: paying p 元
    # costs a 0.1 p and gives b p. Leximin (raw): 300 − 0.1 p = p → p = 300 / 1.1
    case = load_case(TRANSFER.replace("unit: 元}", "unit: 元, payer_rate: 0.1}"))
    result = settle(case, scale="raw")
    assert result.payments["pay"].amount == pytest.approx(300 / 1.1)
    assert result.parties["b"].utility == pytest.approx(300 / 1.1)


CHOICE = """
id: choice
title: 方案选择
stakeholders:
  - {id: a, name: 甲, kind: resident_group}
  - {id: b, name: 乙, kind: resident_group}
issues:
  - {id: tea, name: 茶水, kind: resource, amount: 1}
interests:
  - {stakeholder: a, issue: tea, value: 0}
  - {stakeholder: b, issue: tea, value: 0}
choices:
  - id: plan
    name: 方案
    options:
      - {id: x, name: X, values: {a: 10, b: 4}}
      - {id: y, name: Y, values: {a: 5, b: 5}}
      - {id: z, name: Z, values: {b: 10}}
"""


@pytest.mark.parametrize(
    ("rule", "chosen"),
    [
        # the ideals are 10 each (x for a, z for b); the normalized gains are x (1, 0.4),
        # y (0.5, 0.5), z (0, 1): leximin, maximin and Kalai–Smorodinsky take y (the
        # worse-off gets 0.5, not 0.4); Nash takes x (1 × 0.4 = 0.4 > 0.25); the sum is
        # largest at x (14)
        ("leximin", "y"),
        ("maximin", "y"),
        ("kalai_smorodinsky", "y"),
        ("nash", "x"),
        ("utilitarian", "x"),
    ],
)
def test_an_alternative_is_chosen_by_the_rule(rule: str, chosen: str) -> None:
    result = settle(load_case(CHOICE), rule=rule)
    assert result.status == "optimal"
    made = result.choices["plan"]
    assert made.chosen == chosen
    # what each alternative would have given: each option imposed, settled by the same rule
    expected = {"x": {"a": 10.0, "b": 4.0}, "y": {"a": 5.0, "b": 5.0}, "z": {"a": 0.0, "b": 10.0}}
    assert set(made.alternatives) == {"x", "y", "z"}
    for option, utilities in expected.items():
        alternative = made.alternatives[option]
        assert alternative.status == "optimal"
        assert alternative.utilities == pytest.approx(utilities)


LIFT = """
id: lift
title: 加装电梯
stakeholders:
  - {id: upper, name: 高层住户, kind: resident_group}
  - {id: ground, name: 低层住户, kind: resident_group}
  - {id: street, name: 街道办, kind: government}
issues:
  - {id: tea, name: 协调会茶水, kind: resource, amount: 1}
interests:
  - {stakeholder: upper, issue: tea, value: 0}
  - {stakeholder: ground, issue: tea, value: 0}
contributions:
  - {id: subsidy, stakeholder: street, to: scheme, max: 200000, rate: 0}
  - {id: households, stakeholder: upper, to: scheme, max: 900000, rate: 0.001}
choices:
  - id: scheme
    name: 电梯方案
    unit: 元
    options:
      - {id: full, name: 每层停靠, cost: 820000, values: {upper: 900, ground: -50}}
      - {id: half, name: 半层停靠, cost: 680000, values: {upper: 800, ground: 0}}
"""


def test_contributions_meet_the_chosen_options_cost() -> None:
    # the subsidy costs the street office nothing (rate 0), so it gives all it may: 200,000.
    # full: the households pay 620,000 (620 points): upper 280, ground −50 < 0, which
    # individual rationality refuses; half: they pay 480,000: upper 320, ground 0. Leximin
    # takes half (the only option that keeps ground at its no-deal point)
    result = settle(load_case(LIFT))
    assert result.status == "optimal"
    assert result.choices["scheme"].chosen == "half"
    assert result.choices["scheme"].cost == 680000.0
    given = {k: c.amount for k, c in result.contributions.items()}
    assert math.fsum(given.values()) == pytest.approx(680000.0)
    assert given["subsidy"] == pytest.approx(200000.0)
    assert result.contributions["subsidy"].unit == "元"
    assert result.parties["upper"].utility == pytest.approx(320.0)
    # a subsidy is a contribution, never a risk: nobody's exposure holds it
    assert all(p.exposure.expected == 0.0 for p in result.parties.values())
    assert result.choices["scheme"].alternatives["full"].status == "infeasible"


UNITS = """
id: units
title: 保洁岗位
stakeholders:
  - {id: east, name: 东村, kind: resident_group}
  - {id: west, name: 西村, kind: resident_group}
issues:
  - {id: posts, name: 保洁岗位, kind: resource, amount: 3, unit: 个, unit_size: 1}
interests:
  - {stakeholder: east, issue: posts, value: 30}
  - {stakeholder: west, issue: posts, value: 30}
"""


@pytest.mark.parametrize("rule", ["leximin", "maximin", "kalai_smorodinsky", "nash"])
def test_whole_units_force_an_uneven_split(rule: str) -> None:
    # 1.5 posts each is what a divisible split gives; in whole units one village gets 2 and
    # the other 1: the worse-off has 1/3 of its possible gain, the most whole units allow
    result = settle(load_case(UNITS), rule=rule)
    assert result.status == "optimal"
    posts = result.amounts["posts"]
    assert sorted(posts.values()) == [1.0, 2.0]
    assert all(v == round(v) for v in posts.values())
    assert result.fairness is not None
    assert result.fairness.min_normalized_gain == pytest.approx(1 / 3)


def test_whole_units_are_exact_with_large_counts() -> None:
    # 8,000 hours in slots of 0.5 h (16,000 units) among three providers, with an amount
    # floor of 3,000 h for one of them: every amount is a whole number of slots
    case = load_case(
        """
id: hours
title: 服务时数
stakeholders:
  - {id: a, name: 甲, kind: social_organization}
  - {id: b, name: 乙, kind: social_organization}
  - {id: c, name: 丙, kind: social_organization}
issues:
  - {id: h, name: 服务时数, kind: resource, amount: 8000, unit: 小时, unit_size: 0.5}
interests:
  - {stakeholder: a, issue: h, value: 7, min_amount: 3000}
  - {stakeholder: b, issue: h, value: 5}
  - {stakeholder: c, issue: h, value: 3}
"""
    )
    result = settle(case)
    assert result.status == "optimal"
    hours = result.amounts["h"]
    assert math.fsum(hours.values()) == pytest.approx(8000.0)
    assert hours["a"] >= 3000.0
    for v in hours.values():
        assert abs(v * 2 - round(v * 2)) < 1e-6


HALL = """
id: hall
title: 大厅
stakeholders:
  - {id: wuye, name: 物业公司, kind: enterprise}
  - {id: owners, name: 业主委员会, kind: resident_group}
issues:
  - {id: income, name: 公共收益, kind: resource, amount: 468000, unit: 元}
interests:
  - {stakeholder: wuye, issue: income, value: 468000, BOUND}
  - {stakeholder: owners, issue: income, value: 468000}
"""


def test_an_amount_floor_is_the_share_floor_of_that_amount() -> None:
    by_amount = settle(load_case(HALL.replace("BOUND", "min_amount: 96000")), scale="raw")
    by_share = settle(
        load_case(HALL.replace("BOUND", f"min_share: {96000 / 468000!r}")), scale="raw"
    )
    assert by_amount.status == by_share.status == "optimal"
    assert by_amount.shares == by_share.shares
    # leximin on raw money splits equally: 234,000 each, above the floor of 96,000
    assert by_amount.amounts["income"]["wuye"] == pytest.approx(234000.0)


def test_an_amount_floor_binds_in_its_unit() -> None:
    # raw leximin on money would give each 234,000 元, but wuye's floor of 300,000 元 holds
    case = load_case(HALL.replace("BOUND", "min_amount: 300000"))
    result = settle(case, scale="raw")
    assert result.status == "optimal"
    assert result.amounts["income"]["wuye"] == pytest.approx(300000.0)
    assert result.amounts["income"]["owners"] == pytest.approx(168000.0)


FUND = """
id: estate
title: 小区公共收益
stakeholders:
  - {id: wuye, name: 物业公司, kind: enterprise}
  - {id: owners, name: 业主委员会, kind: resident_group}
  - {id: repair, name: 维修基金, kind: fund}
  - {id: bureau, name: 区住建局, kind: government}
issues:
  - {id: income, name: 公共收益, kind: resource, amount: 468000, unit: 元}
interests:
  - {stakeholder: wuye, issue: income, value: 468000, min_amount: 96000}
  - {stakeholder: owners, issue: income, value: 468000}
  - {stakeholder: repair, issue: income, min_share: 0.3, basis: legal,
     source: 物业管理条例 第五十四条}
"""


def test_a_fund_holds_its_share_and_is_never_compared() -> None:
    result = settle(load_case(FUND), scale="raw")
    assert result.status == "optimal"
    assert result.funds == ["repair"]
    assert result.observers == ["bureau"]
    assert set(result.parties) == {"wuye", "owners"}
    income = result.amounts["income"]
    # the fund gets its legal 30% (140,400 元) and no more: it has no utility to balance;
    # the rest, 327,600 元, is split equally between the two parties (raw leximin)
    assert income["repair"] == pytest.approx(140400.0)
    assert income["wuye"] == pytest.approx(163800.0)
    assert income["owners"] == pytest.approx(163800.0)
    assert result.fairness is not None
    assert result.fairness.envy_free


def test_an_observer_changes_nothing() -> None:
    without = FUND.replace("  - {id: bureau, name: 区住建局, kind: government}\n", "")
    a, b = settle(load_case(FUND)), settle(load_case(without))
    assert a.shares == b.shares
    assert a.parties == b.parties
    assert a.observers == ["bureau"]
    assert b.observers == []


def test_payments_to_a_fund_cost_the_payer_and_give_nobody_utility() -> None:
    case = load_case(
        FUND
        + "payments:\n"
        + "  - {id: levy, payer: wuye, payee: repair, min: 10000, max: 50000, unit: 元}\n"
    )
    result = settle(case, scale="raw")
    assert result.status == "optimal"
    # paying more only lowers wuye's utility, so leximin pays the least: 10,000 元
    assert result.payments["levy"].amount == pytest.approx(10000.0)


@pytest.mark.parametrize("rule", ["adjusted_winner", "claims"])
def test_procedural_rules_refuse_money_and_choices(rule: str) -> None:
    with pytest.raises(PolicyError) as error:
        settle(load_case(TRANSFER), rule=rule)
    assert any(p.path == "payments" for p in error.value.problems)


def test_funded_issue_shares_are_of_its_size() -> None:
    # a community fund of at most 300,000 元, filled by the firm (up to 200,000, at a cost
    # of 1 point per 元) and the street office (100,000, a subsidy at no cost); two projects
    # value each 元 at 1 point. The firm gives nothing it does not have to: the fund is
    # 100,000, split equally (raw leximin): shares 0.5 of the size
    case = load_case(
        """
id: fund
title: 社区基金
stakeholders:
  - {id: firm, name: 企业, kind: enterprise, disagreement: -1000000}
  - {id: street, name: 街道办, kind: government}
  - {id: p1, name: 项目一, kind: social_organization}
  - {id: p2, name: 项目二, kind: social_organization}
issues:
  - {id: pot, name: 社区基金, kind: resource, amount: 300000, unit: 元}
interests:
  - {stakeholder: p1, issue: pot, value: 300000}
  - {stakeholder: p2, issue: pot, value: 300000}
contributions:
  - {id: firm-gift, stakeholder: firm, to: pot, max: 200000}
  - {id: subsidy, stakeholder: street, to: pot, min: 100000, max: 100000, rate: 0}
"""
    )
    result = settle(case, rule="leximin", scale="raw", individually_rational=False)
    assert result.status == "optimal"
    assert result.sizes["pot"] == pytest.approx(result.contributions["firm-gift"].amount + 100000)
    assert math.fsum(result.shares["pot"].values()) == pytest.approx(1.0)
    assert math.fsum(result.amounts["pot"].values()) == pytest.approx(result.sizes["pot"])


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        ("unit_size: 1", "issues[0].unit_size"),
        ("unit_size: 0.8", "issues[0].unit_size"),
    ],
)
def test_bad_unit_sizes_are_refused_with_their_path(edit: str, path: str) -> None:
    text = UNITS.replace("unit_size: 1", edit).replace("amount: 3,", "amount: 3.5,")
    with pytest.raises(CaseError) as error:
        load_case(text)
    assert [p.path for p in error.value.problems] == [path]


# --- properties --------------------------------------------------------------------------

values = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(
    a=values,
    b=values,
    amount=st.floats(min_value=1e-3, max_value=1e9),
    # a floor is 0 or large enough that floor × amount is a magnitude (≥ 1e-9)
    floor=st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=0.9)),
)
def test_amount_bounds_equal_share_bounds_times_the_amount(
    a: float, b: float, amount: float, floor: float
) -> None:
    def case(bound: dict[str, float]) -> object:
        return parse_case(
            {
                "id": "p",
                "title": "p",
                "stakeholders": [
                    {"id": "a", "name": "A", "kind": "other"},
                    {"id": "b", "name": "B", "kind": "other"},
                ],
                "issues": [{"id": "g", "name": "G", "kind": "resource", "amount": amount}],
                "interests": [
                    {"stakeholder": "a", "issue": "g", "value": a, **bound},
                    {"stakeholder": "b", "issue": "g", "value": b},
                ],
            }
        )

    by_share = settle(case({"min_share": floor}))  # type: ignore[arg-type]
    by_amount = settle(case({"min_amount": floor * amount}))  # type: ignore[arg-type]
    assert by_share.status == by_amount.status == "optimal"
    for who in ("a", "b"):
        assert by_amount.shares["g"][who] == pytest.approx(by_share.shares["g"][who], abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    a=values,
    b=values,
    most=st.floats(min_value=1.0, max_value=1e6),
    rule=st.sampled_from(["leximin", "maximin", "utilitarian"]),
)
def test_payments_conserve_money(a: float, b: float, most: float, rule: str) -> None:
    # at rates 1 a payment moves utility from payer to payee: the parties' utilities add up
    # to what the shares alone give, whatever is paid
    case = parse_case(
        {
            "id": "p",
            "title": "p",
            "stakeholders": [
                {"id": "a", "name": "A", "kind": "other", "disagreement": -most},
                {"id": "b", "name": "B", "kind": "other", "disagreement": -most},
            ],
            "issues": [{"id": "g", "name": "G", "kind": "resource", "amount": 1}],
            "interests": [
                {"stakeholder": "a", "issue": "g", "value": a},
                {"stakeholder": "b", "issue": "g", "value": b},
            ],
            "payments": [
                {"id": "ab", "payer": "a", "payee": "b", "max": most},
                {"id": "ba", "payer": "b", "payee": "a", "max": most},
            ],
        }
    )
    result = settle(case, rule=rule)
    assert result.status in ("optimal", "feasible")
    from_shares = a * result.shares["g"]["a"] + b * result.shares["g"]["b"]
    total = math.fsum(p.utility or 0.0 for p in result.parties.values())
    assert total == pytest.approx(from_shares, rel=1e-7, abs=1e-6 * max(a, b, most))
    assert validate_settlement(case, result) == []


@settings(max_examples=20, deadline=None)
@given(
    weights=st.lists(st.floats(min_value=0.5, max_value=2.0), min_size=2, max_size=4),
    rule=st.sampled_from(LP_RULES),
)
def test_observers_never_change_an_allocation(weights: list[float], rule: str) -> None:
    parties = [
        {"id": f"p{k}", "name": f"P{k}", "kind": "other", "weight": w}
        for k, w in enumerate(weights)
    ]
    data = {
        "id": "o",
        "title": "o",
        "stakeholders": parties,
        "issues": [
            {"id": "g", "name": "G", "kind": "resource", "amount": 10},
            {"id": "h", "name": "H", "kind": "resource", "amount": 5},
        ],
        "interests": [
            {"stakeholder": p["id"], "issue": i, "value": 1.0 + k + 2 * j}
            for k, p in enumerate(parties)
            for j, i in enumerate(("g", "h"))
        ],
    }
    watched = {
        **data,
        "stakeholders": [*parties, {"id": "bureau", "name": "区住建局", "kind": "government"}],
    }
    plain, observed = settle(parse_case(data), rule=rule), settle(parse_case(watched), rule=rule)
    assert observed.observers == ["bureau"]
    if rule == "nash":
        # Nash's cutting planes stop within their gap (1e-4 of the welfare): an observer's
        # empty row may change the simplex's path, never the answer beyond that gap
        for issue, split in plain.shares.items():
            assert observed.shares[issue] == pytest.approx(split, abs=1e-4)
    else:
        assert observed.shares == plain.shares
        assert observed.parties == plain.parties


# --- what a fresh review found ----------------------------------------------------------------

TIE = """
id: tie
title: tie
stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
issues: [{id: g, name: G, kind: resource, amount: 10}]
interests: [{stakeholder: a, issue: g, value: 10}, {stakeholder: b, issue: g, value: 10}]
choices:
  - id: ch
    name: Ch
    options:
      - {id: OPTION_X, name: X, values: {a: 5}}
      - {id: y, name: Y, values: {b: 5}}
"""


def test_alternatives_are_measured_on_the_cases_own_yardstick() -> None:
    # the ideals over both options are 15 each; with X, a gets 5 + 10x and b 10(1 − x):
    # x = 1/4 gives 7.5 each; with Y imposed the same split mirrored gives 7.5 each too (an
    # exact tie, not a loss: on Y's own ideals, 10 and 15, it would read 6 and 9)
    result = settle(load_case(TIE.replace("OPTION_X", "x")))
    made = result.choices["ch"]
    for option in ("x", "y"):
        assert made.alternatives[option].utilities == pytest.approx({"a": 7.5, "b": 7.5})


def test_an_option_id_of_64_characters_settles() -> None:
    # the constraint imposing an alternative has a name of its own, not the option's id
    result = settle(load_case(TIE.replace("OPTION_X", "o" * 64)))
    assert result.status == "optimal"
    assert set(result.choices["ch"].alternatives) == {"o" * 64, "y"}


@pytest.mark.parametrize(
    ("text", "rule", "scale", "rational"),
    [
        (
            # a payment the solver leaves 3e-7 above 0: reported at 0, as its reason says
            """
id: m1
title: m1
stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other},
               {id: c, name: C, kind: other}]
issues: [{id: posts, name: Posts, kind: resource, amount: 12, unit_size: 1}]
interests:
  - {stakeholder: a, issue: posts, value: 5, max_share: 0.7}
  - {stakeholder: b, issue: posts, value: 50}
  - {stakeholder: c, issue: posts, value: 5}
payments: [{id: pay, payer: c, payee: b, max: 5, payee_rate: 2}]
""",
            "maximin",
            "raw",
            True,
        ),
        (
            """
id: v87
title: v87
stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
issues: [{id: r, name: R, kind: risk, amount: 100}]
interests: [{stakeholder: a, issue: r, value: 1}]
payments:
  - {id: big, payer: a, payee: b, max: 100}
  - {id: small, payer: a, payee: b, max: 5}
""",
            "leximin",
            "normalized",
            False,
        ),
    ],
)
def test_a_payment_at_its_bound_is_reported_at_it(
    text: str, rule: str, scale: str, rational: bool
) -> None:
    result = settle(load_case(text), rule=rule, scale=scale, individually_rational=rational)
    assert result.status == "optimal"  # not "error": the validator agrees with the reasons


OBSERVED = """
id: obs
title: obs
stakeholders:
  - {id: a, name: A, kind: other}
  - {id: b, name: B, kind: other}
  - {id: c, name: C, kind: other EXTRA}
issues: [{id: g, name: G, kind: resource, amount: 100}]
interests:
  - {stakeholder: a, issue: g, value: 100}
  - {stakeholder: b, issue: g, value: 50}
"""


def test_a_stakeholder_with_a_no_deal_point_of_its_own_stays_a_party() -> None:
    # format 1.0 read it as a party that can never reach its no-deal point: still so
    case = load_case(OBSERVED.replace(" EXTRA", ", disagreement: 5"))
    assert case.observers == []
    result = settle(case)
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    assert any(c.kind == "disagreement" for c in result.diagnosis.concessions)


def test_the_planners_tools_take_a_case_with_an_observer() -> None:
    from mediation import evaluate
    from mediation.allocation.compare import compare

    case = load_case(OBSERVED.replace(" EXTRA", ""))
    assert case.observers == ["c"]
    assert {o.rule for o in compare(case).outcomes} >= {"leximin", "nash"}
    found = evaluate(case, {"g": {"a": 0.5}})
    assert {p.party for p in found.parties} == {"a", "b"}


FUNDED = """
id: pot
title: pot
stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other},
               {id: s, name: S, kind: government}]
issues: [{id: pot, name: Pot, kind: resource, amount: 300, unit: 元}]
interests: [{stakeholder: a, issue: pot, value: 300}, {stakeholder: b, issue: pot, value: 30}]
contributions: [{id: c1, stakeholder: s, to: pot, min: 200, max: 200, rate: 0}]
"""


def test_a_share_of_a_funded_issue_cannot_be_constrained_pinned_or_made_proportional() -> None:
    # its size varies with the contributions: a share of it is no fixed amount
    row = (
        "constraints:\n  - {name: half, terms: [{stakeholder: a, issue: pot, coef: 1}], "
        'sense: "<=", rhs: 0.5}\n'
    )
    with pytest.raises(CaseError) as error:
        load_case(FUNDED + row)
    assert [p.path for p in error.value.problems] == ["constraints[0].terms[0]"]
    from mediation import evaluate
    from mediation.errors import WhatIfError

    with pytest.raises((PolicyError, WhatIfError)):
        evaluate(load_case(FUNDED), {"pot": {"a": 0.5}})
    with pytest.raises(PolicyError) as refused:
        settle(load_case(FUNDED), proportional=True)
    assert [p.path for p in refused.value.problems] == ["policy.proportional"]
