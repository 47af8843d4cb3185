"""The independent validator: every settlement's invariants restated, without the LP code.

It imports nothing from the allocation pipeline, the rules or the backends: it re-derives
what a settlement promises from the case and the settlement alone.
"""

from __future__ import annotations

from .guarantees import GUARANTEES, Guarantee, register_guarantee
from .optimality import CERTIFIED_RULES, optimality_problems
from .tolerance import TOLERANCE
from .validate import validate_settlement

__all__ = [
    "CERTIFIED_RULES",
    "GUARANTEES",
    "TOLERANCE",
    "Guarantee",
    "optimality_problems",
    "register_guarantee",
    "validate_settlement",
]
