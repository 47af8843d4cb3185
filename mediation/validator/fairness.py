"""The fairness report restated: envy, proportionality, the smallest normalized gain.

Only the compared parties take part: a fund (an account) or an observer neither envies nor
is envied, is due no proportional share, and counts in nobody's due.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..case import Case
from ..settlement import Settlement

__all__ = ["check_fairness"]


def check_fairness(
    case: Case,
    settlement: Settlement,
    owner: np.ndarray,
    topic: np.ndarray,
    value: np.ndarray,
    shares: np.ndarray,
    risk: np.ndarray,
    compared: np.ndarray,
    fail: Callable[[str, str], None],
) -> None:
    """Check the fairness report against envy, proportionality and gains recomputed here.

    ``shares`` are the fractions of each issue's amount the interests receive (of its most,
    on a funded issue: the worth its values state); ``compared`` marks, per stakeholder, the
    parties compared.
    """
    report = settlement.fairness
    if report is None:
        fail("fairness", "missing for a settlement with an allocation")
        return
    ids = [s.id for s in case.stakeholders]
    values = np.zeros((len(ids), len(case.issues)))
    bundles = np.zeros_like(values)
    resource = ~risk & compared[owner]
    values[owner[resource], topic[resource]] = value[resource]
    bundles[owner[resource], topic[resource]] = shares[resource]
    weight = np.array([s.weight for s in case.stakeholders])
    weight = np.where(compared, weight, 0.0)  # nobody's due; a fund's bundle is left out
    weight_or_one = np.where(compared, weight, 1.0)
    own = (values * bundles).sum(axis=1)
    envy = (values @ bundles.T) * (weight_or_one[:, None] / weight_or_one[None, :]) - own[:, None]
    np.fill_diagonal(envy, 0.0)
    total = values.sum(axis=1)
    scale = np.where(total > 0, total, 1.0)
    max_envy = max(float(envy.max()), 0.0) if envy.size else 0.0
    envious = bool(np.any(envy > 1e-6 * scale[:, None]))
    # the settlement's shares are its exact ones rounded and snapped within 1e-9: envy in a
    # party's points may differ by that much of the party's values
    if abs(report.max_envy - max_envy) > 1e-6 * max(1.0, max_envy) + 1e-9 * float(scale.max()):
        fail("fairness.max_envy", f"{report.max_envy} but the shares give {max_envy:.9g}")
    if report.envy_free == envious:
        fail("fairness.envy_free", f"{report.envy_free} but the largest envy is {max_envy:.9g}")
    if settlement.provenance.policy.get("envy_free") and envious:
        fail(
            "fairness.envy_free", f"the policy promises envy-freeness; largest envy {max_envy:.9g}"
        )
    due = weight / weight.sum() * values.sum(axis=1)
    short = own < due - 1e-6 * np.where(due > 0, due, 1.0)
    if settlement.provenance.policy.get("proportional"):
        for k in np.flatnonzero(short):
            fail(
                f"parties.{ids[k]}",
                f"gets {own[k]:.9g} of its resources' value, below its "
                f"proportional due {due[k]:.9g}",
            )
    if report.proportional == bool(short.any()):
        fail("fairness.proportional", f"{report.proportional} but recomputed {not short.any()}")
    gains = [
        p.normalized_gain for p in settlement.parties.values() if p.normalized_gain is not None
    ]
    smallest = min(gains) if gains else None
    if (smallest is None) != (report.min_normalized_gain is None) or (
        smallest is not None
        and report.min_normalized_gain is not None
        and abs(smallest - report.min_normalized_gain) > 1e-9
    ):
        fail(
            "fairness.min_normalized_gain",
            f"{report.min_normalized_gain} but the parties give {smallest}",
        )
