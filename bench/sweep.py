"""Sweeps: many variants of one case, settled serially, on a process pool and on Dask.

A sweep settles the bundled community-hall case (leximin, its own policy) over and over with
seeded random numbers: every interest's value, every issue's amount, the noise risk's
probability, the parties' risk capacities and their share floors and caps move. Measured in
the same run, interleaved:

- **settle**: :func:`mediation.settle` on each variant, one after the other (the reference);
- **batch**: :func:`mediation.allocation.batch.settle_variants` on the same variants: the same
  settlements (checked, body for body), from one model template instead of a PuLP model each;
- **raw highspy**: the engine's LP sequence for each variant (an ideal point per party, the
  leximin levels by saturation, the control tie-break) on one live highspy model whose
  coefficients and bounds are edited for each variant and re-solved warm from the last
  basis: the ceiling, with no modelling layer, no figures, no validator;
- **batch on a pool** of 2 processes and **batch on Dask** (``LocalCluster``, 2 workers of
  one thread), the variants shipped in batches; when the sweep package is there, its runner
  (:func:`mediation.sweep.run_sweep`, which builds each scenario's case from the sweep file in
  the worker) on the same executors.

Every figure is complete, validated settlements per second (``check=True``; the batch path
without reasons, as a sweep row needs none).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from mediation import settle
from mediation.allocation.batch import settle_variants
from mediation.case import Case, load_case, parse_case
from mediation.numeric import index_case
from mediation.settlement import Settlement

from .instances import CASES_DIR

__all__ = ["SWEEP_CASE", "SweepConfig", "SweepResults", "ceiling", "run_sweeps", "variants"]

#: The case the sweep varies.
SWEEP_CASE = "community-hall-dispute"
#: The sweep file the sweep runner is measured on.
SWEEP_FILE = CASES_DIR / "sweeps" / "community-hall.sweep.yaml"
#: Variants per task on the pool and on Dask: ~50 small settlements per task doubled Dask's
#: throughput over one per task (performance-notes.md).
BATCH = 50
#: Workers of the pool and of the cluster.
WORKERS = 2


@dataclass
class SweepConfig:
    """How many variants, how many timed runs of the serial paths, and whether in parallel."""

    variants: int
    runs: int
    parallel: bool
    parallel_variants: int
    seed: int = 0


@dataclass
class Throughput:
    """One way of settling the variants: seconds per run and what it settled."""

    runs: list[float] = field(default_factory=list)
    count: int = 0
    note: str | None = None
    error: str | None = None

    @property
    def per_second(self) -> float | None:
        if not self.runs or self.error is not None:
            return None
        return self.count / statistics.median(self.runs)


@dataclass
class SweepResults:
    """What the sweep benchmark measured, and the disagreements it found."""

    config: SweepConfig
    paths: dict[str, Throughput] = field(default_factory=dict)
    lps: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    startup: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- the variants ---------------------------------------------------------------------------


def base_case() -> Case:
    """Return the bundled case the sweep varies."""
    return load_case((CASES_DIR / f"{SWEEP_CASE}.yaml").read_bytes())


def variant_data(base: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Return the base case's data with its numbers moved at random.

    Values ×U(0.6, 1.4); amounts ×U(0.7, 1.3); probabilities U(0.1, 0.9); capacities
    ×U(0.6, 1.5); each floor and cap, with probability 1/2, ×U(0.5, 1.3) and ×U(0.7, 2)
    (at most 1). Some variants have no allocation meeting every red line (infeasible, with a
    diagnosis).
    """
    data = dict(base)
    data["interests"] = [dict(x) for x in base["interests"]]
    data["issues"] = [dict(i) for i in base["issues"]]
    data["stakeholders"] = [dict(s) for s in base["stakeholders"]]
    for x in data["interests"]:
        if "value" in x:
            x["value"] = float(x["value"] * rng.uniform(0.6, 1.4))
        if "min_share" in x and rng.random() < 0.5:
            x["min_share"] = float(min(1.0, x["min_share"] * rng.uniform(0.5, 1.3)))
        if "max_share" in x and rng.random() < 0.5:
            x["max_share"] = float(min(1.0, x["max_share"] * rng.uniform(0.7, 2.0)))
    for i in data["issues"]:
        i["amount"] = float(i["amount"] * rng.uniform(0.7, 1.3))
        if "probability" in i:
            i["probability"] = float(rng.uniform(0.1, 0.9))
    for s in data["stakeholders"]:
        if "risk_capacity" in s:
            s["risk_capacity"] = float(s["risk_capacity"] * rng.uniform(0.6, 1.5))
    return data


def variants(base: Case, count: int, seed: int) -> list[Case]:
    """Return ``count`` valid variants of ``base``, seeded."""
    data = base.model_dump(mode="json", exclude_none=True)
    rng = np.random.default_rng([seed, count])
    out: list[Case] = []
    while len(out) < count:
        try:
            out.append(parse_case(variant_data(data, rng)))
        except ValueError:  # a floor pushed above what the others leave: not a case
            continue
    return out


# --- the ceiling: the engine's LP sequence in raw highspy ----------------------------------


#: The engine's tolerances, as the ceiling uses them.
TOLERANCE = 1e-9
SATURATION_SHARE = 1e-2
SATURATION_FLOOR = 1e-6
HOLD = 1e-10
HOLD_UTILITY = 1e-9


@dataclass
class _Layout:
    """Where each part of the community hall's LP sits in the live model."""

    n_x: int
    n_parties: int
    utility_entries: list[tuple[int, int]]  # (row, column) of each share in a utility row
    capacity_rows: list[int]  # one per party that has a capacity row, else -1
    capacity_entries: list[tuple[int, int, int]]  # (row, column, interest)
    extra_entries: list[tuple[int, int, int, int]]  # (row, column, constraint, term)
    extra_rows: list[int]
    level_rows: list[int]

    @property
    def t(self) -> int:
        return self.n_x + self.n_parties

    def r(self, p: int) -> int:
        return self.n_x + self.n_parties + 1 + p

    def u(self, p: int) -> int:
        return self.n_x + p


class Ceiling:
    """The engine's LP sequence for one case structure on one live highspy model.

    Columns: the shares, the utilities, the level ``t`` and a release column per party;
    rows: the issues, the utility rows, the capacities, the extra constraints and a level row
    per party (``u_p / ρ_p − t + r_p ≥ d_p / ρ_p``, switched off by freeing ``r_p``). Each
    variant edits the numbers in place and every LP is re-solved warm.
    """

    def __init__(self, case: Case) -> None:
        index = index_case(case)
        n_x, n_p = len(index.value), len(index.parties)
        rows: list[list[tuple[int, float]]] = []
        lower: list[float] = []
        upper: list[float] = []
        for ks in index.interests_of_issue:
            rows.append([(int(k), 1.0) for k in ks])
            lower.append(1.0)
            upper.append(1.0)
        utility_entries: list[tuple[int, int]] = []
        for p, ks in enumerate(index.interests_of_party):
            utility_entries += [(len(rows), int(k)) for k in ks]
            rows.append([(n_x + p, 1.0), *((int(k), -1.0) for k in ks)])
            lower.append(0.0)
            upper.append(0.0)
        capacity_rows = [-1] * n_p
        capacity_entries: list[tuple[int, int, int]] = []
        for p, ks in enumerate(index.interests_of_party):
            risky = [int(k) for k in ks if index.is_risk[index.pair_issue[k]]]
            if risky and math.isfinite(index.capacity[p]):
                capacity_rows[p] = len(rows)
                capacity_entries += [(len(rows), k, k) for k in risky]
                rows.append([(k, 1.0) for k in risky])
                lower.append(-math.inf)
                upper.append(1.0)
        extra_entries: list[tuple[int, int, int, int]] = []
        extra_rows: list[int] = []
        for j, c in enumerate(case.constraints):
            extra_rows.append(len(rows))
            terms = [
                (index.pair_of[str(t.stakeholder), str(t.issue)], i) for i, t in enumerate(c.terms)
            ]
            extra_entries += [(len(rows), k, j, i) for k, i in terms]
            rows.append([(k, 1.0) for k, _ in terms])
            lower.append(-math.inf)
            upper.append(math.inf)
        level_rows: list[int] = []
        for p in range(n_p):
            level_rows.append(len(rows))
            rows.append([(n_x + p, 1.0), (n_x + n_p, -1.0), (n_x + n_p + 1 + p, 1.0)])
            lower.append(0.0)
            upper.append(math.inf)
        self.layout = _Layout(
            n_x, n_p, utility_entries, capacity_rows, capacity_entries, extra_entries,
            extra_rows, level_rows,
        )  # fmt: skip
        n_cols = n_x + 2 * n_p + 1
        self.n_cols = n_cols
        self.highs = _silent_highs()
        h = self.highs
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_ = np.concatenate([np.zeros(n_x), np.full(n_p + 1, -np.inf), np.zeros(n_p)])
        lp.col_upper_ = np.concatenate([np.ones(n_x), np.full(2 * n_p + 1, np.inf)])
        lp.row_lower_ = np.array(lower)
        lp.row_upper_ = np.array(upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.cumsum([0, *(len(r) for r in rows)]).astype(np.int32)
        lp.a_matrix_.index_ = np.array([c for r in rows for c, _ in r], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([a for r in rows for _, a in r], dtype=float)
        h.passModel(lp)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.setOptionValue("primal_feasibility_tolerance", TOLERANCE)
        h.setOptionValue("dual_feasibility_tolerance", TOLERANCE)
        self.all_columns = np.arange(n_cols, dtype=np.int32)
        self.lps = 0

    def _solve(self, cost: np.ndarray) -> bool:
        h = self.highs
        h.changeColsCost(self.n_cols, self.all_columns, cost)
        h.run()
        self.lps += 1
        return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)

    def settle(self, case: Case) -> np.ndarray | None:
        """Return the normalized gains of ``case``'s leximin settlement (``None``: infeasible).

        The sequence of the engine: an ideal point per party under the hard constraints
        and individual rationality, the leximin levels (saturated parties found by the
        duals of their level rows, fixed, the rest re-solved), and the control tie-break.
        """
        index = index_case(case)
        h, lay = self.highs, self.layout
        n_x, n_p = lay.n_x, lay.n_parties
        coef = index.sign * index.value
        for row, k in lay.utility_entries:
            h.changeCoeff(row, k, -float(coef[k]))
        amount = index.amount[index.pair_issue]
        for row, k, _ in lay.capacity_entries:
            h.changeCoeff(row, k, float(amount[k]))
        for p, row in enumerate(lay.capacity_rows):
            if row >= 0:
                h.changeRowBounds(row, -math.inf, float(index.capacity[p]))
        for row, k, j, i in lay.extra_entries:
            h.changeCoeff(row, k, float(case.constraints[j].terms[i].coef))
        for row, c in zip(lay.extra_rows, case.constraints, strict=True):
            lo = c.rhs if c.sense in (">=", "==") else -math.inf
            hi = c.rhs if c.sense in ("<=", "==") else math.inf
            h.changeRowBounds(row, lo, hi)
        x = np.arange(n_x, dtype=np.int32)
        h.changeColsBounds(n_x, x, index.lower, index.upper)
        u = np.arange(n_x, n_x + n_p, dtype=np.int32)
        d = index.disagreement
        h.changeColsBounds(n_p, u, d, np.full(n_p, np.inf))
        r = np.array([lay.r(p) for p in range(n_p)], dtype=np.int32)
        h.changeColsBounds(n_p, r, np.zeros(n_p), np.full(n_p, np.inf))  # level rows off
        ideal = np.empty(n_p)
        for p in range(n_p):
            cost = np.zeros(self.n_cols)
            cost[lay.u(p)] = 1.0
            if not self._solve(cost):
                return None
            ideal[p] = h.getInfo().objective_function_value
        room = ideal - d
        rho = np.where(room > 1e-9 * np.maximum(index.stake, np.abs(d)), room, index.stake)
        for p, row in enumerate(lay.level_rows):
            h.changeCoeff(row, lay.u(p), 1.0 / rho[p])
            h.changeRowBounds(row, d[p] / rho[p], math.inf)
        h.changeColsBounds(n_p, r, np.zeros(n_p), np.zeros(n_p))
        free = list(range(n_p))
        cost = np.zeros(self.n_cols)
        cost[lay.t] = 1.0
        while free:
            if not self._solve(cost):
                return None
            solution = h.getSolution()
            level = solution.col_value[lay.t]
            values = np.asarray(solution.col_value)
            gains = (values[n_x : n_x + n_p] - d) / rho
            duals = np.asarray(solution.row_dual)[[lay.level_rows[p] for p in free]]
            threshold = max(SATURATION_FLOOR, SATURATION_SHARE / len(free))
            at = gains <= level + 1e-9 * max(1.0, abs(level))
            saturated = [
                p for p, y in zip(free, duals, strict=True) if abs(y) > threshold and at[p]
            ]
            if not saturated:
                saturated = [p for p in free if at[p]]
            for p in saturated:
                held = d[p] + rho[p] * min(gains[p], level) - HOLD * rho[p]
                h.changeColBounds(lay.u(p), max(held, d[p]), math.inf)
                h.changeColBounds(lay.r(p), 0.0, math.inf)
            free = [p for p in free if p not in saturated]
        utilities = np.asarray(h.getSolution().col_value)[n_x : n_x + n_p]
        control = np.array([x.control or 0.0 for x in case.interests])
        if control.any():
            h.changeColsBounds(n_p, u, utilities - HOLD_UTILITY * rho, np.full(n_p, np.inf))
            tiebreak = np.zeros(self.n_cols)
            tiebreak[:n_x] = control
            self._solve(tiebreak)
            utilities = np.asarray(h.getSolution().col_value)[n_x : n_x + n_p]
        return np.asarray((utilities - d) / rho)


def _silent_highs() -> highspy.Highs:
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")
    return h


def ceiling(cases: Sequence[Case]) -> tuple[list[np.ndarray | None], int]:
    """Return each case's normalized gains by the raw-highspy sequence, and the LPs solved."""
    model = Ceiling(cases[0])
    gains = [model.settle(c) for c in cases]
    return gains, model.lps


# --- the parallel paths --------------------------------------------------------------------


def summary(result: Settlement) -> tuple[str, dict[str, dict[str, float]], str]:
    """Return what a sweep row keeps of a settlement, and its input's digest (to match it)."""
    return result.status, result.shares, result.provenance.input_sha256


def settle_batch(base: Case, cases: Sequence[Case]) -> list[tuple[str, Any, str]]:
    """Settle one batch of variants in a worker: the task a pool or a cluster runs."""
    return [summary(r) for r in settle_variants(base, cases, reasons=False)]


def _chunks(items: Sequence[Case], size: int) -> Iterable[Sequence[Case]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _on(executor: Executor, base: Case, cases: Sequence[Case]) -> list[tuple[str, Any, str]]:
    futures = [executor.submit(settle_batch, base, chunk) for chunk in _chunks(cases, BATCH)]
    return [row for f in futures for row in f.result()]


def _timed(measure: Throughput, work: Callable[[], Any], count: int) -> Any:
    gc.collect()
    start = time.perf_counter()
    out = work()
    measure.runs.append(time.perf_counter() - start)
    measure.count = count
    return out


# --- the benchmark -------------------------------------------------------------------------


def run_sweeps(config: SweepConfig, log: Callable[[str], None]) -> SweepResults:
    """Run the sweep benchmark described by ``config``."""
    results = SweepResults(config)
    base = base_case()
    start = time.perf_counter()
    cases = variants(base, config.variants, config.seed)
    results.build_seconds = (time.perf_counter() - start) / len(cases)
    log(f"sweep: {len(cases)} variants of {SWEEP_CASE}")
    serial = {name: results.paths.setdefault(name, Throughput()) for name in ("settle", "batch")}
    raw = results.paths.setdefault("raw highspy", Throughput())
    reference: list[Settlement] = []
    for round_ in range(config.runs):
        for c in cases:  # each run starts from cases that have not been digested yet
            c.__dict__.pop("canonical_digest", None)
        found = _timed(serial["settle"], lambda: [settle(c) for c in cases], len(cases))
        reference = reference or found
        for c in cases:
            c.__dict__.pop("canonical_digest", None)
        batch = _timed(
            serial["batch"],
            lambda: list(settle_variants(base, cases, reasons=False)),
            len(cases),
        )
        gains, lps = _timed(raw, lambda: ceiling(cases), len(cases))
        if round_ == 0:
            _check(results, cases, reference, batch, gains)
            results.lps["raw highspy"] = lps / len(cases)
    results.lps["engine"] = statistics.mean(r.provenance.solver.solves for r in reference)
    for r in reference:
        results.statuses[r.status] = results.statuses.get(r.status, 0) + 1
    if config.parallel:
        many = variants(base, config.parallel_variants, config.seed + 1)
        expected = [summary(r) for r in settle_variants(base, many, reasons=False)]
        _parallel(results, base, many, expected, log)
    return results


def _check(
    results: SweepResults,
    cases: Sequence[Case],
    reference: Sequence[Settlement],
    batch: Sequence[Settlement],
    gains: Sequence[np.ndarray | None],
) -> None:
    """Check that the batch path's settlements are settle's, the ceiling's gains the engine's."""
    for k, (case, a, b) in enumerate(zip(cases, reference, batch, strict=True)):
        lean = {**a.body(), "reasons": list(b.body()["reasons"])}
        if b.body() != lean:
            results.failures.append(f"sweep variant {k}: the batch path differs from settle")
        if a.status == "error":
            results.failures.append(f"sweep variant {k}: settle returned an error")
        g = gains[k]
        if a.status == "optimal" and g is not None:
            engine = np.array([a.parties[s.id].normalized_gain or 0.0 for s in case.stakeholders])
            if float(np.abs(np.sort(g) - np.sort(engine)).max()) > 1e-6:
                results.notes.append(
                    f"sweep variant {k}: the raw-highspy gains differ from the engine's by "
                    f"{float(np.abs(np.sort(g) - np.sort(engine)).max()):.1e}"
                )


def _parallel(
    results: SweepResults,
    base: Case,
    cases: Sequence[Case],
    expected: Sequence[tuple[str, Any, str]],
    log: Callable[[str], None],
) -> None:
    """Time the batch path on a pool of processes and on a Dask cluster, and the runner."""
    n = len(cases)
    pool_measure = results.paths.setdefault(f"batch, pool of {WORKERS}", Throughput())
    start = time.perf_counter()
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(_warm, range(WORKERS)))
        results.startup["pool"] = time.perf_counter() - start
        _on(pool, base, cases[: BATCH * WORKERS])  # every worker makes its template
        rows = _timed(pool_measure, lambda: _on(pool, base, cases), n)
        if rows != list(expected):
            results.failures.append("sweep: the pool's settlements differ from the serial ones")
        _runner(results, base, n, pool, f"sweep runner, pool of {WORKERS}", log)
    log(f"  pool: {pool_measure.per_second or 0:.0f} scenarios/s")
    dask = results.paths.setdefault(f"batch, Dask {WORKERS}×1", Throughput())
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        dask.note = "distributed is not installed (pip install 'mediation[sweep]')"
        return
    start = time.perf_counter()
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        executor = client.get_executor()
        results.startup["dask"] = time.perf_counter() - start
        _on(executor, base, cases[: BATCH * WORKERS])
        rows = _timed(dask, lambda: _on(executor, base, cases), n)
        if rows != list(expected):
            results.failures.append("sweep: Dask's settlements differ from the serial ones")
        _runner(results, base, n, executor, f"sweep runner, Dask {WORKERS}×1", log)
    log(f"  dask: {dask.per_second or 0:.0f} scenarios/s")


def _warm(_: int) -> int:
    """Import the engine in a worker (timed as start-up, not as settling)."""
    import mediation.allocation.batch  # noqa: F401

    return os.getpid()


def _runner(
    results: SweepResults,
    base: Case,
    count: int,
    executor: Executor | None,
    name: str,
    log: Callable[[str], None],
) -> None:
    """Time the sweep package's runner on the same executor, when it is there.

    It settles ``cases/sweeps/community-hall.sweep.yaml`` with as many samples per grid
    point as make about ``count`` scenarios; each scenario's case is built from the sweep
    file in the worker (parsed and validated), which the batch path above is spared.
    """
    try:
        from mediation.sweep import load_sweep, plan_sweep
        from mediation.sweep.runner import iter_rows
    except ImportError:
        return
    if not SWEEP_FILE.exists():
        return
    measure = results.paths.setdefault(name, Throughput())
    try:
        spec = load_sweep(SWEEP_FILE.read_bytes())
        points = math.prod(len(p.grid) for p in spec.parameters if p.grid is not None)
        spec = spec.model_copy(update={"samples": max(1, math.ceil(count / points))})
        plan = plan_sweep(base, spec)
        list(iter_rows(plan, executor=executor, batch_size=BATCH))  # warm-up: the whole sweep
        _timed(
            measure,
            lambda: list(iter_rows(plan, executor=executor, batch_size=BATCH)),
            plan.scenarios,
        )
    except Exception as exc:  # the runner is another engineer's work in progress
        measure.error = f"{type(exc).__name__}: {exc}"
    log(f"  {name}: {measure.per_second or 0:.0f} scenarios/s")


def table(results: SweepResults) -> list[list[str]]:
    """One row per path: scenarios per second and the ratio to settle's."""
    reference = results.paths.get("settle")
    base = reference.per_second if reference else None
    rows = []
    for name, measure in results.paths.items():
        rate = measure.per_second
        cell = "failed" if measure.error else ("—" if rate is None else f"{rate:,.0f}")
        ratio = "—" if rate is None or not base else f"{rate / base:.2f}×"
        rows.append([name, f"{measure.count:,}", cell, ratio, measure.note or measure.error or ""])
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.sweep``: the sweep benchmark alone, its table on the console."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few variants, serial paths only")
    parser.add_argument("--variants", type=int, default=1000, help="variants per serial run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the serial paths")
    args = parser.parse_args(argv)
    config = (
        SweepConfig(variants=30, runs=1, parallel=False, parallel_variants=0)
        if args.quick
        else SweepConfig(
            variants=args.variants,
            runs=args.runs,
            parallel=True,
            parallel_variants=2 * args.variants,
        )
    )
    results = run_sweeps(config, lambda m: print(m, file=sys.stderr, flush=True))
    for line in markdown(results):
        print(line)
    for failure in results.failures:
        print(f"FAILURE: {failure}")
    return 1 if results.failures else 0


def markdown(results: SweepResults) -> list[str]:
    """Return the sweep's section of BENCHMARKS.md."""
    c = results.config
    head = ["path", "scenarios", "scenarios/s", "vs settle", "note"]
    rows = table(results)
    lines = [
        f"{c.variants:,} seeded variants of `{SWEEP_CASE}` (leximin; values, amounts, the "
        "noise risk's probability, capacities, floors and caps moved), each a complete "
        "settlement checked by the independent validator and its optimality certificate. "
        f"Serial paths: median of {c.runs} runs; pool and Dask: "
        f"{c.parallel_variants:,} variants in batches of {BATCH}, start-up not counted "
        + ", ".join(f"({k}: {v:.1f} s)" for k, v in results.startup.items())
        + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(" --- " for _ in head) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        f"LPs per variant: engine {results.lps.get('engine', math.nan):.1f}, raw highspy "
        f"{results.lps.get('raw highspy', math.nan):.1f}. Statuses: "
        + ", ".join(f"{k} {v}" for k, v in sorted(results.statuses.items()))
        + f". Building a variant (`parse_case` of its data): "
        f"{results.build_seconds * 1e3:.2f} ms, not counted above.",
    ]
    lines += [f"- {n}" for n in results.notes[:5]]
    return lines


if __name__ == "__main__":
    sys.exit(main())
