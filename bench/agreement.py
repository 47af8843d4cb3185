"""Agreement checks: whether a solver's allocation gives what the rule's reference gives.

Gains are normalized (``u_s / ideal_s``), so an absolute difference of gains is a
difference relative to each party's ideal. An LP optimum need not be unique in the
allocation, so each rule is compared on what is unique:

- maximin: the smallest gain (the LP's value), and the sum of gains against the largest
  sum possible with every gain at least the allocation's own smallest (the second stage,
  tested at the level the solver held, because the sum at the exact level is ill-conditioned:
  on sparse markets it moves by ~1e3 per unit of level);
- leximin: the whole sorted vector of gains (unique);
- utilitarian: the sum of gains (the LP's value);
- Nash: the Nash welfare ``W = Σ_s log g_s``: the solver's must be at least the best
  reference's minus ``1e-6 · N`` (a relative gap of at most 1e-6 on the geometric mean of
  gains). Near the optimum ``W`` is flat, so solvers that stop at a 1e-6..1e-8 gap place the
  gains themselves only to ~1e-3: their largest relative difference is reported, and one
  above 1e-2 fails the check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "NASH_SPREAD",
    "TOLERANCE",
    "Check",
    "check_leximin",
    "check_maximin",
    "check_nash",
    "check_utilitarian",
    "nash_welfare",
]

#: Agreement asked of the LP rules, relative to each party's ideal.
TOLERANCE = 1e-6
#: Largest relative difference of Nash gains accepted (the welfare must agree to 1e-6).
NASH_SPREAD = 1e-2


@dataclass(frozen=True)
class Check:
    """One comparison with the reference: whether it passed, the figure, and what it means."""

    ok: bool
    deviation: float
    detail: str
    #: Nash only: the largest relative difference of gains from the reference's.
    gain_spread: float | None = None


def check_maximin(gains: np.ndarray, level: float, best_sum: float | None) -> Check:
    """Check ``gains`` against the reference ``level``.

    With ``best_sum`` (the largest sum given ``min(gains)``), check the second stage too.
    """
    low = float(gains.min())
    level_gap = abs(low - level)
    if best_sum is None:
        return Check(level_gap <= TOLERANCE, level_gap, f"min gain {low:.9g} vs {level:.9g}")
    total = float(gains.sum())
    sum_gap = (best_sum - total) / max(1.0, abs(best_sum))
    ok = level_gap <= TOLERANCE and abs(sum_gap) <= TOLERANCE
    return Check(
        ok,
        max(level_gap, abs(sum_gap)),
        f"min gain {low:.9g} vs {level:.9g}; sum {total:.9g} vs best {best_sum:.9g} at that min",
    )


def check_leximin(gains: np.ndarray, reference: np.ndarray, spread: float) -> Check:
    """Return the sorted ``gains`` against the sorted ``reference``.

    ``spread`` is how far two solve paths of the reference itself differ; when it exceeds
    the tolerance the instance is ill-conditioned and the tolerance widens to it.
    """
    mine, theirs = np.sort(gains), np.sort(reference)
    diff = mine - theirs
    deviation = float(np.abs(diff).max())
    allowed = max(TOLERANCE, 2.0 * spread)
    detail = f"max |sorted difference| {deviation:.2g}"
    if deviation > TOLERANCE:
        first = int(np.flatnonzero(np.abs(diff) > TOLERANCE)[0])
        side = "below" if diff[first] < 0 else "above"
        detail += (
            f"; first beyond 1e-6 at rank {first + 1}: {mine[first]:.9g} ({side} the "
            f"reference's {theirs[first]:.9g})"
        )
    if spread > TOLERANCE:
        detail += f"; the reference's own spread is {spread:.2g} (ill-conditioned)"
    return Check(deviation <= allowed, deviation, detail)


def check_utilitarian(gains: np.ndarray, best: float) -> Check:
    """Return the sum of ``gains`` against the reference optimum ``best``."""
    total = float(gains.sum())
    gap = abs(best - total) / max(1.0, abs(best))
    return Check(gap <= TOLERANCE, gap, f"sum {total:.12g} vs {best:.12g}")


def nash_welfare(gains: np.ndarray) -> float:
    """``Σ log g`` (``-inf`` when a party gains nothing)."""
    with np.errstate(divide="ignore"):
        return float(np.log(gains).sum())


def check_nash(gains: np.ndarray, best_welfare: float, reference: np.ndarray) -> Check:
    """Nash welfare against the best reference's; gains against ``reference``'s.

    ``deviation`` is the welfare shortfall per party (the log of the geometric-mean ratio).
    """
    n = len(gains)
    shortfall = (best_welfare - nash_welfare(gains)) / n
    spread = float(np.max(np.abs(gains - reference) / reference))
    ok = shortfall <= TOLERANCE and spread <= NASH_SPREAD
    detail = (
        f"welfare shortfall {shortfall:.2g} per party; max relative gain difference {spread:.2g}"
    )
    if spread > NASH_SPREAD:
        detail += " (above 1e-2!)"
    return Check(ok, shortfall, detail, gain_spread=spread)
