"""Drawing a parameter's value: the supports of the distributions and one draw from each.

A draw is one call on a :class:`numpy.random.Generator`; the plan hands every scenario a
generator seeded by ``(seed, sample)`` (:mod:`mediation.sweep.plan`), so a value depends on
nothing but those two numbers. The normal distribution is truncated by inverting its
distribution function on the interval (one uniform number per draw, never a rejection
loop, so the number of uniform numbers a scenario consumes does not depend on its values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from .spec import Choice, Normal, Triangular, Uniform

__all__ = ["Drawer", "drawer"]


@dataclass(frozen=True)
class Drawer:
    """How to draw one parameter: its distribution, truncated and tidied to the field's range.

    ``low``/``high`` bound the truncated normal (the field's range met with the
    distribution's own bounds); ``open_low`` excludes ``low`` itself (a probability is
    above 0); ``snap`` turns a draw of magnitude below ``snap`` into 0, as the case format
    asks for (0 or at least 1e-9).
    """

    distribution: Uniform | Triangular | Normal | Choice
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    snap: float = 0.0

    def draw(self, rng: np.random.Generator) -> float:
        """Return one value drawn with ``rng``.

        Examples
        --------
        >>> import numpy as np
        >>> d = drawer(Uniform(kind="uniform", low=1.0, high=2.0))
        >>> 1.0 <= d.draw(np.random.default_rng([7, 0])) <= 2.0
        True
        >>> d.draw(np.random.default_rng([7, 0])) == d.draw(np.random.default_rng([7, 0]))
        True
        """
        d = self.distribution
        if isinstance(d, Uniform):
            value = float(rng.uniform(d.low, d.high))
        elif isinstance(d, Triangular):
            value = float(rng.triangular(d.low, d.mode, d.high))
        elif isinstance(d, Normal):
            value = self._truncated_normal(d, rng)
        else:
            weights = np.asarray(d.weights if d.weights is not None else [1.0] * len(d.values))
            value = d.values[int(rng.choice(len(d.values), p=weights / weights.sum()))]
        if self.snap and abs(value) < self.snap:
            return 0.0
        return value

    def _truncated_normal(self, d: Normal, rng: np.random.Generator) -> float:
        a = self.low if d.low is None else max(self.low, d.low)
        b = self.high if d.high is None else min(self.high, d.high)
        lo = float(ndtr((a - d.mean) / d.sd))
        hi = float(ndtr((b - d.mean) / d.sd))
        u = 1.0 - float(rng.random())  # in (0, 1]: the upper end may be drawn, the lower not
        value = d.mean + d.sd * float(ndtri(lo + u * (hi - lo)))
        value = min(max(value, a), b)  # the inversion's rounding stays inside
        if self.open_low and value <= a:
            value = math.nextafter(a, math.inf)
        return value


def drawer(
    distribution: Uniform | Triangular | Normal | Choice,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    snap: float = 0.0,
) -> Drawer:
    """Return the :class:`Drawer` of a distribution on a field whose valid range is ``[low, high]``.

    Examples
    --------
    >>> import numpy as np
    >>> d = drawer(Normal(kind="normal", mean=0.9, sd=0.5), low=0.0, high=1.0, open_low=True)
    >>> values = [d.draw(np.random.default_rng([1, s])) for s in range(200)]
    >>> 0.0 < min(values) and max(values) <= 1.0
    True
    """
    return Drawer(distribution, low, high, open_low, snap)
