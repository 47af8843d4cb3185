"""Benchmark instances: seeded random markets and the bundled cases.

A *market* is N parties dividing M divisible resources of amount 1, each party valuing some
of them (an interest per valued resource), with no bounds, no side constraints, unit weights
and disagreement points 0. There every rule compares normalized gains
``g_s = u_s / ideal_s`` with ``ideal_s = Σ_i v_si`` (the party receives everything it
values), which is what the raw references solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from mediation.case import Case

__all__ = [
    "CASES_DIR",
    "KINDS",
    "Market",
    "bundled_case_paths",
    "case_document",
    "generate",
    "market_of_case",
]

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
#: Valuation patterns: every party values every resource, or most parties value a few.
KINDS = ("uniform", "sparse")
#: Share of "broad" parties in a sparse market, each valuing half the resources at random.
BROAD_SHARE = 0.05
#: Mean number of extra resources a narrow party values beyond its first.
NARROW_EXTRA = 2.0
#: Narrow parties pick resources with Zipf popularity ``1 / rank ** POPULARITY_EXPONENT``:
#: crowded resources make bottlenecks, hence several leximin levels.
POPULARITY_EXPONENT = 1.0


@dataclass(frozen=True, eq=False)
class Market:
    """Interests of a market as arrays, sorted by party then resource.

    Interest ``k``: party ``party[k]`` values resource ``issue[k]`` at ``value[k] > 0``.
    """

    name: str
    n_parties: int
    n_issues: int
    party: np.ndarray
    issue: np.ndarray
    value: np.ndarray

    @property
    def n_interests(self) -> int:
        return len(self.value)

    @cached_property
    def ideal(self) -> np.ndarray:
        """Each party's utility when it receives everything it values."""
        return np.bincount(self.party, weights=self.value, minlength=self.n_parties)

    @cached_property
    def gain(self) -> np.ndarray:
        """Per interest, the normalized value ``v_si / ideal_s``."""
        return np.asarray(self.value / self.ideal[self.party])

    @cached_property
    def issue_matrix(self) -> sparse.csr_array:
        """Resources × interests: row ``i`` sums the shares of resource ``i``."""
        k = np.arange(self.n_interests)
        return sparse.csr_array(
            (np.ones(self.n_interests), (self.issue, k)),
            shape=(self.n_issues, self.n_interests),
        )

    def gains(self, shares: np.ndarray) -> np.ndarray:
        """Each party's normalized gain under per-interest ``shares``."""
        return np.bincount(self.party, weights=self.gain * shares, minlength=self.n_parties)


def generate(n_parties: int, n_issues: int, kind: str, *, seed: int = 0) -> Market:
    """Return a seeded random market.

    ``uniform``: every party values every resource, values drawn uniformly from [1, 100).
    ``sparse``: 95% of parties ("narrow") value 1 + Poisson(2) resources picked with Zipf
    popularity, 5% ("broad") value half of them picked at random, and every resource left
    unvalued goes to one random party; values as above.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; choose one of {', '.join(KINDS)}")
    rng = np.random.default_rng([seed, n_parties, n_issues, KINDS.index(kind)])
    if kind == "uniform":
        mask = np.ones((n_parties, n_issues), dtype=bool)
    else:
        popularity = 1.0 / np.arange(1, n_issues + 1) ** POPULARITY_EXPONENT
        popularity = rng.permutation(popularity / popularity.sum())
        mask = np.zeros((n_parties, n_issues), dtype=bool)
        broad = rng.random(n_parties) < BROAD_SHARE
        counts = np.where(
            broad,
            max(1, n_issues // 2),
            np.minimum(1 + rng.poisson(NARROW_EXTRA, n_parties), n_issues),
        )
        for s, c in enumerate(counts.tolist()):
            p = None if broad[s] else popularity
            mask[s, rng.choice(n_issues, size=c, replace=False, p=p)] = True
        orphans = np.flatnonzero(~mask.any(axis=0))
        mask[rng.integers(0, n_parties, size=len(orphans)), orphans] = True
    party, issue = np.nonzero(mask)  # row-major: sorted by party, then resource
    value = rng.uniform(1.0, 100.0, size=len(party))
    return Market(
        name=f"{kind} {n_parties}×{n_issues}",
        n_parties=n_parties,
        n_issues=n_issues,
        party=party.astype(np.int64),
        issue=issue.astype(np.int64),
        value=value,
    )


def case_document(market: Market) -> dict[str, Any]:
    """Return the market as a case document, ready for :func:`mediation.case.parse_case`."""
    parties = [f"p{s}" for s in range(market.n_parties)]
    issues = [f"r{i}" for i in range(market.n_issues)]
    return {
        "id": "bench",
        "title": market.name,
        "stakeholders": [{"id": p, "name": p, "kind": "other"} for p in parties],
        "issues": [{"id": i, "name": i, "kind": "resource", "amount": 1.0} for i in issues],
        "interests": [
            {"stakeholder": parties[s], "issue": issues[i], "value": v}
            for s, i, v in zip(
                market.party.tolist(), market.issue.tolist(), market.value.tolist(), strict=True
            )
        ],
    }


def bundled_case_paths() -> list[Path]:
    """Every case file shipped in ``cases/``."""
    return sorted(CASES_DIR.glob("*.yaml"))


def market_of_case(case: Case) -> Market | None:
    """Return the case as a market when it is one (see the module docstring), else ``None``.

    Cases with risks, indivisible issues, share bounds, side constraints, disagreement
    points, unequal weights, raw scales or envy-freeness and proportionality constraints
    are not markets: the raw references do not model those.
    """
    policy = case.policy
    plain = (
        policy.scale == "normalized"
        and not policy.envy_free
        and not policy.proportional
        and all(i.kind == "resource" and i.divisible for i in case.issues)
        and not case.constraints
        and all(s.disagreement == 0 and s.weight == 1 for s in case.stakeholders)
        and all(x.min_share is None and x.max_share is None for x in case.interests)
    )
    valued = [x for x in case.interests if x.value > 0]
    if not plain or not valued:
        return None
    party_of = {s.id: k for k, s in enumerate(case.stakeholders)}
    issue_of = {i.id: k for k, i in enumerate(case.issues)}
    valued.sort(key=lambda x: (party_of[x.stakeholder], issue_of[x.issue]))
    party = np.array([party_of[x.stakeholder] for x in valued], dtype=np.int64)
    issue = np.array([issue_of[x.issue] for x in valued], dtype=np.int64)
    if len(np.unique(party)) < len(party_of) or len(np.unique(issue)) < len(issue_of):
        return None  # a party values nothing, or nobody values an issue
    return Market(
        name=case.id,
        n_parties=len(party_of),
        n_issues=len(issue_of),
        party=party,
        issue=issue,
        value=np.array([x.value for x in valued], dtype=float),
    )
