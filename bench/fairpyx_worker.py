"""Run fairpyx's fractional egalitarian allocation on one market; print JSON.

Runs in fairpyx's own environment (fairpyx 0.1 pins numpy<2), so it imports nothing from
this project. Usage: ``python fairpyx_worker.py MARKET.npz RUNS``. The market file holds
``party``, ``issue``, ``value`` (one entry per interest) and ``shape`` (parties, resources).
The last line printed is ``{"seconds": [...], "gains": [...], "versions": {...}}``: each
run's seconds (building the ``Instance`` and allocating) and the normalized gains
``u_s / Σ_i v_si`` of the last run.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import numpy as np
from fairpyx import Instance
from fairpyx.algorithms.egalitarian_fractional import fractional_egalitarian_allocation


def main() -> None:
    path, runs = sys.argv[1], int(sys.argv[2])
    data = np.load(path)
    n, m = (int(v) for v in data["shape"])
    values = np.zeros((n, m))
    values[data["party"], data["issue"]] = data["value"]
    rows = values.tolist()
    seconds = []
    shares = np.zeros((n, m))
    for _ in range(runs):
        start = time.perf_counter()
        instance = Instance(valuations=rows, agent_capacities=m, item_capacities=1)
        allocation = fractional_egalitarian_allocation(instance)
        seconds.append(time.perf_counter() - start)
        shares = np.array([[allocation[s][i] for i in range(m)] for s in range(n)])
    gains = (values * shares).sum(axis=1) / values.sum(axis=1)
    versions = {name: version(name) for name in ("fairpyx", "numpy", "cvxpy-base", "scipy")}
    print(json.dumps({"seconds": seconds, "gains": gains.tolist(), "versions": versions}))


if __name__ == "__main__":
    main()
