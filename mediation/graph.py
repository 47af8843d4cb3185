"""A case's stakeholder–interest graph and its analyses: contests, coalitions, power, brokerage."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, fields, is_dataclass
from functools import cache, cached_property, partial
from typing import Any, Literal, NamedTuple

import networkx as nx
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from .case import Case

__all__ = [
    "AFFINITY_KINDS",
    "Broker",
    "Coalition",
    "CoalitionAnalysis",
    "CoalitionConflict",
    "ContestedIssue",
    "Dependency",
    "DualSupervision",
    "GraphAnalysis",
    "MissingChannel",
    "PartyPower",
    "PowerLink",
    "PowerStructure",
    "analyze",
    "brokers",
    "build_graph",
    "coalitions",
    "contested_issues",
    "missing_dialogue",
    "power_structure",
    "to_graphml",
    "to_node_link",
]

#: Relation kinds that make two parties more likely to act together in :func:`coalitions`.
AFFINITY_KINDS: tuple[str, ...] = ("cooperates", "represents", "dialogue")

_CONFLICT = "conflicts"
_DIALOGUE = "dialogue"
_INTEREST_KEY = "interest"
# Rows of the similarity matrix computed at once: bounds memory at _BLOCK x parties floats.
_BLOCK = 512
# Affinities at or below this are no edge: modularity needs positive weights.
_EPS = 1e-12
# The fields of the case's models that build_graph copies onto nodes and edges, by their type.
_FIELDS = {
    "stakeholder": {"name", "kind", "weight", "disagreement", "risk_capacity", "size"},
    "issue": {"name", "kind", "amount", "unit", "divisible", "probability"},
    "interest": {"value", "min_share", "max_share", "claim", "control"},
}

FloatArray = npt.NDArray[np.float64]
Pair = tuple[str, str]


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContestedIssue:
    """An issue that two or more parties value.

    Attributes
    ----------
    issue
        The issue's id.
    kind
        ``"resource"`` or ``"risk"``.
    parties
        The parties valuing it (value > 0), highest value first, ties by id.
    values
        Their values, in the order of ``parties``.
    claim_ratio
        Sum of the stated claims over the issue's amount (above 1: the claims cannot all be
        met), or ``None`` when nobody states a claim.
    floor_sum
        Sum of the floors (``min_share``) of every party holding an interest in the issue.
    cap_sum
        Sum of the caps (``max_share``, 1 when missing) of every party holding an interest.
    effective_claimants
        ``1 / sum(p**2)`` with ``p`` each valuing party's share of the total value: the number
        of equally interested parties that would be as contested (two equal parties give 2).
    pressure
        How many times over the issue is wanted: ``claim_ratio`` when claims are stated, else
        ``effective_claimants`` (each party wanting the whole issue). See ``pressure_basis``.
    pressure_basis
        ``"claims"`` or ``"values"``: which of the two gave ``pressure``.
    """

    issue: str
    kind: str
    parties: tuple[str, ...]
    values: tuple[float, ...]
    claim_ratio: float | None
    floor_sum: float
    cap_sum: float
    effective_claimants: float
    pressure: float
    pressure_basis: Literal["claims", "values"]


@dataclass(frozen=True, slots=True)
class Coalition:
    """A group of parties with aligned interests.

    Attributes
    ----------
    members
        Party ids, sorted.
    cohesion
        Mean cosine similarity of the members' value vectors over all pairs of members
        (1.0 for a coalition of one).
    shared_issues
        Issues every member values (value > 0), sorted by id.
    """

    members: tuple[str, ...]
    cohesion: float
    shared_issues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CoalitionConflict:
    """A ``conflicts`` relation seen from the coalitions.

    Attributes
    ----------
    source, target
        The relation's parties, as stated in the case.
    strength
        The relation's strength.
    source_coalition, target_coalition
        Positions of the parties' coalitions in :attr:`CoalitionAnalysis.coalitions`.
    internal
        Whether both parties are in the same coalition.
    """

    source: str
    target: str
    strength: float
    source_coalition: int
    target_coalition: int
    internal: bool


@dataclass(frozen=True, slots=True)
class CoalitionAnalysis:
    """Coalitions of parties and the conflicts between and inside them.

    Attributes
    ----------
    coalitions
        Every party in exactly one coalition; largest first, ties by first member.
    conflicts
        Every ``conflicts`` relation, by source then target.
    modularity
        Modularity of the partition on the affinity graph (0 when the graph has no edge).
    """

    coalitions: tuple[Coalition, ...]
    conflicts: tuple[CoalitionConflict, ...]
    modularity: float

    def coalition_of(self, party: str) -> int:
        """Position in :attr:`coalitions` of the coalition holding ``party``.

        Raises
        ------
        KeyError
            When ``party`` is in no coalition (it is not a party of the case).
        """
        for k, coalition in enumerate(self.coalitions):
            if party in coalition.members:
                return k
        raise KeyError(f"'{party}' is not a party of the case")


@dataclass(frozen=True, slots=True)
class PowerLink:
    """A ``funds`` or ``supervises`` relation: ``source`` funds or supervises ``target``."""

    source: str
    target: str
    strength: float


@dataclass(frozen=True, slots=True)
class DualSupervision:
    """A party answering to two or more supervisors (双重监管).

    Attributes
    ----------
    party
        The supervised party.
    supervisors
        Its distinct supervisors, sorted.
    """

    party: str
    supervisors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dependency:
    """A funded party's dependence on one of its funders.

    Attributes
    ----------
    party
        The funded party.
    funder
        The party funding it.
    strength
        The strength of the ``funds`` relation.
    share
        ``strength`` over the total strength of the party's funding: 1.0 means a single funder.
    """

    party: str
    funder: str
    strength: float
    share: float


@dataclass(frozen=True, slots=True)
class PartyPower:
    """One party's place in the structure of funding, supervision and relations.

    Attributes
    ----------
    party
        The party's id.
    funders, funded, supervisors, supervised
        Parties funding it, funded by it, supervising it and supervised by it; sorted.
    degree
        Number of distinct parties it has any relation with.
    betweenness
        Normalised betweenness centrality in the undirected graph of all relations among
        parties: the share of shortest paths between other parties that pass through it.
    pagerank
        PageRank (damping 0.85) on the *depends-on* graph: an edge from every funded party to
        its funder and from every supervised party to its supervisor, weighted by strength.
        High when parties that are themselves depended upon depend on it. Sums to 1.
    """

    party: str
    funders: tuple[str, ...]
    funded: tuple[str, ...]
    supervisors: tuple[str, ...]
    supervised: tuple[str, ...]
    degree: int
    betweenness: float
    pagerank: float


@dataclass(frozen=True, slots=True)
class PowerStructure:
    """Who funds and who supervises whom.

    Attributes
    ----------
    parties
        One :class:`PartyPower` per party, in the case's order.
    funding, supervision
        The ``funds`` and ``supervises`` relations, by source then target.
    dual_supervision
        Parties with two or more supervisors, most supervisors first, ties by id.
    dependencies
        One :class:`Dependency` per ``funds`` relation, highest share first, then by party
        and funder.
    """

    parties: tuple[PartyPower, ...]
    funding: tuple[PowerLink, ...]
    supervision: tuple[PowerLink, ...]
    dual_supervision: tuple[DualSupervision, ...]
    dependencies: tuple[Dependency, ...]


@dataclass(frozen=True, slots=True)
class Broker:
    """A party that lies on a shortest path of non-conflict relations between conflicting parties.

    Attributes
    ----------
    party
        The broker's id.
    pairs
        The conflict pairs it can bridge, each as two sorted ids; sorted.
    """

    party: str
    pairs: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class MissingChannel:
    """Two parties in conflict with neither a dialogue relation nor a common neighbour.

    Attributes
    ----------
    parties
        The two parties, sorted.
    strength
        The strongest ``conflicts`` relation between them.
    distance
        Relations on a shortest path of non-conflict relations between them, ``None`` when no
        such path exists.
    suggested_broker
        Who could open a channel, or ``None`` when nobody fits.
    reason
        Why that broker: ``"shortest_path"`` (it lies on a shortest non-conflict path and is
        in conflict with neither party; the one with the highest betweenness is chosen),
        ``"third_party"`` (no path offers such an intermediate; a ``third_party`` stakeholder
        in conflict with neither is chosen, the best connected first) or ``"no_candidate"``.
    path
        A shortest non-conflict path through the suggested broker, from the first party to the
        second; empty unless ``reason`` is ``"shortest_path"``.
    """

    parties: Pair
    strength: float
    distance: int | None
    suggested_broker: str | None
    reason: Literal["shortest_path", "third_party", "no_candidate"]
    path: tuple[str, ...]


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
        """The analysis as JSON-serialisable data: mappings, lists, strings, numbers, ``None``.

        Every dataclass becomes a mapping of its fields and every tuple a list.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# --- the graph -----------------------------------------------------------------------------


def build_graph(case: Case) -> nx.MultiDiGraph:
    """The stakeholder–interest graph of a case.

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
                issues.append(node)
                issue_attrs[node] = attrs
        interests: list[tuple[str, str, dict[str, Any]]] = []
        relations: list[_Relation] = []
        for u, v, attrs in graph.edges(data=True):
            kind = attrs.get("type")
            if kind == "interest" and u in party_kind and v in issue_attrs:
                interests.append((u, v, attrs))
            elif kind == "relation" and u in party_kind and v in party_kind:
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
    raise TypeError(
        f"expected a Case or a graph made by build_graph, got {type(case_or_graph).__name__}"
    )


# --- contested issues ----------------------------------------------------------------------


def contested_issues(case_or_graph: Case | nx.MultiDiGraph) -> list[ContestedIssue]:
    """Issues two or more parties value, most contested first.

    An issue is contested when at least two parties hold a value > 0 in it. Its ``pressure``
    says how many times over it is wanted: the claim ratio (claims over amount) when any
    party states a claim — claims are what the parties say they need — else the effective
    number of claimants, i.e. as if each valuing party wanted the whole issue, counted by
    the concentration of their values. Both read "the issue is wanted ``pressure`` times";
    above 1 someone must give way.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.

    Returns
    -------
    list of ContestedIssue
        By pressure (highest first), then number of valuing parties (most first), then id.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "budget", "title": "购买服务预算",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "social_organization"},
    ...                      {"id": "b", "name": "乙", "kind": "social_organization"}],
    ...     "issues": [{"id": "fund", "name": "预算", "kind": "resource", "amount": 250}],
    ...     "interests": [{"stakeholder": "a", "issue": "fund", "value": 1, "claim": 300},
    ...                   {"stakeholder": "b", "issue": "fund", "value": 1, "claim": 200}]})
    >>> [(c.issue, c.parties, c.claim_ratio, c.effective_claimants) for c in contested_issues(case)]
    [('fund', ('a', 'b'), 2.0, 2.0)]
    """
    return _contested(_View.of(case_or_graph))


def _contested(view: _View) -> list[ContestedIssue]:
    held: dict[str, list[dict[str, Any]]] = defaultdict(list)
    valuing: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for party, issue, attrs in view.interests:
        held[issue].append(attrs)
        value = float(attrs.get("value", 0.0))
        if value > 0:
            valuing[issue].append((value, party))
    out: list[ContestedIssue] = []
    for issue in view.issues:
        ranked = sorted(valuing.get(issue, ()), key=lambda vp: (-vp[0], vp[1]))
        if len(ranked) < 2:
            continue
        values = [v for v, _ in ranked]
        effective = sum(values) ** 2 / sum(v * v for v in values)
        interests = held[issue]
        claims = [float(x["claim"]) for x in interests if x.get("claim") is not None]
        amount = float(view.issue_attrs[issue]["amount"])
        ratio = sum(claims) / amount if claims else None
        out.append(
            ContestedIssue(
                issue=issue,
                kind=str(view.issue_attrs[issue].get("kind", "resource")),
                parties=tuple(p for _, p in ranked),
                values=tuple(values),
                claim_ratio=ratio,
                floor_sum=sum(float(x.get("min_share", 0.0)) for x in interests),
                cap_sum=sum(float(x.get("max_share", 1.0)) for x in interests),
                effective_claimants=effective,
                pressure=effective if ratio is None else ratio,
                pressure_basis="values" if ratio is None else "claims",
            )
        )
    out.sort(key=lambda c: (-c.pressure, -len(c.parties), c.issue))
    return out


# --- coalitions ----------------------------------------------------------------------------


def coalitions(
    case_or_graph: Case | nx.MultiDiGraph,
    *,
    resolution: float = 1.0,
    neighbours: int = 15,
) -> CoalitionAnalysis:
    """Groups of parties with aligned interests, and the conflicts between and inside them.

    Each party's stake is a vector over the issues: its value for a resource, minus its value
    for a risk. The *similarity* of two parties is the cosine of their vectors (0 when either
    has no interest). Because the sign depends on the issue only, similarity is never negative:
    two parties valuing the same issues in the same proportions have similarity 1 and parties
    with no issue in common 0. It measures alignment of *what parties care about*, so rivals
    for one resource count as aligned on it; relations are what set them apart. Relations
    adjust it into an *affinity*::

        affinity(i, j) = similarity(i, j)
                         + sum over kinds k in AFFINITY_KINDS of max strength of k between i and j
                         - max strength of ``conflicts`` between i and j

    (either direction counts; a relation stated both ways counts once per kind). Parties are
    linked with weight = affinity when it is positive and either party ranks the other among
    its ``neighbours`` highest affinities, or one of those relations joins them; the
    k-nearest-neighbour rule keeps the graph sparse on large cases and changes nothing when
    there are at most ``neighbours + 1`` parties. Coalitions are the Louvain communities of
    that graph (seed 0, so the result is deterministic); a party linked to nobody is a
    coalition of its own.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.
    resolution
        Louvain's resolution: above 1 favours smaller coalitions, below 1 larger ones.
    neighbours
        How many highest-affinity partners each party keeps (at least 1).

    Returns
    -------
    CoalitionAnalysis

    Raises
    ------
    ValueError
        When ``resolution`` is not positive or ``neighbours`` is below 1.

    References
    ----------
    .. [1] Blondel, V. D., Guillaume, J.-L., Lambiotte, R. and Lefebvre, E. (2008). Fast
       unfolding of communities in large networks. J. Stat. Mech. P10008.
       https://doi.org/10.1088/1742-5468/2008/10/P10008

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "park", "title": "公园改造",
    ...     "stakeholders": [{"id": s, "name": s, "kind": "resident_group"} for s in "abcd"],
    ...     "issues": [{"id": "land", "name": "用地", "kind": "resource", "amount": 1},
    ...                {"id": "cost", "name": "超支", "kind": "risk", "amount": 1}],
    ...     "interests": [{"stakeholder": "a", "issue": "land", "value": 3},
    ...                   {"stakeholder": "b", "issue": "land", "value": 1},
    ...                   {"stakeholder": "c", "issue": "cost", "value": 2},
    ...                   {"stakeholder": "d", "issue": "cost", "value": 5}],
    ...     "relations": [{"source": "a", "target": "c", "kind": "conflicts"}]})
    >>> result = coalitions(case)
    >>> [(c.members, c.cohesion, c.shared_issues) for c in result.coalitions]
    [(('a', 'b'), 1.0, ('land',)), (('c', 'd'), 1.0, ('cost',))]
    >>> [(x.source, x.target, x.internal) for x in result.conflicts]
    [('a', 'c', False)]
    """
    if not resolution > 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}")
    return _coalitions(_View.of(case_or_graph), resolution, neighbours)


def _unit_vectors(view: _View) -> FloatArray:
    """Each party's signed value vector scaled to length 1 (zero when it values nothing)."""
    party_index = {p: k for k, p in enumerate(view.parties)}
    issue_index = {i: k for k, i in enumerate(view.issues)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for party, issue, attrs in view.interests:
        sign = -1.0 if view.issue_attrs[issue].get("kind") == "risk" else 1.0
        rows.append(party_index[party])
        cols.append(issue_index[issue])
        vals.append(sign * float(attrs.get("value", 0.0)))
    vectors = np.zeros((len(view.parties), len(view.issues)))
    vectors[rows, cols] = vals
    norms = np.linalg.norm(vectors, axis=1)
    nonzero = norms > 0
    vectors[nonzero] /= norms[nonzero, None]
    return vectors


def _relation_adjustments(view: _View) -> dict[tuple[int, int], float]:
    """Affinity added by relations, for both orders of every related pair of parties."""
    index = {p: k for k, p in enumerate(view.parties)}
    strongest: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for r in view.relations:
        if r.kind not in AFFINITY_KINDS and r.kind != _CONFLICT:
            continue
        i, j = sorted((index[r.source], index[r.target]))
        by_kind = strongest[i, j]
        by_kind[r.kind] = max(by_kind.get(r.kind, 0.0), r.strength)
    out: dict[tuple[int, int], float] = {}
    for (i, j), by_kind in strongest.items():
        delta = sum(s for k, s in by_kind.items() if k != _CONFLICT) - by_kind.get(_CONFLICT, 0.0)
        out[i, j] = out[j, i] = delta
    return out


def _coalitions(view: _View, resolution: float, neighbours: int) -> CoalitionAnalysis:
    units = _unit_vectors(view)
    linked = _affinity_graph(view, units, neighbours)
    if linked.number_of_edges():
        communities = nx.community.louvain_communities(
            linked, weight="weight", resolution=resolution, seed=0
        )
        modularity = float(
            nx.community.modularity(linked, communities, weight="weight", resolution=resolution)
        )
    else:
        communities, modularity = [{p} for p in view.parties], 0.0

    index = {p: k for k, p in enumerate(view.parties)}
    issue_ids = np.array(view.issues, dtype=object)
    found: list[Coalition] = []
    for members in sorted((sorted(c) for c in communities), key=lambda m: (-len(m), m[0])):
        rows = units[[index[p] for p in members]]
        size = len(members)
        # Sum of cos(i, j) over ordered pairs i != j, without forming the size x size matrix.
        total = rows.sum(axis=0)
        pairwise = float(total @ total) - float(np.einsum("ij,ij->", rows, rows))
        cohesion = 1.0 if size == 1 else pairwise / (size * (size - 1))
        shared = sorted(str(i) for i in issue_ids[np.all(rows != 0, axis=0)])
        found.append(Coalition(tuple(members), cohesion, tuple(shared)))

    where = {p: k for k, c in enumerate(found) for p in c.members}
    conflicts = sorted(
        (
            CoalitionConflict(
                r.source,
                r.target,
                r.strength,
                where[r.source],
                where[r.target],
                where[r.source] == where[r.target],
            )
            for r in view.relations
            if r.kind == _CONFLICT
        ),
        key=lambda x: (x.source, x.target),
    )
    return CoalitionAnalysis(tuple(found), tuple(conflicts), modularity)


def _affinity_graph(view: _View, units: FloatArray, neighbours: int) -> nx.Graph:
    """The parties, each linked to its ``neighbours`` nearest and to those it is related to.

    Only positive affinities are links, weighted by the affinity.
    """
    parties = view.parties
    n = len(parties)
    adjustments = _relation_adjustments(view)
    pairs = np.array(list(adjustments), dtype=np.intp).reshape(-1, 2)
    deltas = np.array(list(adjustments.values()), dtype=np.float64)
    linked = nx.Graph()
    linked.add_nodes_from(parties)
    keep = min(neighbours, n - 1)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        affinity = units[start:stop] @ units.T
        here = (start <= pairs[:, 0]) & (pairs[:, 0] < stop)
        affinity[pairs[here, 0] - start, pairs[here, 1]] += deltas[here]
        affinity[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        best = np.argsort(-affinity, axis=1, kind="stable")[:, :keep]
        for r, row in enumerate(best):
            for j in row:
                weight = float(affinity[r, j])
                if weight <= _EPS:
                    break
                linked.add_edge(parties[start + r], parties[j], weight=weight)
    for (i, j), delta in adjustments.items():
        weight = float(units[i] @ units[j]) + delta
        if i < j and weight > _EPS:
            linked.add_edge(parties[i], parties[j], weight=weight)
    return linked


# --- power ---------------------------------------------------------------------------------


def power_structure(case_or_graph: Case | nx.MultiDiGraph) -> PowerStructure:
    """Who funds and who supervises whom, who answers to two supervisors, who is central.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.

    Returns
    -------
    PowerStructure
        See :class:`PartyPower` for the centralities: ``degree`` and ``betweenness`` on the
        undirected graph of all relations among parties, ``pagerank`` on the *depends-on*
        graph (funded → funder, supervised → supervisor, weighted by strength).

    Notes
    -----
    Both centralities are networkx's. Betweenness (Brandes' algorithm) takes time in
    parties × relations: instant for the tens of parties of a real mediation, about 1.5 s
    for 1,000 parties and 5,000 relations. Graph analyses are not on the settlement path.

    References
    ----------
    .. [1] Brandes, U. (2001). A faster algorithm for betweenness centrality. J. Math. Sociol.
       25(2), 163–177. https://doi.org/10.1080/0022250X.2001.9990249
    .. [2] Page, L., Brin, S., Motwani, R. and Winograd, T. (1999). The PageRank citation
       ranking: bringing order to the web. Stanford InfoLab technical report 1999-66.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "care", "title": "养老服务",
    ...     "stakeholders": [{"id": "bureau", "name": "民政局", "kind": "government"},
    ...                      {"id": "office", "name": "街道办", "kind": "government"},
    ...                      {"id": "ngo", "name": "养老中心", "kind": "social_organization"}],
    ...     "issues": [{"id": "fund", "name": "经费", "kind": "resource", "amount": 10}],
    ...     "interests": [{"stakeholder": "ngo", "issue": "fund", "value": 1}],
    ...     "relations": [{"source": "bureau", "target": "ngo", "kind": "supervises"},
    ...                   {"source": "office", "target": "ngo", "kind": "supervises"},
    ...                   {"source": "office", "target": "ngo", "kind": "funds"}]})
    >>> power = power_structure(case)
    >>> power.dual_supervision
    (DualSupervision(party='ngo', supervisors=('bureau', 'office')),)
    >>> power.dependencies
    (Dependency(party='ngo', funder='office', strength=1.0, share=1.0),)
    >>> max(power.parties, key=lambda p: p.pagerank).party
    'office'
    """
    return _power(_View.of(case_or_graph))


def _power(view: _View) -> PowerStructure:
    funders: dict[str, list[str]] = defaultdict(list)
    funded: dict[str, list[str]] = defaultdict(list)
    supervisors: dict[str, list[str]] = defaultdict(list)
    supervised: dict[str, list[str]] = defaultdict(list)
    funding: list[PowerLink] = []
    supervision: list[PowerLink] = []
    for r in view.relations:
        if r.kind == "funds":
            funding.append(PowerLink(r.source, r.target, r.strength))
            funders[r.target].append(r.source)
            funded[r.source].append(r.target)
        elif r.kind == "supervises":
            supervision.append(PowerLink(r.source, r.target, r.strength))
            supervisors[r.target].append(r.source)
            supervised[r.source].append(r.target)
    funding.sort(key=lambda x: (x.source, x.target))
    supervision.sort(key=lambda x: (x.source, x.target))

    depends_on = nx.MultiDiGraph()
    depends_on.add_nodes_from(view.parties)
    depends_on.add_weighted_edges_from(
        (x.target, x.source, x.strength) for x in (*funding, *supervision)
    )
    # Parallel edges add their weights, so funding and supervision add up. networkx stops
    # when the iterates move less than parties x tol (in sum): its default tol of 1e-6 would
    # leave errors near 1% on a thousand parties.
    rank: dict[str, float] = nx.pagerank(
        depends_on, alpha=0.85, weight="weight", tol=1e-10, max_iter=1000
    )
    parties = tuple(
        PartyPower(
            party=p,
            funders=tuple(sorted(funders[p])),
            funded=tuple(sorted(funded[p])),
            supervisors=tuple(sorted(supervisors[p])),
            supervised=tuple(sorted(supervised[p])),
            degree=view.related.degree(p),
            betweenness=view.betweenness[p],
            pagerank=rank[p],
        )
        for p in view.parties
    )
    dual = sorted(
        (DualSupervision(p.party, p.supervisors) for p in parties if len(p.supervisors) >= 2),
        key=lambda d: (-len(d.supervisors), d.party),
    )
    received: dict[str, float] = defaultdict(float)
    for link in funding:
        received[link.target] += link.strength
    dependencies = sorted(
        (
            Dependency(
                link.target, link.source, link.strength, link.strength / received[link.target]
            )
            for link in funding
        ),
        key=lambda d: (-d.share, d.party, d.funder),
    )
    return PowerStructure(
        parties, tuple(funding), tuple(supervision), tuple(dual), tuple(dependencies)
    )


# --- brokerage -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Brokerage:
    """Conflict pairs and the shortest non-conflict paths between them."""

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


def brokers(case_or_graph: Case | nx.MultiDiGraph) -> list[Broker]:
    """Parties that lie between conflicting parties on paths of non-conflict relations.

    For each pair of parties linked by a ``conflicts`` relation (either direction), take the
    undirected graph of all other relations among parties; every party other than the two
    that lies on a shortest path between them brokers the pair. Pairs without a path, or
    directly linked by a non-conflict relation, have no broker.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.

    Returns
    -------
    list of Broker
        Most pairs bridged first, ties by id.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "venue", "title": "场地纠纷",
    ...     "stakeholders": [{"id": s, "name": s, "kind": "other"} for s in "abcm"],
    ...     "issues": [{"id": "room", "name": "场地", "kind": "resource", "amount": 1}],
    ...     "interests": [{"stakeholder": "a", "issue": "room", "value": 1}],
    ...     "relations": [{"source": "a", "target": "b", "kind": "conflicts"},
    ...                   {"source": "m", "target": "a", "kind": "cooperates"},
    ...                   {"source": "b", "target": "m", "kind": "funds"}]})
    >>> brokers(case)
    [Broker(party='m', pairs=(('a', 'b'),))]
    """
    return _brokers(_View.of(case_or_graph))


def _brokers(view: _View) -> list[Broker]:
    bridged: dict[str, list[Pair]] = defaultdict(list)
    for pair, between in view.brokerage.intermediates.items():
        for party in between:
            bridged[party].append(pair)
    found = [Broker(p, tuple(sorted(pairs))) for p, pairs in bridged.items()]
    found.sort(key=lambda b: (-len(b.pairs), b.party))
    return found


def missing_dialogue(case_or_graph: Case | nx.MultiDiGraph) -> list[MissingChannel]:
    """Parties in conflict with no channel between them, and who could open one.

    A pair in conflict (a ``conflicts`` relation either way) lacks a channel when no
    ``dialogue`` relation joins them (either way) and no party has a non-conflict relation
    with both. The suggested broker is, in order of preference: the party with the highest
    betweenness (as in :func:`power_structure`: on the graph of all relations; ties by id)
    among those on a shortest non-conflict path between them; else a ``third_party``
    stakeholder in conflict with neither, the one with the most non-conflict relations first
    (ties by id); else nobody.

    Parameters
    ----------
    case_or_graph
        A case, or a graph made by :func:`build_graph`.

    Returns
    -------
    list of MissingChannel
        Strongest conflict first, then by the pair's ids.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> case = parse_case({
    ...     "id": "fees", "title": "物业费",
    ...     "stakeholders": [{"id": "owners", "name": "业主委员会", "kind": "resident_group"},
    ...                      {"id": "firm", "name": "物业公司", "kind": "enterprise"},
    ...                      {"id": "eval", "name": "第三方评估", "kind": "third_party"}],
    ...     "issues": [{"id": "fee", "name": "物业费", "kind": "resource", "amount": 100}],
    ...     "interests": [{"stakeholder": "firm", "issue": "fee", "value": 1}],
    ...     "relations": [{"source": "owners", "target": "firm", "kind": "conflicts",
    ...                    "strength": 0.8}]})
    >>> [(m.parties, m.suggested_broker, m.reason) for m in missing_dialogue(case)]
    [(('firm', 'owners'), 'eval', 'third_party')]
    """
    return _missing(_View.of(case_or_graph))


def _missing(view: _View) -> list[MissingChannel]:
    brokerage = view.brokerage
    ties = brokerage.ties
    dialogue = {_pair(r.source, r.target) for r in view.relations if r.kind == _DIALOGUE}
    enemies: dict[str, set[str]] = defaultdict(set)
    for a, b in brokerage.conflicts:
        enemies[a].add(b)
        enemies[b].add(a)
    third_parties = sorted(
        (p for p in view.parties if view.party_kind[p] == "third_party"),
        key=lambda p: (-ties.degree(p), p),
    )
    found: list[MissingChannel] = []
    for (a, b), strength in brokerage.conflicts.items():
        if (a, b) in dialogue or set(ties[a]) & set(ties[b]):
            continue
        # a party in conflict with either side is no honest broker for them
        candidates = [p for p in brokerage.intermediates[a, b] if not enemies[p] & {a, b}]
        broker: str | None = None
        path: tuple[str, ...] = ()
        reason: Literal["shortest_path", "third_party", "no_candidate"] = "no_candidate"
        if candidates:
            # Betweenness only decides between several candidates: it is not computed otherwise.
            broker = (
                min(candidates, key=lambda p: (-view.betweenness[p], p))
                if len(candidates) > 1
                else candidates[0]
            )
            reason = "shortest_path"
            path = (*nx.shortest_path(ties, a, broker), *nx.shortest_path(ties, broker, b)[1:])
        else:
            neutral = [p for p in third_parties if p not in (a, b) and not enemies[p] & {a, b}]
            if neutral:
                broker, reason = neutral[0], "third_party"
        found.append(
            MissingChannel((a, b), strength, brokerage.distance[a, b], broker, reason, path)
        )
    found.sort(key=lambda m: (-m.strength, m.parties))
    return found


# --- everything at once --------------------------------------------------------------------


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


# --- export --------------------------------------------------------------------------------


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The graph as node-link data (edges under ``"edges"``), ready for ``json.dumps``.

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
    """The graph as a GraphML document.

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
