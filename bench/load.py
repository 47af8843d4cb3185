"""The service benchmark's load generator: concurrent keep-alive connections from one process.

``python -m bench.load URL BODY --connections 8 --seconds 10 --warmup-seconds 1.5`` posts
the file ``BODY`` to ``URL`` over that many persistent connections (an asyncio httpx client,
each connection sending its next request as soon as its last answer is read), first for the
warm-up (discarded), then for the measured phase, and prints one JSON object: each measured
request's latency and status, the phase's wall-clock seconds, the CPU seconds this process
used meanwhile and, with ``--session PID``, those the server's session used (the server, its
fork server and its workers: the server leads a session of its own). ``--requests N`` (and
``--warmup-requests``) fix the number of requests instead of the duration. The
``Authorization`` header comes from ``MEDIATION_BENCH_KEY`` (an API key: never on a command
line, which any user of the machine can read).

It runs in a process of its own (:mod:`bench.service` starts it) so that the client's
event loop and the server's never compete inside one interpreter; it still shares the
machine's cores with the server, which the benchmark reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Phase", "main", "run_phase", "session_cpu"]

#: Status recorded for a request that got no HTTP answer (refused, reset, timed out).
NO_ANSWER = 0


@dataclass
class Phase:
    """What one phase measured: per request, its latency in seconds and its status."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None
    errors: list[str] = field(default_factory=list)


async def run_phase(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float | None = None,
    requests: int | None = None,
    session: int | None = None,
) -> Phase:
    """Keep ``connections`` requests in flight for ``seconds``, or until ``requests`` are sent.

    ``session``: also count the CPU seconds that session's processes use meanwhile.
    """
    phase = Phase()
    ends = None if seconds is None else time.perf_counter() + seconds
    left = requests

    def more() -> bool:
        nonlocal left
        if ends is not None:
            return time.perf_counter() < ends
        assert left is not None
        if left <= 0:
            return False
        left -= 1
        return True

    async def connection() -> None:
        while more():
            began = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                status = NO_ANSWER
                if len(phase.errors) < 5:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
            phase.latencies.append(time.perf_counter() - began)
            phase.statuses.append(status)

    server = None if session is None else session_cpu(session)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    phase.seconds = time.perf_counter() - wall
    phase.cpu_seconds = time.process_time() - cpu
    if session is not None and server is not None:
        phase.server_cpu_seconds = session_cpu(session) - server
    return phase


def session_cpu(session: int) -> float:
    """Return the CPU seconds the live processes of a session have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # the command name is in parentheses and may hold spaces: split after its end
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def _run(args: argparse.Namespace, body: bytes) -> Phase:
    headers = {"Content-Type": "application/json"}
    key = os.environ.get("MEDIATION_BENCH_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=args.timeout) as client:
        await run_phase(
            client,
            args.url,
            body,
            headers,
            connections=args.connections,
            seconds=args.warmup_seconds,
            requests=args.warmup_requests,
        )
        return await run_phase(
            client,
            args.url,
            body,
            headers,
            connections=args.connections,
            seconds=args.seconds,
            requests=args.requests,
            session=args.session,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the load the command line asks for; print the measured phase as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("body", help="a file whose bytes every request sends")
    parser.add_argument("--connections", type=int, default=1)
    measured = parser.add_mutually_exclusive_group(required=True)
    measured.add_argument("--seconds", type=float)
    measured.add_argument("--requests", type=int)
    warmup = parser.add_mutually_exclusive_group(required=True)
    warmup.add_argument("--warmup-seconds", type=float)
    warmup.add_argument("--warmup-requests", type=int)
    parser.add_argument("--session", type=int, help="count this session's CPU too")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args(argv)
    with open(args.body, "rb") as file:
        body = file.read()
    phase = asyncio.run(_run(args, body))
    out: dict[str, Any] = asdict(phase)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
