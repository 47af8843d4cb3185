"""The numeric view of a case: parties, issues and interests as numpy arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .case import Case

__all__ = ["CaseIndex", "index_case", "separable_ideals"]


@dataclass(frozen=True)
class CaseIndex:
    """A numeric view of a case: parties, issues and interests as arrays.

    Interest ``k`` is ``case.interests[k]``: party ``pair_party[k]`` has a stake in issue
    ``pair_issue[k]`` with ``value[k]``; ``sign[k]`` is +1 for a resource and -1 for a risk.
    ``lower``/``upper`` are the share bounds in force (indivisible issues: 0 or 1).
    """

    parties: list[str]
    issues: list[str]
    party_of: dict[str, int]
    issue_of: dict[str, int]
    pair_party: np.ndarray
    pair_issue: np.ndarray
    value: np.ndarray
    sign: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    disagreement: np.ndarray
    capacity: np.ndarray  # inf when the party set no capacity
    amount: np.ndarray  # per issue
    likelihood: np.ndarray  # per issue, 1 for resources
    is_risk: np.ndarray  # per issue
    divisible: np.ndarray  # per issue
    interests_of_party: list[np.ndarray]
    interests_of_issue: list[np.ndarray]
    #: Per interest, the fraction of a risk's expected loss its bearer still suffers after
    #: what its control mitigates: 1 − mitigation · control (1 on resources; see mediation.risk).
    retained: np.ndarray

    @property
    def stake(self) -> np.ndarray:
        """Each party's total value over all its interests (1 when it has none)."""
        total = np.bincount(self.pair_party, weights=self.value, minlength=len(self.parties))
        return np.where(total > 0, total, 1.0)

    @property
    def resource_stake(self) -> np.ndarray:
        """Each party's total value over its resources (1 when it has none).

        It is the scale of the party's envy, which compares resources only (risks do not
        count).
        """
        resource = self.sign > 0
        total = np.bincount(
            self.pair_party[resource], weights=self.value[resource], minlength=len(self.parties)
        )
        return np.where(total > 0, total, 1.0)

    @property
    def coupled(self) -> bool:
        """Whether issues interact (extra constraints or a capacity on a party bearing risk).

        If not, each party's ideal can be computed issue by issue.
        """
        return self._coupled

    _coupled: bool = field(default=False, repr=False)

    @cached_property
    def pair_of(self) -> dict[tuple[str, str], int]:
        """Interest position by ``(stakeholder, issue)``."""
        parties, issues = self.parties, self.issues
        return {
            (parties[p], issues[q]): k
            for k, (p, q) in enumerate(
                zip(self.pair_party.tolist(), self.pair_issue.tolist(), strict=True)
            )
        }

    def utilities(self, shares: np.ndarray) -> np.ndarray:
        """Each party's utility under the per-interest shares ``shares``."""
        return np.bincount(
            self.pair_party, weights=self.sign * self.value * shares, minlength=len(self.parties)
        )


def index_case(case: Case) -> CaseIndex:
    """Build the numeric view of ``case``."""
    parties = [s.id for s in case.stakeholders]
    issues = [i.id for i in case.issues]
    party_of = {p: k for k, p in enumerate(parties)}
    issue_of = {i: k for k, i in enumerate(issues)}
    n = len(case.interests)
    pair_party = np.fromiter(
        (party_of[x.stakeholder] for x in case.interests), dtype=np.int64, count=n
    )
    pair_issue = np.fromiter((issue_of[x.issue] for x in case.interests), dtype=np.int64, count=n)
    value = np.fromiter((x.value for x in case.interests), dtype=float, count=n)
    lower = np.fromiter((x.floor for x in case.interests), dtype=float, count=n)
    upper = np.fromiter((x.cap for x in case.interests), dtype=float, count=n)
    is_risk = np.array([i.kind == "risk" for i in case.issues], dtype=bool)
    divisible = np.array([i.divisible for i in case.issues], dtype=bool)
    whole = ~divisible[pair_issue]
    # an indivisible issue goes whole to one party: a floor above 0 means "must receive it",
    # a cap below 1 means "cannot receive it"
    lower = np.where(whole, np.ceil(lower), lower)
    upper = np.where(whole, np.floor(upper), upper)
    capacity = np.array(
        [math.inf if s.risk_capacity is None else s.risk_capacity for s in case.stakeholders]
    )
    order_p = np.argsort(pair_party, kind="stable")
    cuts_p = np.searchsorted(pair_party[order_p], np.arange(len(parties) + 1))
    order_i = np.argsort(pair_issue, kind="stable")
    cuts_i = np.searchsorted(pair_issue[order_i], np.arange(len(issues) + 1))
    bears_risk = np.zeros(len(parties), dtype=bool)
    bears_risk[pair_party[is_risk[pair_issue]]] = True
    coupled = bool(case.constraints) or bool(np.any(np.isfinite(capacity) & bears_risk))
    return CaseIndex(
        parties=parties,
        issues=issues,
        party_of=party_of,
        issue_of=issue_of,
        pair_party=pair_party,
        pair_issue=pair_issue,
        value=value,
        sign=np.where(is_risk[pair_issue], -1.0, 1.0),
        lower=lower,
        upper=upper,
        weight=np.array([s.weight for s in case.stakeholders]),
        disagreement=np.array([s.disagreement for s in case.stakeholders]),
        capacity=capacity,
        amount=np.array([i.amount for i in case.issues]),
        likelihood=np.array([i.likelihood for i in case.issues]),
        is_risk=is_risk,
        divisible=divisible,
        interests_of_party=[order_p[cuts_p[p] : cuts_p[p + 1]] for p in range(len(parties))],
        interests_of_issue=[order_i[cuts_i[q] : cuts_i[q + 1]] for q in range(len(issues))],
        retained=1.0
        - case.mitigation
        * np.fromiter((x.control or 0.0 for x in case.interests), dtype=float, count=n),
        _coupled=coupled,
    )


def separable_ideals(index: CaseIndex) -> np.ndarray | None:
    """Return each party's ideal utility when issues do not interact.

    ``None`` if the per-issue bounds cannot all hold.

    On each issue a party can get at most ``min(cap, 1 − Σ others' floors)`` of a resource and
    must bear at least ``max(floor, 1 − Σ others' caps)`` of a risk; the ideal adds these up.
    Valid only when ``index.coupled`` is false (no extra constraints, no capacity on a party
    that bears risk).
    """
    n_issues = len(index.issues)
    floors = np.bincount(index.pair_issue, weights=index.lower, minlength=n_issues)
    caps = np.bincount(index.pair_issue, weights=index.upper, minlength=n_issues)
    if np.any(floors > 1 + 1e-9) or np.any(caps < 1 - 1e-9):
        return None
    others_floor = floors[index.pair_issue] - index.lower
    others_cap = caps[index.pair_issue] - index.upper
    best_resource = np.minimum(index.upper, 1.0 - others_floor)
    least_risk = np.maximum(index.lower, 1.0 - others_cap)
    share = np.where(index.sign > 0, best_resource, least_risk)
    return index.utilities(np.clip(share, 0.0, 1.0))
