"""Coalitions: groups of parties with aligned interests, and the conflicts among them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt

from ..case import Case
from ..errors import GraphError, UnknownPartyError
from .build import _CONFLICT, _View

__all__ = [
    "AFFINITY_KINDS",
    "Coalition",
    "CoalitionAnalysis",
    "CoalitionConflict",
    "coalitions",
]

#: Relation kinds that make two parties more likely to act together in :func:`coalitions`.
AFFINITY_KINDS: tuple[str, ...] = ("cooperates", "represents", "dialogue")

# Rows of the similarity matrix computed at once: bounds memory at _BLOCK x parties floats.
_BLOCK = 512
# Affinities at or below this are no edge: modularity needs positive weights.
_EPS = 1e-12

FloatArray = npt.NDArray[np.float64]


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
        UnknownPartyError
            When ``party`` is in no coalition (it is not a party of the case); it is a
            :class:`KeyError` too.
        """
        for k, coalition in enumerate(self.coalitions):
            if party in coalition.members:
                return k
        raise UnknownPartyError(f"'{party}' is not a party of the case")


def coalitions(
    case_or_graph: Case | nx.MultiDiGraph,
    *,
    resolution: float = 1.0,
    neighbours: int = 15,
) -> CoalitionAnalysis:
    """Group the parties with aligned interests; find the conflicts between and inside groups.

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
    GraphError
        When ``resolution`` is not positive or ``neighbours`` is below 1 (a
        :class:`ValueError` too).

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
        raise GraphError(f"resolution must be positive, got {resolution}")
    if neighbours < 1:
        raise GraphError(f"neighbours must be at least 1, got {neighbours}")
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
        # networkx sums over sets, whose order follows the hash seed: the last bits differ
        # between processes; rounded (and -0.0 made 0.0), the JSON is the same from every one
        modularity = 0.0 + round(
            float(
                nx.community.modularity(linked, communities, weight="weight", resolution=resolution)
            ),
            12,
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
    """Return the parties, each linked to its ``neighbours`` nearest and to those it is related to.

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
