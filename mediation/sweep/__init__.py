"""Scenario sweeps: settle a case over many what-ifs and uncertain data, and summarise them.

A *sweep file* (:mod:`.spec`) names fields of a base case that vary, on grids or by
distributions, the number of samples and a seed; :func:`plan_sweep` (:mod:`.plan`) checks it
against the case (every path, every range, every pin) before anything is solved and numbers
the scenarios; :func:`run_sweep` (:mod:`.runner`) settles them in batches on any
:class:`concurrent.futures.Executor` (a process pool, a Dask cluster, or none: this
process), streaming rows in scenario order (:mod:`.worker` makes them) into a bounded-memory
:class:`SummaryAccumulator` (:mod:`.summary`), and, when asked, computes one robust split for
all the scenarios (:mod:`.robust`).

The package is pure: it reads no file, starts no process and imports neither Dask nor pyarrow;
``mediation sweep`` (:mod:`mediation.cli.sweep`) writes the rows to JSON Lines, CSV or Parquet,
resumes interrupted sweeps and chooses the executor.

Examples
--------
>>> from mediation.case import parse_case
>>> case = parse_case({"id": "t", "title": "t",
...     "stakeholders": [{"id": "a", "name": "A", "kind": "other", "risk_capacity": 5},
...                      {"id": "b", "name": "B", "kind": "other"}],
...     "issues": [{"id": "x", "name": "X", "kind": "risk", "amount": 10}],
...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
...                   {"stakeholder": "b", "issue": "x", "value": 1}],
...     "policy": {"individually_rational": False}})
>>> spec = parse_sweep({"sweep_version": "1.0", "seed": 3, "parameters": [
...     {"path": "pins.x.a", "grid": [0.2, 0.4, 0.6]}]})
>>> summary = run_sweep(plan_sweep(case, spec))  # executor=ProcessPoolExecutor() to share out
>>> summary.feasible, summary.infeasible, [b.path for b in summary.blamed]
(2, 1, ['pins.x.a', 'stakeholders.a.risk_capacity'])
"""

from __future__ import annotations

from .plan import PARTY_METRICS, Scenario, SweepPlan, Target, build_scenario_case, plan_sweep
from .robust import ROBUST_SCENARIOS, robust_report, robust_scenarios
from .runner import DEFAULT_BATCH_SIZE, batches, default_batch_size, iter_rows, run_sweep
from .spec import SWEEP_VERSION, Parameter, SweepSpec, load_sweep, parse_sweep
from .summary import (
    Blame,
    PartySummary,
    RobustReport,
    Stat,
    SummaryAccumulator,
    SweepSummary,
    WorstScenario,
)
from .worker import Batch, Row, blame_labels, settle_batch

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "PARTY_METRICS",
    "ROBUST_SCENARIOS",
    "SWEEP_VERSION",
    "Batch",
    "Blame",
    "Parameter",
    "PartySummary",
    "RobustReport",
    "Row",
    "Scenario",
    "Stat",
    "SummaryAccumulator",
    "SweepPlan",
    "SweepSpec",
    "SweepSummary",
    "Target",
    "WorstScenario",
    "batches",
    "blame_labels",
    "build_scenario_case",
    "default_batch_size",
    "iter_rows",
    "load_sweep",
    "parse_sweep",
    "plan_sweep",
    "robust_report",
    "robust_scenarios",
    "run_sweep",
    "settle_batch",
]
