"""A case's graph analysis for the terminal: rich tables, its JSON data, or the graph itself."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sized

from rich.console import RenderableType
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text

from ..case import Case
from ..errors import RenderError
from ..graph import GraphAnalysis, analyze, build_graph, to_graphml, to_node_link
from .layout import Fitted, number, number_column, text_column
from .phrases import graph_words

__all__ = [
    "GRAPH_EXPORTS",
    "GRAPH_FORMATS",
    "GRAPH_LANGUAGES",
    "analysis_tables",
    "graph_command_output",
]

#: Values of ``mediation graph --format``.
GRAPH_FORMATS: tuple[str, ...] = ("table", "json")
#: Values of ``mediation graph --export``.
GRAPH_EXPORTS: tuple[str, ...] = ("node-link", "graphml")

#: Values of ``mediation graph --lang``.
GRAPH_LANGUAGES: tuple[str, ...] = ("en", "zh")


def graph_command_output(
    case: Case, *, fmt: str = "table", export: str | None = None, lang: str | None = None
) -> str | list[RenderableType]:
    """Return what ``mediation graph`` prints for a case.

    Parameters
    ----------
    case
        A validated case.
    fmt
        ``"table"`` (default): readable tables of all that :func:`~mediation.graph.analyze` finds;
        ``"json"``: its :meth:`~mediation.graph.GraphAnalysis.to_dict`, indented, with
        Chinese kept as it is.
    export
        ``None`` (default) for the analysis; ``"node-link"`` (JSON) or ``"graphml"`` for the
        case's graph itself instead (then ``fmt`` is ignored).
    lang
        The tables' language, one of :data:`GRAPH_LANGUAGES`: their words, and the case's
        names and title in it where the case translates them. ``None`` (default): English
        words with the case's own names. JSON and exports are data, the same in every
        language.

    Returns
    -------
    str or list of rich renderables
        Text to print as it is; or, for tables, renderables to print with a
        :class:`rich.console.Console`: a heading with the case's title, then the tables of
        :func:`analysis_tables` after a blank line each, an empty one as a line saying so.

    Raises
    ------
    RenderError
        When ``fmt``, ``export`` or ``lang`` is not one of :data:`GRAPH_FORMATS`,
        :data:`GRAPH_EXPORTS` or :data:`GRAPH_LANGUAGES` (a :class:`ValueError` too).

    Examples
    --------
    >>> import json
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "街道办", "kind": "government"},
    ...                      {"id": "b", "name": "居委会", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 1}]})
    >>> json.loads(graph_command_output(case, fmt="json"))["contested"][0]["parties"]
    ['a', 'b']
    >>> graph_command_output(case, export="graphml").splitlines()[0]
    "<?xml version='1.0' encoding='utf-8'?>"
    """
    if fmt not in GRAPH_FORMATS:
        raise RenderError(f"format must be one of {', '.join(GRAPH_FORMATS)}, got '{fmt}'")
    if export is not None and export not in GRAPH_EXPORTS:
        raise RenderError(f"export must be one of {', '.join(GRAPH_EXPORTS)}, got '{export}'")
    words = _words(lang)
    if export == "graphml":
        return to_graphml(build_graph(case))
    if export == "node-link":
        return json.dumps(to_node_link(build_graph(case)), ensure_ascii=False, indent=2)
    analysis = analyze(case)
    if fmt == "json":
        return json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2)
    title = case.title_in(lang)
    heading = Text(words["heading"].format(title=title, id=case.id))
    heading.stylize("bold", 0, len(title))  # the heading starts with the title
    parts: list[RenderableType] = [heading]
    for table in analysis_tables(analysis, case, lang=lang):
        # An empty part is one line, not the header of an empty table.
        part: RenderableType = Fitted(table)
        if not table.row_count:
            part = Text(words["empty"].format(title=table.title, caption=table.caption))
            part.stylize("bold", 0, len(str(table.title)))  # the line starts with the title
        parts.append(Padding(part, (1, 0, 0, 0)))
    return parts


def analysis_tables(analysis: GraphAnalysis, case: Case, *, lang: str | None = None) -> list[Table]:
    """Every part of a graph analysis as a table, with the case's names for ids.

    The tables, in order: contested issues, coalitions, conflicts, power, dual supervision,
    funding dependence, brokers, missing dialogue channels. An empty part is a table without
    rows whose caption says so.

    Parameters
    ----------
    analysis
        The analysis of ``case``, by :func:`~mediation.graph.analyze`.
    case
        The case, for the names of its parties and issues.
    lang
        The language of the tables, as for :func:`graph_command_output`.

    Returns
    -------
    list of rich.table.Table
        Text columns fold long names onto more lines; number columns are never narrower
        than their widest number.

    Raises
    ------
    RenderError
        When ``analysis`` is of another case, or ``lang`` is not one of
        :data:`GRAPH_LANGUAGES` (a :class:`ValueError` too).
    """
    words = _words(lang)
    if analysis.case != case.id:
        raise RenderError(
            f"the analysis is of case '{analysis.case}', not of case '{case.id}' given for names"
        )
    names = {s.id: s.label(lang) for s in case.stakeholders} | {
        i.id: i.label(lang) for i in case.issues
    }
    view = _View(words, names)
    return [
        _contested(analysis, view),
        _coalitions(analysis, view),
        _conflicts(analysis, view),
        _power(analysis, case, view),
        _dual_supervision(analysis, view),
        _dependencies(analysis, view),
        _brokers(analysis, view),
        _missing_dialogue(analysis, view),
    ]


def _words(lang: str | None) -> dict[str, str]:
    """Return the tables' words in ``lang`` (``None``: English), from the phrases registry."""
    if lang is not None and lang not in GRAPH_LANGUAGES:
        raise RenderError(f"language must be one of {', '.join(GRAPH_LANGUAGES)}, got '{lang}'")
    return graph_words(lang or "en")


class _View:
    """The words of one language and the case's names in it, and how they are put together."""

    def __init__(self, words: dict[str, str], names: dict[str, str]) -> None:
        self.words = words
        self.names = names

    def __getitem__(self, key: str) -> str:
        return self.words[key]

    def labelled(self, id_: str) -> str:
        """Return a name with its id, e.g. ``街道办 (a)``."""
        return self.words["labelled"].format(name=self.names[id_], id=id_)

    def names_of(self, ids: Iterable[str]) -> str:
        """Return names as a list: one a line in English, joined by ``、`` in Chinese."""
        return self.words["list"].join(self.names[i] for i in ids)

    def pair(self, pair: tuple[str, str]) -> str:
        """Return two parties by name, e.g. ``甲 – 乙``."""
        return self.words["pair"].format(a=self.names[pair[0]], b=self.names[pair[1]])

    def kind(self, kind: str) -> str:
        """Return a kind of party or issue in words."""
        return self.words.get(f"kind:{kind}", kind)


def _contested(analysis: GraphAnalysis, view: _View) -> Table:
    contested = analysis.contested
    table = _table(
        view["contested"],
        view["issue"],
        view["kind"],
        number_column(view["pressure"]),
        view["basis"],
        number_column(view["floors_caps"]),
        view["valued_by"],
        rows=contested,
        empty=view["no_contested"],
    )
    for c in contested:
        valued = (
            view["valued"].format(name=view.names[p], value=f"{v:g}")
            for p, v in zip(c.parties, c.values, strict=True)
        )
        table.add_row(
            view.labelled(c.issue),
            view.kind(c.kind),
            number(f"{c.pressure:.2f}"),
            view[f"basis:{c.pressure_basis}"],
            number(f"{c.floor_sum:g} / {c.cap_sum:g}"),
            view["list"].join(valued),
        )
    return table


def _coalitions(analysis: GraphAnalysis, view: _View) -> Table:
    result = analysis.coalitions
    table = _table(
        view["coalitions"],
        number_column(view["number"]),
        view["members"],
        number_column(view["cohesion"]),
        view["shared_issues"],
    )
    modularity = round(result.modularity, 3) or 0.0  # -1e-17 is 0.000, not -0.000
    table.caption = view["modularity"].format(value=f"{modularity:.3f}")
    for k, c in enumerate(result.coalitions, start=1):
        table.add_row(
            number(str(k)),
            view.names_of(c.members),
            number(f"{c.cohesion:.2f}"),
            view.names_of(c.shared_issues),
        )
    return table


def _conflicts(analysis: GraphAnalysis, view: _View) -> Table:
    conflicts = analysis.coalitions.conflicts
    table = _table(
        view["conflicts"],
        view["party"],
        view["in_conflict_with"],
        number_column(view["strength"]),
        view["of_coalitions"],
        rows=conflicts,
        empty=view["no_conflicts"],
    )
    for x in conflicts:
        source, target = x.source_coalition + 1, x.target_coalition + 1
        where = (
            view["inside"].format(a=source)
            if x.internal
            else view["versus"].format(a=source, b=target)
        )
        table.add_row(view.names[x.source], view.names[x.target], number(f"{x.strength:g}"), where)
    return table


def _power(analysis: GraphAnalysis, case: Case, view: _View) -> Table:
    table = _table(
        view["power"],
        view["party"],
        view["kind"],
        view["funded_by"],
        view["supervised_by"],
        number_column(view["degree"]),
        number_column(view["betweenness"]),
        number_column(view["pagerank"]),
    )
    for p in analysis.power.parties:
        table.add_row(
            view.labelled(p.party),
            view.kind(case.stakeholder_by_id[p.party].kind),
            view.names_of(p.funders),
            view.names_of(p.supervisors),
            number(str(p.degree)),
            number(f"{p.betweenness:.3f}"),
            number(f"{p.pagerank:.3f}"),
        )
    return table


def _dual_supervision(analysis: GraphAnalysis, view: _View) -> Table:
    dual = analysis.power.dual_supervision
    table = _table(
        view["dual"], view["party"], view["supervisors"], rows=dual, empty=view["no_dual"]
    )
    for d in dual:
        table.add_row(view.labelled(d.party), view.names_of(d.supervisors))
    return table


def _dependencies(analysis: GraphAnalysis, view: _View) -> Table:
    dependencies = analysis.power.dependencies
    table = _table(
        view["dependencies"],
        view["party"],
        view["funder"],
        number_column(view["strength"]),
        number_column(view["funding_share"]),
        rows=dependencies,
        empty=view["no_dependencies"],
    )
    for d in dependencies:
        table.add_row(
            view.names[d.party],
            view.names[d.funder],
            number(f"{d.strength:g}"),
            number(f"{d.share:.0%}"),
        )
    return table


def _brokers(analysis: GraphAnalysis, view: _View) -> Table:
    brokers = analysis.brokers
    table = _table(
        view["brokers"],
        view["broker"],
        view["between"],
        rows=brokers,
        empty=view["no_brokers"],
    )
    for b in brokers:
        table.add_row(view.labelled(b.party), view["list"].join(view.pair(p) for p in b.pairs))
    return table


def _missing_dialogue(analysis: GraphAnalysis, view: _View) -> Table:
    missing = analysis.missing_dialogue
    table = _table(
        view["missing"],
        view["in_conflict"],
        number_column(view["strength"]),
        number_column(view["distance"]),
        view["suggested"],
        view["why"],
        rows=missing,
        empty=view["no_missing"],
    )
    for m in missing:
        table.add_row(
            view.pair(m.parties),
            number(f"{m.strength:g}"),
            number(view["no_path"] if m.distance is None else str(m.distance)),
            view["no_broker"] if m.suggested_broker is None else view.labelled(m.suggested_broker),
            view[m.reason].format(path=view["path"].join(view.names[p] for p in m.path)),
        )
    return table


def _table(title: str, *columns: str | Column, rows: Sized = (), empty: str = "") -> Table:
    """Return a table titled ``title``, captioned ``empty`` when ``rows`` has none.

    A column given as text folds rather than being cut: Chinese names have no spaces to
    wrap at.
    """
    return Table(
        *(text_column(c) if isinstance(c, str) else c for c in columns),
        title=title,
        title_justify="left",
        caption=None if rows else empty or None,
        caption_justify="left",
    )
