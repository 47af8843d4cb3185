"""The basis of a bound in a diagnosis: negotiable first, policy when needed, legal never.

Every case here is built by hand, its diagnosis worked out in the comments, and every
settlement held to the independent validator (``settle_checked``). A red line's elastic
cost is its change in shares (a constraint's: its change ÷ its largest coefficient), so a
case that makes the legal or policy bound the *cheapest* to give way shows that the tiers,
not the costs, keep it out of the concessions.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import interest, make_case, party, resource, risk, settle_checked
from hypothesis import given, reject
from hypothesis import strategies as st

from mediation.case import Case, parse_case
from mediation.errors import CaseError
from mediation.rendering import render
from mediation.settlement import Concession, Diagnosis, Settlement
from mediation.validator import validate_settlement

LAW = "物业管理条例 第十条"
RULES_OF_PURCHASE = "政府购买服务管理办法 第十二条"


def at_least(name: str, stakeholder: str, issue: str, rhs: float, **fields: Any) -> dict[str, Any]:
    """Return the extra constraint ``share(stakeholder, issue) ≥ rhs`` (a floor with a basis)."""
    term = {"stakeholder": stakeholder, "issue": issue, "coef": 1}
    return {"name": name, "terms": [term], "sense": ">=", "rhs": rhs, **fields}


def diagnosis_of(result: Settlement) -> Diagnosis:
    assert result.status == "infeasible"
    assert result.diagnosis is not None
    return result.diagnosis


def offered(diagnosis: Diagnosis) -> list[Concession]:
    """Every concession a diagnosis offers: the joint ones and each conflict's alternatives."""
    return [*diagnosis.concessions, *(a for c in diagnosis.conflicts for a in c.alternatives)]


def members(diagnosis: Diagnosis) -> list[set[tuple[Any, ...]]]:
    return [
        {(m.kind, m.stakeholder or m.constraint, m.basis, m.source) for m in c.constraints}
        for c in diagnosis.conflicts
    ]


def one_concession(diagnosis: Diagnosis) -> Concession:
    (joint,) = diagnosis.concessions
    return joint


# --- legal bounds --------------------------------------------------------------------------


def test_a_legal_floor_is_held_and_the_negotiable_floor_gives_way() -> None:
    # one resource g: a's floor of 0.6 is the law's, b's floor of 0.6 (an extra constraint)
    # is b's own; 0.6 + 0.6 = 1.2 > 1, so 0.2 must give way, all of it on b's side:
    # b's floor 0.6 → 0.4
    case = make_case(
        [party("a"), party("b")],
        [resource("g")],
        [
            interest("a", "g", 1, min_share=0.6, basis="legal", source=LAW),
            interest("b", "g", 1),
        ],
        constraints=[at_least("b-floor", "b", "g", 0.6)],
    )
    diagnosis = diagnosis_of(settle_checked(case))
    assert diagnosis.code == "red_lines_conflict"
    joint = one_concession(diagnosis)
    assert (joint.kind, joint.constraint, joint.basis) == ("constraint", "b-floor", "negotiable")
    assert joint.current == 0.6
    assert joint.proposed == pytest.approx(0.4)
    assert members(diagnosis) == [
        {("floor", "a", "legal", LAW), ("constraint", "b-floor", "negotiable", None)}
    ]
    (conflict,) = diagnosis.conflicts
    assert [a.constraint for a in conflict.alternatives] == ["b-floor"]


def quota_case(quota_basis: str) -> Case:
    """Return the case of a's quota on g, stated with a big coefficient on a fixed share.

    ``x_ag + 3·x_ai ≥ 3.6`` with a alone in i (x_ai = 1) is x_ag ≥ 0.6; b's floor on g is
    0.6. Giving way by 0.2 of g costs 0.2 on b's floor but 0.2 / 3 ≈ 0.067 on the quota
    (a constraint costs its change ÷ its largest coefficient): the quota is the cheapest.
    """
    quota = {
        "name": "a-quota",
        "terms": [
            {"stakeholder": "a", "issue": "g", "coef": 1},
            {"stakeholder": "a", "issue": "i", "coef": 3},
        ],
        "sense": ">=",
        "rhs": 3.6,
        "basis": quota_basis,
    }
    if quota_basis != "negotiable":
        quota["source"] = RULES_OF_PURCHASE
    return make_case(
        [party("a"), party("b")],
        [resource("g"), resource("i")],
        [interest("a", "g", 1), interest("a", "i", 1), interest("b", "g", 1, min_share=0.6)],
        constraints=[quota],
    )


def test_the_cheapest_concession_is_the_quota_while_it_is_negotiable() -> None:
    # the control: all negotiable, the elastic LP takes the cheapest, the quota 3.6 → 3.4
    joint = one_concession(diagnosis_of(settle_checked(quota_case("negotiable"))))
    assert (joint.kind, joint.constraint) == ("constraint", "a-quota")
    assert joint.proposed == pytest.approx(3.4)


@pytest.mark.parametrize("basis", ["legal", "policy"])
def test_a_cheaper_legal_or_policy_bound_is_held_while_a_negotiable_one_can_give_way(
    basis: str,
) -> None:
    # the same case with the quota the law's (or a policy's): b's floor 0.6 → 0.4 instead
    diagnosis = diagnosis_of(settle_checked(quota_case(basis)))
    assert diagnosis.code == "red_lines_conflict"
    joint = one_concession(diagnosis)
    assert (joint.kind, joint.stakeholder, joint.basis) == ("floor", "b", "negotiable")
    assert joint.current == 0.6
    assert joint.proposed == pytest.approx(0.4)
    assert members(diagnosis) == [
        {("floor", "b", "negotiable", None), ("constraint", "a-quota", basis, RULES_OF_PURCHASE)}
    ]
    assert all(c.basis == "negotiable" for c in offered(diagnosis))


def legal_pair(**more: Any) -> Case:
    """Return the case of a's floor of 0.6 on g set by one law and b's 0.6 by another."""
    return make_case(
        [party("a"), party("b")],
        [resource("g"), *more.pop("issues", [])],
        [
            interest("a", "g", 1, min_share=0.6, basis="legal", source=LAW),
            interest("b", "g", 1),
            *more.pop("interests", []),
        ],
        constraints=[
            at_least("b-floor", "b", "g", 0.6, basis="legal", source=RULES_OF_PURCHASE),
            *more.pop("constraints", []),
        ],
    )


def test_two_legal_floors_that_cannot_both_hold_are_a_legal_conflict() -> None:
    result = settle_checked(legal_pair())
    diagnosis = diagnosis_of(result)
    assert diagnosis.code == "legal_conflict"
    assert diagnosis.concessions == []
    assert members(diagnosis) == [
        {("floor", "a", "legal", LAW), ("constraint", "b-floor", "legal", RULES_OF_PURCHASE)}
    ]
    assert all(c.alternatives == [] and c.irreducible for c in diagnosis.conflicts)


def test_a_legal_conflict_beside_a_negotiable_one_names_the_legal_bounds_only() -> None:
    # on h a's floor 0.7 and b's floor 0.5 (both negotiable) could give way; on g the two
    # legal floors cannot: freeing every bound that is not legal still leaves no deal
    case = legal_pair(
        issues=[resource("h")],
        interests=[interest("a", "h", 1, min_share=0.7), interest("b", "h", 1)],
        constraints=[at_least("b-floor-h", "b", "h", 0.5)],
    )
    diagnosis = diagnosis_of(settle_checked(case))
    assert diagnosis.code == "legal_conflict"
    assert diagnosis.concessions == []
    assert members(diagnosis) == [
        {("floor", "a", "legal", LAW), ("constraint", "b-floor", "legal", RULES_OF_PURCHASE)}
    ]


def test_a_legal_risk_capacity_is_held() -> None:
    # risk r of 100 元: a may bear at most 30 元 by law (x_ar ≤ 0.3), b caps its share at 0.5:
    # 0.3 + 0.5 < 1, so 0.2 of r is nobody's; only b's cap can give way: 0.5 → 0.7 (without
    # individual rationality: bearing a risk is a loss, below the no-deal outcome of 0)
    case = make_case(
        [
            party("a", risk_capacity=30, capacity_basis="legal", capacity_source=LAW),
            party("b"),
        ],
        [risk("r", 100, unit="元", probability=0.5)],
        [interest("a", "r", 50), interest("b", "r", 50, max_share=0.5)],
    )
    diagnosis = diagnosis_of(settle_checked(case, individually_rational=False))
    joint = one_concession(diagnosis)
    assert (joint.kind, joint.stakeholder, joint.basis) == ("cap", "b", "negotiable")
    assert joint.proposed == pytest.approx(0.7)
    assert members(diagnosis) == [
        {("capacity", "a", "legal", LAW), ("cap", "b", "negotiable", None)}
    ]


# --- policy bounds ---------------------------------------------------------------------------


def test_a_policy_bound_is_conceded_only_when_the_negotiable_ones_cannot_suffice() -> None:
    # a's floor of 0.6 is the law's, b's 0.6 a policy's: no negotiable bound takes part, so
    # the policy floor gives way, 0.6 → 0.4, and says it is a policy's
    case = make_case(
        [party("a"), party("b")],
        [resource("g")],
        [
            interest("a", "g", 1, min_share=0.6, basis="legal", source=LAW),
            interest("b", "g", 1),
        ],
        constraints=[at_least("b-floor", "b", "g", 0.6, basis="policy", source=RULES_OF_PURCHASE)],
    )
    result = settle_checked(case)
    diagnosis = diagnosis_of(result)
    assert diagnosis.code == "red_lines_conflict"
    joint = one_concession(diagnosis)
    assert (joint.constraint, joint.basis, joint.source) == (
        "b-floor",
        "policy",
        RULES_OF_PURCHASE,
    )
    assert joint.proposed == pytest.approx(0.4)
    english = "\n".join(render(result, lang="en", case=case))
    assert "include bounds set by policy" in english
    assert f"(a policy bound, set by {RULES_OF_PURCHASE})" in english
    assert f"set by {LAW} (legal: not negotiable)" in english
    chinese = "\n".join(render(result, lang="zh", case=case))
    assert f"（政策界限，依据{RULES_OF_PURCHASE}）" in chinese
    assert f"（依据{LAW}；法定，不可协商）" in chinese


def test_a_policy_bound_gives_way_no_further_than_the_negotiable_ones_cannot() -> None:
    # on g: a's legal floor 0.5 and b's policy floor 0.6 (0.1 too much: only the policy
    # floor can give way, by exactly 0.1); on h: a's floor 0.7 and b's floor 0.5, both
    # negotiable (0.2 too much, given way on h by negotiable bounds alone)
    case = make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 1, min_share=0.5, basis="legal", source=LAW),
            interest("b", "g", 1),
            interest("a", "h", 1, min_share=0.7),
            interest("b", "h", 1, min_share=0.3),
        ],
        constraints=[
            at_least("b-floor-g", "b", "g", 0.6, basis="policy", source=RULES_OF_PURCHASE),
            at_least("b-floor-h", "b", "h", 0.5),
        ],
    )
    diagnosis = diagnosis_of(settle_checked(case))
    policy = [c for c in diagnosis.concessions if c.basis == "policy"]
    negotiable = [c for c in diagnosis.concessions if c.basis == "negotiable"]
    (given_way,) = policy
    assert given_way.constraint == "b-floor-g"
    assert given_way.proposed == pytest.approx(0.5)
    assert sum(abs(c.change) for c in negotiable) == pytest.approx(0.2)
    assert {c.issue or c.constraint for c in negotiable} <= {"h", "b-floor-h"}


# --- amount bounds ---------------------------------------------------------------------------


def income_case(**property_company: Any) -> Case:
    """Return 468,000 元 of public income, of which the owners get at least 85% by law."""
    return make_case(
        [party("wuye"), party("yezhu")],
        [resource("income", 468_000, unit="元")],
        [interest("wuye", "income", 1, **property_company), interest("yezhu", "income", 1)],
        constraints=[at_least("owners-share", "yezhu", "income", 0.85, basis="legal", source=LAW)],
    )


def test_an_amount_floor_is_reported_in_the_issues_unit() -> None:
    # the property company keeps at least its cost, 96,000 元 (0.205 of 468,000); the owners'
    # legal 85% leaves it 15% = 70,200 元: its floor 96,000 元 → 70,200 元 (−25,800 元)
    result = settle_checked(income_case(min_amount=96_000))
    diagnosis = diagnosis_of(result)
    joint = one_concession(diagnosis)
    assert (joint.kind, joint.stakeholder, joint.unit) == ("floor", "wuye", "元")
    assert joint.current == 96_000
    assert joint.proposed == pytest.approx(70_200)
    assert joint.change == pytest.approx(-25_800)
    (floor,) = [m for c in diagnosis.conflicts for m in c.constraints if m.kind == "floor"]
    assert (floor.bound, floor.unit) == (96_000, "元")
    english = render(result, lang="en", case=income_case(min_amount=96_000))
    assert any("from 96,000 元 to 70,200 元" in line for line in english)


def test_the_tighter_bound_is_the_one_reported() -> None:
    # a share floor of 0.3 (140,400 元) is tighter than 96,000 元: reported as a share,
    # 0.3 → 0.15; a share floor of 0.1 (46,800 元) is looser: the amount is reported
    by_share = one_concession(
        diagnosis_of(settle_checked(income_case(min_share=0.3, min_amount=96_000)))
    )
    assert (by_share.unit, by_share.current) == ("share", 0.3)
    assert by_share.proposed == pytest.approx(0.15)
    by_amount = one_concession(
        diagnosis_of(settle_checked(income_case(min_share=0.1, min_amount=96_000)))
    )
    assert (by_amount.unit, by_amount.current) == ("元", 96_000)
    assert by_amount.proposed == pytest.approx(70_200)


def test_an_amount_cap_on_an_issue_without_a_unit_is_in_amount() -> None:
    # 100 of g without a unit; a takes at most 30 of it, b at most 50% by law: 20 are
    # nobody's and a's cap rises 30 → 50
    case = make_case(
        [party("a"), party("b")],
        [resource("g", 100)],
        [
            interest("a", "g", 1, max_amount=30),
            interest("b", "g", 1, max_share=0.5, basis="legal", source=LAW),
        ],
    )
    joint = one_concession(diagnosis_of(settle_checked(case)))
    assert (joint.kind, joint.stakeholder, joint.unit, joint.current) == ("cap", "a", "amount", 30)
    assert joint.proposed == pytest.approx(50)


def test_an_amount_floor_on_whole_units_gives_way_to_a_whole_number() -> None:
    # 12 posts in whole units: a's floor of 7.5 posts holds as 8; b must by law get half
    # (6 posts), so a's floor falls to 12 − 6 = 6 posts
    case = make_case(
        [party("a"), party("b")],
        [resource("posts", 12, unit="个", unit_size=1)],
        [interest("a", "posts", 1, min_amount=7.5), interest("b", "posts", 1)],
        constraints=[at_least("half", "b", "posts", 0.5, basis="legal", source=LAW)],
    )
    joint = one_concession(diagnosis_of(settle_checked(case)))
    assert (joint.unit, joint.current, joint.proposed) == ("个", 7.5, 6)


# --- payments --------------------------------------------------------------------------------


def compensation_case(payment_basis: str) -> Case:
    """Return the case of upper floors paying at most 60,000 元 against a 70,000 元 standard."""
    return make_case(
        [party("upper"), party("ground")],
        [resource("lift", 1)],
        [interest("upper", "lift", 200_000)],
        payments=[
            {
                "id": "compensation",
                "payer": "upper",
                "payee": "ground",
                "max": 60_000,
                "unit": "元",
                "basis": payment_basis,
                **({"source": LAW} if payment_basis == "legal" else {}),
            }
        ],
        constraints=[
            {
                "name": "standard",
                "terms": [{"payment": "compensation", "coef": 1}],
                "sense": ">=",
                "rhs": 70_000,
                "basis": "legal",
                "source": RULES_OF_PURCHASE,
            }
        ],
    )


def test_a_payments_most_gives_way_in_its_unit() -> None:
    # the upper floors' most, 60,000 元, rises to the standard's 70,000 元 (they still gain:
    # 200,000 − 70,000 ≥ 0)
    diagnosis = diagnosis_of(settle_checked(compensation_case("negotiable")))
    joint = one_concession(diagnosis)
    assert (joint.kind, joint.payment, joint.stakeholder, joint.unit) == (
        "payment_cap",
        "compensation",
        "upper",
        "元",
    )
    assert joint.current == 60_000
    assert joint.proposed == pytest.approx(70_000)


def test_a_legal_most_of_a_payment_against_a_legal_standard_is_a_legal_conflict() -> None:
    diagnosis = diagnosis_of(settle_checked(compensation_case("legal")))
    assert diagnosis.code == "legal_conflict"
    assert diagnosis.concessions == []
    (conflict,) = diagnosis.conflicts
    assert {(m.kind, m.payment or m.constraint, m.source) for m in conflict.constraints} == {
        ("payment_cap", "compensation", LAW),
        ("constraint", "standard", RULES_OF_PURCHASE),
    }


def test_a_contributions_most_gives_way_in_its_targets_unit() -> None:
    # the street office gives at most 200,000 元 to a subsidy fund of up to 300,000 元; a
    # matching rule (legal) wants at least 250,000 元: its most rises 200,000 → 250,000 元
    case = make_case(
        [party("street"), party("ngo")],
        [resource("subsidy", 300_000, unit="元")],
        [interest("ngo", "subsidy", 1)],
        contributions=[
            {"id": "grant", "stakeholder": "street", "to": "subsidy", "max": 200_000, "rate": 0}
        ],
        constraints=[
            {
                "name": "matching",
                "terms": [{"contribution": "grant", "coef": 1}],
                "sense": ">=",
                "rhs": 250_000,
                "basis": "legal",
                "source": RULES_OF_PURCHASE,
            }
        ],
    )
    joint = one_concession(diagnosis_of(settle_checked(case)))
    assert (joint.kind, joint.contribution, joint.stakeholder, joint.unit) == (
        "contribution_cap",
        "grant",
        "street",
        "元",
    )
    assert joint.current == 200_000
    assert joint.proposed == pytest.approx(250_000)


# --- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", ["legal bounds alone make a deal impossible", "no party can concede them"]),
        ("zh", ["仅凭法定界限本身就无法达成协议", "任何一方都无权让步"]),
    ],
)
def test_a_legal_conflict_is_told_with_its_sources_and_no_concession(
    lang: str, said: list[str]
) -> None:
    case = legal_pair()
    text = "\n".join(render(settle_checked(case), lang=lang, case=case))
    for words in [*said, LAW, RULES_OF_PURCHASE]:
        assert words in text
    assert ("lowers" not in text) if lang == "en" else ("降至" not in text)


# --- the validator ---------------------------------------------------------------------------


def tampered(result: Settlement, **changes: Any) -> Settlement:
    diagnosis = diagnosis_of(result)
    return result.model_copy(update={"diagnosis": diagnosis.model_copy(update=changes)})


def problems_of(case: Case, result: Settlement) -> list[str]:
    return [p.path for p in validate_settlement(case, result)]


def test_the_validator_refuses_a_legal_concession() -> None:
    case = legal_pair()
    result = settle_checked(case)
    legal_floor = Concession(
        kind="floor", stakeholder="a", issue="g", basis="legal", source=LAW,
        current=0.6, proposed=0.4, change=-0.2, unit="share",
    )  # fmt: skip
    bad = tampered(result, code="red_lines_conflict", concessions=[legal_floor])
    assert "diagnosis.concessions[0].basis" in problems_of(case, bad)
    # a legal conflict offers no concession, even a negotiable one
    other = legal_floor.model_copy(update={"basis": "negotiable", "kind": "cap", "current": 1.0})
    assert "diagnosis.concessions" in problems_of(case, tampered(result, concessions=[other]))


def test_the_validator_checks_basis_source_and_unit_against_the_case() -> None:
    case = income_case(min_amount=96_000)
    result = settle_checked(case)
    diagnosis = diagnosis_of(result)
    (conflict,) = diagnosis.conflicts
    first, *rest = conflict.constraints
    for change, field in [
        ({"basis": "policy"}, "basis"),
        ({"source": "another law"}, "source"),
        ({"unit": "share"}, "unit"),
    ]:
        bad_member = first.model_copy(update=change)
        bad_conflict = conflict.model_copy(update={"constraints": [bad_member, *rest]})
        found = problems_of(case, tampered(result, conflicts=[bad_conflict]))
        assert f"diagnosis.conflicts[0].constraints[0].{field}" in found, (change, found)
    joint = one_concession(diagnosis)
    as_share = joint.model_copy(update={"unit": "share", "proposed": 0.15})
    assert "diagnosis.concessions[0].unit" in problems_of(
        case, tampered(result, concessions=[as_share])
    )


# --- a property ------------------------------------------------------------------------------

BASES = ("negotiable", "policy", "legal")


@st.composite
def based_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Two or three parties, one or two issues, floors, caps and single-share constraints.

    Each bound has a random basis; the case is the document, parsed by the test.
    """
    parties = [f"p{k}" for k in range(draw(st.integers(2, 3)))]
    issues = [f"i{k}" for k in range(draw(st.integers(1, 2)))]
    interests = []
    for p in parties:
        for i in issues:
            x: dict[str, Any] = interest(p, i, draw(st.sampled_from([1, 2, 3])))
            floor = draw(st.sampled_from([None, 0.2, 0.4, 0.6]))
            cap = draw(st.sampled_from([None, 0.5, 0.8]))
            if floor is not None:
                x["min_share"] = floor
            if cap is not None and (floor is None or cap >= floor):
                x["max_share"] = cap
            if floor is not None or "max_share" in x:
                x["basis"] = draw(st.sampled_from(BASES))
            interests.append(x)
    constraints = []
    for n in range(draw(st.integers(0, 3))):
        term = {
            "stakeholder": draw(st.sampled_from(parties)),
            "issue": draw(st.sampled_from(issues)),
        }
        constraints.append(
            {
                "name": f"c{n}",
                "terms": [{**term, "coef": 1}],
                "sense": draw(st.sampled_from([">=", "<="])),
                "rhs": draw(st.sampled_from([0.3, 0.5, 0.7, 0.9])),
                "basis": draw(st.sampled_from(BASES)),
            }
        )
    return {
        "id": "t",
        "title": "t",
        "stakeholders": [party(p) for p in parties],
        "issues": [resource(i) for i in issues],
        "interests": interests,
        "constraints": constraints,
    }


def kept_bounds(document: dict[str, Any], bases: set[str]) -> Case:
    """Return the case with only the bounds whose basis is in ``bases``."""
    interests = []
    for x in document["interests"]:
        if x.get("basis", "negotiable") not in bases:
            x = {k: v for k, v in x.items() if k not in ("min_share", "max_share", "basis")}
        interests.append(x)
    constraints = [c for c in document["constraints"] if c["basis"] in bases]
    return parse_case({**document, "interests": interests, "constraints": constraints})


@given(based_cases())
def test_legal_bounds_never_appear_in_concessions(document: dict[str, Any]) -> None:
    try:
        case = parse_case(document)
    except CaseError:
        reject()
    result = settle_checked(case)
    if result.status != "infeasible":
        return
    diagnosis = diagnosis_of(result)
    assert all(c.basis != "legal" for c in offered(diagnosis))
    # the tiers restated on the case itself: with only the legal bounds left the case is
    # infeasible exactly when the diagnosis says the legal bounds alone conflict
    legal_alone = settle_checked(kept_bounds(document, {"legal"})).status
    if diagnosis.code == "legal_conflict":
        assert diagnosis.concessions == []
        assert legal_alone == "infeasible"
        assert all(m.basis == "legal" for c in diagnosis.conflicts for m in c.constraints)
    else:
        assert legal_alone in ("optimal", "feasible")
        # a policy bound is conceded exactly when the legal and policy bounds alone conflict
        conceded = any(c.basis == "policy" for c in diagnosis.concessions)
        held = settle_checked(kept_bounds(document, {"legal", "policy"})).status
        assert (held == "infeasible") == conceded
