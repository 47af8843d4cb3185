"""Run the benchmark: time the engine, the limit and the peers; check that they agree.

Every measurement is taken in the same process and run, interleaved (one round is every
rule once with every solver), so that drifts of a shared machine hit all of them alike.
"""

from __future__ import annotations

import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from mediation import settle
from mediation.allocation.assemble import engine_version
from mediation.case import load_case, parse_case
from mediation.rules import lp_rules

from . import agreement, levers, limit, peers, service, sweep
from .fairpyx_peer import FairpyxRuns, ensure_env, env_python, run_fairpyx
from .instances import KINDS, Market, bundled_case_paths, case_document, generate, market_of_case

__all__ = ["RULES", "Config", "Measure", "Results", "RuleResult", "run"]

#: The registered LP rules the raw-highspy limit (bench/limit.py) implements, in its order.
RULES = tuple(rule for rule in limit.RULES if rule in lp_rules())
FULL_SIZES = ((10, 20), (100, 50), (500, 100), (1000, 200))
QUICK_SIZES = ((10, 20), (30, 20))
#: fairpyx builds one cvxpy scalar per (party, resource) and takes 3.4 s at 100 × 50; at
#: 500 × 100 a run takes minutes, so it is measured up to this many parties.
FAIRPYX_MAX_PARTIES = 100
#: A peer whose first run takes longer than this is not repeated (its median is of 1 run).
PEER_PATIENCE = 60.0
#: The bundled case whose command line and library call the targets name.
TARGET_CASE = "community-hall-dispute"

Solver = Callable[[Market], limit.Solution]


@dataclass
class Config:
    """What to run: ``quick`` is the CI mode (small sizes, agreement only)."""

    quick: bool
    runs: int
    case_runs: int
    cli_runs: int
    sizes: tuple[tuple[int, int], ...]
    fairpyx: bool
    seed: int = 0
    #: Many variants of one case (bench/sweep.py): few and serial only in ``--quick``.
    sweep: sweep.SweepConfig = field(
        default_factory=lambda: sweep.SweepConfig(
            variants=1000, runs=3, parallel=True, parallel_variants=4000
        )
    )
    #: ``POST /v1/settle`` against the library call (bench/service.py): a smoke run in
    #: ``--quick``.
    service: service.ServiceConfig = field(default_factory=lambda: service.ServiceConfig())
    #: What case format 1.1's features cost (bench/levers.py): the small market in ``--quick``.
    levers: levers.LeversConfig = field(default_factory=lambda: levers.LeversConfig())


@dataclass
class Measure:
    """One solver on one instance and rule: seconds per run and their parts."""

    runs: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None
    note: str | None = None
    lps: int | None = None
    check: agreement.Check | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    def part(self, name: str) -> float | None:
        values = self.parts.get(name)
        return statistics.median(values) if values else None

    def add(self, seconds: float, parts: dict[str, float]) -> None:
        self.runs.append(seconds)
        for name, value in parts.items():
            self.parts.setdefault(name, []).append(value)


@dataclass
class RuleResult:
    """One rule on one instance: a :class:`Measure` per solver."""

    instance: str
    kind: str
    size: tuple[int, int]
    interests: int
    rule: str
    measures: dict[str, Measure] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseResult:
    """A bundled case: the library call per rule, and the command line."""

    case: str
    policy_rule: str
    statuses: dict[str, str] = field(default_factory=dict)
    library: dict[str, Measure] = field(default_factory=dict)
    cli: Measure | None = None
    reference: str = ""


@dataclass
class Results:
    """Everything one run of the benchmark measured."""

    config: Config
    started: datetime
    machine: dict[str, str]
    versions: dict[str, str]
    methods: list[dict[str, Any]] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Many variants of one case (bench/sweep.py); ``None`` when not run.
    sweep: sweep.SweepResults | None = None
    #: The service against the library call (bench/service.py); ``None`` when not run.
    service: service.ServiceResults | None = None
    #: What case format 1.1's features cost (bench/levers.py); ``None`` when not run.
    levers: levers.LeversResults | None = None

    @property
    def failures(self) -> list[str]:
        """The engine's (and the reference's) disagreements and failed solves: a bug."""
        return self._problems(peers=False)

    @property
    def peer_failures(self) -> list[str]:
        """The peers' disagreements and failed solves: reported, not the project's bug."""
        return self._problems(peers=True)

    def _problems(self, *, peers: bool) -> list[str]:
        found = []
        for r in self.rules:
            for name, m in r.measures.items():
                if (name not in ("engine", "limit")) != peers:
                    continue
                if m.error is not None:
                    found.append(f"{r.rule} on {r.instance}: {name} failed: {m.error}")
                elif m.check is not None and not m.check.ok:
                    found.append(f"{r.rule} on {r.instance}: {name} disagrees: {m.check.detail}")
        if peers:
            return found
        if self.sweep is not None:
            found += self.sweep.failures
        if self.service is not None:
            found += self.service.failures
        if self.levers is not None:
            found += self.levers.failures
        for c in self.cases:
            for rule, status in c.statuses.items():
                if status == "error":
                    found.append(f"{rule} on case {c.case}: the engine returned an error")
            for rule, m in c.library.items():
                if m.check is not None and not m.check.ok:
                    found.append(f"{rule} on case {c.case}: engine disagrees: {m.check.detail}")
            if c.cli is not None and c.cli.error is not None:
                found.append(f"command line on case {c.case}: {c.cli.error}")
        return found


def log(message: str) -> None:
    """Progress on standard error (the report goes to a file)."""
    print(message, file=sys.stderr, flush=True)


# --- the engine ----------------------------------------------------------------------------


@dataclass
class EngineRun:
    seconds: float
    parts: dict[str, float]
    gains: np.ndarray | None
    status: str
    solves: int


def run_engine(document: dict[str, Any], rule: str) -> EngineRun:
    """Parse the case document and settle it: the engine end to end, as a user calls it."""
    start = time.perf_counter()
    case = parse_case(document)
    parsed = time.perf_counter()
    result = settle(case, rule=rule)
    seconds = time.perf_counter() - start
    parts = {"parse": parsed - start, **result.provenance.timings}
    gains = None
    if result.status in ("optimal", "feasible"):
        gains = np.array(
            [
                np.nan if p.normalized_gain is None else p.normalized_gain
                for p in (result.parties[s.id] for s in case.stakeholders)
            ]
        )
    return EngineRun(seconds, parts, gains, result.status, result.provenance.solver.solves)


def _engine_error(run: EngineRun) -> str | None:
    if run.status != "optimal":
        return f"status {run.status}"
    return None


# --- one market ----------------------------------------------------------------------------


def choose_methods(market: Market) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Return the faster first-LP algorithm for the maximin and the utilitarian LP, measured."""
    chosen: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for rule in ("maximin", "utilitarian"):
        seconds = limit.probe_methods(market, rule)
        done = {m: s for m, s in seconds.items() if s is not None}
        chosen[rule] = min(done, key=lambda m: done[m])
        rows.append(
            {"instance": market.name, "rule": rule, "seconds": seconds, "chosen": chosen[rule]}
        )
    return chosen, rows


def limit_solvers(methods: dict[str, str]) -> dict[str, Solver]:
    return {
        "maximin": lambda mk: limit.maximin(mk, method=methods["maximin"]),
        "leximin": lambda mk: limit.leximin(mk, method=methods["maximin"]),
        "nash": lambda mk: limit.nash(mk, method="simplex"),
        "utilitarian": lambda mk: limit.utilitarian(mk, method=methods["utilitarian"]),
    }


def peer_solvers(cvxpy: bool) -> dict[str, dict[str, Solver]]:
    found: dict[str, dict[str, Solver]] = {
        "maximin": {"pulp": peers.pulp_maximin},
        "leximin": {"pulp": peers.pulp_leximin},
        "nash": {},
        "utilitarian": {"pulp": peers.pulp_utilitarian},
    }
    if cvxpy:
        found["nash"]["cvxpy"] = peers.cvxpy_nash
    return found


def _timed(measure: Measure, solver: Solver, market: Market) -> limit.Solution | None:
    gc.collect()
    try:
        solution = solver(market)
    except Exception as exc:  # a peer's failure is a result, not a crash of the bench
        measure.error = f"{type(exc).__name__}: {exc}"
        return None
    measure.add(solution.seconds, {"build": solution.build, "solve": solution.solve})
    measure.lps = solution.lps
    return solution


def bench_market(market: Market, config: Config, results: Results, cvxpy: bool) -> None:
    """Every rule on ``market``: timings of every solver, then the agreement checks."""
    document = case_document(market)
    methods, probe_rows = choose_methods(market)
    results.methods += probe_rows
    limits = limit_solvers(methods)
    others = peer_solvers(cvxpy)
    rows = {
        rule: RuleResult(
            market.name,
            market.name.split()[0],
            (market.n_parties, market.n_issues),
            market.n_interests,
            rule,
        )
        for rule in RULES
    }
    first: dict[tuple[str, str], Any] = {}
    for round_ in range(config.runs):
        for rule in RULES:
            row = rows[rule]
            engine = row.measures.setdefault("engine", Measure())
            gc.collect()
            run = run_engine(document, rule)
            engine.add(run.seconds, run.parts)
            engine.lps = run.solves
            engine.error = engine.error or _engine_error(run)
            first.setdefault((rule, "engine"), run.gains)
            solvers = {"limit": limits[rule], **others[rule]}
            for name, solver in solvers.items():
                measure = row.measures.setdefault(name, Measure())
                if measure.error is not None:
                    continue
                if round_ > 0 and name != "limit" and (measure.median or 0.0) > PEER_PATIENCE:
                    measure.note = f"1 run: over {PEER_PATIENCE:.0f} s"
                    continue
                solution = _timed(measure, solver, market)
                if solution is not None:
                    first.setdefault((rule, name), solution)
    if config.fairpyx and market.n_parties <= FAIRPYX_MAX_PARTIES:
        _bench_fairpyx(market, config, rows["maximin"], first, results)
    elif config.fairpyx:
        rows["maximin"].measures["fairpyx"] = Measure(
            note=f"skipped: > {FAIRPYX_MAX_PARTIES} parties"
        )
    _check(market, rows, first)
    results.rules += rows.values()


def _bench_fairpyx(
    market: Market,
    config: Config,
    row: RuleResult,
    first: dict[tuple[str, str], Any],
    results: Results,
) -> None:
    measure = row.measures.setdefault("fairpyx", Measure())
    python = env_python() if config.quick else ensure_env()
    if python is None:
        measure.note = "not installed (python -m bench builds its environment)"
        return
    try:
        runs: FairpyxRuns = run_fairpyx(python, market, config.runs, timeout=1800)
    except Exception as exc:
        measure.error = f"{type(exc).__name__}: {exc}"
        return
    for seconds in runs.seconds:
        measure.add(seconds, {})
    first[("maximin", "fairpyx")] = limit.Solution(runs.gains)
    results.versions.update({f"fairpyx env: {k}": v for k, v in runs.versions.items()})


def _gains(found: Any) -> np.ndarray | None:
    if found is None:
        return None
    return found if isinstance(found, np.ndarray) else found.gains


def _check(market: Market, rows: dict[str, RuleResult], first: dict[tuple[str, str], Any]) -> None:
    """Compare every solver's first allocation with the rule's reference (the limit's)."""
    for rule, row in rows.items():
        reference = first.get((rule, "limit"))
        if reference is None:
            continue
        row.facts.update(reference.facts)
        if rule == "leximin":
            other = "simplex" if reference.facts["method"] == "ipm" else "ipm"
            again = limit.leximin(market, method=other)
            spread = float(np.abs(np.sort(again.gains) - np.sort(reference.gains)).max())
            row.facts["spread"] = spread
        if rule == "nash":
            _check_nash(market, row, first)
            continue
        for name, measure in row.measures.items():
            gains = _gains(first.get((rule, name)))
            if name == "limit" or gains is None or measure.error is not None:
                continue
            if rule == "maximin":
                best = (
                    None
                    if name == "fairpyx"  # fairpyx's allocation stops after the first stage
                    else limit.max_sum_given_min(market, float(gains.min()))
                )
                measure.check = agreement.check_maximin(gains, reference.facts["level"], best)
            elif rule == "leximin":
                measure.check = agreement.check_leximin(gains, reference.gains, row.facts["spread"])
            else:
                measure.check = agreement.check_utilitarian(gains, reference.facts["objective"])


def _check_nash(market: Market, row: RuleResult, first: dict[tuple[str, str], Any]) -> None:
    """Nash: welfare against the best reference (the limit's Kelley, cvxpy + Clarabel)."""
    refs = {
        name: g
        for name in ("limit", "cvxpy")
        if (g := _gains(first.get(("nash", name)))) is not None
    }
    best = max(agreement.nash_welfare(g) for g in refs.values())
    upper = row.facts.get("upper")
    for name, measure in row.measures.items():
        gains = _gains(first.get(("nash", name)))
        if gains is None or measure.error is not None:
            continue
        others = [g for n, g in refs.items() if n != name]
        if not others:
            continue
        reference = refs.get("cvxpy") if name != "cvxpy" else refs.get("limit")
        measure.check = agreement.check_nash(
            gains, best, others[0] if reference is None else reference
        )
        if upper is not None:
            certified = float(np.expm1((upper - agreement.nash_welfare(gains)) / market.n_parties))
            row.facts[f"certified gap {name}"] = certified


# --- bundled cases -------------------------------------------------------------------------


def _cli_command() -> list[str] | None:
    script = Path(sys.executable).with_name("mediation")
    found = str(script) if script.exists() else shutil.which("mediation")
    return None if found is None else [found, "settle"]


def bench_cases(config: Config, results: Results) -> None:
    """Time each bundled case through the library and the command line.

    The library call is timed per rule, checked when the case is a market; the command line
    (``mediation settle CASE``) runs with the case's own policy.
    """
    command = _cli_command()
    for path in bundled_case_paths():
        case = load_case(path.read_bytes())
        market = market_of_case(case)
        row = CaseResult(case=path.stem, policy_rule=case.policy.rule)
        row.reference = "raw LP" if market is not None else "none (not a plain market)"
        for rule in RULES:
            measure = Measure()
            result = None
            for _ in range(config.case_runs):
                start = time.perf_counter()
                result = settle(case, rule=rule)
                measure.add(time.perf_counter() - start, {})
            assert result is not None
            row.statuses[rule] = result.status
            if market is not None and result.status == "optimal":
                gains = np.array(
                    [result.parties[s.id].normalized_gain for s in case.stakeholders], dtype=float
                )
                measure.check = _case_check(market, rule, gains)
            row.library[rule] = measure
        row.library["policy"] = _policy_call(case, config)
        if command is not None:
            row.cli = _time_cli([*command, str(path)], config.cli_runs)
        results.cases.append(row)
        log(f"  case {path.stem}: {row.statuses}")
    if command is None:
        results.notes.append("the `mediation` command was not found: command line not timed")


def _policy_call(case: Any, config: Config) -> Measure:
    """Return the library call with the case's own policy, timed many times."""
    measure = Measure()
    for _ in range(config.case_runs):
        start = time.perf_counter()
        settle(case)
        measure.add(time.perf_counter() - start, {})
    return measure


def _case_check(market: Market, rule: str, gains: np.ndarray) -> agreement.Check:
    if rule == "maximin":
        reference = limit.maximin(market, method="simplex")
        best = limit.max_sum_given_min(market, float(gains.min()))
        return agreement.check_maximin(gains, reference.facts["level"], best)
    if rule == "leximin":
        reference = limit.leximin(market, method="simplex")
        return agreement.check_leximin(gains, reference.gains, 0.0)
    if rule == "nash":
        reference = limit.nash(market)
        return agreement.check_nash(gains, agreement.nash_welfare(reference.gains), reference.gains)
    reference = limit.utilitarian(market, method="simplex")
    return agreement.check_utilitarian(gains, reference.facts["objective"])


def _time_cli(command: list[str], runs: int) -> Measure:
    measure = Measure()
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        measure.add(time.perf_counter() - start, {})
        if done.returncode != 0:
            measure.error = f"exit {done.returncode}: {done.stderr.decode()[-300:]}"
            break
    return measure


# --- the whole run -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU model, cores and memory of this machine."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
    }


def _engine_commit() -> str:
    """Return the repository's commit, marked when ``mediation/`` has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "mediation"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" (mediation/ modified)" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of Python and of every package measured."""
    found = {
        "python": platform.python_version(),
        "mediation": f"{engine_version()}, commit {_engine_commit()}",
    }
    for name in ("numpy", "scipy", "highspy", "pulp", "pydantic", "cvxpy", "clarabel"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def run(config: Config) -> Results:
    """Run the benchmark described by ``config``."""
    started = time.perf_counter()
    results = Results(
        config=config,
        started=datetime.now(UTC),
        machine=machine(),
        versions=versions(),
    )
    cvxpy = peers.cvxpy_available()
    if not cvxpy:
        results.notes.append("cvxpy + Clarabel not installed (pip install -e '.[bench]'): skipped")
    if config.fairpyx and config.quick and env_python() is None:
        results.notes.append("fairpyx's environment is not built: skipped in --quick")
    for n, m in config.sizes:
        for kind in KINDS:
            market = generate(n, m, kind, seed=config.seed)
            log(f"{market.name}: {market.n_interests} interests")
            bench_market(market, config, results, cvxpy)
    log("bundled cases")
    bench_cases(config, results)
    log("sweeps")
    results.sweep = sweep.run_sweeps(config.sweep, log)
    log("service")
    results.service = service.run_service(config.service, log)
    log("case format 1.1's features")
    results.levers = levers.run_levers(config.levers, log)
    results.seconds = time.perf_counter() - started
    return results
