"""A settlement for the terminal, as rich tables; nothing is printed here.

The tables show who gets what, the parties' outcomes, fairness and the reasons in words.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..case import Case
from ..settlement import Settlement
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
        allocation = Table(
            text_column(head["issue"]),
            number_column(head["amount"]),
            text_column(head["shares"]),
            title=head["allocation"],
            show_lines=False,
        )
        for issue in case.issues:
            row = settlement.shares.get(issue.id, {})
            shown = display_shares(row)  # the issue's shares add up to exactly 100%
            count = counts_things(issue.unit)
            given = [
                head["given"].format(
                    party=case.stakeholder_by_id[p].label(lang),
                    share=share_text(shown[p], row[p]),
                    amount=format_amount(
                        settlement.amounts[issue.id][p], issue.unit, lang=lang, count=count
                    ),
                )
                for p in sorted(row, key=lambda p: -shown[p])
                if not is_dust(row[p])  # dust is nobody's: left out
            ]
            allocation.add_row(
                issue.label(lang),
                # the unit may go below the number when the column is narrow
                Text(
                    format_amount(issue.amount, issue.unit, lang=lang, count=count),
                    overflow="fold",
                ),
                "\n".join(given) or none,
            )
        parts.append(Fitted(allocation))
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
        out = settlement.parties[s.id]
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
