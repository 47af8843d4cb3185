"""The independent validator: every settlement's invariants restated, without the LP code.

It imports nothing from the allocation pipeline, the rules or the backends: it re-derives
what a settlement promises from the case and the settlement alone.
"""

from __future__ import annotations

from .checks import TOLERANCE, validate_settlement
from .optimality import CERTIFIED_RULES, optimality_problems

__all__ = ["CERTIFIED_RULES", "TOLERANCE", "optimality_problems", "validate_settlement"]
