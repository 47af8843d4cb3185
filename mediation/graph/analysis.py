"""Every analysis of a case's graph at once, sharing the work between them."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import networkx as nx

from ..case import Case
from .brokerage import Broker, _brokers
from .build import _as_graph, _View
from .coalition import CoalitionAnalysis, _coalitions
from .contested import ContestedIssue, _contested
from .dialogue import MissingChannel, _missing
from .power import PowerStructure, _power

__all__ = ["GraphAnalysis", "analyze"]


@dataclass(frozen=True, slots=True)
class GraphAnalysis:
    """Every analysis of a case's graph, as computed by :func:`analyze`."""

    case: str
    contested: tuple[ContestedIssue, ...]
    coalitions: CoalitionAnalysis
    power: PowerStructure
    brokers: tuple[Broker, ...]
    missing_dialogue: tuple[MissingChannel, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the analysis as JSON-serialisable data.

        The data holds mappings, lists, strings, numbers and ``None`` only.

        Every dataclass becomes a mapping of its fields and every tuple a list.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def analyze(case_or_graph: Case | nx.MultiDiGraph) -> GraphAnalysis:
    """Every analysis of :mod:`mediation.graph` on one case, sharing the work between them.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.

    Returns
    -------
    GraphAnalysis
        Its :meth:`~GraphAnalysis.to_dict` is the data of ``mediation graph --format json``.

    Raises
    ------
    GraphError
        When the graph is not one that :func:`~mediation.graph.build_graph` makes (a
        :class:`ValueError` too; :class:`~mediation.errors.GraphTypeError`, also a
        :class:`TypeError`, when it is not a graph at all).

    Notes
    -----
    The betweenness of :func:`power_structure` takes most of the time on large cases (about
    3 s in all for 1,000 parties, 200 issues and 5,000 relations).

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "government"},
    ...                      {"id": "b", "name": "乙", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 1}],
    ...     "relations": [{"source": "a", "target": "b", "kind": "conflicts"}]})
    >>> data = analyze(case).to_dict()
    >>> data["contested"][0]["issue"], data["contested"][0]["pressure"]
    ('hall', 2.0)
    >>> data["missing_dialogue"][0]["parties"], data["missing_dialogue"][0]["reason"]
    (['a', 'b'], 'no_candidate')
    """
    graph = _as_graph(case_or_graph)
    view = _View.of(graph)
    return GraphAnalysis(
        case=str(graph.graph.get("case", "")),
        contested=tuple(_contested(view)),
        coalitions=_coalitions(view, 1.0, 15),
        power=_power(view),
        brokers=tuple(_brokers(view)),
        missing_dialogue=tuple(_missing(view)),
    )
