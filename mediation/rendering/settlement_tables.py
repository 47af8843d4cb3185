"""A settlement for the terminal, as rich tables; nothing is printed here.

The tables show who gets what, the payments and contributions, the choices made, the
parties' outcomes, fairness and the reasons in words. Funds and observers are not parties:
they have no row among the parties' outcomes, and a fund's share of an issue is money set
aside, marked so. An issue shared in whole units is shown in whole units.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..case import Case, Issue
from ..reasons import NoRoom
from ..settlement import ChoiceMade, Settlement
from .layout import Fitted, number, number_column, text_column
from .numbers import (
    display_shares,
    format_amount,
    format_number,
    format_percent,
    is_dust,
    is_dust_amount,
)
from .phrases import counts_things, rule_name, scale_name, status_name, table_words
from .wording import render, share_text

__all__ = ["settlement_tables"]


def _money_unit(case: Case) -> str | None:
    """Return the money unit of the case's risks when they all share one (exposures' unit)."""
    units = {i.unit.strip() for i in case.issues if i.kind == "risk"}
    return units.pop() if len(units) == 1 else None


def settlement_tables(
    settlement: Settlement, case: Case, *, lang: str = "en"
) -> list[RenderableType]:
    """Return the settlement as a heading, the allocation and parties tables, fairness and reasons.

    Raises
    ------
    RenderError
        For a language other than those in :data:`~mediation.rendering.LANGUAGES` (a
        :class:`ValueError` too).
    """
    head = table_words(lang)  # the phrases' table_* words; a RenderError for another language
    none = head["none"]
    parts: list[RenderableType] = [
        Text(
            head["title"].format(
                title=case.title_in(lang),
                rule=rule_name(settlement.rule, lang),
                scale=scale_name(settlement.scale, lang),
                status=status_name(settlement.status, lang),
            ),
            style="bold",
        )
    ]
    if settlement.shares:
        parts.append(Fitted(_allocation(settlement, case, lang)))
    if settlement.payments or settlement.contributions:
        parts.append(Fitted(_money(settlement, case, lang)))
    parts += _choices(settlement, case, lang)
    parties = Table(
        text_column(head["party"]),
        *(
            number_column(head[key])
            for key in ("utility", "disagreement", "gain", "normalized", "worst", "expected")
        ),
        title=head["parties"],
    )
    money = _money_unit(case)

    def plain(value: float | None) -> str:
        return none if value is None else format_number(value, lang=lang)

    def percent(value: float | None) -> str:
        return none if value is None else format_percent(value)

    risk_total = sum(i.amount for i in case.issues if i.kind == "risk")

    def exposure(value: float) -> float:
        # what dust shares of the risks add up to is dust too
        return 0.0 if is_dust_amount(value, risk_total) else value

    for s in case.stakeholders:
        out = settlement.parties.get(s.id)
        if out is None:  # a fund or an observer: not a party whose gains are compared
            continue
        parties.add_row(
            s.label(lang),
            number(plain(out.utility)),
            number(plain(out.disagreement)),
            number(plain(out.gain)),
            number(percent(out.normalized_gain)),
            number(format_amount(exposure(out.exposure.worst_case), money, lang=lang)),
            number(
                format_amount(
                    exposure(
                        out.exposure.expected
                        if out.exposure.mitigated is None
                        else out.exposure.mitigated
                    ),
                    money,
                    lang=lang,
                )
            ),
        )
    parts.append(Fitted(parties))
    fair = settlement.fairness
    if fair is not None:

        def flag(value: bool | None) -> str:
            return head["unknown"] if value is None else head["yes" if value else "no"]

        parts.append(
            Text(
                head["fair_line"].format(
                    min=percent(fair.min_normalized_gain),
                    # a coefficient in [0, 1], read to two decimals: 4e-7 is solver noise
                    gini=plain(None if fair.gini is None else round(fair.gini, 2)),
                    ef=flag(fair.envy_free),
                    envy=plain(fair.max_envy),
                    prop=flag(fair.proportional),
                    po=flag(fair.pareto_optimal),
                )
            )
        )
    lines = render(settlement, lang=lang, case=case)
    # the bullet in a column of its own: a long Chinese line folds beside it, never below it
    reasons = Table.grid(padding=(0, 1, 0, 0))
    reasons.add_column(no_wrap=True)
    reasons.add_column(overflow="fold")
    for line in lines:
        # an indented line (a conflict's way out) belongs to the item above: no bullet
        sub = line.startswith(" ")
        reasons.add_row(" " if sub else head["bullet"], line)
    parts.append(Group(Text(head["reasons"], style="bold"), reasons))
    return parts


def _allocation(settlement: Settlement, case: Case, lang: str) -> Table:
    """Return the table of who gets what: each issue's shares and amounts.

    A funded issue's amount is its size (with the most it can hold); a fund's share is money
    set aside; an issue with a ``unit_size`` is in whole units.
    """
    head = table_words(lang)
    allocation = Table(
        text_column(head["issue"]),
        number_column(head["amount"]),
        text_column(head["shares"]),
        title=head["allocation"],
        show_lines=False,
    )
    funds = set(settlement.funds)
    for issue in case.issues:
        row = settlement.shares.get(issue.id, {})
        shown = display_shares(row)  # the issue's shares add up to exactly 100%
        given = [
            head["set_aside" if p in funds else "given"].format(
                party=case.stakeholder_by_id[p].label(lang),
                share=share_text(shown[p], row[p]),
                amount=_quantity(settlement.amounts[issue.id][p], issue, lang),
            )
            for p in sorted(row, key=lambda p: -shown[p])
            if not is_dust(row[p])  # dust is nobody's: left out
        ]
        total = _quantity(issue.amount, issue, lang)
        if issue.id in settlement.sizes:  # funded: its size, the sum of the contributions
            size = _quantity(settlement.sizes[issue.id], issue, lang)
            total = head["funded"].format(size=size, most=total)
        allocation.add_row(
            issue.label(lang),
            # the unit may go below the number when the column is narrow
            Text(total, overflow="fold"),
            "\n".join(given) or head["none"],
        )
    return allocation


def _quantity(value: float, issue: Issue, lang: str) -> str:
    """Return an amount of an issue in its unit: whole units when it has a ``unit_size``."""
    count = counts_things(issue.unit)
    return format_amount(value, issue.unit, lang=lang, count=count, unit_size=issue.unit_size)


def _money(settlement: Settlement, case: Case, lang: str) -> Table:
    """Return the table of payments and contributions: who gives whom (or what) how much.

    A contribution that costs its giver nothing (``rate`` 0) is a subsidy, never a risk.
    """
    head = table_words(lang)
    table = Table(
        text_column(head["from"]),
        text_column(head["to"]),
        number_column(head["sum"]),
        text_column(head["kind"]),
        title=head["money"],
    )

    def name(pid: str) -> str:
        return case.stakeholder_by_id[pid].label(lang) if pid in case.stakeholder_by_id else pid

    for paid in settlement.payments.values():
        money = format_amount(paid.amount, paid.unit, lang=lang)
        table.add_row(name(paid.payer), name(paid.payee), number(money), head["payment"])
    choices = {c.id: c for c in case.choices}
    rates = {c.id: c.rate for c in case.contributions}
    for cid, given in settlement.contributions.items():
        to = choices[given.to].label(lang) if given.to in choices else ""
        to = to or (case.issue_by_id[given.to].label(lang) if given.to in case.issue_by_id else "")
        kind = head["subsidy" if rates.get(cid) == 0 else "contribution"]
        money = format_amount(given.amount, given.unit, lang=lang)
        table.add_row(name(given.stakeholder), to or given.to, number(money), kind)
    return table


def _choices(settlement: Settlement, case: Case, lang: str) -> list[RenderableType]:
    """Return the tables of the choices: what each option gives, or the option chosen.

    A choice whose options were each settled (its ``alternatives``) has a table of what each
    option gives each party, the chosen one marked; the others share one table of the option
    chosen and its cost.
    """
    head = table_words(lang)
    plain: list[tuple[str, ChoiceMade]] = []
    tables: list[RenderableType] = []
    for choice in case.choices:
        made = settlement.choices.get(choice.id)
        if made is None:
            continue
        if not made.alternatives:
            plain.append((choice.label(lang), made))
            continue
        # a party no deal lifts above its no-deal outcome gets that under every option
        flat = {r.stakeholder for r in settlement.reasons if isinstance(r, NoRoom)}
        parties = [s for s in case.stakeholders if s.id in settlement.parties and s.id not in flat]
        table = Table(
            text_column(head["alternative"]),
            number_column(head["cost"]),
            *(number_column(s.label(lang)) for s in parties),
            title=head["options"].format(choice=choice.label(lang)),
        )
        for option in choice.options:
            alternative = made.alternatives.get(option.id)
            label = option.label(lang)
            settled = alternative is not None and alternative.status in ("optimal", "feasible")
            if option.id == made.chosen:
                label = head["chosen"].format(option=label)
            elif alternative is not None and not settled:
                label = head["not_settled"].format(
                    option=label, status=status_name(alternative.status, lang)
                )
            utilities = alternative.utilities if alternative is not None else {}
            cells = [
                head["none"] if (u := utilities.get(s.id)) is None else format_number(u, lang=lang)
                for s in parties
            ]
            cost = format_amount(option.cost, choice.unit, lang=lang)
            table.add_row(label, number(cost), *(number(c) for c in cells))
        tables.append(Fitted(table))
    if plain:
        table = Table(
            text_column(head["choice"]),
            text_column(head["option"]),
            number_column(head["cost"]),
            title=head["choices"],
        )
        for label, made in plain:
            chosen = case.option_by_id[made.chosen][1].label(lang)
            table.add_row(label, chosen, number(format_amount(made.cost, made.unit, lang=lang)))
        tables.insert(0, Fitted(table))
    return tables
