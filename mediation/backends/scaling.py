"""Row and column scaling by powers of two, so that a solver sees O(1) coefficients."""

from __future__ import annotations

import numpy as np

__all__ = ["EQUILIBRATION_PASSES", "equilibrate", "power_of_two"]

#: Passes of the geometric-mean scaling at most (it usually settles within a few).
EQUILIBRATION_PASSES = 24


def power_of_two(x: np.ndarray) -> np.ndarray:
    """Return the powers of two nearest to ``x`` (> 0).

    Scaling by them is exact in floating point.
    """
    return np.asarray(np.exp2(np.round(np.log2(x))), dtype=float)


def equilibrate(
    starts: np.ndarray, indices: np.ndarray, values: np.ndarray, n_cols: int, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return row and column scale factors that centre a sparse matrix's coefficients on 1.

    The factors are powers of two, the matrix is stored rowwise, and no scaled coefficient
    is above 1.

    Geometric-mean scaling: divide every row and then every column by the geometric mean of
    its largest and smallest magnitudes, repeatedly; a last pass divides each row by its
    largest entry. A utility column ``u_b`` defined by ``u_b = 1e-9 · x`` is thereby measured
    in units of 1e-9 (a max-norm equilibration would leave it at 1 and the 1e-9 beside it).
    Columns marked ``fixed`` keep the factor 1 (integer ones, which scaled would no longer
    be integer, and bounded ones such as shares, whose size is known: fixing them also pins
    the scaling's free factor, which would otherwise drift between rows and columns).

    In the scaled model ``Ã = R A C`` a utility measured in 元 becomes a utility measured in
    units of the party's own values, a level row one in units of its range: the solver's
    absolute tolerances and its drop threshold then act relative to each party's and each
    issue's scale, which is what the allocation rules compare.

    References
    ----------
    Curtis, A. R. & Reid, J. K. (1972). On the automatic scaling of matrices for Gaussian
    elimination. *IMA Journal of Applied Mathematics* 10(1), 118–124.
    DOI 10.1093/imamat/10.1.118.
    Gill, P. E., Murray, W. & Wright, M. H. (1981). *Practical Optimization*, §8.7.
    Academic Press.
    """
    m = len(starts) - 1
    row_scale = np.ones(m)
    col_scale = np.ones(n_cols)
    if m == 0 or len(values) == 0:
        return row_scale, col_scale
    magnitude = np.abs(values)
    counts = np.diff(starts)
    rows = np.repeat(np.arange(m), counts)
    nonempty = counts > 0
    every_row = bool(nonempty.all())
    heads = starts[:-1][nonempty]
    free = ~fixed
    # the entries by column, for each column's largest and smallest (max and min are exact:
    # any order gives the same factors)
    by_column = np.argsort(indices, kind="stable")
    sorted_columns = indices[by_column]
    column_heads = np.flatnonzero(np.r_[True, sorted_columns[1:] != sorted_columns[:-1]])
    columns = sorted_columns[column_heads]
    free_columns = free[columns]
    # the same products as rowwise, entry by entry, gathered once in column order
    magnitude_by_column = magnitude[by_column]
    rows_by_column = rows[by_column]
    high, low = np.ones(m), np.ones(m)

    def row_extremes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if every_row:  # no empty row to keep at 1: the reductions are the extremes
            return np.maximum.reduceat(a, heads), np.minimum.reduceat(a, heads)
        high[nonempty] = np.maximum.reduceat(a, heads)
        low[nonempty] = np.minimum.reduceat(a, heads)
        return high, low

    for _ in range(EQUILIBRATION_PASSES):
        high, low = row_extremes(magnitude * row_scale[rows] * col_scale[indices])
        spread = high * low
        row_scale /= np.sqrt(spread)
        a = magnitude_by_column * row_scale[rows_by_column] * col_scale[sorted_columns]
        col_high = np.maximum.reduceat(a, column_heads)
        col_low = np.minimum.reduceat(a, column_heads)
        moved = (col_high > 0) & free_columns
        step = np.sqrt(col_high[moved] * col_low[moved])
        col_scale[columns[moved]] /= step
        if np.all(np.abs(np.log2(step)) < 0.25) and np.all(np.abs(np.log2(spread)) < 0.5):
            break
    col_scale = power_of_two(col_scale)
    high, _ = row_extremes(magnitude * col_scale[indices])
    # rounded down, so that no scaled coefficient exceeds 1
    return np.exp2(np.floor(np.log2(1.0 / high))), col_scale
