"""Assemble settlements, with or without an allocation.

A settlement is either the allocation with its measures and reasons, or the packaging of
a case without one (infeasible with a diagnosis, an error saying why).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from ..backends import Backend, Session, solver_version
from ..case import Case, Policy
from ..fairness import measure
from ..numeric import CaseIndex, index_case
from ..reasons import Infeasible, NoPositiveGain, Reason, RuleBelowDisagreement, SolverFailed
from ..settlement import (
    Concession,
    Conflict,
    ConflictSet,
    Diagnosis,
    Fairness,
    PartyOutcome,
    Provenance,
    Settlement,
    SolverInfo,
)
from .timing import Timings

__all__ = [
    "Stamp",
    "assemble",
    "below_disagreement",
    "engine_version",
    "error",
    "infeasible",
    "input_sha256",
    "no_positive_gain",
    "tidy",
]

#: The parties' outcomes of a settlement, validated as one value.
_PARTIES: TypeAdapter[dict[str, PartyOutcome]] = TypeAdapter(dict[str, PartyOutcome])

#: Significant digits kept of every computed number in a settlement's body: the 15th and
#: 16th are floating-point noise (0.8500000000000008), far below the solver's tolerance.
DIGITS = 14
_TIDY = f"%.{DIGITS}g"  # the format, built once (tidy runs ~70 times a settlement)


def tidy(value: float) -> float:
    """Return ``value`` rounded to :data:`DIGITS` significant digits (``-0.0`` becomes 0).

    Examples
    --------
    >>> tidy(0.8500000000000008), tidy(-1e-17), tidy(468000.00000000006)
    (0.85, -1e-17, 468000.0)
    >>> tidy(33.333333333333336)
    33.333333333333
    """
    return float(_TIDY % value) + 0.0


@cache
def engine_version() -> str:
    """Return the installed engine's version (``0+unknown`` from a source tree).

    It is read from the package's metadata once per process (a read costs ~0.25 ms, as
    much as solving a small case's LP).
    """
    try:
        return version("mediation")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


@dataclass
class Stamp:
    """The provenance every settlement of one run carries.

    That is the case, the policy applied, the scale, the solver and its counters, the
    timings.
    """

    case: Case
    policy: Policy
    scale: str
    backend: Backend
    timings: Timings
    session: Session | None = None
    index: CaseIndex | None = None

    def case_index(self) -> CaseIndex:
        """Return the numeric view of the case (built once)."""
        if self.index is None:
            self.index = index_case(self.case)
        return self.index


def settlement(
    stamp: Stamp,
    status: str,
    shares: dict[str, dict[str, float]],
    amounts: dict[str, dict[str, float]],
    parties: dict[str, PartyOutcome],
    fairness: Fairness | None,
    reasons: list[Reason],
    diagnosis: Diagnosis | None,
    levers: dict[str, Any] | None = None,
) -> Settlement:
    """Return a settlement stamped with the run's provenance.

    ``levers`` holds the 1.3 sections of an allocation with payments, contributions or
    choices (``payments``, ``contributions``, ``sizes``, ``choices``).
    """
    session = stamp.session
    return Settlement(
        **(levers or {}),
        funds=stamp.case.funds,
        observers=stamp.case.observers,
        case_id=stamp.case.id,
        rule=stamp.policy.rule,
        scale=stamp.scale,
        status=status,
        shares=shares,
        amounts=amounts,
        parties=parties,
        fairness=fairness,
        reasons=reasons,
        diagnosis=diagnosis,
        provenance=Provenance(
            input_sha256=input_sha256(stamp.case, stamp.policy),
            policy=stamp.policy.model_dump(),
            engine_version=engine_version(),
            solver=SolverInfo(
                name=stamp.backend.name,
                version=solver_version(stamp.backend),
                seconds=session.seconds if session is not None else 0.0,
                solves=session.solves if session is not None else 0,
            ),
            timings=dict(stamp.timings),
        ),
    )


def assemble(
    stamp: Stamp,
    status: str,
    shares: np.ndarray,
    ideal: np.ndarray,
    pareto: bool | None,
    reasons: list[Reason],
) -> Settlement:
    """Return the settlement of an allocation.

    It carries the shares, the amounts, each party's outcome, the fairness report and the
    reasons.
    """
    index = stamp.case_index()
    with stamp.timings.clock("assemble"):
        fairness, normalized = measure(index, shares, ideal, pareto=pareto)
        fairness = tidy_fairness(fairness)
        parties = party_outcomes(index, shares, index.utilities(shares), ideal, normalized)
        share_map, amount_map = share_maps(stamp.case, index, shares)
        levers = lever_maps(stamp.case, index, shares) if len(index.levers) else None
    return settlement(
        stamp, status, share_map, amount_map, parties, fairness, reasons, None, levers
    )


def lever_maps(case: Case, index: CaseIndex, allocation: np.ndarray) -> dict[str, Any]:
    """Return the payments, contributions, funded sizes and choices of an allocation (1.3)."""
    levers, n = index.levers, index.n
    money = allocation[n:] * levers.scale
    at = levers.position
    payments = {
        p.id: {
            "payer": p.payer,
            "payee": p.payee,
            "amount": tidy(float(money[at["payment", p.id]])),
            "unit": p.unit,
        }
        for p in case.payments
    }
    unit_of = {i.id: i.unit for i in case.issues} | {c.id: c.unit for c in case.choices}
    contributions = {
        c.id: {
            "stakeholder": c.stakeholder,
            "to": c.to,
            "amount": tidy(float(money[at["contribution", c.id]])),
            "unit": unit_of.get(c.to, ""),
        }
        for c in case.contributions
    }
    sizes = {
        case.issues[q].id: tidy(float(money[columns].sum()))
        for q, columns in levers.funding.items()
    }
    choices = {}
    for choice in case.choices:
        chosen = index.chosen(choice, allocation)
        choices[choice.id] = {"chosen": chosen.id, "cost": chosen.cost, "unit": choice.unit}
    return {
        "payments": payments,
        "contributions": contributions,
        "sizes": sizes,
        "choices": choices,
    }


def share_maps(
    case: Case, index: CaseIndex, shares: np.ndarray
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Shares and amounts by issue, then party."""
    share_map: dict[str, dict[str, float]] = {}
    amount_map: dict[str, dict[str, float]] = {}
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        names = [index.parties[p] for p in index.pair_party[ks].tolist()]
        exact = shares[ks].tolist()
        amount_map[issue.id] = {
            n: tidy(v * issue.amount) for n, v in zip(names, exact, strict=True)
        }
        if len(index.funded) and index.funded[q]:
            # a funded issue's shares are of its size (the model's, of its largest size)
            size = math.fsum(exact)
            exact = [v / size if size > 0 else 0.0 for v in exact]
        share_map[issue.id] = dict(zip(names, exact_total([tidy(v) for v in exact]), strict=True))
    return share_map, amount_map


def exact_total(shares: list[float]) -> list[float]:
    """Return an issue's shares with the largest adjusted so that their exact sum is 1.

    Only shares already summing to 1 within 1e-9 are adjusted (``math.fsum`` of the result
    is then exactly 1.0); others are returned as they are.
    """
    if not shares or abs(math.fsum(shares) - 1.0) > 1e-9:
        return shares
    big = max(range(len(shares)), key=lambda k: shares[k])
    others = shares[:big] + shares[big + 1 :]
    value = 1.0 - math.fsum(others)
    for _ in range(4):  # 1 − rest may round: step to the neighbouring float that closes it
        error = math.fsum([*others, value]) - 1.0
        if error == 0.0:
            break
        value = math.nextafter(value, -math.inf if error > 0 else math.inf)
    return [*shares[:big], value, *shares[big + 1 :]]


def tidy_fairness(fairness: Fairness) -> Fairness:
    """Return the fairness report with its numbers rounded as the rest of the body is."""
    return fairness.model_copy(
        update={
            "min_normalized_gain": None
            if fairness.min_normalized_gain is None
            else tidy(fairness.min_normalized_gain),
            "gini": None if fairness.gini is None else tidy(fairness.gini),
            "max_envy": tidy(fairness.max_envy),
        }
    )


def party_outcomes(
    index: CaseIndex,
    shares: np.ndarray,
    utilities: np.ndarray | None,
    ideal: np.ndarray | None,
    normalized: np.ndarray | None,
) -> dict[str, PartyOutcome]:
    """Each compared party's utility, gain, ideal, normalized gain and risk exposure.

    Funds and observers are not parties to compare: the settlement lists them apart.
    """
    risk = index.sign < 0
    money = index.amount[index.pair_issue] * shares[: index.n] * risk
    worst = np.bincount(index.pair_party, weights=money, minlength=len(index.parties))
    expected = np.bincount(
        index.pair_party,
        weights=money * index.likelihood[index.pair_issue],
        minlength=len(index.parties),
    )
    mitigated = np.bincount(
        index.pair_party,
        weights=money * index.likelihood[index.pair_issue] * index.retained,
        minlength=len(index.parties),
    )
    out: dict[str, dict[str, Any]] = {}
    compared = index.compared if len(index.compared) else np.ones(len(index.parties), bool)
    for p, party in enumerate(index.parties):
        if not compared[p]:
            continue
        d = float(index.disagreement[p])
        u = None if utilities is None else float(utilities[p])
        ng = None if normalized is None or np.isnan(normalized[p]) else float(normalized[p])
        out[party] = {
            "utility": None if u is None else tidy(u),
            "disagreement": d,
            "gain": None if u is None else tidy(u - d),
            "ideal": None if ideal is None else tidy(float(ideal[p])),
            "normalized_gain": None if ng is None else tidy(ng),
            "exposure": {
                "expected": tidy(float(expected[p])),
                "worst_case": tidy(float(worst[p])),
                "mitigated": tidy(float(mitigated[p])),
            },
        }
    # validated in one call: the same models as one constructor call each, a tenth of the
    # cost (two models per party, each constructor a Python call around the validator)
    return _PARTIES.validate_python(out)


def _empty_parties(stamp: Stamp, ideal: np.ndarray | None) -> dict[str, PartyOutcome]:
    index = stamp.case_index()
    return party_outcomes(index, np.zeros(index.width), None, ideal, None)


def infeasible(stamp: Stamp, ideal: np.ndarray | None, diagnosis: Diagnosis) -> Settlement:
    """No allocation meets the red lines: the diagnosis says which concessions would."""
    reasons: list[Reason] = [Infeasible()]
    return settlement(
        stamp, "infeasible", {}, {}, _empty_parties(stamp, ideal), None, reasons, diagnosis
    )


def no_positive_gain(stamp: Stamp, ideal: np.ndarray, parties: list[int]) -> Settlement:
    """Nash's rule needs every compared party to gain; some cannot, all together."""
    index = stamp.case_index()
    stuck = ConflictSet(
        constraints=[
            Conflict(
                kind="disagreement",
                stakeholder=index.parties[p],
                bound=float(index.disagreement[p]),
            )
            for p in parties
        ],
        irreducible=False,
        alternatives=[],
    )
    diagnosis = Diagnosis(code="no_positive_gain", conflicts=[stuck], concessions=[])
    reasons: list[Reason] = [NoPositiveGain(parties=[index.parties[p] for p in parties])]
    return settlement(
        stamp, "infeasible", {}, {}, _empty_parties(stamp, ideal), None, reasons, diagnosis
    )


def below_disagreement(stamp: Stamp, ideal: np.ndarray, utilities: np.ndarray) -> Settlement:
    """Return the settlement when a procedural rule left a party below its disagreement point.

    Under individual rationality that is infeasible; the concession is that party accepting
    what the rule gives.
    """
    index = stamp.case_index()
    below = [
        p
        for p in range(len(index.parties))
        if utilities[p] < index.disagreement[p] - 1e-9 * index.stake[p]
    ]
    concessions = [
        Concession(
            kind="disagreement",
            stakeholder=index.parties[p],
            current=float(index.disagreement[p]),
            proposed=float(utilities[p]),
            change=float(utilities[p] - index.disagreement[p]),
            unit="points",
        )
        for p in below
    ]
    conflicts = [
        ConflictSet(
            constraints=[
                Conflict(
                    kind="disagreement",
                    stakeholder=index.parties[p],
                    bound=float(index.disagreement[p]),
                )
            ],
            irreducible=True,
            alternatives=[c],
        )
        for p, c in zip(below, concessions, strict=True)
    ]
    diagnosis = Diagnosis(
        code="rule_below_disagreement", conflicts=conflicts, concessions=concessions
    )
    reasons: list[Reason] = [RuleBelowDisagreement(parties=[index.parties[p] for p in below])]
    return settlement(
        stamp, "infeasible", {}, {}, _empty_parties(stamp, ideal), None, reasons, diagnosis
    )


def error(stamp: Stamp, message: str) -> Settlement:
    """Return the settlement of a failed solve: status ``error``, the message as the reason."""
    reasons: list[Reason] = [SolverFailed(message=message)]
    return settlement(stamp, "error", {}, {}, _empty_parties(stamp, None), None, reasons, None)


def input_sha256(case: Case, policy: Policy) -> str:
    """Return the SHA-256 of the case's digest followed by the policy applied.

    The case's digest is that of the validated case's canonical JSON. The validated model
    fixes key order and number formatting, so the same case gives the same digest whether
    it arrived as YAML or JSON.
    """
    digest = hashlib.sha256(case.canonical_digest)
    digest.update(b"\n")
    digest.update(policy.model_dump_json().encode())
    return str(digest.hexdigest())
