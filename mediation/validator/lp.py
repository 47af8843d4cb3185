"""The validator's own LPs, solved by the HiGHS that scipy bundles: ``max c·z`` over a polytope.

The optimality certificate (:mod:`mediation.validator.optimality`) solves small LPs, one per
level of a leximin settlement, for every settlement. Through :func:`scipy.optimize.linprog`
one costs ~1.3 ms on a 20-column LP, nearly all of it the call's own checks and conversions
(and ~0.5 ms of checking each option on a new solver instance); the LP itself takes
~0.1 ms. This module hands the LP to scipy's HiGHS directly, on one instance per thread,
when this scipy has it (``scipy.optimize._highspy._core``, scipy 1.15 and later), and calls
:func:`~scipy.optimize.linprog` otherwise: the same solver, the same options, the same
answer. It shares nothing with the engine's solver adapter.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

__all__ = ["FEASIBILITY", "Rows", "direct", "maximize", "via_linprog"]

#: The LPs' primal and dual feasibility tolerances.
FEASIBILITY = 1e-9

try:  # scipy's own binding of HiGHS (1.15+); private, hence looked for, not assumed
    from scipy.optimize._highspy import _core as _highs_core
except ImportError:  # pragma: no cover - older scipy: linprog does it
    _highs_core = None

_LOCAL = threading.local()


class Rows(NamedTuple):
    """Rows of a sparse matrix, compressed: row ``r`` has ``data[indptr[r]:indptr[r + 1]]``.

    The entries are in the columns ``indices`` of the same range; ``width`` is the number of
    columns. Lighter than a :class:`scipy.sparse.csr_matrix` (whose constructor alone costs
    ~30 µs) for the validator's small matrices.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    width: int

    @property
    def nnz(self) -> int:
        """The number of entries."""
        return len(self.data)

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return len(self.indptr) - 1

    @staticmethod
    def of(
        lengths: Sequence[int], indices: Sequence[int], data: Sequence[float], width: int
    ) -> Rows:
        """Return the rows with ``lengths[r]`` entries each, given in row order."""
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return Rows(indptr, np.asarray(indices, dtype=np.int64), np.asarray(data, float), width)

    def transposed_times(self, y: np.ndarray) -> np.ndarray:
        """Return ``Aᵀ y``."""
        out = np.zeros(self.width)
        np.add.at(out, self.indices, self.data * np.repeat(y, np.diff(self.indptr)))
        return out


def direct() -> bool:
    """Whether the LPs go to scipy's HiGHS directly (else through ``linprog``)."""
    return _highs_core is not None and not getattr(_LOCAL, "via_linprog", False)


@contextmanager
def via_linprog() -> Iterator[None]:
    """Solve this thread's LPs through :func:`~scipy.optimize.linprog` within the block.

    It is the path of a scipy without the direct binding, to compare the two.
    """
    before = getattr(_LOCAL, "via_linprog", False)
    _LOCAL.via_linprog = True
    try:
        yield
    finally:
        _LOCAL.via_linprog = before


def maximize(
    objective: np.ndarray,
    rows: Sequence[sparse.csr_matrix | Rows],
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    deadline: float | None = None,
    ipm: bool = False,
) -> float | None:
    """Return the largest ``objective · z`` with ``row_lower ≤ A z ≤ row_upper``.

    ``A`` is the blocks of ``rows`` stacked (a block may have fewer columns than ``z``: the
    rest are zero), ``lower ≤ z ≤ upper`` (infinite for none). ``None`` when the LP did not
    solve to optimality (infeasible, unbounded, stopped at ``deadline``, a
    ``time.perf_counter()`` instant). ``ipm`` solves by the interior point method (with
    crossover) rather than letting HiGHS choose (the simplex, for an LP).

    Examples
    --------
    >>> a = sparse.csr_matrix(np.array([[1.0, 1.0]]))
    >>> maximize(np.array([2.0, 1.0]), [a], np.array([-np.inf]), np.array([1.0]),
    ...          np.zeros(2), np.ones(2))
    2.0
    """
    n = len(objective)
    limit = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
    starts, indices, values = _stacked(rows)
    if direct():
        return _maximize_direct(
            objective, starts, indices, values, row_lower, row_upper, lower, upper, limit, ipm
        )
    a = sparse.csr_matrix((values, indices, starts), shape=(len(row_lower), n))
    equal = row_lower == row_upper
    below = ~equal & np.isfinite(row_upper)
    above = ~equal & np.isfinite(row_lower)
    a_ub = sparse.vstack([a[below], -a[above]]).tocsr()
    b_ub = np.concatenate([row_upper[below], -row_lower[above]])
    result = linprog(
        -objective,
        A_ub=a_ub if a_ub.shape[0] else None,
        b_ub=b_ub if a_ub.shape[0] else None,
        A_eq=a[equal] if equal.any() else None,
        b_eq=row_upper[equal] if equal.any() else None,
        bounds=np.column_stack([lower, upper]),
        method="highs-ipm" if ipm else "highs",
        options={
            "primal_feasibility_tolerance": FEASIBILITY,
            "dual_feasibility_tolerance": FEASIBILITY,
            **({} if limit is None else {"time_limit": limit}),
        },
    )
    if result.status != 0:
        return None
    return float(-result.fun)


def _stacked(
    rows: Sequence[sparse.csr_matrix | Rows],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the blocks stacked as one compressed sparse row matrix's three arrays."""
    starts = [np.zeros(1, dtype=np.int32)]
    indices, values = [], []
    offset = 0
    for block in rows:
        if not isinstance(block, Rows):
            block = block.tocsr()
        starts.append(block.indptr[1:].astype(np.int32) + offset)
        indices.append(block.indices.astype(np.int32))
        values.append(block.data.astype(float))
        offset += int(block.indptr[-1])
    return (
        np.concatenate(starts),
        np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
        np.concatenate(values) if values else np.zeros(0),
    )


def _solver() -> Any:
    """Return this thread's HiGHS instance, silent."""
    found = getattr(_LOCAL, "highs", None)
    if found is None:
        assert _highs_core is not None
        found = _highs_core._Highs()
        found.setOptionValue("output_flag", False)
        _LOCAL.highs = found
    return found


def _maximize_direct(
    objective: np.ndarray,
    starts: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    limit: float | None,
    ipm: bool,
) -> float | None:
    core = _highs_core
    assert core is not None
    h = _solver()
    lp = core.HighsLp()
    lp.num_col_ = len(objective)
    lp.num_row_ = len(row_lower)
    lp.col_cost_ = np.asarray(objective, dtype=float)
    lp.col_lower_ = np.asarray(lower, dtype=float)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.sense_ = core.ObjSense.kMaximize
    lp.a_matrix_.format_ = core.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = len(objective)
    lp.a_matrix_.num_row_ = len(row_lower)
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = indices
    lp.a_matrix_.value_ = values
    h.setOptionValue("solver", "ipm" if ipm else "choose")
    h.setOptionValue("presolve", "choose" if ipm else "off")
    h.setOptionValue("primal_feasibility_tolerance", FEASIBILITY)
    h.setOptionValue("dual_feasibility_tolerance", FEASIBILITY)
    h.setOptionValue("time_limit", math.inf if limit is None else float(limit))
    # an LP of the shape of an earlier one (the same level of the next variant of a sweep)
    # starts from that one's optimal basis: only the value is read, and any optimal basis
    # gives it
    shape = (len(objective), len(row_lower), ipm)
    bases = _bases()
    basis = bases.pop(shape, None)
    if h.passModel(lp) == core.HighsStatus.kError:
        return None
    if basis is not None:
        h.setBasis(basis)
    h.run()
    if h.getModelStatus() != core.HighsModelStatus.kOptimal:
        return None
    found = h.getBasis()
    if found.valid:
        bases[shape] = found
        while len(bases) > _BASES_KEPT:
            bases.pop(next(iter(bases)))
    return float(h.getInfo().objective_function_value)


#: Optimal bases kept per thread, one per LP shape, the most recent.
_BASES_KEPT = 16


def _bases() -> dict[tuple[int, int, bool], Any]:
    """Return this thread's optimal bases by LP shape (columns, rows, interior point)."""
    found: dict[tuple[int, int, bool], Any] | None = getattr(_LOCAL, "bases", None)
    if found is None:
        found = _LOCAL.bases = {}
    return found
