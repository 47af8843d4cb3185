"""The summary of a sweep, accumulated row by row in bounded memory: what each party faces.

Per party, over the feasible scenarios (status ``optimal`` or ``feasible``): its share of each
issue it has an interest in, its worst-case and expected exposure, its gain and normalized
gain, and the share of its capacity its worst case uses (worst-case exposure over capacity),
each as count, mean, minimum, 5th, 50th and 95th percentile and maximum; and the scenarios
worst for it (lowest gain, ties to the lower scenario number) with their parameters' values.
Over all scenarios: how many were settled with each status, how many were infeasible and
which red lines the diagnoses blame how often (a scenario counts once per red line it
blames), and the first errors.

The summary is the same whatever order the rows come in: means are exact sums (Shewchuk's
partials, rounded once) over the count; percentiles interpolate linearly between the sorted
values (``numpy.percentile``'s default), and the worst scenarios are ordered by gain and
number. Memory is bounded: the values behind the percentiles are kept for every scenario
while the sweep has at most :data:`QUANTILE_LIMIT` of them (fewer for a case with very many
interests, so that at most :data:`MAX_KEPT_VALUES` numbers are kept); above that, for an
evenly spread, fixed subset of that many scenarios (scenario ``i`` is kept when
``i·m mod n < limit``, ``m`` the integer nearest ``n·(√5 − 1)/2`` that is coprime with the
sweep's size ``n``), and the summary says so (``quantiles: subset``). Reported numbers are
rounded to 14 significant digits, as in a settlement.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..robustness import RobustSplit
from .plan import SweepPlan
from .worker import Row

__all__ = [
    "MAX_KEPT_VALUES",
    "QUANTILE_LIMIT",
    "WORST_SCENARIOS",
    "Blame",
    "ErrorExample",
    "PartySummary",
    "RobustReport",
    "Stat",
    "SummaryAccumulator",
    "SweepSummary",
    "WorstScenario",
    "blame_kind",
]

#: Scenarios whose values the percentiles are computed from, at most.
QUANTILE_LIMIT = 20_000
#: Numbers kept for the percentiles, at most, over all figures (64 MB of float64).
MAX_KEPT_VALUES = 8_000_000
#: Scenarios listed as worst for each party.
WORST_SCENARIOS = 3
#: Error messages listed, at most (the lowest-numbered scenarios).
ERROR_EXAMPLES = 5
_FEASIBLE = ("optimal", "feasible")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stat(_Model):
    """A figure's distribution over the feasible scenarios (all null when there is none)."""

    count: int = Field(description="scenarios with a value")
    mean: float | None
    min: float | None
    p5: float | None
    p50: float | None
    p95: float | None
    max: float | None


class WorstScenario(_Model):
    """A scenario among the worst for a party: its gain and what the parameters were."""

    scenario: int
    gain: float
    normalized_gain: float | None
    parameters: dict[str, float] = Field(description="each parameter's path → its value")


class PartySummary(_Model):
    """What one party faces across the feasible scenarios."""

    shares: dict[str, Stat] = Field(description="issue → the party's share of it")
    worst_exposure: Stat = Field(description="Σ amount · share over its risks")
    expected_exposure: Stat = Field(description="Σ probability · amount · share over its risks")
    expected_loss: Stat = Field(
        description="the expected loss after what its control mitigates: Σ probability · "
        "amount · share · (1 − mitigation · control)"
    )
    gain: Stat
    normalized_gain: Stat
    capacity_used: Stat = Field(
        description="worst-case exposure / risk capacity (parties with one)"
    )
    worst: list[WorstScenario] = Field(description="the scenarios of lowest gain for it")


class Blame(_Model):
    """A red line the diagnoses of infeasible scenarios blame, and how often."""

    path: str = Field(description="the red line's path, e.g. stakeholders.kangle.risk_capacity")
    kind: str = Field(
        description="floor, cap, pin, capacity, disagreement, constraint, proportional, envy, "
        "issue_total, integrality, payment_floor, payment_cap, contribution_floor, "
        "contribution_cap or choice"
    )
    scenarios: int
    share: float = Field(description="of the infeasible scenarios")


class ErrorExample(_Model):
    """A scenario that could not be settled, and why."""

    scenario: int
    status: str
    message: str


class RobustReport(_Model):
    """The robust split over the sampled scenarios, or why there is none."""

    status: Literal["computed", "unavailable", "failed"] = Field(
        description="computed: the robust LP ran (its own status is result.status); "
        "unavailable: this installation has no robust LP; failed: it raised an error"
    )
    scenarios: int = Field(description="scenario cases the robust LP was given")
    selection: Literal["all", "subset"] = Field(
        description="all the sweep's data scenarios, or an evenly chosen subset and each "
        "party's worst"
    )
    scenario_numbers: list[int] = Field(
        description="the sweep's number of each scenario given, in order: scenario k of the "
        "result is the sweep's scenario_numbers[k]"
    )
    result: RobustSplit | None = Field(description="the robust split (mediation.robustness)")
    message: str | None = None


class SweepSummary(_Model):
    """The summary of a sweep (``mediation sweep --format json`` prints it)."""

    sweep_version: str = "1.0"
    case_id: str
    case_sha256: str
    sweep_sha256: str
    seed: int
    scenarios: int = Field(description="scenarios in the sweep")
    settled: int = Field(description="scenarios settled so far (all of them when complete)")
    statuses: dict[str, int]
    feasible: int
    infeasible: int
    infeasible_share: float | None = Field(description="of the settled scenarios")
    errors: int = Field(description="scenarios with status error or invalid")
    blamed: list[Blame] = Field(description="most blamed first")
    error_examples: list[ErrorExample]
    parties: dict[str, PartySummary]
    quantiles: Literal["exact", "subset"]
    quantile_scenarios: int = Field(description="the scenarios percentiles are taken over, at most")
    robust: RobustReport | None = None


def blame_kind(path: str) -> str:
    """Return the kind of red line a blamed path names.

    Examples
    --------
    >>> [blame_kind(p) for p in ("pins.x.a", "interests.a.x.min_share", "constraints.c")]
    ['pin', 'floor', 'constraint']
    >>> [blame_kind(p) for p in ("interests.a.x.min_amount", "payments.p.max", "choices")]
    ['floor', 'payment_cap', 'choice']
    """
    head, _, rest = path.partition(".")
    tail = path.rpartition(".")[2]
    if head == "pins":
        return "pin"
    if head == "interests":
        return "floor" if tail.startswith("min_") else "cap"
    if head in ("payments", "contributions"):
        return f"{head[:-1]}_{'floor' if tail == 'min' else 'cap'}"
    if head == "choices":
        return "choice"
    if head == "stakeholders":
        return "capacity" if tail == "risk_capacity" else "disagreement"
    if head == "constraints":
        return "constraint"
    if head == "policy":
        return "proportional" if rest.startswith("proportional") else "envy"
    return "issue_total" if tail == "total" else "integrality"


class _ExactSum:
    """The exact sum of floats, in any order (Shewchuk 1997's non-overlapping partials)."""

    __slots__ = ("partials",)

    def __init__(self) -> None:
        self.partials: list[float] = []

    def add(self, x: float) -> None:
        i = 0
        partials = self.partials
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            high = x + y
            low = y - (high - x)
            if low:
                partials[i] = low
                i += 1
            x = high
        partials[i:] = [x]

    def value(self) -> float:
        return math.fsum(self.partials)


class _Figure:
    """One figure's count, exact sum, extremes and the values kept for its percentiles."""

    __slots__ = ("count", "high", "kept", "low", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = _ExactSum()
        self.low = math.inf
        self.high = -math.inf
        self.kept = array("d")

    def add(self, value: float, keep: bool) -> None:
        self.count += 1
        self.total.add(value)
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if keep:
            self.kept.append(value)

    def stat(self) -> Stat:
        if not self.count:
            return Stat(count=0, mean=None, min=None, p5=None, p50=None, p95=None, max=None)
        p5 = p50 = p95 = None
        if self.kept:
            p5, p50, p95 = (float(v) for v in np.percentile(np.sort(self.kept), [5, 50, 95]))
        return Stat(
            count=self.count,
            mean=_tidy(self.total.value() / self.count),
            min=_tidy(self.low),
            p5=None if p5 is None else _tidy(p5),
            p50=None if p50 is None else _tidy(p50),
            p95=None if p95 is None else _tidy(p95),
            max=_tidy(self.high),
        )


def _tidy(value: float) -> float:
    """``value`` to 14 significant digits: the noise of float arithmetic goes."""
    return float(f"{value:.14g}") if value else 0.0


def _coprime_near(n: int, target: int) -> int:
    """Return the integer nearest ``target`` (upwards first) that is coprime with ``n``."""
    for step in range(n):
        for m in (target + step, target - step):
            if 0 < m < n and math.gcd(m, n) == 1:
                return m
    return 1


class SummaryAccumulator:
    """Accumulate the rows of a sweep, in any order, into a :class:`SweepSummary`.

    Parameters
    ----------
    plan
        The sweep the rows belong to.
    quantile_limit
        At most this many scenarios' values are kept for the percentiles.
    worst
        Scenarios listed as worst for each party.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep, plan_sweep, iter_rows
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1,
    ...     "parameters": [{"path": "pins.x.a", "grid": [0.1, 0.2, 0.3, 0.4, 0.5]}]}))
    >>> accumulator = SummaryAccumulator(plan)
    >>> for row in reversed(list(iter_rows(plan))):
    ...     accumulator.add(row)
    >>> share = accumulator.summary().parties["a"].shares["x"]
    >>> share.mean, share.p5, share.p50, share.p95
    (0.3, 0.12, 0.3, 0.48)
    """

    def __init__(
        self, plan: SweepPlan, *, quantile_limit: int = QUANTILE_LIMIT, worst: int = WORST_SCENARIOS
    ) -> None:
        self.plan = plan
        self._worst_count = worst
        n = plan.scenarios
        columns: dict[tuple[str, str], str] = {}
        for party, issue in plan.pairs:
            columns[party, f"share.{issue}"] = f"share.{issue}.{party}"
        for party in plan.parties:
            for name in (
                "worst_exposure",
                "expected_exposure",
                "expected_loss",
                "gain",
                "normalized_gain",
                "capacity_used",
            ):
                columns[party, name] = f"{name}.{party}"
        self._columns = columns
        self._figures = {key: _Figure() for key in columns}
        limit = max(1, min(quantile_limit, MAX_KEPT_VALUES // max(1, len(columns))))
        self._limit = min(limit, n)
        self._multiplier = 0 if n <= limit else _coprime_near(n, round(n * (math.sqrt(5) - 1) / 2))
        self._statuses: Counter[str] = Counter()
        self._blame: Counter[str] = Counter()
        # per party, the worst scenarios as a heap of (-gain, -scenario, row's figures)
        self._worst: dict[str, list[tuple[float, int, WorstScenario]]] = {
            p: [] for p in plan.parties
        }
        self._errors: list[tuple[int, ErrorExample]] = []  # a heap of the lowest numbers

    def _kept(self, index: int) -> bool:
        if not self._multiplier:
            return True
        return (index * self._multiplier) % self.plan.scenarios < self._limit

    def add(self, row: Row) -> None:
        """Count one scenario's row (as :func:`~mediation.sweep.worker.settle_batch` makes it)."""
        index = int(row["scenario"])
        status = str(row["status"])
        self._statuses[status] += 1
        if status in _FEASIBLE:
            keep = self._kept(index)
            for key, column in self._columns.items():
                value = row.get(column)
                if value is not None:
                    self._figures[key].add(float(value), keep)
            for party, heap in self._worst.items():
                gain = row.get(f"gain.{party}")
                if gain is None:
                    continue
                normalized = row.get(f"normalized_gain.{party}")
                entry = WorstScenario(
                    scenario=index,
                    gain=float(gain),
                    normalized_gain=None if normalized is None else float(normalized),
                    parameters={t.path: float(row[t.column]) for t in self.plan.targets},
                )
                heapq.heappush(heap, (-float(gain), -index, entry))
                if len(heap) > self._worst_count:
                    heapq.heappop(heap)
        elif status == "infeasible":
            for label in str(row.get("blame") or "").split(";"):
                if label:
                    self._blame[label] += 1
        else:
            example = ErrorExample(scenario=index, status=status, message=str(row.get("error")))
            heapq.heappush(self._errors, (-index, example))
            if len(self._errors) > ERROR_EXAMPLES:
                heapq.heappop(self._errors)

    def worst_scenarios(self) -> set[int]:
        """Return the scenarios listed as worst for some party."""
        return {-i for heap in self._worst.values() for _, i, _ in heap}

    def summary(self) -> SweepSummary:
        """Return the summary of the rows added so far."""
        plan = self.plan
        settled = sum(self._statuses.values())
        feasible = sum(self._statuses[s] for s in _FEASIBLE)
        infeasible = self._statuses["infeasible"]
        parties = {}
        for party in plan.parties:
            shares = {
                issue: self._figures[party, f"share.{issue}"].stat()
                for p, issue in plan.pairs
                if p == party
            }
            worst = sorted(self._worst[party], key=lambda e: (-e[0], -e[1]))
            parties[party] = PartySummary(
                shares=shares,
                worst_exposure=self._figures[party, "worst_exposure"].stat(),
                expected_exposure=self._figures[party, "expected_exposure"].stat(),
                expected_loss=self._figures[party, "expected_loss"].stat(),
                gain=self._figures[party, "gain"].stat(),
                normalized_gain=self._figures[party, "normalized_gain"].stat(),
                capacity_used=self._figures[party, "capacity_used"].stat(),
                worst=[e[2] for e in worst],
            )
        blamed = [
            Blame(
                path=path,
                kind=blame_kind(path),
                scenarios=count,
                share=_tidy(count / infeasible),
            )
            for path, count in sorted(self._blame.items(), key=lambda item: (-item[1], item[0]))
        ]
        return SweepSummary(
            case_id=plan.case.id,
            case_sha256=plan.case_sha256,
            sweep_sha256=plan.sweep_sha256,
            seed=plan.spec.seed,
            scenarios=plan.scenarios,
            settled=settled,
            statuses=dict(sorted(self._statuses.items())),
            feasible=feasible,
            infeasible=infeasible,
            infeasible_share=_tidy(infeasible / settled) if settled else None,
            errors=settled - feasible - infeasible,
            blamed=blamed,
            error_examples=[e for _, e in sorted(self._errors, key=lambda e: -e[0])],
            parties=parties,
            quantiles="subset" if self._multiplier else "exact",
            quantile_scenarios=self._limit,
        )
