"""The allocation pipeline: prepare, the rule, refine, measure, explain, assemble.

One stage per module (:mod:`.prepare`, :mod:`.refine`, :mod:`.pareto`, :mod:`.explain`,
:mod:`.assemble`, :mod:`.diagnosis`), composed by :func:`mediation.allocation.pipeline.settle`;
the formulation is :mod:`.model`.
"""

from __future__ import annotations

__all__: list[str] = []
