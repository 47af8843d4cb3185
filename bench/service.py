"""The service: ``POST /v1/settle`` on loopback against the library call, in the same run.

A real ``mediation serve`` process (2 solver workers, an API key created with
``mediation keys create``, a queue of 64 so that even 32 connections are never turned
away) is sent the bundled community-hall case as JSON, over 1, 8 and 32 persistent
connections in turn, by one load-generator process (:mod:`bench.load`, an asyncio httpx
client) that shares the machine's cores with the server and its workers. Each level is warmed
up first, then measured for a fixed time (or a fixed number of requests): requests per
second, p50 and p99 latency, every non-200 answer, and the CPU each side used.

Measured in the same run, in this process, one call after another: :func:`mediation.settle`
on the parsed case, the case parsed from the same JSON bytes and settled, and the job a
worker runs for each request (:func:`api.jobs.settle_document`: parse, settle, the
settlement's JSON). Their ratio to the service's latency is the service's overhead: HTTP,
the API key's check, the hand-over to a worker process and back, the access log.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mediation import settle
from mediation.case import Case, parse_case, parse_document

from .figures import markdown_table, ratio, seconds
from .instances import CASES_DIR
from .server import LiveServer, mediation_command
from .server import start_server as launch_server

__all__ = [
    "SERVICE_CASE",
    "Level",
    "ServiceConfig",
    "ServiceResults",
    "main",
    "markdown",
    "quick_config",
    "run_service",
    "table",
]

#: The bundled case every request sends.
SERVICE_CASE = "community-hall-dispute"
#: The solver workers of the server measured.
WORKERS = 2
#: The server's queue: longer than the most connections measured, so none is turned away.
QUEUE_LENGTH = 64
#: The in-process calls, in the order of the report.
LIBRARY_CALLS = ("settle(case)", "parse + settle", "worker job")
LIBRARY_TITLES = {
    "settle(case)": "`mediation.settle` on the parsed case",
    "parse + settle": "`parse_case` from the JSON bytes, then `settle`",
    "worker job": "the worker's job, `api.jobs.settle_document`: parse, settle, settlement JSON",
}


@dataclass
class ServiceConfig:
    """What to measure: connection counts, and each level's warm-up and measured phase.

    A phase is a duration (``seconds``) or a number of requests (``requests``); the
    library calls are timed ``library_runs`` times each, half before the service's levels
    and half after.
    """

    levels: tuple[int, ...] = (1, 8, 32)
    seconds: float | None = 10.0
    requests: int | None = None
    warmup_seconds: float | None = 1.5
    warmup_requests: int | None = None
    library_runs: int = 200
    quick: bool = False


@dataclass
class Level:
    """One connection count: every measured request's latency and status, CPU used."""

    connections: int
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.statuses)

    @property
    def not_ok(self) -> dict[int, int]:
        """Non-200 answers by status (0: no HTTP answer at all)."""
        return dict(sorted(Counter(s for s in self.statuses if s != 200).items()))

    @property
    def per_second(self) -> float | None:
        ok = sum(1 for s in self.statuses if s == 200)
        return ok / self.seconds if self.seconds > 0 else None

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q)) if self.latencies else None


@dataclass
class ServiceResults:
    """What the service benchmark measured, and what went wrong."""

    config: ServiceConfig
    library: dict[str, list[float]] = field(default_factory=dict)
    levels: list[Level] = field(default_factory=list)
    startup: float = 0.0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def library_median(self, name: str) -> float | None:
        runs = self.library.get(name)
        return statistics.median(runs) if runs else None


# --- the library, in process ------------------------------------------------------------------


def case_bytes() -> bytes:
    """Return the bundled case as the JSON bytes every request sends."""
    data = yaml.safe_load((CASES_DIR / f"{SERVICE_CASE}.yaml").read_text(encoding="utf-8"))
    return json.dumps(data, ensure_ascii=False).encode()


def _parsed(raw: bytes) -> Case:
    return parse_case(parse_document(raw, format="json"))


def _library_calls(raw: bytes) -> dict[str, Callable[[], Any]]:
    from api.jobs import settle_document
    from api.settings import Settings

    case = _parsed(raw)
    limit = Settings().solver_time_limit
    return {
        "settle(case)": lambda: settle(case),
        "parse + settle": lambda: settle(_parsed(raw)),
        "worker job": lambda: settle_document(raw, {}, solver="highs", time_limit=limit, lang=None),
    }


def time_library(raw: bytes, runs: int, results: ServiceResults) -> None:
    """Time each in-process call ``runs`` times, interleaved, after one warm-up call each."""
    calls = _library_calls(raw)
    for call in calls.values():
        call()
    for _ in range(runs):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            results.library.setdefault(name, []).append(time.perf_counter() - began)


# --- the server --------------------------------------------------------------------------------


@dataclass
class _Server:
    server: LiveServer
    key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url


def start_server(data_dir: Path, timeout: float = 60.0) -> _Server:
    """Create an API key with ``mediation keys create``, then start ``mediation serve``."""
    env = {
        "MEDIATION_DATA_DIR": str(data_dir),
        "MEDIATION_WORKERS": str(WORKERS),
        "MEDIATION_QUEUE_LENGTH": str(QUEUE_LENGTH),
    }
    made = subprocess.run(
        [mediation_command(), "keys", "create", "--tenant", "bench"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return _Server(launch_server(data_dir, env=env, timeout=timeout), made.stdout.strip())


def stop_server(server: _Server) -> None:
    """Stop the server and wait for it."""
    server.server.stop()


def load(server: _Server, body: Path, connections: int, config: ServiceConfig) -> Level:
    """Run one level in a load-generator process; return what it measured."""
    args = [sys.executable, "-m", "bench.load", f"{server.base_url}/v1/settle", str(body)]
    args += ["--connections", str(connections), "--session", str(server.server.process.pid)]
    args += (
        ["--seconds", str(config.seconds)]
        if config.seconds is not None
        else ["--requests", str(config.requests)]
    )
    args += (
        ["--warmup-seconds", str(config.warmup_seconds)]
        if config.warmup_seconds is not None
        else ["--warmup-requests", str(config.warmup_requests)]
    )
    env = {**os.environ, "MEDIATION_BENCH_KEY": server.key}
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    done = subprocess.run(args, env=env, stdout=subprocess.PIPE, cwd=root, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed (exit {done.returncode})")
    found = json.loads(done.stdout)
    return Level(
        connections,
        latencies=found["latencies"],
        statuses=found["statuses"],
        seconds=found["seconds"],
        client_cpu=found["cpu_seconds"],
        server_cpu=found["server_cpu_seconds"],
        errors=found["errors"],
    )


def run_service(config: ServiceConfig, log: Callable[[str], None]) -> ServiceResults:
    """Measure the library calls and the service at each connection count."""
    results = ServiceResults(config)
    # the machine is shared: what else ran meanwhile is part of how to read the figures
    loads = [os.getloadavg()[0]]
    raw = case_bytes()
    half = max(1, config.library_runs // 2)
    with tempfile.TemporaryDirectory(prefix="mediation-bench-service-") as folder:
        data_dir = Path(folder)
        body = data_dir / "case.json"
        body.write_bytes(raw)
        log("service: library calls")
        time_library(raw, half, results)
        began = time.perf_counter()
        server = start_server(data_dir)
        results.startup = time.perf_counter() - began
        try:
            for connections in config.levels:
                level = load(server, body, connections, config)
                results.levels.append(level)
                log(
                    f"  {connections:>2} connections: {level.requests} requests, "
                    f"{level.per_second or 0:.0f}/s, p50 {seconds(level.percentile(50))}, "
                    f"p99 {seconds(level.percentile(99))}, non-200 {level.not_ok or 'none'}"
                )
        finally:
            stop_server(server)
        if not config.quick:
            time_library(raw, half, results)
    loads.append(os.getloadavg()[0])
    cores = os.cpu_count() or 1
    note = f"load average (1 min) {loads[0]:.1f} at the start, {loads[1]:.1f} at the end, on "
    note += f"{cores} cores"
    if max(loads) > cores + 0.5:  # the benchmark itself keeps about the cores busy
        note += ": other work shared the cores, the figures are low"
    results.notes.append(note)
    for level in results.levels:
        if level.not_ok:
            # the queue is longer than the most connections: every answer must be a 200
            results.failures.append(
                f"service at {level.connections} connections: non-200 answers {level.not_ok}"
                + (f" ({level.errors[0]})" if level.errors else "")
            )
        if level.requests == 0:
            results.failures.append(f"service at {level.connections} connections: no request")
    return results


# --- the report --------------------------------------------------------------------------------


def table(results: ServiceResults) -> list[list[str]]:
    """One row per connection count: requests, rate, latencies, non-200s, ratios, CPU."""
    call = results.library_median("parse + settle")
    rate = None if call is None else 1.0 / call
    rows = []
    for level in results.levels:
        measured = level.seconds
        cores_client = level.client_cpu / measured if measured else None
        cores_server = level.server_cpu / measured if measured else None
        not_ok = ", ".join(f"{n} × {s or 'no answer'}" for s, n in level.not_ok.items())
        rows.append(
            [
                str(level.connections),
                f"{level.requests:,}",
                "—" if level.per_second is None else f"{level.per_second:,.0f}",
                seconds(level.percentile(50)),
                seconds(level.percentile(99)),
                not_ok or "0",
                ratio(level.percentile(50), call),
                ratio(level.per_second, rate),
                "—" if cores_client is None else f"{cores_client:.2f}",
                "—" if cores_server is None else f"{cores_server:.2f}",
            ]
        )
    return rows


HEAD = [
    "connections",
    "requests",
    "requests/s",
    "p50",
    "p99",
    "non-200",
    "p50 / library call",
    "requests/s / library calls/s",
    "client cores",
    "server cores",
]


def markdown(results: ServiceResults) -> list[str]:
    """Return the service's section of BENCHMARKS.md."""
    c = results.config
    phase = f"{c.seconds:g} s" if c.seconds is not None else f"{c.requests} requests"
    warmup = (
        f"{c.warmup_seconds:g} s"
        if c.warmup_seconds is not None
        else f"{c.warmup_requests} requests"
    )
    runs = sum(len(v) for v in results.library.values()) // max(1, len(results.library))
    when = (
        "before the service's levels"
        if c.quick
        else "half before the service's levels and half after"
    )
    lines = [
        f"`POST /v1/settle` with `cases/{SERVICE_CASE}.yaml` as JSON, against a real "
        f"`mediation serve` on loopback ({WORKERS} solver workers, queue of {QUEUE_LENGTH} "
        "so that no connection count here is turned away, an API key from "
        "`mediation keys create`, the JSON access log on), by **one** load-generator "
        "process (`bench/load.py`, an asyncio httpx client, keep-alive connections each "
        "sending its next request when its answer is read). The client shares the "
        "machine's cores with the server and its workers: *client cores* and *server "
        "cores* are the CPU each used per second of wall clock (server: the service "
        f"process, its fork server and its workers). Each level: warm-up {warmup}, then "
        f"{phase} measured. Server start-up (not counted): {results.startup:.1f} s.",
        "",
        "In the same run, in this process, one call after another (median of "
        f"{runs} calls each, {when}):",
        "",
        "| call | median | calls/s |",
        "| --- | --- | --- |",
    ]
    for name in LIBRARY_CALLS:
        m = results.library_median(name)
        rate = "—" if not m else f"{1 / m:,.0f}"
        lines.append(f"| {LIBRARY_TITLES[name]} | {seconds(m)} | {rate} |")
    lines += [
        "",
        "*p50 / library call* and *requests/s / library calls/s* compare with the case "
        "parsed from the same bytes and settled in process (the second call above): the "
        "service's overhead as a ratio. The overhead per request is the 1-connection row; "
        f"beyond {WORKERS} connections a request mostly waits for one of the {WORKERS} "
        "workers (p50 ≈ connections ÷ requests/s), so the latency ratio grows with the "
        "connections while the rate shows what the machine serves.",
        "",
        *markdown_table(HEAD, table(results)),
    ]
    if results.notes:
        lines += ["", *(f"- {n}" for n in results.notes)]
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.service``: the service benchmark alone, its tables on the console."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="20 requests at 1 and 8 connections, no errors"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds a level")
    args = parser.parse_args(argv)
    config = quick_config() if args.quick else ServiceConfig(seconds=args.seconds)
    results = run_service(config, lambda m: print(m, file=sys.stderr, flush=True))
    for line in markdown(results):
        print(line)
    for failure in results.failures:
        print(f"FAILURE: {failure}")
    return 1 if results.failures else 0


def quick_config() -> ServiceConfig:
    """Return the CI smoke run: 20 requests at 1 and 8 connections after 8 to warm up."""
    return ServiceConfig(
        levels=(1, 8),
        seconds=None,
        requests=20,
        warmup_seconds=None,
        warmup_requests=8,
        library_runs=10,
        quick=True,
    )


if __name__ == "__main__":
    sys.exit(main())
