"""Seconds spent per stage of a settlement, passed along explicitly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Timings"]


class Timings(dict[str, float]):
    """Seconds per stage (``build``, ``ideal``, ``solve``, ...), summed over repeated stages."""

    @contextmanager
    def clock(self, name: str) -> Iterator[None]:
        """Add the time the ``with`` block takes to stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - start
