"""Contested issues: the issues two or more parties value, and how many times over."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from ..case import Case
from .build import _View

__all__ = ["ContestedIssue", "contested_issues"]


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
        Sum of the floors in force (``min_share``, or ``min_amount`` ÷ amount when tighter)
        of every party holding an interest in the issue.
    cap_sum
        Sum of the caps in force (``max_share`` or ``max_amount`` ÷ amount, 1 when missing) of
        every party holding an interest.
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
                floor_sum=sum(_floor(x, amount) for x in interests),
                cap_sum=sum(_cap(x, amount) for x in interests),
                effective_claimants=effective,
                pressure=effective if ratio is None else ratio,
                pressure_basis="values" if ratio is None else "claims",
            )
        )
    out.sort(key=lambda c: (-c.pressure, -len(c.parties), c.issue))
    return out


def _floor(interest: dict[str, object], amount: float) -> float:
    """Return the floor in force as a share (``min_share`` or ``min_amount`` ÷ amount)."""
    share = float(interest.get("min_share") or 0.0)  # type: ignore[arg-type]
    least = interest.get("min_amount")
    return share if least is None else max(share, min(1.0, float(least) / amount))  # type: ignore[arg-type]


def _cap(interest: dict[str, object], amount: float) -> float:
    """Return the cap in force as a share (``max_share`` or ``max_amount`` ÷ amount)."""
    share = interest.get("max_share")
    cap = 1.0 if share is None else float(share)  # type: ignore[arg-type]
    most = interest.get("max_amount")
    return cap if most is None else min(cap, float(most) / amount)  # type: ignore[arg-type]
