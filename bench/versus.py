"""Time this tree's engine against an earlier commit's, interleaved, to show a change's cost.

``python -m bench.versus REF [--rounds 2] [--runs 3] [--only TEXT]`` checks ``REF`` out in a
temporary git worktree and times ``parse_case`` + ``settle`` on the benchmark's markets with
each tree in turn, alternating the two (old, new, old, new, ...) so that the machine's
changing load falls on both. Each round runs each tree in a fresh interpreter; the table is
the mean over the rounds of each round's median, and the ratio new/old (below 1: faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (kind, parties, issues, rules): the sizes where the engine's own work shows.
WORKLOAD: list[tuple[str, int, int, list[str]]] = [
    ("uniform", 1000, 200, ["maximin", "leximin"]),
    ("sparse", 1000, 200, ["maximin", "leximin", "nash"]),
    ("uniform", 100, 50, ["maximin", "leximin", "nash", "utilitarian"]),
]


def time_tree(tree: Path, runs: int, only: str) -> dict[str, float]:
    """Return the median seconds of each workload with the engine found in ``tree``."""
    sys.path.insert(0, str(tree))
    import mediation
    from bench.instances import case_document, generate
    from mediation import settle
    from mediation.case import parse_case

    if not Path(mediation.__file__ or "").resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"timing {tree} but imported mediation from {mediation.__file__}")

    medians: dict[str, float] = {}
    for kind, parties, issues, rules in WORKLOAD:
        document = case_document(generate(parties, issues, kind))
        for rule in rules:
            key = f"{rule} {kind} {parties}×{issues}"
            if only not in key:
                continue
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                settle(parse_case(document), rule=rule)
                seconds.append(time.perf_counter() - started)
            medians[key] = statistics.median(seconds)
    return medians


def run_tree(tree: Path, runs: int, only: str) -> dict[str, float]:
    """Time ``tree`` in a fresh interpreter (its own imports, nothing cached)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.versus",
            "--worker",
            str(tree),
            "--runs",
            str(runs),
            "--only",
            only,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    timings: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return timings


def main(argv: list[str] | None = None) -> int:
    """Compare the engine of ``REF`` with this tree's and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__)
    parser.add_argument("ref", nargs="?", help="the earlier commit (any git revision)")
    parser.add_argument("--rounds", type=int, default=2, help="old/new alternations")
    parser.add_argument("--runs", type=int, default=3, help="runs per workload and round")
    parser.add_argument("--only", default="", help="time only workloads naming this text")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(time_tree(args.worker, args.runs, args.only)))
        return 0
    if args.ref is None:
        parser.error("name the earlier commit to compare with")
    with tempfile.TemporaryDirectory(prefix="bench-versus-") as scratch:
        old = Path(scratch) / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(old), args.ref], cwd=ROOT, check=True
        )
        try:
            rounds = [
                (run_tree(old, args.runs, args.only), run_tree(ROOT, args.runs, args.only))
                for _ in range(args.rounds)
            ]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=True)
    print(f"| workload | {args.ref} | this tree | this / {args.ref} |")
    print("| --- | --- | --- | --- |")
    for key in rounds[0][0]:
        before = statistics.mean(r[0][key] for r in rounds)
        after = statistics.mean(r[1][key] for r in rounds)
        print(f"| {key} | {before:.3g} s | {after:.3g} s | {after / before:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
