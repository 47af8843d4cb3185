"""A case's stakeholder–interest graph, and the view of it that the analyses read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property, partial
from numbers import Real
from typing import Any, NamedTuple

import networkx as nx
from pydantic import BaseModel

from ..case import Case
from ..errors import GraphError, GraphTypeError, describe

__all__ = ["build_graph"]

_CONFLICT = "conflicts"
_DIALOGUE = "dialogue"
_INTEREST_KEY = "interest"
# The fields of the case's models that build_graph copies onto nodes and edges, by their type.
_FIELDS = {
    "stakeholder": {"name", "kind", "weight", "disagreement", "risk_capacity", "size"},
    "issue": {"name", "kind", "amount", "unit", "divisible", "probability"},
    "interest": {
        "value",
        "min_share",
        "max_share",
        "min_amount",
        "max_amount",
        "claim",
        "control",
    },
}

Pair = tuple[str, str]


def build_graph(case: Case) -> nx.MultiDiGraph:
    """Return the stakeholder–interest graph of a case.

    One node per stakeholder (``type="stakeholder"``, with ``name``, ``kind``, ``weight``,
    ``disagreement``, ``risk_capacity``, ``size``) and one per issue (``type="issue"``, with
    ``name``, ``kind``, ``amount``, ``unit``, ``divisible``, ``probability``); attributes that
    are ``None`` in the case are left out. Each interest is an edge stakeholder → issue with key
    ``"interest"`` (``type="interest"``, ``value``, ``min_share``, ``max_share``, ``claim``,
    ``control``); each relation an edge source → target keyed by its kind
    (``type="relation"``, ``kind``, ``strength``). Nodes keep the case's order; the graph's
    own attributes are the case's ``case`` id and ``title``.

    Parameters
    ----------
    case
        A validated case (stakeholder and issue ids are disjoint).

    Returns
    -------
    networkx.MultiDiGraph

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "office", "name": "街道办", "kind": "government"},
    ...                      {"id": "ngo", "name": "养老服务中心", "kind": "social_organization"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "ngo", "issue": "hall", "value": 2, "claim": 30}],
    ...     "relations": [{"source": "office", "target": "ngo", "kind": "funds"}]})
    >>> g = build_graph(case)
    >>> g.nodes["ngo"]["name"], g.nodes["hall"]["amount"]
    ('养老服务中心', 40.0)
    >>> g.edges["ngo", "hall", "interest"]
    {'type': 'interest', 'value': 2.0, 'claim': 30.0}
    >>> g.edges["office", "ngo", "funds"]["strength"]
    1.0
    """
    graph = nx.MultiDiGraph(case=case.id, title=case.title)
    graph.add_nodes_from((s.id, _attrs("stakeholder", s)) for s in case.stakeholders)
    graph.add_nodes_from((i.id, _attrs("issue", i)) for i in case.issues)
    graph.add_edges_from(
        (x.stakeholder, x.issue, _INTEREST_KEY, _attrs("interest", x)) for x in case.interests
    )
    graph.add_edges_from(
        (r.source, r.target, r.kind, {"type": "relation", "kind": r.kind, "strength": r.strength})
        for r in case.relations
    )
    return graph


def _attrs(type_: str, model: BaseModel) -> dict[str, Any]:
    return {"type": type_, **model.model_dump(include=_FIELDS[type_], exclude_none=True)}


class _Relation(NamedTuple):
    source: str
    target: str
    kind: str
    strength: float


@dataclass(frozen=True)
class _View:
    """The parts of a graph the analyses read, extracted in one pass over its edges.

    What several analyses derive from them is computed on first use and kept, so that
    :func:`analyze` computes it once.
    """

    parties: tuple[str, ...]
    party_kind: dict[str, str]
    issues: tuple[str, ...]
    issue_attrs: dict[str, dict[str, Any]]
    interests: tuple[tuple[str, str, dict[str, Any]], ...]
    relations: tuple[_Relation, ...]

    @classmethod
    def of(cls, case_or_graph: Case | nx.MultiDiGraph) -> _View:
        graph = _as_graph(case_or_graph)
        parties: list[str] = []
        party_kind: dict[str, str] = {}
        issues: list[str] = []
        issue_attrs: dict[str, dict[str, Any]] = {}
        for node, attrs in graph.nodes(data=True):
            if attrs.get("type") == "stakeholder":
                parties.append(node)
                party_kind[node] = attrs.get("kind", "other")
            elif attrs.get("type") == "issue":
                _check(f"issue node '{node}'", "issue", attrs)
                issues.append(node)
                issue_attrs[node] = attrs
        interests: list[tuple[str, str, dict[str, Any]]] = []
        relations: list[_Relation] = []
        for u, v, attrs in graph.edges(data=True):
            kind = attrs.get("type")
            if kind == "interest" and u in party_kind and v in issue_attrs:
                _check(f"interest edge '{u}' → '{v}'", "interest", attrs)
                interests.append((u, v, attrs))
            elif kind == "relation" and u in party_kind and v in party_kind:
                _check(f"relation edge '{u}' → '{v}'", "relation", attrs)
                relations.append(_Relation(u, v, attrs["kind"], float(attrs.get("strength", 1.0))))
        return cls(
            tuple(parties),
            party_kind,
            tuple(issues),
            issue_attrs,
            tuple(interests),
            tuple(relations),
        )

    def linked_by(self, *, exclude: tuple[str, ...] = ()) -> nx.Graph:
        """Undirected simple graph of the parties, linked by relations of kinds not excluded."""
        graph = nx.Graph()
        graph.add_nodes_from(self.parties)
        graph.add_edges_from((r.source, r.target) for r in self.relations if r.kind not in exclude)
        return graph

    @cached_property
    def related(self) -> nx.Graph:
        """The parties linked by relations of any kind."""
        return self.linked_by()

    @cached_property
    def betweenness(self) -> dict[str, float]:
        """Normalised betweenness centrality in :attr:`related`."""
        # Costly on large cases: see the Notes of power_structure.
        centrality: dict[str, float] = nx.betweenness_centrality(self.related)
        return centrality

    @cached_property
    def brokerage(self) -> _Brokerage:
        return _Brokerage.of(self)


def _as_graph(case_or_graph: Case | nx.MultiDiGraph) -> nx.MultiDiGraph:
    if isinstance(case_or_graph, Case):
        return build_graph(case_or_graph)
    if isinstance(case_or_graph, nx.MultiDiGraph):
        return case_or_graph
    raise GraphTypeError(
        f"expected a Case or a graph made by build_graph, got {type(case_or_graph).__name__}"
    )


# The numeric attributes the analyses read, by the type of node or edge that holds them.
_NUMBERS = {
    "issue": ("amount",),
    "interest": ("value", "min_share", "max_share", "claim"),
    "relation": ("strength",),
}


def _check(where: str, type_: str, attrs: dict[str, Any]) -> None:
    """Refuse the attributes of a node or edge that build_graph could not have made.

    The analyses read them without further checks; a service must see an input error here,
    not a KeyError deep inside one of them.
    """
    for key in _NUMBERS[type_]:
        # float first: what build_graph writes, and much faster to check than the ABC
        if key in attrs and not isinstance(attrs[key], float | int | Real):
            raise GraphError(
                f"not a case's graph: {where} has {key} {describe(attrs[key])}, "
                "not a number; make the graph with build_graph"
            )
    if type_ == "issue" and not attrs.get("amount", 0) > 0:
        raise GraphError(
            f"not a case's graph: {where} needs a positive amount; make the graph with build_graph"
        )
    if type_ == "relation" and not isinstance(attrs.get("kind"), str):
        raise GraphError(
            f"not a case's graph: {where} needs a kind (a string such as 'conflicts'); "
            "make the graph with build_graph"
        )


@dataclass(frozen=True, slots=True)
class _Brokerage:
    """Conflict pairs and the shortest non-conflict paths between them.

    Both :func:`~mediation.graph.brokers` and :func:`~mediation.graph.missing_dialogue` read
    it; it lives here, beside the view that keeps it, so that neither imports the other.
    """

    ties: nx.Graph
    conflicts: dict[Pair, float]
    distance: dict[Pair, int | None]
    intermediates: dict[Pair, tuple[str, ...]]

    @classmethod
    def of(cls, view: _View) -> _Brokerage:
        ties = view.linked_by(exclude=(_CONFLICT,))
        conflicts: dict[Pair, float] = {}
        for r in view.relations:
            if r.kind == _CONFLICT:
                pair = _pair(r.source, r.target)
                conflicts[pair] = max(conflicts.get(pair, 0.0), r.strength)
        # One breadth-first search per party in conflict, shared by all its pairs.
        from_ = cache(partial(nx.single_source_shortest_path_length, ties))
        distance: dict[Pair, int | None] = {}
        intermediates: dict[Pair, tuple[str, ...]] = {}
        for a, b in sorted(conflicts):
            from_a = from_(a)
            length = from_a.get(b)
            distance[a, b] = length
            if length is None or length < 2:
                intermediates[a, b] = ()
                continue
            from_b = from_(b)
            # v lies on a shortest a–b path exactly when d(a, v) + d(v, b) = d(a, b).
            intermediates[a, b] = tuple(
                sorted(
                    v for v, d in from_a.items() if 0 < d < length and from_b.get(v) == length - d
                )
            )
        return cls(ties, conflicts, distance, intermediates)


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)
