"""The rule registry: everything that lists rules reads it, and a new rule plugs in by it alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from conftest import interest, make_case, party, resource, settle_checked
from typer.testing import CliRunner

from mediation import render
from mediation.backends import Status
from mediation.case import Case, case_json_schema, parse_case
from mediation.errors import CaseError, PolicyError, Problem
from mediation.rules import RULES, RuleSpec, get_rule, register, rule_names, unregister
from mediation.rules.base import Context, RuleResult
from mediation.settlement import Settlement
from mediation.validator import GUARANTEES, register_guarantee

# --- two rules written here, as a contributor would -------------------------------------------


def equal_split(ctx: Context) -> RuleResult:
    """Each issue in equal parts among the parties with an interest in it."""
    index = ctx.index
    counts = np.bincount(index.pair_issue, minlength=len(index.issues))
    return RuleResult(Status.OPTIMAL, shares=1.0 / counts[index.pair_issue])


def no_red_lines(case: Case, policy: Any) -> list[Problem]:
    """Equal split ignores red lines: a case with some is refused."""
    if any(x.min_share or x.max_share is not None for x in case.interests) or case.constraints:
        return [Problem("interests", "equal_split takes no floors, caps or constraints")]
    return []


def equal_shares(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """Equal split's promise, restated: every interested party has the same share."""
    for issue in case.issues:
        mine = [share[x.stakeholder, issue.id] for x in case.interests if x.issue == issue.id]
        if max(mine) - min(mine) > 1e-9:
            fail(f"shares.{issue.id}", f"shares {mine} are not equal")


def first_party_first(ctx: Context) -> RuleResult:
    """Make the first party as well off as it can be; then raise the sum of everybody's utility."""
    session, model = ctx.session, ctx.model
    session.set_objective(model.expression([(model.u[0], 1.0)]), maximize=True)
    status = ctx.solve()
    if not status.solved:
        return RuleResult(status, lps=session.solves)
    best = session.objective_value()
    session.set_bounds([model.u[0]], [best - 1e-9 * ctx.span[0]], [np.inf])
    session.set_objective(model.utility_expression(np.ones(len(model.u))), maximize=True)
    status = ctx.solve()
    if not status.solved:
        return RuleResult(status, lps=session.solves)
    return RuleResult(status, shares=session.values(model.x), lps=session.solves)


def first_at_its_ideal(
    case: Case,
    settlement: Settlement,
    share: dict[tuple[str, str], float],
    fail: Callable[[str, str], None],
) -> None:
    """Check that the first party reaches its ideal point."""
    first = settlement.parties[case.stakeholders[0].id]
    assert first.utility is not None
    assert first.ideal is not None
    if first.utility < first.ideal - 1e-6 * max(1.0, abs(first.ideal)):
        fail(f"parties.{case.stakeholders[0].id}", f"{first.utility} is below {first.ideal}")


@pytest.fixture
def plugged() -> Iterator[None]:
    """Register the two rules (and their guarantees) for one test, and take them out after."""
    register(RuleSpec("equal_split", "procedural", "equal parts", equal_split, no_red_lines))
    register(RuleSpec("first_party_first", "lp", "the first party first", first_party_first))
    register_guarantee("equal_split", equal_shares)
    register_guarantee("first_party_first", first_at_its_ideal)
    yield
    for name in ("equal_split", "first_party_first"):
        unregister(name)
        GUARANTEES.pop(name)


def market() -> Case:
    """Two parties who each value most what the other values least."""
    return make_case(
        [party("a"), party("b")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 3),
            interest("a", "h", 1),
            interest("b", "g", 1),
            interest("b", "h", 3),
        ],
    )


@pytest.mark.usefixtures("plugged")
def test_a_procedural_rule_plugs_in_through_the_registry_alone() -> None:
    result = settle_checked(market(), rule="equal_split")
    assert result.status == "optimal"
    assert result.shares == {"g": {"a": 0.5, "b": 0.5}, "h": {"a": 0.5, "b": 0.5}}
    # a swap makes both better off: the engine's own Pareto check says so
    assert result.fairness is not None
    assert result.fairness.pareto_optimal is False
    assert render(result)  # no reason of its own: the generic sentences describe it


@pytest.mark.usefixtures("plugged")
def test_a_plugged_rule_states_its_own_preconditions() -> None:
    capped = make_case(
        [party("a"), party("b")],
        [resource("g")],
        [interest("a", "g", 1, max_share=0.3), interest("b", "g", 1)],
    )
    with pytest.raises(PolicyError, match="equal_split takes no floors"):
        settle_checked(capped, rule="equal_split")


@pytest.mark.usefixtures("plugged")
def test_an_lp_rule_plugs_in_with_red_lines_and_the_validator_holds_it_to_its_guarantee() -> None:
    case = make_case(
        [party("a"), party("b"), party("c")],
        [resource("g"), resource("h")],
        [
            interest("a", "g", 3),
            interest("a", "h", 1, max_share=0.5),
            interest("b", "g", 1),
            interest("b", "h", 2),
            interest("c", "h", 5),
        ],
    )
    result = settle_checked(case, rule="first_party_first")
    assert result.status == "optimal"
    assert result.shares["g"]["a"] == pytest.approx(1.0)
    assert result.shares["h"]["a"] == pytest.approx(0.5)  # the cap holds
    assert result.shares["h"]["c"] == pytest.approx(0.5)  # then the sum
    # the validator's guarantee for the rule can fail: a settlement that breaks it is caught
    broken = result.model_copy(
        update={
            "parties": {
                **result.parties,
                "a": result.parties["a"].model_copy(update={"ideal": 10.0}),
            }
        }
    )
    problems: list[str] = []
    first_at_its_ideal(case, broken, {}, lambda path, message: problems.append(path))
    assert problems == ["parties.a"]


@pytest.mark.usefixtures("plugged")
def test_a_plugged_rule_is_a_valid_policy_and_in_the_schema() -> None:
    document = market().model_dump(mode="json", exclude_none=True)
    document["policy"] = {"rule": "equal_split"}
    assert parse_case(document).policy.rule == "equal_split"
    rule = case_json_schema()["$defs"]["Policy"]["properties"]["rule"]
    assert "equal_split" in rule["enum"]


def test_an_unknown_rule_is_refused_with_the_registered_ones_listed() -> None:
    document = market().model_dump(mode="json", exclude_none=True)
    document["policy"] = {"rule": "equal_split"}
    with pytest.raises(CaseError, match=r"policy\.rule: must be one of 'utilitarian'"):
        parse_case(document)
    with pytest.raises(PolicyError, match=r"unknown rule 'equal_split'; choose one of utilitarian"):
        get_rule("equal_split")


def test_every_registered_rule_has_a_guarantee_and_the_schema_lists_them_all() -> None:
    assert set(GUARANTEES) == set(rule_names())
    rule = case_json_schema()["$defs"]["Policy"]["properties"]["rule"]
    assert rule["enum"] == list(rule_names())


def test_a_name_is_registered_once() -> None:
    with pytest.raises(PolicyError, match="exists already"):
        register(RuleSpec("leximin", "lp", "another leximin", first_party_first))
    assert RULES["leximin"].summary.startswith("raise the worst-off")


def test_the_command_line_lists_the_registered_rules() -> None:
    from mediation.cli import app

    result = CliRunner().invoke(app, ["settle", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    for name in rule_names():
        assert name in result.stdout
