"""The independent validator on case format 1.1: funds, observers, money, choices, units.

Each invariant of settlement 1.3 is broken once, in a copy of a sound settlement, and the
validator must name the field at fault; the sound settlements of every LP rule pass. The
optimality certificate is checked on a case whose leximin allocation turns on a payment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from mediation import settle
from mediation.case import Case, load_case
from mediation.reasons import ContributionGiven, PaymentDue
from mediation.settlement import Alternative, Settlement
from mediation.validator import optimality_problems, validate_settlement
from mediation.validator.lp import via_linprog

# A payment settles a yard that must go whole to the ground floor (min_share 1). The
# ground floor pays the top floor p ∈ [20, 100] 元 (min 20), capped at 80 by a legal rule
# stated as a constraint on the payment. u_a = 100 − p, u_b = p; ideals 80 (a pays the
# least, 20) and 80 (b is paid the most, 80); normalized leximin: (100 − p)/80 = p/80,
# so p = 50 and both gain 50/80 = 0.625.
COMPENSATION = """
id: compensation
title: 一楼院子的补偿
format_version: "1.1"
stakeholders:
  - {id: a, name: 一楼住户, kind: resident_group}
  - {id: b, name: 顶楼住户, kind: resident_group}
issues:
  - {id: yard, name: 院子, kind: resource, amount: 1}
interests:
  - {stakeholder: a, issue: yard, value: 100, min_share: 1}
  - {stakeholder: b, issue: yard, value: 100}
payments:
  - {id: comp, payer: a, payee: b, min: 20, max: 100, unit: 元}
constraints:
  - name: comp-cap
    terms: [{payment: comp, coef: 1}]
    sense: "<="
    rhs: 80
    basis: legal
    source: 某条例 第五条
"""

# A funded issue: the street office's subsidy (rate 0, at most 150 元) fills a pot of at
# most 100 元, of which the repair fund keeps at least 10 (min_amount) and unit a takes at
# most 30 (max_amount); the district bureau is an observer. Each unit values the whole pot
# (100 元) at 100. Ideals: a 30, b 90 (100 less the fund's 10); leximin equalizes
# x_a/30 = x_b/90 with x_a + x_b = 90: x_a = 22.5, x_b = 67.5, both at 0.75; the pot is
# full (size 100), so its shares (of the size) are 0.225, 0.675 and 0.1.
POT = """
id: repair-pot
title: 楼道维修补贴
format_version: "1.1"
stakeholders:
  - {id: a, name: 一单元, kind: resident_group}
  - {id: b, name: 二单元, kind: resident_group}
  - {id: street, name: 街道办, kind: government}
  - {id: fund, name: 维修基金, kind: fund}
  - {id: bureau, name: 区住建局, kind: government}
issues:
  - {id: pot, name: 维修补贴, kind: resource, amount: 100, unit: 元}
interests:
  - {stakeholder: a, issue: pot, value: 100, max_amount: 30}
  - {stakeholder: b, issue: pot, value: 100}
  - {stakeholder: fund, issue: pot, min_amount: 10, basis: policy, source: 维修资金管理办法 第八条}
contributions:
  - {id: sub, stakeholder: street, to: pot, max: 150, rate: 0}
"""

# The same pot filled by unit a itself, at a cost of 0.2 per 元 given (no street, no
# observer): u_a = x_a − 0.2c, u_b = x_b, x_a ≤ 30, the fund's 10 kept, c ≤ 100. Ideals: a
# 30 − 0.2·40 = 22; b, with a held at its no-deal point 0, x_a = 0.2c: 0.8·100 − 10 = 70.
# Leximin with x_a = 30: (30 − 0.2c)/22 = (c − 40)/70, so c = 2980/36 = 82.78, both at
# 0.611. Without individual rationality b's ideal is 90: (30 − 0.2c)/22 = (c − 40)/90,
# c = 89.5, both at 0.55. The fund is compared with no one either way.
POOL = """
id: repair-pool
title: 自筹维修金
format_version: "1.1"
stakeholders:
  - {id: a, name: 一单元, kind: resident_group}
  - {id: b, name: 二单元, kind: resident_group}
  - {id: fund, name: 维修基金, kind: fund}
issues:
  - {id: pot, name: 维修金, kind: resource, amount: 100, unit: 元}
interests:
  - {stakeholder: a, issue: pot, value: 100, max_amount: 30}
  - {stakeholder: b, issue: pot, value: 100}
  - {stakeholder: fund, issue: pot, min_amount: 10}
contributions:
  - {id: own, stakeholder: a, to: pot, max: 100, rate: 0.2}
"""

# A fund keeps 60% of a hall (min_share 0.6); two parties who value the hall at 100 each
# share the rest, 0.2 each, and each pays the fund a fixed 5 元 (min = max): u = 20 − 5 =
# 15. Nobody envies anybody among the compared parties (the fund's 60% is nobody's bundle);
# proportionality asks each for 1/2 of its value (the observer's weight 3 and the fund's
# count in nobody's due): 50 > 20, so the allocation is not proportional.
HALL = """
id: hall
title: 活动室
format_version: "1.1"
stakeholders:
  - {id: a, name: A, kind: resident_group}
  - {id: b, name: B, kind: resident_group}
  - {id: fund, name: 公共基金, kind: fund}
  - {id: watcher, name: 观察员, kind: third_party, weight: 3}
issues:
  - {id: hall, name: 活动室, kind: resource, amount: 1}
interests:
  - {stakeholder: a, issue: hall, value: 100}
  - {stakeholder: b, issue: hall, value: 100}
  - {stakeholder: fund, issue: hall, min_share: 0.6}
payments:
  - {id: dues-a, payer: a, payee: fund, min: 5, max: 5, unit: 元}
  - {id: dues-b, payer: b, payee: fund, min: 5, max: 5, unit: 元}
"""

# A lift: three cleaning posts in whole units (unit_size 1), a ground-floor red line of
# one post (legal), a compensation, and two lift schemes whose chosen cost the street's
# subsidy and the upper floors' contribution must meet exactly; a policy forbids scheme A.
LIFT = """
id: lift
title: 加装电梯
format_version: "1.1"
stakeholders:
  - {id: upper, name: 高层住户, kind: resident_group}
  - {id: ground, name: 低层住户, kind: resident_group}
  - {id: street, name: 街道办, kind: government}
  - {id: bureau, name: 区住建局, kind: government}
  - {id: repair, name: 维修基金, kind: fund}
issues:
  - {id: posts, name: 保洁岗位, kind: resource, amount: 3, unit: 个, unit_size: 1}
interests:
  - {stakeholder: upper, issue: posts, value: 30}
  - {stakeholder: ground, issue: posts, value: 30, min_amount: 1, basis: legal, source: 某条例第3条}
  - {stakeholder: repair, issue: posts}
payments:
  - {id: comp, payer: upper, payee: ground, max: 60000, unit: 元, payer_rate: 0.001,
     payee_rate: 0.001}
contributions:
  - {id: sub, stakeholder: street, to: scheme, max: 200000, rate: 0}
  - {id: up-pay, stakeholder: upper, to: scheme, max: 800000, rate: 0.001}
choices:
  - id: scheme
    name: 方案
    unit: 元
    options:
      - {id: a, name: A, cost: 820000, values: {upper: 900, ground: -100}}
      - {id: b, name: B, cost: 680000, values: {upper: 700, ground: -20}}
constraints:
  - {name: no-scheme-a, terms: [{option: a, coef: 1}], sense: "<=", rhs: 0, basis: policy}
  - {name: street-gives, terms: [{contribution: sub, coef: 1}], sense: ">=", rhs: 100000}
"""

CASES = {"compensation": COMPENSATION, "pot": POT, "pool": POOL, "hall": HALL, "lift": LIFT}
RULES = ["leximin", "maximin", "nash", "utilitarian", "kalai_smorodinsky"]


@cache
def case_of(name: str) -> Case:
    return load_case(CASES[name])


@cache
def settled(name: str, rule: str = "leximin", *, rational: bool = True) -> Settlement:
    return settle(case_of(name), rule=rule, check=False, individually_rational=rational)


@pytest.mark.parametrize("rational", [True, False], ids=["rational", "not_rational"])
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", list(CASES))
def test_sound_settlements_report_nothing(name: str, rule: str, rational: bool) -> None:
    result = settled(name, rule, rational=rational)
    assert result.status == "optimal", result.reasons
    problems = validate_settlement(case_of(name), result)
    assert problems == [], "\n".join(map(str, problems))


def test_the_known_answers_the_forgeries_start_from() -> None:
    pay = settled("compensation")
    assert pay.payments["comp"].amount == pytest.approx(50, abs=1e-6)
    assert {p: o.utility for p, o in pay.parties.items()} == pytest.approx(
        {"a": 50, "b": 50}, abs=1e-6
    )
    pot = settled("pot")
    assert pot.amounts["pot"] == pytest.approx({"a": 22.5, "b": 67.5, "fund": 10}, abs=1e-6)
    assert pot.shares["pot"] == pytest.approx({"a": 0.225, "b": 0.675, "fund": 0.1}, abs=1e-8)
    assert pot.sizes == pytest.approx({"pot": 100})
    assert (list(pot.parties), pot.funds, pot.observers) == (
        ["a", "b", "street"],
        ["fund"],
        ["bureau"],
    )
    for rational, given, level in [(True, 2980 / 36, 0.61111111), (False, 89.5, 0.55)]:
        pool = settled("pool", rational=rational)
        assert pool.contributions["own"].amount == pytest.approx(given, abs=1e-6)
        assert pool.sizes["pot"] == pytest.approx(given, abs=1e-6)
        assert {p: o.normalized_gain for p, o in pool.parties.items()} == pytest.approx(
            {"a": level, "b": level}, abs=1e-6
        )
    hall = settled("hall")
    assert {p: o.utility for p, o in hall.parties.items()} == pytest.approx(
        {"a": 15, "b": 15}, abs=1e-6
    )
    # the lift: scheme B (A is forbidden); the posts are worth 30 in all, 10 a post; with
    # the fund holding none u_upper + u_ground = 30 + 700 − 20 − 480 (the upper floors give
    # 680,000 − 200,000 at 0.001) = 230 whatever the posts and the payment; ideals 230
    # (upper: 2 posts, paying the 10 that keep ground at its no-deal point) and 70 (ground:
    # 3 posts and the most payment, 60); leximin: u/230 = (230 − u)/70, u_upper = 529/3
    lift = settled("lift")
    assert lift.choices["scheme"].chosen == "b"
    assert sum(c.amount for c in lift.contributions.values()) == pytest.approx(680000)
    assert {p: o.utility for p, o in lift.parties.items()} == pytest.approx(
        {"upper": 529 / 3, "ground": 161 / 3, "street": 0}, rel=1e-6, abs=1e-6
    )


# --- each invariant broken once -------------------------------------------------------------


def _section(name: str, key: str, **fields: Any) -> Callable[[Settlement], Settlement]:
    """Change ``fields`` of ``settlement.<name>[key]`` (a payment, contribution, choice)."""

    def change(s: Settlement) -> Settlement:
        section = dict(getattr(s, name))
        section[key] = section[key].model_copy(update=fields)
        return s.model_copy(update={name: section})

    return change


def _drop(name: str, key: str) -> Callable[[Settlement], Settlement]:
    def change(s: Settlement) -> Settlement:
        section = dict(getattr(s, name))
        del section[key]
        return s.model_copy(update={name: section})

    return change


def _top(**fields: Any) -> Callable[[Settlement], Settlement]:
    return lambda s: s.model_copy(update=fields)


def _issue(
    issue: str, shares: dict[str, float], amounts: dict[str, float]
) -> Callable[[Settlement], Settlement]:
    """Give ``issue`` the shares and amounts stated (the rest of the settlement kept)."""

    def change(s: Settlement) -> Settlement:
        return s.model_copy(
            update={
                "shares": {**s.shares, issue: shares},
                "amounts": {**s.amounts, issue: amounts},
            }
        )

    return change


def _party(party: str, **fields: Any) -> Callable[[Settlement], Settlement]:
    return _section("parties", party, **fields)


def _add_party(party: str, like: str) -> Callable[[Settlement], Settlement]:
    return lambda s: s.model_copy(update={"parties": {**s.parties, party: s.parties[like]}})


def _exposure(party: str, **fields: Any) -> Callable[[Settlement], Settlement]:
    def change(s: Settlement) -> Settlement:
        out = s.parties[party]
        exposed = out.model_copy(update={"exposure": out.exposure.model_copy(update=fields)})
        return s.model_copy(update={"parties": {**s.parties, party: exposed}})

    return change


def _both(*changes: Callable[[Settlement], Settlement]) -> Callable[[Settlement], Settlement]:
    def change(s: Settlement) -> Settlement:
        for c in changes:
            s = c(s)
        return s

    return change


def _shift(party: str, delta: float) -> Callable[[Settlement], Settlement]:
    """Move a party's utility and gain by ``delta``."""

    def change(s: Settlement) -> Settlement:
        out = s.parties[party]
        assert out.utility is not None
        assert out.gain is not None
        return _party(party, utility=out.utility + delta, gain=out.gain + delta)(s)

    return change


def _utilities(s: Settlement, **changed: float) -> dict[str, float | None]:
    return {**{p: o.utility for p, o in s.parties.items()}, **changed}


def _alternatives(
    **found: Callable[[Settlement], Alternative],
) -> Callable[[Settlement], Settlement]:
    """Give the lift's choice the alternatives stated (each made from the settlement)."""

    def change(s: Settlement) -> Settlement:
        made = {option: alternative(s) for option, alternative in found.items()}
        return _section("choices", "scheme", alternatives=made)(s)

    return change


def _fairness(**fields: Any) -> Callable[[Settlement], Settlement]:
    def change(s: Settlement) -> Settlement:
        assert s.fairness is not None
        return s.model_copy(update={"fairness": s.fairness.model_copy(update=fields)})

    return change


def _reason(reason: Any) -> Callable[[Settlement], Settlement]:
    return lambda s: s.model_copy(update={"reasons": [*s.reasons, reason]})


@dataclass(frozen=True)
class Forgery:
    case: str
    change: Callable[[Settlement], Settlement]
    path: str
    words: str


def _as_settled(s: Settlement) -> Alternative:
    return Alternative(status="optimal", utilities=_utilities(s))


def _infeasible(s: Settlement) -> Alternative:
    return Alternative(status="infeasible", utilities={})


FORGERIES = {
    # who is compared
    "a fund among the parties": Forgery("pot", _add_party("fund", "a"), "parties.fund", "fund"),
    "an observer among the parties": Forgery(
        "pot", _add_party("bureau", "a"), "parties.bureau", "observer"
    ),
    "a contributor left out of the parties": Forgery(
        "pot", _drop("parties", "street"), "parties.street", "missing"
    ),
    "the funds not listed": Forgery("pot", _top(funds=[]), "funds", "['fund']"),
    "the observers not listed": Forgery("pot", _top(observers=[]), "observers", "['bureau']"),
    "an observer listed as a fund": Forgery(
        "pot", _top(funds=["fund", "bureau"]), "funds", "['fund']"
    ),
    # a funded issue
    "funded shares that do not sum to 1 of the size": Forgery(
        "pot",
        _issue("pot", {"a": 0.2, "b": 0.675, "fund": 0.1}, {"a": 20, "b": 67.5, "fund": 10}),
        "shares.pot",
        "not 1 (of the size 100",
    ),
    "a funded amount that is not share × size": Forgery(
        "pot",
        _issue("pot", {"a": 0.225, "b": 0.675, "fund": 0.1}, {"a": 25, "b": 67.5, "fund": 10}),
        "amounts.pot.a",
        "share × size",
    ),
    "a size that is not the contributions' sum": Forgery(
        "pot", _top(sizes={"pot": 90.0}), "sizes.pot", "contributions to 'pot' give 100"
    ),
    "a funded issue without its size": Forgery("pot", _top(sizes={}), "sizes.pot", "missing"),
    "a size for an issue nobody funds": Forgery(
        "compensation", _top(sizes={"yard": 1.0}), "sizes.yard", "no such funded issue"
    ),
    "a size above the issue's amount": Forgery(
        # the subsidy may give 150, the pot holds 100
        "pot",
        _both(_section("contributions", "sub", amount=120.0), _top(sizes={"pot": 120.0})),
        "sizes.pot",
        "more than 'pot' can hold (100)",
    ),
    # amount bounds, share bounds, whole units
    "an amount above max_amount": Forgery(
        "pot",
        _issue("pot", {"a": 0.35, "b": 0.55, "fund": 0.1}, {"a": 35, "b": 55, "fund": 10}),
        "amounts.pot.a",
        "above max_amount 30",
    ),
    "an amount below min_amount": Forgery(
        "pot",
        _issue("pot", {"a": 0.225, "b": 0.725, "fund": 0.05}, {"a": 22.5, "b": 72.5, "fund": 5}),
        "amounts.pot.fund",
        "below min_amount 10",
    ),
    "a whole-unit issue's amount in a red line's breach": Forgery(
        "lift",
        _issue(
            "posts",
            {"upper": 1.0, "ground": 0.0, "repair": 0.0},
            {"upper": 3.0, "ground": 0.0, "repair": 0.0},
        ),
        "amounts.posts.ground",
        "below min_amount 1",
    ),
    "a share below its floor": Forgery(
        "compensation",
        _issue("yard", {"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}),
        "shares.yard.a",
        "below the floor 1",
    ),
    "half a post": Forgery(
        "lift",
        _issue(
            "posts",
            {"upper": 0.5, "ground": 0.5, "repair": 0.0},
            {"upper": 1.5, "ground": 1.5, "repair": 0.0},
        ),
        "amounts.posts.ground",
        "not a whole number of units of 1",
    ),
    # payments
    "a payment above its max": Forgery(
        "compensation", _section("payments", "comp", amount=120.0), "payments.comp.amount", "max"
    ),
    "a payment below its min": Forgery(
        "compensation", _section("payments", "comp", amount=5.0), "payments.comp.amount", "min 20"
    ),
    "a payment from the wrong payer": Forgery(
        "compensation", _section("payments", "comp", payer="b"), "payments.comp.payer", "'a'"
    ),
    "a payment to the wrong payee": Forgery(
        "compensation", _section("payments", "comp", payee="a"), "payments.comp.payee", "'b'"
    ),
    "a payment in the wrong unit": Forgery(
        "compensation", _section("payments", "comp", unit="美元"), "payments.comp.unit", "'元'"
    ),
    "a payment left out": Forgery(
        "compensation", _drop("payments", "comp"), "payments.comp", "missing"
    ),
    "a payment the case does not make": Forgery(
        "pot",
        lambda s: s.model_copy(update={"payments": settled("compensation").payments}),
        "payments.comp",
        "no such payment",
    ),
    # money conserved: the payer pays what the payee receives, each at its rate
    "a payee credited with more than is paid": Forgery(
        "compensation", _shift("b", 10.0), "parties.b.utility", "give 50"
    ),
    "a payer charged less than it pays": Forgery(
        "compensation", _shift("a", 10.0), "parties.a.utility", "give 50"
    ),
    "a payment to a fund that credits nobody": Forgery(
        "hall", _shift("a", 5.0), "parties.a.utility", "give 15"
    ),
    # contributions
    "a contribution above its max": Forgery(
        "lift",
        _section("contributions", "sub", amount=250000.0),
        "contributions.sub.amount",
        "above its max 200000",
    ),
    "a contribution from the wrong party": Forgery(
        "lift",
        _section("contributions", "sub", stakeholder="upper"),
        "contributions.sub.stakeholder",
        "'street'",
    ),
    "a contribution to the wrong target": Forgery(
        "lift", _section("contributions", "sub", to="posts"), "contributions.sub.to", "'scheme'"
    ),
    "a contribution in another unit than its target's": Forgery(
        "lift", _section("contributions", "sub", unit="个"), "contributions.sub.unit", "'元'"
    ),
    "a contribution left out": Forgery(
        "pot", _drop("contributions", "sub"), "contributions.sub", "missing"
    ),
    "a contribution counted as exposure": Forgery(
        "lift",
        _exposure("street", worst_case=200000.0),
        "parties.street.exposure.worst_case",
        "shares give 0",
    ),
    # choices
    "a funded choice whose cost the contributions do not meet": Forgery(
        "lift",
        _section("contributions", "up-pay", amount=400000.0),
        "choices.scheme.cost",
        "give 600000, not the cost 680000",
    ),
    "an option of no choice chosen": Forgery(
        "lift", _section("choices", "scheme", chosen="c"), "choices.scheme.chosen", "(a, b)"
    ),
    "a chosen option's cost misstated": Forgery(
        "lift", _section("choices", "scheme", cost=820000.0), "choices.scheme.cost", "costs 680000"
    ),
    "a choice's unit misstated": Forgery(
        "lift", _section("choices", "scheme", unit="万元"), "choices.scheme.unit", "'元'"
    ),
    "no option chosen": Forgery("lift", _drop("choices", "scheme"), "choices.scheme", "missing"),
    "the chosen option's value left out of the utility": Forgery(
        # upper values scheme B at 700
        "lift",
        _shift("upper", -700.0),
        "parties.upper.utility",
        "money and options give",
    ),
    # extra constraints on payments, contributions and options
    "a payment beyond a constraint on it": Forgery(
        "compensation",
        _section("payments", "comp", amount=90.0),
        "constraints.comp-cap",
        "90 <= 80",
    ),
    "a contribution short of a constraint on it": Forgery(
        # the two still meet the cost, 50,000 + 630,000 = 680,000
        "lift",
        _both(
            _section("contributions", "sub", amount=50000.0),
            _section("contributions", "up-pay", amount=630000.0),
        ),
        "constraints.street-gives",
        "50000 >= 100000",
    ),
    "a forbidden option chosen": Forgery(
        "lift",
        _both(
            _section("choices", "scheme", chosen="a", cost=820000.0),
            _section("contributions", "up-pay", amount=620000.0),
        ),
        "constraints.no-scheme-a",
        "1 <= 0",
    ),
    # alternatives
    "the chosen alternative giving other utilities": Forgery(
        "lift",
        _alternatives(
            b=lambda s: Alternative(status="optimal", utilities=_utilities(s, upper=150.0))
        ),
        "choices.scheme.alternatives.b.utilities.upper",
        "150.0 but the settlement, which chose 'b', gives",
    ),
    "an alternative that is no option": Forgery(
        "lift",
        _alternatives(b=_as_settled, z=_as_settled),
        "choices.scheme.alternatives.z",
        "not an option",
    ),
    "alternatives without the chosen option": Forgery(
        "lift",
        _alternatives(a=_infeasible),
        "choices.scheme.alternatives",
        "('b') is not among them",
    ),
    "an alternative giving a fund a utility": Forgery(
        "lift",
        _alternatives(
            b=lambda s: Alternative(status="optimal", utilities=_utilities(s, repair=0.0))
        ),
        "choices.scheme.alternatives.b.utilities.repair",
        "not a compared party",
    ),
    # envy and proportionality among the compared parties only
    "envy of a fund's share": Forgery(
        # a would envy the fund's 60% by 60 − 20 = 40 if a fund's share were a bundle
        "hall",
        _fairness(max_envy=40.0, envy_free=False),
        "fairness.max_envy",
        "shares give 0",
    ),
    "proportionality over every stakeholder's weight": Forgery(
        # with the observer's weight 3 and the fund's 1 a party would be due 100/6 < 20
        "hall",
        _fairness(proportional=True),
        "fairness.proportional",
        "recomputed False",
    ),
    # reasons naming what the case does not have
    "a reason naming an unknown payment": Forgery(
        "compensation",
        _reason(
            PaymentDue(
                payment="bribe",
                payer="a",
                payee="b",
                amount=1.0,
                unit="元",
                least=0.0,
                most=1.0,
                why="balance",
            )
        ),
        "reasons[-1]",
        "'bribe', not a payment",
    ),
    "a reason naming an unknown payee": Forgery(
        "compensation",
        _reason(
            PaymentDue(
                payment="comp",
                payer="a",
                payee="c",
                amount=50.0,
                unit="元",
                least=20.0,
                most=100.0,
                why="balance",
            )
        ),
        "reasons[-1]",
        "'c', who is not a party",
    ),
    "a reason naming an unknown contribution": Forgery(
        "pot",
        _reason(
            ContributionGiven(
                contribution="gift",
                stakeholder="street",
                issue="pot",
                amount=1.0,
                unit="元",
                least=0.0,
                most=1.0,
                why="balance",
                subsidy=True,
            )
        ),
        "reasons[-1]",
        "'gift', not a contribution",
    ),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_broken_invariant_is_reported(name: str) -> None:
    forgery = FORGERIES[name]
    sound = settled(forgery.case)
    forged = forgery.change(sound)
    path = forgery.path
    if path == "reasons[-1]":
        path = f"reasons[{len(forged.reasons) - 1}]"
    problems = validate_settlement(case_of(forgery.case), forged, optimality=False)
    assert any(p.path == path and forgery.words in p.message for p in problems), "\n".join(
        map(str, problems)
    )


def test_a_sound_alternative_passes() -> None:
    # the chosen option's entry giving the settlement's utilities is no problem
    sound = settled("lift")
    forged = _alternatives(a=_infeasible, b=_as_settled)(sound)
    assert validate_settlement(case_of("lift"), forged, optimality=False) == []


def test_a_fund_and_an_observer_count_in_nobodys_proportional_due() -> None:
    # the same allocation stated as not proportional passes: 20 < 100/2
    sound = settled("hall")
    assert sound.fairness is not None
    stated = sound.model_copy(
        update={"fairness": sound.fairness.model_copy(update={"proportional": False})}
    )
    problems = validate_settlement(case_of("hall"), stated, optimality=False)
    assert not [p for p in problems if p.path == "fairness.proportional"], problems


# --- the optimality certificate with money ---------------------------------------------------


def _pays(s: Settlement, p: float) -> Settlement:
    """Return the compensation settlement with a payment of ``p``, utilities to match.

    u_a = 100 − p, u_b = p; both ranges are 80 (see COMPENSATION).
    """
    gains = {"a": 100 - p, "b": p}
    parties = {
        k: o.model_copy(update={"utility": g, "gain": g, "normalized_gain": g / 80})
        for k, o in s.parties.items()
        for g in [gains[k]]
    }
    reasons = [
        r.model_copy(update={"amount": p}) if isinstance(r, PaymentDue) else r for r in s.reasons
    ]
    paid = _section("payments", "comp", amount=p)(s).model_copy(
        update={"parties": parties, "reasons": reasons}
    )
    return _fairness(min_normalized_gain=min(gains.values()) / 80)(paid)


@pytest.mark.parametrize("rule", ["leximin", "maximin", "kalai_smorodinsky"])
def test_the_certificate_finds_a_payment_that_does_not_balance(rule: str) -> None:
    # paying 40 leaves b at 40/80 = 0.5 where 50 raises both to 0.625: 0.125 of a range
    case = case_of("compensation")
    sound = settled("compensation", rule)
    assert optimality_problems(case, sound) == []
    short = _pays(sound, 40.0)
    assert validate_settlement(case, short, optimality=False) == []  # feasible, and sound
    for path in (False, True):
        if path:
            with via_linprog():
                found = optimality_problems(case, short)
        else:
            found = optimality_problems(case, short)
        assert [path for path, _ in found] == ["status"], found
        assert "from 0.5 to 0.625" in found[0][1], found
    problems = validate_settlement(case, short)
    assert [p.path for p in problems] == ["status"]


def test_the_certificate_finds_a_better_sum_and_a_better_product() -> None:
    # utilitarian: u_a + u_b = 100 whatever p, so every payment is optimal; Nash's
    # (100 − p) · p is largest at p = 50: at p = 21 its Frank–Wolfe gap is
    # max_y ∇f·(y − x) = (1/79)(−59) + (1/21)(59) ... over the payments y ∈ [20, 80]:
    # ∇ in p is −1/79 + 1/21 = 0.0349 per 元, times (80 − 21) = 2.06, over Σw = 2: 1.03
    case = case_of("compensation")
    for p in (21.0, 79.0):
        assert optimality_problems(case, _pays(settled("compensation", "utilitarian"), p)) == []
    found = optimality_problems(case, _pays(settled("compensation", "nash"), 21.0))
    assert len(found) == 1, found
    assert "Frank–Wolfe gap is 1.03" in found[0][1], found


def test_the_certificate_restates_a_funded_issue() -> None:
    # the pot's leximin split with a taking 20 instead of 22.5 (b 70): a's gain is 20/30 =
    # 0.667 where 0.75 is reachable
    case = case_of("pot")
    sound = settled("pot")
    assert optimality_problems(case, sound) == []
    parties = dict(sound.parties)
    parties["a"] = parties["a"].model_copy(
        update={"utility": 20.0, "gain": 20.0, "normalized_gain": 20 / 30}
    )
    parties["b"] = parties["b"].model_copy(
        update={"utility": 70.0, "gain": 70.0, "normalized_gain": 70 / 90}
    )
    short = sound.model_copy(update={"parties": parties})
    found = optimality_problems(case, short)
    assert len(found) == 1, found
    assert "of a (level 1" in found[0][1], found


def test_the_certificate_is_not_made_for_choices_or_whole_units() -> None:
    # a MIP: another rule's allocation passed off as leximin's is not judged by an LP
    case = case_of("lift")
    utilitarian = settled("lift", "utilitarian")
    assert optimality_problems(case, utilitarian.model_copy(update={"rule": "leximin"})) == []


def test_an_infeasible_settlement_lists_the_funds_and_observers_apart() -> None:
    # a constraint asks the street office for 120 元 or more; the pot holds at most 100
    case = load_case(
        POT
        + """constraints:
  - {name: street-more, terms: [{contribution: sub, coef: 1}], sense: ">=", rhs: 120}
"""
    )
    result = settle(case, check=False)
    assert result.status == "infeasible"
    assert validate_settlement(case, result) == []
    forged = result.model_copy(
        update={"funds": [], "parties": {**result.parties, "fund": result.parties["a"]}}
    )
    assert {p.path for p in validate_settlement(case, forged)} == {"funds", "parties.fund"}
