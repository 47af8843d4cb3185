"""The risk model: expected losses, what control mitigates, and burden relative to capacity.

Public–private-partnership practice allocates each risk to the party best able to control
it, within what that party can bear, with reward commensurate with the risk, and without
piling the burden on the weakest party (Irwin 2007; World Bank PPP Reference Guide 3.0,
2017, chapter 3.4; 财政部《政府和社会资本合作模式操作指南》第十一条: "风险分配基本框架…按照
风险分配优化、风险收益对等和风险可控等原则"). The engine makes these principles computable
as follows.

- **Expected loss.** A risk ``i`` with ``amount`` A (the loss if it materialises, in the
  issue's unit, e.g. 元) and ``probability`` p (1 when not given) costs a party that bears
  share x of it an expected ``p · A · x`` before mitigation.
- **Control mitigates.** A party's ``control`` c ∈ [0, 1] of a risk is how far it can prevent
  or limit it. Bearing a share of a risk it controls lowers that share's expected loss
  proportionally: ``L = p · A · x · (1 − m · c)``, where the case-level ``mitigation`` m ∈
  [0, 1] (default 0.5) is how much of the loss full control avoids. m = 0 makes control
  irrelevant to losses; m = 1 says full control removes the loss.
- **Value.** On a risk interest, ``value`` may be left out: it is then the party's expected
  loss of bearing the whole risk, ``p · A · (1 − m · c)``, in the issue's unit (the case fills
  it in when it is validated). A ``value`` the case states keeps its meaning of format 1.0:
  the party's own measure of the cost of bearing the whole risk, on its own scale, with
  whatever probability it had in mind already in it.
- **Worst-case exposure and capacity.** ``Σ A · x`` over a party's risks is what it pays if
  every risk it shares materialises; it must stay within its ``risk_capacity``.
- **Burden.** A party's burden is its expected loss relative to what it can bear:
  ``Σ L / C``, where C is its ``risk_capacity``, or, for a party that states none, the total
  amount of the risks it has an interest in (what it could be asked to bear in the worst
  case). The ``risk_sharing`` rule (:mod:`mediation.rules.risk_sharing`) minimises the total
  expected loss and then balances burdens, largest first.

References
----------
Irwin, T. C. (2007). *Government Guarantees: Allocating and Valuing Risk in Privately
Financed Infrastructure Projects.* World Bank. DOI 10.1596/978-0-8213-6858-9.
World Bank, ADB, IDB et al. (2017). *PPP Reference Guide*, version 3.0, section 3.4.
Ng, A. & Loosemore, M. (2007). Risk allocation in the private provision of public
infrastructure. *International Journal of Project Management* 25(1), 66–76.
DOI 10.1016/j.ijproman.2006.06.005.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .case import Case
from .numeric import CaseIndex

__all__ = ["RiskView", "risk_view"]


@dataclass(frozen=True)
class RiskView:
    """A case's risks as arrays over its interests (zeros on resource interests).

    ``loss[k]`` is the expected loss of interest ``k`` bearing the whole risk, after
    mitigation; ``worst[k]`` its amount; ``basis[p]`` what party ``p``'s burden is measured
    against (its capacity, else the amounts of the risks it has an interest in; 1 for a party
    with no risk).
    """

    index: CaseIndex
    loss: np.ndarray
    worst: np.ndarray
    basis: np.ndarray

    @property
    def risky(self) -> np.ndarray:
        """Which interests are on risks."""
        return np.asarray(self.index.is_risk[self.index.pair_issue], dtype=bool)

    @property
    def bearers(self) -> np.ndarray:
        """Which parties have an interest in some risk."""
        out = np.zeros(len(self.index.parties), dtype=bool)
        out[self.index.pair_party[self.risky]] = True
        return out

    # an allocation may carry lever columns after the shares (whole-unit counts): the risk
    # figures read the shares only

    def _per_party(self, weights: np.ndarray) -> np.ndarray:
        return np.asarray(
            np.bincount(self.index.pair_party, weights=weights, minlength=len(self.basis)),
            dtype=float,
        )

    def expected(self, shares: np.ndarray) -> np.ndarray:
        """Each party's expected loss under ``shares``, after mitigation."""
        return self._per_party(self.loss * shares[: len(self.loss)])

    def unmitigated(self, shares: np.ndarray) -> np.ndarray:
        """Each party's expected loss under ``shares`` before mitigation (Σ p·A·x)."""
        idx = self.index
        return self._per_party(
            np.where(self.risky, idx.likelihood[idx.pair_issue], 0.0)
            * self.worst
            * shares[: len(self.worst)]
        )

    def exposure(self, shares: np.ndarray) -> np.ndarray:
        """Each party's worst-case exposure Σ A·x under ``shares``."""
        return self._per_party(self.worst * shares[: len(self.worst)])

    def burden(self, shares: np.ndarray) -> np.ndarray:
        """Each party's expected loss relative to its capacity (:attr:`basis`)."""
        return np.asarray(self.expected(shares) / self.basis, dtype=float)

    def total(self, shares: np.ndarray) -> float:
        """Return the total expected loss under ``shares``, after mitigation."""
        return float(np.dot(self.loss, shares[: len(self.loss)]))


def risk_view(case: Case, index: CaseIndex) -> RiskView:
    """Return the risk arrays of ``case`` (see :class:`RiskView`).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation.numeric import index_case
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders:
    ...   - {id: a, name: 甲, kind: government, risk_capacity: 1000}
    ...   - {id: b, name: 乙, kind: enterprise}
    ... issues: [{id: r, name: 超支, kind: risk, amount: 400, probability: 0.5}]
    ... interests:
    ...   - {stakeholder: a, issue: r, control: 1}
    ...   - {stakeholder: b, issue: r}
    ... ''')
    >>> view = risk_view(case, index_case(case))
    >>> view.loss.tolist(), view.basis.tolist()
    ([100.0, 200.0], [1000.0, 400.0])
    """
    risky = index.is_risk[index.pair_issue]
    worst = np.where(risky, index.amount[index.pair_issue], 0.0)
    loss = worst * index.likelihood[index.pair_issue] * index.retained
    reach = np.bincount(index.pair_party, weights=worst, minlength=len(index.parties))
    basis = np.where(np.isfinite(index.capacity), index.capacity, reach)
    basis = np.where(basis > 0, basis, 1.0)
    return RiskView(index=index, loss=loss, worst=worst, basis=basis)
