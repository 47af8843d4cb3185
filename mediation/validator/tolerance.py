"""The validator's tolerances, shared by its checks."""

from __future__ import annotations

__all__ = ["TOLERANCE"]

#: Absolute tolerance on shares; utilities and money are compared relative to their scale.
TOLERANCE = 1e-6
