"""Missing dialogue: parties in conflict with no channel between them, and who could open one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from ..case import Case
from .build import _DIALOGUE, Pair, _pair, _View

__all__ = ["MissingChannel", "missing_dialogue"]


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
