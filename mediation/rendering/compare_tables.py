"""A comparison of rules for the terminal: one table, the rules side by side, then the flags.

The table has one column per rule compared and one row per figure: the status, each party's
utility and share of its possible gain, each contested issue's shares, the fairness figures,
and whether the allocation is the only one with these utilities. The flags are sentences:
rules that give the same allocation, rules that give the same utilities by different
allocations, allocations that are one of several optima (with the widest share ranges),
rules that do not apply and why. Nothing is printed here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from ..case import Case
from ..comparison import Comparison
from ..errors import RenderError
from .layout import number, text_column
from .numbers import (
    display_shares,
    format_amount,
    format_number,
    format_percent,
    is_dust,
    is_dust_amount,
    join_list,
)
from .phrases import counts_things, phrases, rule_name, scale_name, section, status_name
from .wording import share_text

__all__ = ["HEADER_FOLD", "RANGES_SHOWN", "comparison_sentences", "comparison_tables"]

#: A Chinese rule name in a column's heading may fold after this many cells (four
#: characters): Chinese breaks lines between any two characters, and the rules' names are
#: longer than their numbers.
HEADER_FOLD = 8
#: How many of an allocation's widest share ranges a sentence names.
RANGES_SHOWN = 3
#: The label column (parties' and issues' names) is given at least this many cells before
#: the rules' columns are spread over more than one table.
LABEL_LEAST = 16
#: Wide enough to measure a table at its natural width.
_UNLIMITED = 100_000
#: Where a Chinese name may break besides between any two characters: before an opening
#: bracket, after a dash or a closing bracket; an English name breaks at spaces and after
#: a dash.
_BREAK_AFTER = "–—-）)"
_BREAK_BEFORE = "（("


def _wide(text: str) -> bool:
    return any(cell_len(c) > 1 for c in text)


def _tokens(name: str) -> list[tuple[str, bool]]:
    """Split a rule's name where a line may break.

    Each part comes with whether a space stood before it (the spaces themselves are
    dropped: a line breaks there).
    """
    out: list[tuple[str, bool]] = []
    for word in name.split():
        token, spaced = "", True
        for c in word:
            if c in _BREAK_BEFORE and token:
                out.append((token, spaced))
                token, spaced = "", False
            token += c
            if c in _BREAK_AFTER:
                out.append((token, spaced))
                token, spaced = "", False
        if token:
            out.append((token, spaced))
    return out


def _unbreakable(token: str) -> int:
    """Return the least width a token of a heading needs: a Chinese one folds anywhere."""
    width = cell_len(token)
    return min(width, HEADER_FOLD) if _wide(token) else width


def _fold(token: str, width: int) -> list[str]:
    """Split a Chinese token into lines of at most ``width`` cells, evenly."""
    if cell_len(token) <= width or not _wide(token):
        return [token]
    per_line = max(width // 2, 1)
    lines = -(-len(token) // per_line)
    size = -(-len(token) // lines)
    return [token[k : k + size] for k in range(0, len(token), size)]


def _wrap(names: Sequence[str], width: int | None) -> str:
    """Return rules' names as a heading: one name a line, each wrapped to ``width`` cells.

    Each name but the last ends with the separator it carries (see :class:`_RuleColumn`).
    """
    lines: list[str] = []
    for name in names:
        if width is None or cell_len(name) <= width:
            lines.append(name)
            continue
        line = ""
        parts = [
            (part, spaced and k == 0)
            for token, spaced in _tokens(name)
            for k, part in enumerate(_fold(token, width))
        ]
        for token, spaced in parts:
            glue = " " if line and spaced else ""
            if line and cell_len(line + glue + token) > width:
                lines.append(line)
                line = token
            else:
                line += glue + token
        lines.append(line)
    return "\n".join(lines)


@dataclass
class _RuleColumn:
    """One column of the comparison: the rules it shows (they agree on every cell).

    ``names`` are the rules' names as the heading shows them, each but the last followed by
    the language's separator ("maximin," "leximin"; "最大最小公平、" "字典序最大最小公平").
    """

    names: list[str]
    cells: list[Text]

    def least_width(self) -> int:
        """Return its narrowest width: its widest cell, its heading's longest unbreakable part."""
        parts = [_unbreakable(t) for name in self.names for t, _ in _tokens(name)]
        parts += [cell_len(line) for cell in self.cells for line in cell.plain.splitlines()]
        return max(parts, default=1)

    def natural_width(self) -> int:
        """Return its width with every name of its heading on one line."""
        return max(self.least_width(), *(cell_len(name) for name in self.names))


@dataclass
class _Grid:
    """The comparison as rows: a label per row, sections, one column per distinct outcome."""

    heading: str
    labels: list[Text] = field(default_factory=list)
    sections: set[int] = field(default_factory=set)
    columns: list[_RuleColumn] = field(default_factory=list)

    def label_width(self) -> int:
        """Return the label column's width with no label folded."""
        lines = [self.heading, *(line for label in self.labels for line in label.plain.split("\n"))]
        return max(cell_len(line) for line in lines)

    def widths(self, columns: Sequence[_RuleColumn], total: int) -> list[int]:
        """Return the rule columns' widths in a table of ``total`` cells.

        Each is its least width; what the labels do not need goes to the headings, a few
        cells at a time to the first whose heading then takes fewer lines.
        """
        widths = [c.least_width() for c in columns]
        left = total - 4 - self.label_width() - sum(w + 3 for w in widths)
        grown = True
        while left > 0 and grown:
            grown = False
            for k, column in enumerate(columns):
                lines = _wrap(column.names, widths[k]).count("\n")
                wider = next(
                    (
                        w
                        for w in range(
                            widths[k] + 1, min(column.natural_width(), widths[k] + left) + 1
                        )
                        if _wrap(column.names, w).count("\n") < lines
                    ),
                    None,
                )
                if wider is not None:
                    left -= wider - widths[k]
                    widths[k] = wider
                    grown = True
                    break
        return widths

    def table(self, columns: Sequence[_RuleColumn], width: int | None = None) -> Table:
        """Return the rows as a rich table of ``columns``; at most ``width`` cells if given."""
        widths: list[int | None] = (
            [None] * len(columns) if width is None else list(self.widths(columns, width))
        )
        table = Table(
            text_column(self.heading),
            *(
                Column(
                    _wrap(c.names, w),
                    justify="right",
                    no_wrap=True,
                    width=w,
                )
                for c, w in zip(columns, widths, strict=True)
            ),
        )
        for row, label in enumerate(self.labels):
            if row in self.sections:
                table.add_section()
            table.add_row(label, *(c.cells[row] for c in columns))
        return table


class _Fitted:
    """The comparison table at its natural width, else narrowed, else in parts.

    Narrowed, each rule's column is as wide as its widest number and the longest part of
    its heading that cannot break; the label column folds to make room. When even that
    leaves the labels fewer than :data:`LABEL_LEAST` cells, the rules' columns are spread
    over as many tables as needed, in order, each with the labels.
    """

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """Measure the table at its natural width."""
        return Measurement.get(console, options, self.grid.table(self.grid.columns))

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        """Yield the table, or its parts."""
        grid = self.grid
        whole = grid.table(grid.columns)
        natural = Measurement.get(console, options.update_width(_UNLIMITED), whole).maximum
        if natural <= options.max_width:
            yield whole
            return
        packs: list[list[_RuleColumn]] = [[]]
        used = LABEL_LEAST + 4  # the label column with its padding and both borders
        for column in grid.columns:
            need = column.least_width() + 3  # padding and a border
            if packs[-1] and used + need > options.max_width:
                packs.append([])
                used = LABEL_LEAST + 4
            packs[-1].append(column)
            used += need
        for k, pack in enumerate(packs):
            if k:
                yield Text("")
            yield grid.table(pack, width=options.max_width)


def _outcomes_of(comparison: Comparison, case: Case) -> None:
    """Raise :class:`RenderError` when the comparison is not of ``case``."""
    if comparison.case_id != case.id:
        raise RenderError(f"the comparison is of case '{comparison.case_id}', not of '{case.id}'")


def comparison_tables(
    comparison: Comparison, case: Case, *, lang: str = "en"
) -> list[RenderableType]:
    """Return the comparison as a heading, one table of the rules side by side, and the flags.

    The table has a column per rule; rules whose every figure shows the same share one
    column, headed by all their names. It is printed at its natural width when the console
    allows, else with its rules' columns narrowed to their numbers, else (many rules on a
    narrow console) in consecutive parts, each with the labels.

    Parameters
    ----------
    comparison
        The comparison of ``case`` (:func:`mediation.allocation.compare.compare`).
    case
        The case, for the names of its parties and issues (translated into ``lang`` when the
        case has a translation).
    lang
        ``en`` or ``zh``.

    Raises
    ------
    RenderError
        For another language, or a comparison of another case (a :class:`ValueError` too).
    """
    _outcomes_of(comparison, case)
    words = section(lang, "compare")
    table_words = section(lang, "table")
    parts: list[RenderableType] = [
        Text(words["title"].format(title=case.title_in(lang)), style="bold")
    ]
    if comparison.outcomes:
        parts.append(_Fitted(_grid(comparison, case, lang)))
    lines = comparison_sentences(comparison, case, lang=lang)
    if lines:
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for line in lines:
            grid.add_row(table_words["bullet"], line)
        parts.append(Group(Text(words["flags"], style="bold"), grid))
    return parts


def _grid(comparison: Comparison, case: Case, lang: str) -> _Grid:
    """Return the comparison's rows; rules that show the same in every cell share a column."""
    words = section(lang, "compare")
    yes_no = section(lang, "table")
    none = yes_no["none"]
    outcomes = comparison.outcomes
    grid = _Grid(words["rule"])
    cells: list[list[str]] = [[] for _ in outcomes]

    def row(text: str, values: Sequence[str], *, bold: bool = False) -> None:
        grid.labels.append(Text(text, style="bold" if bold else "", overflow="fold"))
        for column, value in zip(cells, values, strict=True):
            column.append(value)

    def heading(text: str) -> None:
        grid.sections.add(len(grid.labels))
        row(text, ["" for _ in outcomes], bold=True)

    def flag(value: bool | None) -> str:
        return yes_no["unknown"] if value is None else yes_no["yes" if value else "no"]

    def percent(value: float | None) -> str:
        return none if value is None else format_percent(value)

    row(words["status"], [status_name(o.status, lang) for o in outcomes])
    if len({o.scale for o in outcomes}) > 1:
        row(words["scale"], [scale_name(o.scale, lang) for o in outcomes])
    heading(words["parties"])
    for s in case.stakeholders:
        if s.id not in case.compared:  # funds and observers are not compared
            continue
        values = []
        for o in outcomes:
            figures = o.parties[s.id]
            if figures.utility is None:
                values.append(none)
            else:
                # solver noise around zero, relative to what the party puts at stake, is 0
                stake = sum(x.value for x in case.interests_by_stakeholder[s.id]) or 1.0
                value = 0.0 if is_dust_amount(figures.utility, stake) else figures.utility
                utility = format_number(value, lang=lang)
                values.append(f"{utility}\n{percent(figures.normalized_gain)}")
        row(s.label(lang), values)
    if any(o.shares for o in outcomes):
        heading(words["shares"])
    for iid in comparison.contested if any(o.shares for o in outcomes) else ():
        issue = case.issue_by_id[iid]
        amount = format_amount(issue.amount, issue.unit, lang=lang, count=counts_things(issue.unit))
        row(issue.label(lang), ["" for _ in outcomes])
        grid.labels[-1].stylize("italic")
        grid.labels[-1].append("\n" + words["issue_amount"].format(amount=amount))
        shown = [display_shares(o.shares[iid]) if iid in o.shares else {} for o in outcomes]
        for x in case.interests_by_issue[iid]:
            values = []
            for o, display in zip(outcomes, shown, strict=True):
                share = o.shares.get(iid, {}).get(x.stakeholder)
                if share is None or is_dust(share):  # no allocation, or dust: nobody's
                    values.append(none)
                else:
                    values.append(share_text(display[x.stakeholder], share))
            if any(v != none for v in values):  # a party that gets none under any rule: left out
                row(case.stakeholder_by_id[x.stakeholder].label(lang), values)
    if any(o.fairness is not None for o in outcomes):
        heading(words["fairness"])
        fair = [o.fairness for o in outcomes]
        row(words["min"], [none if f is None else percent(f.min_normalized_gain) for f in fair])
        # a coefficient in [0, 1], read to two decimals: 4e-7 is solver noise
        row(
            words["gini"],
            [
                none if f is None or f.gini is None else format_number(round(f.gini, 2), lang=lang)
                for f in fair
            ],
        )
        row(words["envy_free"], [none if f is None else flag(f.envy_free) for f in fair])
        row(
            words["envy"],
            [none if f is None else format_number(f.max_envy, lang=lang) for f in fair],
        )
        row(words["proportional"], [none if f is None else flag(f.proportional) for f in fair])
        row(words["pareto"], [none if f is None else flag(f.pareto_optimal) for f in fair])
    row(
        words["unique"],
        [none if o.allocation is None else flag(o.allocation.unique) for o in outcomes],
    )
    merged: dict[tuple[str, ...], _RuleColumn] = {}
    for o, values in zip(outcomes, cells, strict=True):
        key = tuple(values)
        if key in merged:
            names = merged[key].names
            names[-1] += words["name_separator"]
            names.append(rule_name(o.rule, lang))
        else:
            merged[key] = _RuleColumn([rule_name(o.rule, lang)], [number(v) for v in values])
    grid.columns = list(merged.values())
    return grid


def _rules(names: Sequence[str], lang: str) -> str:
    return join_list([rule_name(r, lang) for r in names], lang=lang)


def comparison_sentences(comparison: Comparison, case: Case, *, lang: str = "en") -> list[str]:
    """Return what the comparison flags, as sentences in ``lang``.

    In order: rules with the same allocation; rules with the same utilities by different
    allocations; allocations that are one of several optima, with their widest share
    ranges (rules with the same allocation told together), or one sentence when every
    allocation is unique; checks that did not finish; rules with no allocation (no deal
    within the red lines, a solver failure); rules that do not apply, with their conditions.

    Raises
    ------
    RenderError
        For another language, or a comparison of another case.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation.allocation.compare import compare
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: 甲, kind: other}, {id: b, name: 乙, kind: other}]
    ... issues: [{id: g, name: 场地, kind: resource, amount: 1}]
    ... interests: [{stakeholder: a, issue: g, value: 2}, {stakeholder: b, issue: g, value: 1}]
    ... ''')
    >>> for line in comparison_sentences(compare(case, ["maximin", "kalai_smorodinsky"]),
    ...                                  case, lang="zh"):
    ...     print(line)
    最大最小公平和卡莱—斯莫罗金斯基解给出相同的分配方案（各份额相差不超过0.01个百分点）。
    在各自的规则下，每个分配方案都是使各方得到相应效用的唯一方案。
    """
    _outcomes_of(comparison, case)
    say = phrases(lang)
    words = section(lang, "compare")
    lines: list[str] = []
    for c in comparison.coincidences:
        if c.kind == "same_allocation":
            tolerance = format_number(100 * c.tolerance, lang=lang)
            lines.append(
                words["same_allocation"].format(rules=_rules(c.rules, lang), tolerance=tolerance)
            )
        else:
            lines.append(words["same_utilities"].format(rules=_rules(c.rules, lang)))
    allocated = [o for o in comparison.outcomes if o.allocation is not None]
    together = {
        r: c.rules for c in comparison.coincidences if c.kind == "same_allocation" for r in c.rules
    }
    told: set[str] = set()
    for o in allocated:
        if o.rule in told or o.allocation is None or o.allocation.unique is not False:
            continue
        group = [
            r
            for r in together.get(o.rule, [o.rule])
            if (found := comparison.outcome(r)) is not None
            and found.allocation is not None
            and found.allocation.unique is False
        ]
        told.update(group)
        ranges = [
            words["range"].format(
                party=case.stakeholder_by_id[r.stakeholder].label(lang),
                issue=case.issue_by_id[r.issue].label(lang),
                low=format_percent(r.low),
                high=format_percent(r.high),
            )
            for r in o.allocation.wide[:RANGES_SHOWN]
        ]
        lines.append(
            words["not_unique"].format(
                rules=_rules(group, lang), ranges=say["clause_separator"].join(ranges)
            )
        )
    if allocated and all(o.allocation is not None and o.allocation.unique for o in allocated):
        lines.append(words["all_unique"])
    unsettled = [
        o.rule for o in allocated if o.allocation is not None and o.allocation.unique is None
    ]
    if unsettled:
        lines.append(words["unsettled"].format(rules=_rules(unsettled, lang)))
    infeasible = [o.rule for o in comparison.outcomes if o.status == "infeasible"]
    if infeasible:
        lines.append(words["infeasible"].format(rules=_rules(infeasible, lang)))
    lines.extend(
        words["failed"].format(rule=rule_name(o.rule, lang), message=o.message or "")
        for o in comparison.outcomes
        if o.status == "error"
    )
    for na in comparison.not_applicable:
        conditions = words.get(f"conditions_{na.rule}") or say["clause_separator"].join(
            p.message for p in na.problems
        )
        lines.append(
            words["not_applicable"].format(rule=rule_name(na.rule, lang), conditions=conditions)
        )
    if not comparison.outcomes:
        lines.append(words["nothing"])
    # a sentence may open with a rule's name, which English writes in lower case
    return [line[:1].upper() + line[1:] for line in lines]
