"""Durability: SIGKILL the server while clients write; every acknowledged write survives it.

Twenty crash runs, in two lanes of ten side by side, each lane on a data directory of its own
(a run is mostly a server starting, one process importing: two cores start two at once);
``python -m bench.crash`` makes more. In each, client threads store cases and settle them
through a real ``mediation serve``, the server is killed with ``SIGKILL`` at a seeded random
moment and restarted on the same directory. Every
write it acknowledged must read back as written and replay through its ``Idempotency-Key``,
SQLite's ``PRAGMA integrity_check`` must say ``ok``, and no process the killed server
started (its fork server, its solver workers) may outlive it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service_support import start_server

from bench.crash import CrashRun, Server, crash_runs, session_processes, survivors

LANES = 2
RUNS_PER_LANE = 10


def _start(data_dir: Path) -> Server:
    return start_server(data_dir, env={"MEDIATION_WORKERS": "1"})


def test_acknowledged_writes_survive_sigkill_and_no_worker_outlives_its_server(
    tmp_path: Path,
) -> None:
    with ThreadPoolExecutor(LANES) as lanes:
        started = [
            lanes.submit(
                crash_runs, tmp_path / f"lane-{lane}", _start, runs=RUNS_PER_LANE, seed=lane
            )
            for lane in range(LANES)
        ]
        results: list[CrashRun] = [run for lane in started for run in lane.result()]
    assert len(results) == LANES * RUNS_PER_LANE
    # a run that wrote nothing before its kill would prove nothing
    assert [r.run for r in results if r.acknowledged == 0] == []
    assert {r.run: r.lost for r in results if r.lost} == {}
    assert [r.run for r in results if not r.integrity_ok] == []
    assert {r.run: r.survivors for r in results if r.survivors} == {}


def test_the_survivor_check_finds_a_process_that_outlives_its_session_leader() -> None:
    sleeper = "import time; time.sleep(60)"
    spawner = (
        f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {sleeper!r}]); {sleeper}"
    )
    leader = subprocess.Popen([sys.executable, "-c", spawner], start_new_session=True)
    try:
        ends = time.monotonic() + 20
        while len(processes := session_processes(leader.pid)) < 2:
            assert time.monotonic() < ends, "the leader's child did not start"
            time.sleep(0.02)
        leader.kill()
        leader.wait()
        assert len(survivors(processes, 0.2)) == 1  # the child lives on
    finally:
        for pid in session_processes(leader.pid):
            os.kill(pid, signal.SIGKILL)
    assert survivors(processes, 5.0) == []
