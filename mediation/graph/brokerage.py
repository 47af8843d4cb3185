"""Brokers: parties that lie between parties in conflict on paths of other relations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from ..case import Case
from .build import Pair, _View

__all__ = ["Broker", "brokers"]


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
