"""The reasons restated: every party, issue, constraint and lever a reason names is the case's."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..case import Case
from ..settlement import Settlement

__all__ = ["check_reasons"]

#: Fields naming one party, and fields whose keys (or items) are parties.
_PARTY_FIELDS = ("stakeholder", "to", "runner_up", "payer", "payee")
_PARTY_MAPS = ("shares", "points", "awards", "claims", "control", "relative_values")


def check_reasons(case: Case, settlement: Settlement, fail: Callable[[str, str], None]) -> None:
    """Check that each reason names only the case's parties, issues, constraints and levers.

    A lever is a payment, a contribution, a choice or an option (case format 1.1).
    """
    parties = {s.id for s in case.stakeholders}
    issues = {i.id for i in case.issues}
    constraints = {c.name for c in case.constraints}
    levers = {
        "payment": {p.id for p in case.payments},
        "contribution": {c.id for c in case.contributions},
        "choice": {c.id for c in case.choices},
        "option": set(case.option_by_id),
    }
    for k, reason in enumerate(settlement.reasons):
        data: dict[str, Any] = reason.model_dump()
        where = f"reasons[{k}]"
        named = [data[f] for f in _PARTY_FIELDS if data.get(f) is not None]
        named += list(data.get("parties") or [])
        for field in _PARTY_MAPS:
            named += list(data.get(field) or {})
        for party in named:
            if party not in parties:
                fail(where, f"{reason.code} names '{party}', who is not a party to the case")
        issue = data.get("issue")
        if issue is not None and issue not in issues:
            fail(where, f"{reason.code} names '{issue}', which is not an issue of the case")
        constraint = data.get("constraint")
        if constraint is not None and constraint not in constraints:
            fail(where, f"{reason.code} names '{constraint}', not a constraint of the case")
        for field, known in levers.items():
            ident = data.get(field)
            if isinstance(ident, str) and ident not in known:
                fail(where, f"{reason.code} names '{ident}', not a {field} of the case")
        for ident in data.get("contributions") or {}:
            if ident not in levers["contribution"]:
                fail(where, f"{reason.code} names '{ident}', not a contribution of the case")
        if reason.code in _LEVER_CODES:
            _check_lever(case, settlement, data, functools.partial(fail, where))


#: The reasons of case format 1.1's levers, restated against the settlement's figures.
_LEVER_CODES = frozenset(
    {"payment_due", "contribution_given", "option_chosen", "fund_share", "issue_funded"}
)


def _same(a: float, b: float) -> bool:
    # a reason carries the engine's figure, the settlement the same rounded to 14 digits
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _check_lever(
    case: Case, settlement: Settlement, data: dict[str, Any], fail: Callable[[str], None]
) -> None:
    """Check a lever's reason against the case and the settlement it explains.

    Who pays whom, who gives to what, whether a contribution is a subsidy (rate 0), the
    amounts (the settlement's, and the bound a reason says binds), the option chosen, a
    fund's share of an issue and a funded issue's size.
    """
    code = data["code"]
    if code == "payment_due":
        paid = next((p for p in case.payments if p.id == data["payment"]), None)
        made = settlement.payments.get(data["payment"])
        if paid is None or made is None:
            fail(f"payment_due: the settlement has no payment '{data['payment']}'")
            return
        if (data["payer"], data["payee"]) != (paid.payer, paid.payee):
            fail(f"payment_due: '{paid.id}' is paid by '{paid.payer}' to '{paid.payee}'")
        _check_amount(code, paid.id, data, made.amount, paid.min, paid.max, fail)
    elif code == "contribution_given":
        given = next((c for c in case.contributions if c.id == data["contribution"]), None)
        had = settlement.contributions.get(data["contribution"])
        if given is None or had is None:
            fail(f"{code}: the settlement has no contribution '{data['contribution']}'")
            return
        target = data["issue"] if data["issue"] is not None else data["choice"]
        if (data["stakeholder"], target) != (given.stakeholder, given.to):
            fail(f"{code}: '{given.id}' is given by '{given.stakeholder}' to '{given.to}'")
        if data["subsidy"] != (given.rate == 0):
            fail(f"{code}: '{given.id}' has rate {given.rate}, so subsidy is {given.rate == 0}")
        _check_amount(code, given.id, data, had.amount, given.min, given.max, fail)
    elif code == "option_chosen":
        choice = case.option_by_id.get(data["option"], (None, None))[0]
        made_choice = settlement.choices.get(data["choice"])
        if choice is None or choice.id != data["choice"]:
            fail(f"option_chosen: '{data['option']}' is not an option of '{data['choice']}'")
        elif made_choice is None or made_choice.chosen != data["option"]:
            fail(f"option_chosen: the settlement does not choose '{data['option']}'")
    elif code == "fund_share":
        fund, issue = data["stakeholder"], data["issue"]
        if fund not in case.funds:
            fail(f"fund_share: '{fund}' is not a fund")
        held = settlement.amounts.get(issue, {}).get(fund)
        if held is None or not _same(held, data["amount"]):
            fail(f"fund_share: '{fund}' holds {held} of '{issue}', not {data['amount']}")
    elif code == "issue_funded":
        issue = data["issue"]
        size = settlement.sizes.get(issue)
        if size is None or not _same(size, data["size"]):
            fail(f"issue_funded: the size of '{issue}' is {size}, not {data['size']}")
        funding = {c.id for c in case.contributions_to.get(issue, [])}
        if set(data["contributions"]) != funding:
            fail(f"issue_funded: '{issue}' is funded by {sorted(funding)}")


def _check_amount(
    code: str,
    ident: str,
    data: dict[str, Any],
    settled: float,
    least: float,
    most: float,
    fail: Callable[[str], None],
) -> None:
    """Check a payment's or contribution's amount: the settlement's, and the bound said."""
    amount = data["amount"]
    if not _same(amount, settled):
        fail(f"{code}: '{ident}' is {settled} in the settlement, not {amount}")
    bound = {"max": most, "min": least, "zero": 0.0}.get(data["why"])
    if bound is not None and not _same(amount, bound):
        fail(f"{code}: '{ident}' of {amount} is not at its {data['why']} ({bound})")
