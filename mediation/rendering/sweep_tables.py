"""A sweep's summary for the terminal, as rich tables; nothing is printed here.

The tables show, per party, the distribution of its figures over the feasible scenarios
(mean, 5th percentile, median, 95th percentile), how often a scenario is infeasible and the
red lines blamed, the scenarios worst for each party with their parameters' values, and the
robust split's outcome. Every word comes from the phrases' ``sweep_*`` keys, every number
from :mod:`mediation.rendering.numbers`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..case import Case
from ..sweep.summary import Blame, Stat, SweepSummary
from .layout import Fitted, number, number_column, text_column
from .numbers import format_amount, format_number, format_percent
from .phrases import section, status_name

__all__ = ["blame_text", "sweep_tables"]


def _money_unit(case: Case) -> str | None:
    """Return the money unit of the case's risks when they all share one (the exposures')."""
    units = {i.unit.strip() for i in case.issues if i.kind == "risk"}
    return units.pop() if len(units) == 1 else None


def blame_text(blame: Blame, case: Case, *, lang: str = "en") -> str:
    """Return a blamed red line in words: whose, of what.

    Raises
    ------
    RenderError
        For a language there are no phrases for.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation.sweep.summary import Blame
    >>> case = load_case('''
    ... id: ppp
    ... title: 风险分担
    ... stakeholders:
    ...   - {id: mzj, name: 民政局, kind: government}
    ...   - {id: cj, name: 城建, kind: enterprise}
    ... issues: [{id: overrun, name: 超支风险, kind: risk, amount: 100}]
    ... interests:
    ...   - {stakeholder: mzj, issue: overrun, value: 1}
    ...   - {stakeholder: cj, issue: overrun, value: 1}
    ... ''')
    >>> pin = Blame(path="pins.overrun.mzj", kind="pin", scenarios=4, share=1.0)
    >>> blame_text(pin, case, lang="zh")
    '民政局：超支风险的固定份额'
    >>> capacity = Blame(path="stakeholders.cj.risk_capacity", kind="capacity", scenarios=1,
    ...                  share=1.0)
    >>> blame_text(capacity, case)
    '城建: risk capacity'
    """
    words = section(lang, "sweep")
    parts = blame.path.split(".")

    def party(pid: str) -> str:
        s = case.stakeholder_by_id.get(pid)
        return s.label(lang) if s is not None else pid

    def issue(iid: str) -> str:
        i = case.issue_by_id.get(iid)
        return i.label(lang) if i is not None else iid

    kind = blame.kind
    if kind == "pin":
        return words["blame_pin"].format(issue=issue(parts[1]), party=party(parts[2]))
    if kind in ("floor", "cap"):
        return words[f"blame_{kind}"].format(party=party(parts[1]), issue=issue(parts[2]))
    if kind in ("capacity", "disagreement"):  # stakeholders.<party>.<field>
        return words[f"blame_{kind}"].format(party=party(parts[1]))
    if kind in ("proportional", "envy"):  # policy.<option>.<party>
        return words[f"blame_{kind}"].format(party=party(parts[2]))
    if kind == "constraint":
        return words["blame_constraint"].format(constraint=parts[1])
    if kind.startswith("payment_"):  # payments.<id>.min or .max
        paid = next((p for p in case.payments if p.id == parts[1]), None)
        payer, payee = (paid.payer, paid.payee) if paid is not None else (parts[1], parts[1])
        return words[f"blame_{kind}"].format(
            payer=party(payer), payee=party(payee), payment=parts[1]
        )
    if kind.startswith("contribution_"):  # contributions.<id>.min or .max
        given = next((c for c in case.contributions if c.id == parts[1]), None)
        who, to = (given.stakeholder, given.to) if given is not None else (parts[1], parts[1])
        choice = next((c for c in case.choices if c.id == to), None)
        target = choice.label(lang) if choice is not None else issue(to)
        return words[f"blame_{kind}"].format(party=party(who), target=target, contribution=parts[1])
    if kind == "choice":
        return words["blame_choice"]
    named = issue(parts[1]) if len(parts) == 3 else words["all_issues"]
    return words[f"blame_{kind}"].format(issue=named)


def sweep_tables(summary: SweepSummary, case: Case, *, lang: str = "en") -> list[RenderableType]:
    """Return a sweep's summary as a heading, the parties' figures, the blamed red lines and more.

    Parameters
    ----------
    summary
        The summary of a sweep of ``case`` (:func:`mediation.sweep.run_sweep`).
    case
        The base case, for the names of its parties and issues and its money unit.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    list of rich renderables

    Raises
    ------
    RenderError
        For a language other than those in :data:`~mediation.rendering.LANGUAGES`.
    """
    words = section(lang, "sweep")
    none = words["none"]
    money = _money_unit(case)
    parts: list[RenderableType] = [
        Text(
            words["title"].format(
                title=case.title_in(lang),
                scenarios=format_number(summary.scenarios, lang=lang),
                feasible=format_number(summary.feasible, lang=lang),
                infeasible=format_number(summary.infeasible, lang=lang),
                errors=format_number(summary.errors, lang=lang),
            ),
            style="bold",
        )
    ]
    if summary.settled < summary.scenarios:
        parts.append(
            Text(
                words["partial"].format(
                    settled=format_number(summary.settled, lang=lang),
                    scenarios=format_number(summary.scenarios, lang=lang),
                )
            )
        )

    def plain(value: float | None) -> str:
        return none if value is None else format_number(value, lang=lang)

    def percent(value: float | None) -> str:
        return none if value is None else format_percent(value)

    def amount(value: float | None) -> str:
        return none if value is None else format_amount(value, money, lang=lang)

    figures = Table(
        text_column(f"{words['party']} / {words['figure']}"),
        *(number_column(words[key]) for key in ("mean", "p5", "p50", "p95")),
        title=words["parties"],
    )
    for s in case.stakeholders:
        outcome = summary.parties.get(s.id)
        if outcome is None:
            continue
        rows: list[tuple[str, Stat, Callable[[float | None], str]]] = [
            (words["gain"], outcome.gain, plain),
            (words["normalized"], outcome.normalized_gain, percent),
            (words["worst"], outcome.worst_exposure, amount),
            (words["expected"], outcome.expected_loss, amount),
        ]
        if outcome.capacity_used.count:
            rows.append((words["burden"], outcome.capacity_used, percent))
        for issue_id, stat in outcome.shares.items():
            label = words["share"].format(issue=case.issue_by_id[issue_id].label(lang))
            rows.append((label, stat, percent))
        # the party on a row of its own, its figures below it: the labels get the width
        figures.add_row(Text(s.label(lang), style="bold"), "", "", "", "")
        for k, (label, stat, shown) in enumerate(rows):
            figures.add_row(
                "  " + label,
                *(number(shown(getattr(stat, key))) for key in ("mean", "p5", "p50", "p95")),
                end_section=k == len(rows) - 1,
            )
    parts.append(Fitted(figures))
    if summary.quantiles == "subset":
        parts.append(
            Text(words["subset"].format(count=format_number(summary.quantile_scenarios, lang=lang)))
        )
    if summary.infeasible:
        parts.append(
            Text(
                words["infeasible"].format(
                    count=format_number(summary.infeasible, lang=lang),
                    settled=format_number(summary.settled, lang=lang),
                    share=percent(summary.infeasible_share),
                )
            )
        )
        blamed = Table(
            text_column(words["red_line"]),
            number_column(words["scenarios"]),
            number_column(words["of_infeasible"]),
            title=words["blamed"],
        )
        for blame in summary.blamed:
            blamed.add_row(
                blame_text(blame, case, lang=lang),
                number(format_number(blame.scenarios, lang=lang)),
                number(format_percent(blame.share)),
            )
        parts.append(Fitted(blamed))
    worst = Table(
        text_column(words["party"]),
        number_column(words["gain"]),
        text_column(words["scenario"]),
        text_column(words["parameters"]),
        title=words["worst_title"],
    )
    for s in case.stakeholders:
        outcome = summary.parties.get(s.id)
        if outcome is None or not outcome.worst:
            continue
        first = outcome.worst[0]
        worst.add_row(
            s.label(lang),
            number(format_number(first.gain, lang=lang)),
            words["list"].join(format_number(w.scenario, lang=lang) for w in outcome.worst),
            words["separator"].join(
                words["parameter"].format(path=path, value=format_number(value, lang=lang))
                for path, value in first.parameters.items()
            ),
            end_section=True,
        )
    if worst.row_count:
        parts.append(Fitted(worst))
    if summary.errors:
        parts.append(Text(words["errors"].format(count=format_number(summary.errors, lang=lang))))
        for e in summary.error_examples:
            parts.append(
                Text(
                    words["error_item"].format(
                        scenario=format_number(e.scenario, lang=lang), message=e.message
                    ),
                    overflow="fold",
                )
            )
    if summary.robust is not None:
        parts += _robust(summary, case, lang)
    return parts


def _robust(summary: SweepSummary, case: Case, lang: str) -> list[RenderableType]:
    """Return the robust split's line, and its shares and worst cases beside the optima."""
    words = section(lang, "sweep")
    robust = summary.robust
    assert robust is not None
    fields = {
        "scenarios": format_number(robust.scenarios, lang=lang),
        "selection": words[f"selection_{robust.selection}"],
        "message": robust.message or "",
    }
    split = robust.result
    if robust.status != "computed" or split is None:
        return [Text(words[f"robust_{robust.status}"].format(**fields), overflow="fold")]
    number_of = robust.scenario_numbers
    if split.status == "infeasible":
        conflict = split.infeasibility.conflict if split.infeasibility is not None else []
        scenarios = sorted({number_of[r.scenario] for r in conflict})
        listed = words["list"].join(format_number(n, lang=lang) for n in scenarios)
        return [Text(words["robust_infeasible"].format(numbers=listed, **fields), overflow="fold")]
    if split.status == "error" or split.level is None:
        fields["message"] = split.message or ""
        return [Text(words["robust_failed"].format(**fields), overflow="fold")]
    scale = "normalized" if split.scale == "normalized" else "raw"
    level = (
        format_percent(split.level)
        if scale == "normalized"
        else format_number(split.level, lang=lang)
    )
    parts: list[RenderableType] = [
        Text(
            words["robust_computed"].format(
                status=status_name(split.status, lang),
                level=words[f"level_{scale}"].format(value=level),
                **fields,
            ),
            overflow="fold",
        )
    ]
    shares = Table(
        text_column(words["issue"]),
        text_column(words["party"]),
        number_column(words["robust_share"]),
        number_column(words["optimum_mean"]),
        number_column(words["optimum_range"]),
        title=words["robust_table"],
    )
    for issue in case.issues:
        given = split.shares.get(issue.id, {})
        rows = [x for x in case.interests_by_issue[issue.id] if x.stakeholder in given]
        for k, x in enumerate(rows):
            outcome = summary.parties.get(x.stakeholder)  # none for a fund
            stat = outcome.shares.get(issue.id) if outcome is not None else None
            span = (
                words["range"].format(low=format_percent(stat.p5), high=format_percent(stat.p95))
                if stat is not None and stat.p5 is not None and stat.p95 is not None
                else words["none"]
            )
            mean = stat.mean if stat is not None else None
            shares.add_row(
                issue.label(lang) if k == 0 else "",
                case.stakeholder_by_id[x.stakeholder].label(lang),
                number(format_percent(given[x.stakeholder])),
                number(words["none"] if mean is None else format_percent(mean)),
                number(span),
                end_section=k == len(rows) - 1,
            )
    parts.append(Fitted(shares))
    worst = Table(
        text_column(words["party"]),
        number_column(words["normalized"]),
        number_column(words["gain"]),
        number_column(words["in_scenario"]),
        title=words["robust_worst"],
    )
    for s in case.stakeholders:
        w = split.worst.get(s.id)
        if w is None or s.id not in case.compared:  # a fund or an observer has no gain
            continue
        worst.add_row(
            s.label(lang),
            number(format_percent(w.normalized_gain)),
            number(format_number(w.gain, lang=lang)),
            number(format_number(number_of[w.scenario], lang=lang)),
        )
    parts.append(Fitted(worst))
    return parts
