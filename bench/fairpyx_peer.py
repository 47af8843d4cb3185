"""fairpyx's fractional egalitarian allocation (maximin), run in its own environment.

fairpyx 0.1 pins numpy<2, which the project cannot use, so the bench keeps it in a virtual
environment of its own (``bench/.envs/fairpyx``, git-ignored), built on demand with
``python -m venv`` and pip, and runs :mod:`bench.fairpyx_worker` there in a subprocess that
reads the market from an ``.npz`` file and prints JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .instances import Market

__all__ = ["ENV_DIR", "FAIRPYX", "FairpyxRuns", "ensure_env", "env_python", "run_fairpyx"]

ENV_DIR = Path(__file__).resolve().parent / ".envs" / "fairpyx"
#: The version benchmarked.
FAIRPYX = "fairpyx==0.1"
WORKER = Path(__file__).resolve().parent / "fairpyx_worker.py"
#: Written into the environment once fairpyx is installed in it.
READY = "ready"


@dataclass
class FairpyxRuns:
    """Seconds of each run, the normalized gains and the environment's versions."""

    seconds: list[float]
    gains: np.ndarray
    versions: dict[str, str]


def env_python() -> Path | None:
    """Return the fairpyx environment's interpreter, if the environment was built completely."""
    return ENV_DIR / "bin" / "python" if (ENV_DIR / READY).exists() else None


def ensure_env() -> Path:
    """Return the fairpyx environment's interpreter, creating the environment if needed."""
    python = env_python()
    if python is not None:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(ENV_DIR)], check=True)
    python = ENV_DIR / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", FAIRPYX],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install {FAIRPYX} failed: {done.stderr.strip()[-500:]}")
    (ENV_DIR / READY).write_text(FAIRPYX + "\n")
    return python


def run_fairpyx(python: Path, market: Market, runs: int, *, timeout: float) -> FairpyxRuns:
    """Time ``runs`` fractional egalitarian allocations of ``market`` in the fairpyx env."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "market.npz"
        np.savez(
            path,
            party=market.party,
            issue=market.issue,
            value=market.value,
            shape=np.array([market.n_parties, market.n_issues]),
        )
        done = subprocess.run(
            [str(python), str(WORKER), str(path), str(runs)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"fairpyx worker failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return FairpyxRuns(
        seconds=[float(s) for s in result["seconds"]],
        gains=np.asarray(result["gains"], dtype=float),
        versions=dict(result["versions"]),
    )
