"""A case's graph written out: node-link data (JSON) and GraphML."""

from __future__ import annotations

import io
from typing import Any

import networkx as nx

__all__ = ["to_graphml", "to_node_link"]


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Return the graph as node-link data (edges under ``"edges"``), ready for ``json.dumps``.

    Text is kept as it is; write it with ``ensure_ascii=False`` to keep Chinese readable.
    ``networkx.node_link_graph(data, edges="edges")`` reads it back.

    Parameters
    ----------
    graph
        A graph made by :func:`build_graph` (any graph with JSON-compatible attributes works).

    Returns
    -------
    dict
        Keys ``directed``, ``multigraph``, ``graph``, ``nodes`` and ``edges``.

    Examples
    --------
    >>> import json
    >>> from mediation.case import parse_case
    >>> from mediation.graph import build_graph
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "街道办", "kind": "government"},
    ...                      {"id": "b", "name": "居委会", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1}]})
    >>> data = json.loads(json.dumps(to_node_link(build_graph(case)), ensure_ascii=False))
    >>> data["nodes"][0]["name"], data["edges"][0]["key"]
    ('街道办', 'interest')
    """
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """Return the graph as a GraphML document.

    GraphML has no null value, so attributes that are ``None`` are left out; edge keys
    become edge ids. Text is written as UTF-8 characters, not character references. Read it
    back with ``networkx.parse_graphml(text, edge_key_type=str, force_multigraph=True)``.

    Parameters
    ----------
    graph
        A graph made by :func:`build_graph`.

    Returns
    -------
    str
        The document, with an XML declaration of UTF-8 (encode it as UTF-8 to save it).

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.graph import build_graph
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "街道办", "kind": "government"},
    ...                      {"id": "b", "name": "居委会", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1}]})
    >>> import networkx as nx
    >>> back = nx.parse_graphml(to_graphml(build_graph(case)), edge_key_type=str)
    >>> back.nodes["a"]["name"], back.nodes["hall"]["amount"]
    ('街道办', 40.0)
    """
    clean = graph.copy()  # with copies of every attribute mapping: the caller's are kept
    for attrs in (
        clean.graph,
        *(a for _, a in clean.nodes(data=True)),
        *(a for _, _, a in clean.edges(data=True)),
    ):
        for key in [k for k, v in attrs.items() if v is None]:
            del attrs[key]
    # nx.generate_graphml would write Chinese as character references (&#34903;...); the same
    # writer with an explicit UTF-8 encoding keeps it readable in the document.
    buffer = io.BytesIO()
    nx.write_graphml(clean, buffer, encoding="utf-8")
    return buffer.getvalue().decode("utf-8")
