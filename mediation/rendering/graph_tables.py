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

__all__ = ["GRAPH_EXPORTS", "GRAPH_FORMATS", "analysis_tables", "graph_command_output"]

#: Values of ``mediation graph --format``.
GRAPH_FORMATS: tuple[str, ...] = ("table", "json")
#: Values of ``mediation graph --export``.
GRAPH_EXPORTS: tuple[str, ...] = ("node-link", "graphml")

# Every sentence the tables show, in one place; {path} is the broker's path, by names.
_WORDING = {
    "shortest_path": "the most central party on a shortest path of non-conflict relations: {path}",
    "third_party": "no path between them; a third party in conflict with neither",
    "no_candidate": "no party lies between them and no neutral third party exists",
    "no_contested": "none — no issue is valued by two parties",
    "no_conflicts": "none — the case states no conflicts relation",
    "no_dual": "none — every party answers to at most one supervisor",
    "no_dependencies": "none — the case states no funds relation",
    "no_brokers": "none — no party lies between two parties in conflict",
    "no_missing": "none — every pair in conflict has a dialogue relation or a common neighbour",
}


def graph_command_output(
    case: Case, *, fmt: str = "table", export: str | None = None
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

    Returns
    -------
    str or list of rich renderables
        Text to print as it is; or, for tables, renderables to print with a
        :class:`rich.console.Console`: a heading with the case's title, then the tables of
        :func:`analysis_tables` after a blank line each, an empty one as a line saying so.

    Raises
    ------
    RenderError
        When ``fmt`` or ``export`` is not one of :data:`GRAPH_FORMATS` or :data:`GRAPH_EXPORTS`
        (a :class:`ValueError` too).

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
    if export == "graphml":
        return to_graphml(build_graph(case))
    if export == "node-link":
        return json.dumps(to_node_link(build_graph(case)), ensure_ascii=False, indent=2)
    analysis = analyze(case)
    if fmt == "json":
        return json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2)
    parts: list[RenderableType] = [Text.assemble((case.title, "bold"), f" ({case.id})")]
    for table in analysis_tables(analysis, case):
        # An empty part is one line, not the header of an empty table.
        part = (
            table
            if table.row_count
            else Text.assemble((str(table.title), "bold"), f": {table.caption}")
        )
        parts.append(Padding(part, (1, 0, 0, 0)))
    return parts


def analysis_tables(analysis: GraphAnalysis, case: Case) -> list[Table]:
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

    Returns
    -------
    list of rich.table.Table

    Raises
    ------
    RenderError
        When ``analysis`` is of another case (a :class:`ValueError` too).
    """
    if analysis.case != case.id:
        raise RenderError(
            f"the analysis is of case '{analysis.case}', not of case '{case.id}' given for names"
        )
    names = {s.id: s.name for s in case.stakeholders} | {i.id: i.name for i in case.issues}
    return [
        _contested(analysis, names),
        _coalitions(analysis, names),
        _conflicts(analysis, names),
        _power(analysis, case, names),
        _dual_supervision(analysis, names),
        _dependencies(analysis, names),
        _brokers(analysis, names),
        _missing_dialogue(analysis, names),
    ]


def _contested(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    contested = analysis.contested
    table = _table(
        "Contested issues",
        "Issue",
        "Kind",
        _number("Pressure"),
        "Basis",
        _number("Σ floors / caps"),
        "Valued by",
        rows=contested,
        empty=_WORDING["no_contested"],
    )
    for c in contested:
        table.add_row(
            _labelled(c.issue, names),
            c.kind,
            f"{c.pressure:.2f}",
            c.pressure_basis,
            f"{c.floor_sum:g} / {c.cap_sum:g}",
            "\n".join(f"{names[p]} {v:g}" for p, v in zip(c.parties, c.values, strict=True)),
        )
    return table


def _coalitions(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    result = analysis.coalitions
    table = _table("Coalitions", _number("#"), "Members", _number("Cohesion"), "Shared issues")
    table.caption = f"modularity {result.modularity:.3f}"
    for k, c in enumerate(result.coalitions, start=1):
        table.add_row(
            str(k), _names(c.members, names), f"{c.cohesion:.2f}", _names(c.shared_issues, names)
        )
    return table


def _conflicts(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    conflicts = analysis.coalitions.conflicts
    table = _table(
        "Conflicts",
        "Party",
        "In conflict with",
        _number("Strength"),
        "Coalitions",
        rows=conflicts,
        empty=_WORDING["no_conflicts"],
    )
    for x in conflicts:
        source, target = x.source_coalition + 1, x.target_coalition + 1
        where = f"inside #{source}" if x.internal else f"#{source} vs #{target}"
        table.add_row(names[x.source], names[x.target], f"{x.strength:g}", where)
    return table


def _power(analysis: GraphAnalysis, case: Case, names: dict[str, str]) -> Table:
    table = _table(
        "Power and centrality",
        "Party",
        "Kind",
        "Funded by",
        "Supervised by",
        _number("Degree"),
        _number("Betweenness"),
        _number("PageRank"),
    )
    for p in analysis.power.parties:
        table.add_row(
            _labelled(p.party, names),
            case.stakeholder_by_id[p.party].kind,
            _names(p.funders, names),
            _names(p.supervisors, names),
            str(p.degree),
            f"{p.betweenness:.3f}",
            f"{p.pagerank:.3f}",
        )
    return table


def _dual_supervision(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    dual = analysis.power.dual_supervision
    table = _table(
        "Dual supervision (双重监管)", "Party", "Supervisors", rows=dual, empty=_WORDING["no_dual"]
    )
    for d in dual:
        table.add_row(_labelled(d.party, names), _names(d.supervisors, names))
    return table


def _dependencies(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    dependencies = analysis.power.dependencies
    table = _table(
        "Funding dependence",
        "Party",
        "Funder",
        _number("Strength"),
        _number("Share of its funding"),
        rows=dependencies,
        empty=_WORDING["no_dependencies"],
    )
    for d in dependencies:
        table.add_row(names[d.party], names[d.funder], f"{d.strength:g}", f"{d.share:.0%}")
    return table


def _brokers(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    brokers = analysis.brokers
    table = _table(
        "Brokers",
        "Broker",
        "Between parties in conflict",
        rows=brokers,
        empty=_WORDING["no_brokers"],
    )
    for b in brokers:
        table.add_row(_labelled(b.party, names), "\n".join(_pair(pair, names) for pair in b.pairs))
    return table


def _missing_dialogue(analysis: GraphAnalysis, names: dict[str, str]) -> Table:
    missing = analysis.missing_dialogue
    table = _table(
        "Missing dialogue channels",
        "Parties in conflict",
        _number("Strength"),
        _number("Distance"),
        "Suggested broker",
        "Why",
        rows=missing,
        empty=_WORDING["no_missing"],
    )
    for m in missing:
        table.add_row(
            _pair(m.parties, names),
            f"{m.strength:g}",
            "no path" if m.distance is None else str(m.distance),
            "—" if m.suggested_broker is None else _labelled(m.suggested_broker, names),
            _WORDING[m.reason].format(path=" → ".join(names[p] for p in m.path)),
        )
    return table


def _table(title: str, *columns: str | Column, rows: Sized = (), empty: str = "") -> Table:
    """Return a table titled ``title``, captioned ``empty`` when ``rows`` has none.

    Text folds rather than being cut: Chinese names have no spaces to wrap at.
    """
    return Table(
        *(Column(c, overflow="fold") if isinstance(c, str) else c for c in columns),
        title=title,
        title_justify="left",
        caption=None if rows else empty or None,
        caption_justify="left",
    )


def _number(header: str) -> Column:
    return Column(header, justify="right", overflow="fold")


def _labelled(id_: str, names: dict[str, str]) -> str:
    return f"{names[id_]} ({id_})"


def _names(ids: Iterable[str], names: dict[str, str]) -> str:
    return "\n".join(names[i] for i in ids)


def _pair(pair: tuple[str, str], names: dict[str, str]) -> str:
    return f"{names[pair[0]]} – {names[pair[1]]}"
