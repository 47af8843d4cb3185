"""A settlement for the terminal, as rich tables; nothing is printed here.

The tables show who gets what, the parties' outcomes, fairness and the reasons in words.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..case import Case
from ..settlement import Settlement
from .wording import _phrases, render

__all__ = ["settlement_tables"]

_HEAD = {
    "en": {
        "title": "{title} — rule: {rule} ({scale}), status: {status}",
        "allocation": "Allocation",
        "issue": "Issue",
        "amount": "Amount",
        "shares": "Who gets what",
        "parties": "Parties",
        "party": "Party",
        "utility": "Utility",
        "disagreement": "No deal",
        "gain": "Gain",
        "normalized": "Of possible gain",
        "worst": "Worst-case exposure",
        "expected": "Expected loss",
        "fairness": "Fairness",
        "yes": "yes",
        "no": "no",
        "unknown": "not checked",
        "fair_line": "smallest share of possible gain {min}; Gini {gini}; envy-free {ef} "
        "(largest envy {envy}); proportional {prop}; Pareto-optimal {po}",
        "reasons": "Why",
        "none": "—",
    },
    "zh": {
        "title": "{title} —— 规则：{rule}（{scale}），状态：{status}",
        "allocation": "分配方案",
        "issue": "议题",
        "amount": "总量",
        "shares": "分配结果",
        "parties": "各方结果",
        "party": "当事方",
        "utility": "效用",
        "disagreement": "无协议结果",
        "gain": "收益",
        "normalized": "占可能收益",
        "worst": "最坏风险敞口",
        "expected": "预期损失",
        "fairness": "公平性",
        "yes": "是",
        "no": "否",
        "unknown": "未检验",
        "fair_line": "最小收益比例 {min}；基尼系数 {gini}；无嫉妒 {ef}（最大嫉妒 {envy}）；"
        "比例公平 {prop}；帕累托最优 {po}",
        "reasons": "理由",
        "none": "—",
    },
}


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    if abs(value) < 1e-9:
        value = 0.0
    return f"{100 * value:.1f}%" if percent else f"{value:,.4g}"


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
    _phrases(lang)  # the headings have the same languages as the phrases
    head = _HEAD[lang]
    parts: list[RenderableType] = [
        Text(
            head["title"].format(
                title=case.title_in(lang),
                rule=settlement.rule,
                scale=settlement.scale,
                status=settlement.status,
            ),
            style="bold",
        )
    ]
    if settlement.shares:
        allocation = Table(title=head["allocation"], show_lines=False)
        allocation.add_column(head["issue"])
        allocation.add_column(head["amount"], justify="right")
        allocation.add_column(head["shares"])
        for issue in case.issues:
            row = settlement.shares.get(issue.id, {})
            given = [
                f"{case.stakeholder_by_id[p].label(lang)} {100 * s:.1f}% "
                f"({settlement.amounts[issue.id][p]:,.4g} {issue.unit})".replace(" )", ")")
                for p, s in sorted(row.items(), key=lambda kv: -kv[1])
                if s > 1e-9
            ]
            allocation.add_row(
                issue.label(lang),
                f"{issue.amount:,.4g} {issue.unit}".strip(),
                "\n".join(given) or head["none"],
            )
        parts.append(allocation)
    parties = Table(title=head["parties"])
    for key in ("party", "utility", "disagreement", "gain", "normalized", "worst", "expected"):
        parties.add_column(head[key], justify="left" if key == "party" else "right")
    for s in case.stakeholders:
        out = settlement.parties[s.id]
        parties.add_row(
            s.label(lang),
            _fmt(out.utility),
            _fmt(out.disagreement),
            _fmt(out.gain),
            _fmt(out.normalized_gain, percent=True),
            _fmt(out.exposure.worst_case),
            _fmt(out.exposure.expected),
        )
    parts.append(parties)
    fair = settlement.fairness
    if fair is not None:

        def flag(value: bool | None) -> str:
            return head["unknown"] if value is None else head["yes" if value else "no"]

        parts.append(
            Text(
                head["fairness"]
                + ": "
                + head["fair_line"].format(
                    min=_fmt(fair.min_normalized_gain, percent=True),
                    gini=_fmt(fair.gini),
                    ef=flag(fair.envy_free),
                    envy=_fmt(fair.max_envy),
                    prop=flag(fair.proportional),
                    po=flag(fair.pareto_optimal),
                )
            )
        )
    lines = render(settlement, lang=lang, case=case)
    parts.append(Group(Text(head["reasons"], style="bold"), *(Text("• " + line) for line in lines)))
    return parts
