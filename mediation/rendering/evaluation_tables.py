"""A what-if for the terminal: the free settlement beside the pinned one, as one table.

The table has a block of rows per party (utility, fraction of its possible gain against the
free case's ideals, expected loss, worst-case exposure, burden, and each issue whose share
the pins move, in the issue's own unit), then the fairness figures; the sentences below say
where each pin stands, what the pins cost whom, and, when the pins leave no deal, which pins
and red lines clash and what would end it. Nothing is printed here.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..case import Case
from ..evaluation import Evaluation, Figures
from ..settlement import Fairness
from .layout import Fitted, number, number_column, text_column
from .numbers import format_amount, format_number, format_percent, join_list
from .phrases import counts_things, rule_name, section, status_name
from .wording import Words, _change, _conflict, _tidy

__all__ = ["evaluation_sentences", "evaluation_tables"]


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 and not text.startswith(("+", "-", "−")) else text


def evaluation_tables(
    evaluation: Evaluation, case: Case, *, lang: str = "en"
) -> list[RenderableType]:
    """Return the evaluation as a heading, the comparison table and its sentences.

    Raises
    ------
    RenderError
        For a language there are no phrases for.
    """
    w = section(lang, "whatif")
    none = w["none"]
    money = _risk_unit(case)
    pins = _pins_text(evaluation, case, lang)
    parts: list[RenderableType] = [
        Text(
            w["title"].format(
                title=case.title_in(lang),
                pins=pins,
                rule=rule_name(evaluation.rule, lang),
                status=status_name(evaluation.pinned.status, lang),
            ),
            style="bold",
        )
    ]
    table = Table(
        text_column(w["measure"]),
        number_column(w["free"]),
        number_column(w["pinned"]),
        number_column(w["change"]),
        title=w["table"],
    )

    def plain(value: float | None) -> str:
        return none if value is None else format_number(value, lang=lang)

    def percent(value: float | None) -> str:
        return none if value is None else format_percent(value)

    def cash(value: float | None) -> str:
        return none if value is None else format_amount(value, money, lang=lang)

    def diff(a: float | None, b: float | None, show: str) -> str:
        if a is None or b is None:
            return none
        delta = b - a
        # what the solvers' tolerance moves (a leximin level is held within 1e-9 of a range):
        # relative to the figures themselves, whatever their size (1e-6 元 or 1e9 元)
        if abs(delta) <= 1e-6 * max(abs(a), abs(b)) or delta == 0:
            return "0"
        if show == "percent":  # a change of a percentage is in percentage points
            points = round(100 * b, 1) - round(100 * a, 1)
            shown = format_number(points, lang=lang, digits=3)
            return _signed(w["points"].format(value=shown), points)
        text = {"plain": plain, "cash": cash}[show](delta)
        return _signed(text, delta)

    def row(label: str, a: Figures | None, b: Figures | None, key: str, show: str) -> None:
        fa = None if a is None else getattr(a, key)
        fb = None if b is None else getattr(b, key)
        fmt = {"plain": plain, "percent": percent, "cash": cash}[show]
        table.add_row("  " + label, number(fmt(fa)), number(fmt(fb)), number(diff(fa, fb, show)))

    for party in evaluation.parties:
        s = case.stakeholder_by_id[party.party]
        table.add_row(Text(s.label(lang), style="bold"), "", "", "", end_section=False)
        a, b = party.free, party.pinned
        row(w["utility"], a, b, "utility", "plain")
        row(w["normalized"], a, b, "normalized_gain", "percent")
        if (a is not None and a.burden is not None) or (b is not None and b.burden is not None):
            row(w["expected"], a, b, "expected_loss", "cash")
            row(w["worst"], a, b, "worst_case", "cash")
            row(w["burden"], a, b, "burden", "percent")
        for change in party.changes:
            issue = case.issue_by_id[change.issue]
            amount = format_amount(
                change.amount, issue.unit, lang=lang, count=counts_things(issue.unit)
            )
            table.add_row(
                "  " + w["share_of"].format(issue=issue.label(lang)),
                number(format_percent(change.free)),
                number(format_percent(change.pinned)),
                number(_signed(amount, change.amount)),
            )
    table.add_section()
    fa, fb = evaluation.fairness_free, evaluation.fairness_pinned
    table.add_row(Text(w["fairness"], style="bold"), "", "", "")
    for label, key, show in (
        (w["min_gain"], "min_normalized_gain", "percent"),
        (w["gini"], "gini", "plain"),
    ):
        va = None if fa is None else getattr(fa, key)
        vb = None if fb is None else getattr(fb, key)
        if key == "gini":
            va = None if va is None else round(va, 2)
            vb = None if vb is None else round(vb, 2)
        fmt = percent if show == "percent" else plain
        table.add_row("  " + label, number(fmt(va)), number(fmt(vb)), number(diff(va, vb, show)))
    for label, key in (
        (w["envy_free"], "envy_free"),
        (w["proportional"], "proportional"),
        (w["pareto"], "pareto_optimal"),
    ):
        table.add_row("  " + label, _flag(fa, key, w), _flag(fb, key, w), "")
    parts.append(Fitted(table))
    lines = evaluation_sentences(evaluation, case, lang=lang)
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for line in lines:
        sub = line.startswith(" ")
        grid.add_row(" " if sub else w["bullet"], line.strip())
    parts.append(Group(Text(w["reasons"], style="bold"), grid))
    return parts


def _flag(fairness: Fairness | None, key: str, w: dict[str, str]) -> str:
    if fairness is None:
        return w["none"]
    value = getattr(fairness, key)
    return w["unknown"] if value is None else w["yes" if value else "no"]


def _risk_unit(case: Case) -> str | None:
    units = {i.unit.strip() for i in case.issues if i.kind == "risk"}
    return units.pop() if len(units) == 1 else None


def _pins_text(evaluation: Evaluation, case: Case, lang: str) -> str:
    w = section(lang, "whatif")
    clauses = []
    for issue_id, shares in evaluation.pins.items():
        issue = case.issue_by_id[issue_id]
        parts = [
            w[f"part_{issue.kind}"].format(
                party=case.stakeholder_by_id[party].label(lang), share=format_percent(share)
            )
            for party, share in shares.items()
        ]
        clauses.append(
            w[f"title_{issue.kind}"].format(
                issue=issue.label(lang), parts=w["parts_separator"].join(parts)
            )
        )
    return w["separator"].join(clauses)


def evaluation_sentences(evaluation: Evaluation, case: Case, *, lang: str = "en") -> list[str]:
    """Return what the evaluation shows, as sentences: the pins, their cost, any conflict.

    Raises
    ------
    RenderError
        For a language there are no phrases for.
    """
    w = section(lang, "whatif")
    words = Words(lang, evaluation.pinned, case)
    lines: list[str] = []
    for check in evaluation.pin_checks:
        if evaluation.complete and check.feasible:
            continue  # a complete split: every pin fixes the others, only a wrong one is news
        fields = {
            "issue": case.issue_by_id[check.issue].label(lang),
            "party": case.stakeholder_by_id[check.party].label(lang),
            "share": format_percent(check.pinned),
            "free": w["none"] if check.free is None else format_percent(check.free),
            "low": w["none"] if check.low is None else format_percent(check.low),
            "high": w["none"] if check.high is None else format_percent(check.high),
        }
        if check.low is None or check.high is None:
            key = "pin_impossible"
        elif check.held == "red_lines_only":
            key = "pin_alone"
        elif check.held == "other_pins" and check.feasible and check.high - check.low <= 1e-9:
            key = "pin_fixed"  # the other pins on the issue leave this share no room
        else:
            key = "pin_within" if check.feasible else "pin_outside"
            if check.held == "red_lines":
                key += "_alone"
        lines.append(w[key].format(**fields))
    if evaluation.complete:
        lines.append(w["complete"])
    if evaluation.free.status == "infeasible":
        lines.append(w["free_infeasible"])
    if not evaluation.feasible:
        lines.append(w["infeasible"])
        for n, blocker in enumerate(evaluation.blockers, start=1):
            members = [
                w["pin"].format(
                    issue=case.issue_by_id[p.issue].label(lang),
                    party=case.stakeholder_by_id[p.party].label(lang),
                    share=format_percent(p.share),
                )
                for p in blocker.pins
            ]
            members += [_conflict(c, words) for c in blocker.red_lines]
            key = "blocker_two" if len(members) == 2 else "blocker"
            lines.append(_tidy(w[key].format(n=n, members=join_list(members, lang=lang))))
            ways = [_move(m.issue, m.party, m.proposed, case, lang) for m in blocker.pin_moves]
            ways += [_change(c, words) for c in blocker.concessions]
            if ways:
                key = "way_out" if len(ways) > 1 else "way_out_one"
                lines.append("  " + _tidy(w[key].format(ways=w["or"].join(ways))))
        if evaluation.nearest_pins:
            nearest = [
                _move(m.issue, m.party, m.proposed, case, lang) for m in evaluation.nearest_pins
            ]
            lines.append(_tidy(w["nearest"].format(ways=w["separator"].join(nearest))))
        joint = [_move(m.issue, m.party, m.proposed, case, lang) for m in evaluation.pin_moves]
        joint += [_change(c, words) for c in evaluation.concessions]
        if joint:
            key = "cheapest_or" if evaluation.nearest_pins else "cheapest"
            lines.append(_tidy(w[key].format(ways=w["separator"].join(joint))))
        return lines
    for outcome in evaluation.parties:
        if outcome.cost is None:
            continue
        name = case.stakeholder_by_id[outcome.party].label(lang)
        share = (
            None
            if outcome.cost_normalized is None
            else format_percent(abs(outcome.cost_normalized))
        )
        points = format_number(abs(outcome.cost), lang=lang)
        scale = abs(outcome.free.utility) if outcome.free is not None else 0.0
        moved = (
            abs(outcome.cost_normalized) > 1e-6
            if outcome.cost_normalized is not None
            else abs(outcome.cost) > 1e-6 * max(scale, abs(outcome.cost) * 1e-3)
        )
        if not moved:
            lines.append(w["cost_none"].format(party=name))
            continue
        key = "cost" if outcome.cost > 0 else "benefit"
        if share is None:
            key += "_points"
        lines.append(w[key].format(party=name, points=points, share=share))
    status = evaluation.pinned.status
    if status not in ("optimal", "feasible", "infeasible"):
        lines.append(w["error"].format(status=status_name(status, lang)))
    return lines


def _move(issue: str, party: str, proposed: float, case: Case, lang: str) -> str:
    w = section(lang, "whatif")
    return w["move"].format(
        issue=case.issue_by_id[issue].label(lang),
        party=case.stakeholder_by_id[party].label(lang),
        share=format_percent(proposed),
    )
