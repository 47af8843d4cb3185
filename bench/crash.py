"""Crash runs: SIGKILL the server while clients write, restart it, check that nothing is lost.

``python -m bench.crash --runs 200`` starts ``mediation serve`` on a fresh data directory;
then, run after run, a few client threads store cases and settle them while the server is
killed with ``SIGKILL`` at a random moment (seeded), the database's integrity is checked,
and the server is restarted on the same directory. Every write the server acknowledged
(a 2xx) must read back as it was written, and its ``Idempotency-Key`` must replay it, and no
process the killed server started (its fork server, its solver workers) may survive it. It
prints the runs, the writes acknowledged, the writes lost (which must be 0), the integrity
results and the survivors, and exits 1 if anything was lost.

``tests/test_durability.py`` makes the same runs with the test suite's server launcher.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
import yaml

from .server import start_server

__all__ = [
    "CrashRun",
    "Server",
    "Write",
    "crash_once",
    "crash_runs",
    "launch",
    "main",
    "session_processes",
    "survivors",
]

ROOT = Path(__file__).resolve().parent.parent
#: The case the clients store (the smallest bundled one: the runs time the store, not the LP).
CASE = ROOT / "cases" / "two-party-adjusted-winner.yaml"

#: Seconds a killed server's processes get to end before they count as survivors.
SURVIVOR_GRACE = 5.0
#: Seconds the clients may take to have a first write acknowledged.
START_WRITES_TIMEOUT = 30.0

# Alembic's ``op`` and ``context`` are process-wide: two databases migrated at once by two
# threads of one process (two lanes of crash runs) would run into each other
_MIGRATING = threading.Lock()


class Server(Protocol):
    """A running ``mediation serve``: its process (the leader of a session of its own), URL."""

    process: subprocess.Popen[bytes]
    #: ``http://127.0.0.1:<port>``
    base_url: str


#: Starts a server on a data directory and returns it once it is ready.
Start = Callable[[Path], Server]


@dataclass(frozen=True, slots=True)
class Write:
    """A write the server acknowledged: what was sent, with which key, and what came back."""

    path: str
    body: bytes
    key: str
    status: int
    answer: bytes
    #: where it reads back (the ``Location`` answered)
    location: str


@dataclass
class CrashRun:
    """What one crash left: the writes acknowledged and lost, the integrity, the survivors."""

    run: int
    #: seconds from the first acknowledged write to the kill
    killed_after: float
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    integrity_ok: bool = False
    survivors: list[str] = field(default_factory=list)
    #: writes answered with a status other than 2xx before the kill (503 busy, say)
    refused: int = 0


def _document(title: str) -> bytes:
    data = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    data["title"] = title
    return json.dumps(data, ensure_ascii=False).encode()


def _stat(pid: int | str) -> tuple[str, str, int, int] | None:
    """Return a process's name, state, session and start time (``None``: it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may hold spaces: split after its end
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    return name, fields[0], int(fields[3]), int(fields[19])


def session_processes(session: int) -> dict[int, int]:
    """Return the live processes of a session (pid → start time), zombies left out.

    The server is started as the leader of a session of its own; everything it starts stays
    in it (its workers make process groups of their own, never sessions).
    """
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(entry)
        if stat is not None and stat[2] == session and stat[1] not in ("Z", "X"):
            found[int(entry)] = stat[3]
    return found


def survivors(processes: dict[int, int], grace: float) -> list[str]:
    """Return those of ``processes`` still alive after ``grace`` seconds (as ``pid (name)``)."""
    ends = time.monotonic() + grace
    while True:
        alive = []
        for pid, started in processes.items():
            stat = _stat(pid)
            # the same start time: the same process, not a new one given a reused pid
            if stat is not None and stat[3] == started and stat[1] not in ("Z", "X"):
                alive.append(f"{pid} ({stat[0]})")
        if not alive or time.monotonic() > ends:
            return alive
        time.sleep(0.05)


class _Clients:
    """Client threads that store cases and settle them, noting every write acknowledged."""

    def __init__(self, base_url: str, auth: dict[str, str], names: list[str]) -> None:
        self.base_url = base_url
        self.headers = {**auth, "Content-Type": "application/json"}
        self.acknowledged: list[Write] = []  # list.append is atomic: no lock needed
        self.refused = 0
        self.first = threading.Event()  # set at the first acknowledged write
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(n,)) for n in names]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(60)

    def _post(self, client: httpx.Client, path: str, body: bytes, key: str) -> str | None:
        """POST a write; note it if acknowledged and return where it reads back."""
        answer = client.post(path, content=body, headers={**self.headers, "Idempotency-Key": key})
        if not answer.is_success:
            with self._lock:
                self.refused += 1
            return None
        location = answer.headers["location"]
        self.acknowledged.append(
            Write(path, body, key, answer.status_code, answer.content, location)
        )
        self.first.set()
        return location

    def _write(self, name: str) -> None:
        """Write until the server is gone (its connection fails)."""
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for count in itertools.count(1):
                try:
                    body = _document(f"{name} case {count}")
                    case = self._post(client, "/v1/cases", body, f"{name}-case-{count}")
                    if case is None:
                        continue
                    for rule in ("leximin", "nash"):
                        options = json.dumps({"rule": rule}).encode()
                        key = f"{name}-settle-{count}-{rule}"
                        self._post(client, f"{case}/settlements", options, key)
                except httpx.HTTPError:
                    return  # the server was killed


def _lost(base_url: str, auth: dict[str, str], writes: list[Write]) -> list[str]:
    """Return what is wrong with each acknowledged write after the restart (empty: nothing)."""
    lost = []
    headers = {**auth, "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for write in writes:
            stored = client.get(write.location, headers=auth)
            if stored.status_code != 200:
                lost.append(f"{write.location}: {stored.status_code} after the restart")
                continue
            # a case reads back as the document sent; a settlement as the answer given
            expected = write.body if write.path == "/v1/cases" else write.answer
            if stored.json() != json.loads(expected):
                lost.append(f"{write.location}: reads back other than written")
            again = client.post(
                write.path, content=write.body, headers={**headers, "Idempotency-Key": write.key}
            )
            if (again.status_code, again.content) != (write.status, write.answer) or (
                again.headers.get("idempotent-replayed") != "true"
            ):
                lost.append(f"{write.path} key {write.key}: not replayed ({again.status_code})")
    return lost


def _integrity(data_dir: Path) -> bool:
    from api.store.repo import Store

    store = Store(f"sqlite:///{data_dir / 'mediation.db'}", migrate=False)
    try:
        return store.integrity_ok()
    finally:
        store.close()


def crash_once(
    server: Server,
    restart: Callable[[], Server],
    auth: dict[str, str],
    data_dir: Path,
    *,
    run: int,
    rng: random.Random,
    writers: int = 3,
    kill_between: tuple[float, float] = (0.05, 0.6),
) -> tuple[CrashRun, Server]:
    """Write through ``server``, SIGKILL it at a random moment, restart it and check.

    Parameters
    ----------
    server
        The server to write through and kill.
    restart
        Starts its successor on the same data directory.
    auth
        The headers that authenticate the writes.
    data_dir
        The server's data directory (its SQLite database is checked after the kill).
    run
        The run's number (it names the writes).
    rng
        Draws the moment of the kill, ``kill_between`` seconds after the first write is
        acknowledged.
    writers
        Client threads writing at once.

    Returns
    -------
    tuple[CrashRun, Server]
        What the crash left, and the restarted server (the next run's).
    """
    result = CrashRun(run, rng.uniform(*kill_between))
    clients = _Clients(server.base_url, auth, [f"r{run}w{n}" for n in range(writers)])
    clients.start()
    # the random moment is counted from the first acknowledged write, so that every run has
    # writes to lose, however long the server takes to answer its first
    clients.first.wait(START_WRITES_TIMEOUT)
    time.sleep(result.killed_after)
    processes = session_processes(server.process.pid)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(30)
    clients.join()
    result.refused = clients.refused
    acknowledged = clients.acknowledged
    result.acknowledged = len(acknowledged)
    result.integrity_ok = _integrity(data_dir)
    # the killed server's processes are watched while the next one starts (in a session of
    # its own, so that the two are never confused): most of a run is the server's start
    outlived: list[list[str]] = []
    watch = threading.Thread(
        target=lambda: outlived.append(survivors(processes, SURVIVOR_GRACE)), daemon=True
    )
    watch.start()
    restarted = restart()
    watch.join()
    result.survivors = outlived[0]
    result.lost = _lost(restarted.base_url, auth, acknowledged)
    return result, restarted


def crash_runs(
    data_dir: Path,
    start: Start,
    *,
    runs: int,
    seed: int = 0,
    writers: int = 3,
    kill_between: tuple[float, float] = (0.05, 0.6),
    report: Callable[[CrashRun], None] | None = None,
    budget: float = math.inf,
) -> list[CrashRun]:
    """Make ``runs`` crash runs on one data directory; return what each left.

    Parameters
    ----------
    data_dir
        The server's data directory (SQLite); created with a tenant ``crash`` and its key.
    start
        Starts a server on a data directory, as the leader of a session of its own, and
        returns it once it is ready.
    runs
        How many times to kill and restart it.
    seed
        Seeds the moments of the kills.
    writers
        Client threads writing at once.
    kill_between
        The kill comes this many seconds (uniformly drawn) after the first acknowledged write.
    report
        Called with each run's result as soon as it is known.
    budget
        Seconds after which no further run starts (fewer than ``runs`` are then made).

    Returns
    -------
    list[CrashRun]
        One per run, in order.
    """
    from api.store.repo import Store

    data_dir.mkdir(parents=True, exist_ok=True)
    with _MIGRATING:
        store = Store(f"sqlite:///{data_dir / 'mediation.db'}")
    try:
        _, key = store.create_key("crash")
    finally:
        store.close()
    auth = {"Authorization": f"Bearer {key}"}
    rng = random.Random(seed)
    results: list[CrashRun] = []
    ends = time.monotonic() + budget
    server = start(data_dir)
    try:
        for run in range(1, runs + 1):
            if time.monotonic() > ends:
                break
            result, server = crash_once(
                server,
                lambda: start(data_dir),
                auth,
                data_dir,
                run=run,
                rng=rng,
                writers=writers,
                kill_between=kill_between,
            )
            results.append(result)
            if report is not None:
                report(result)
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(15)
    return results


def launch(data_dir: Path, *, workers: int = 1, timeout: float = 60.0) -> Server:
    """Start ``mediation serve`` on a free loopback port, in a session of its own; wait for it."""
    return start_server(data_dir, env={"MEDIATION_WORKERS": str(workers)}, timeout=timeout)


@contextmanager
def _folder(given: Path | None) -> Iterator[Path]:
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="mediation-crash-") as made:
        yield Path(made)


def main(argv: list[str] | None = None) -> int:
    """Run the crash runs the command line asks for and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="kills and restarts")
    parser.add_argument("--seed", type=int, default=0, help="seeds the moments of the kills")
    parser.add_argument("--writers", type=int, default=3, help="client threads writing")
    parser.add_argument("--workers", type=int, default=1, help="the server's solver workers")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep the database here (default: a temp dir)"
    )
    parser.add_argument(
        "--kill-within",
        type=float,
        default=1.5,
        help="the kill comes up to this many seconds after the first acknowledged write",
    )
    parser.add_argument(
        "--budget", type=float, default=math.inf, help="seconds after which no run starts"
    )
    args = parser.parse_args(argv)
    # a SIGTERM (a timeout) unwinds like Ctrl-C: the server running is stopped, not orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()

    def report(result: CrashRun) -> None:
        bad = result.lost or result.survivors or not result.integrity_ok
        print(
            f"run {result.run:4d}: killed {result.killed_after:.2f} s after the first write, "
            f"{result.acknowledged:3d} acknowledged, {len(result.lost)} lost, "
            f"integrity {'ok' if result.integrity_ok else 'FAILED'}, "
            f"{len(result.survivors)} survivors{'  <--' if bad else ''}",
            flush=True,
        )
        for problem in result.lost + result.survivors:
            print(f"    {problem}", flush=True)

    with _folder(args.data_dir) as data_dir:
        results = crash_runs(
            data_dir,
            lambda d: launch(d, workers=args.workers),
            runs=args.runs,
            seed=args.seed,
            writers=args.writers,
            kill_between=(0.05, args.kill_within),
            report=report,
            budget=args.budget,
        )
    acknowledged = sum(r.acknowledged for r in results)
    lost = sum(len(r.lost) for r in results)
    failed = sum(not r.integrity_ok for r in results)
    survivors = sum(len(r.survivors) for r in results)
    print(
        f"\n{len(results)} runs in {time.perf_counter() - began:.0f} s: {acknowledged} writes "
        f"acknowledged, {lost} lost; integrity_check ok {len(results) - failed}/{len(results)}; "
        f"{survivors} processes outlived their killed server"
    )
    return 1 if lost or failed or survivors else 0


if __name__ == "__main__":
    sys.exit(main())
