"""``python -m bench``: run the benchmark and write BENCHMARKS.md; ``--quick`` for CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .levers import LeversConfig
from .levers import quick_config as levers_quick_config
from .report import console_summary, write_report
from .run import FULL_SIZES, QUICK_SIZES, Config, run
from .service import quick_config as service_quick_config
from .sweep import SweepConfig

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the benchmark and report.

    Exit 1 when the engine disagrees or fails (a peer's disagreement is reported but does
    not fail the run).
    """
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time the engine against the raw highspy limit and its peers, check "
        "that they agree, and write BENCHMARKS.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI mode: small sizes, one run, agreement asserted, nothing written",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--no-fairpyx",
        action="store_true",
        help="skip fairpyx (whose environment is otherwise built on demand)",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "BENCHMARKS.md", help="report to write"
    )
    args = parser.parse_args(argv)
    if args.quick:
        config = Config(
            quick=True,
            runs=1,
            case_runs=1,
            cli_runs=1,
            sizes=QUICK_SIZES,
            fairpyx=not args.no_fairpyx,
            # a few variants, serial paths only: the pool and the cluster take seconds to start
            sweep=SweepConfig(variants=30, runs=1, parallel=False, parallel_variants=0),
            # 20 requests at 1 and 8 connections, every answer a 200
            service=service_quick_config(),
            # the small market, 2 rounds, the MIPs once
            levers=levers_quick_config(),
        )
    else:
        config = Config(
            quick=False,
            runs=max(3, args.runs),
            case_runs=30,
            cli_runs=5,
            sizes=FULL_SIZES,
            fairpyx=not args.no_fairpyx,
            levers=LeversConfig(runs=max(5, args.runs)),
        )
    results = run(config)
    print(console_summary(results))
    if not args.quick:
        command = "python -m bench" + ("" if args.runs == 3 else f" --runs {args.runs}")
        command += " --no-fairpyx" if args.no_fairpyx else ""
        write_report(results, args.output, command)
        print(f"wrote {args.output}")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
