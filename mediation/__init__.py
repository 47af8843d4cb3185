"""mediation: fair settlement of multi-party disputes over resources and risks.

The public names are re-exported here and imported on first use, so that ``import
mediation`` (and the command line's start-up) stays light: the LP stack is loaded only when a
settlement is asked for.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .allocation.compare import compare
    from .allocation.evaluate import evaluate
    from .allocation.pipeline import settle
    from .allocation.ranges import allocation_range
    from .allocation.robust import robust_split
    from .backends import Backend
    from .case import Case, Policy, case_json_schema, dump_case, load_case, parse_case
    from .comparison import Comparison
    from .errors import (
        CaseError,
        GraphError,
        MediationError,
        PolicyError,
        Problem,
        RenderError,
        SolverError,
        WhatIfError,
    )
    from .evaluation import Evaluation
    from .graph import analyze, build_graph, to_graphml, to_node_link
    from .rendering import render
    from .robustness import RobustSplit
    from .settlement import Settlement
    from .validator import validate_settlement

__all__ = [
    "Backend",
    "Case",
    "CaseError",
    "Comparison",
    "Evaluation",
    "GraphError",
    "MediationError",
    "Policy",
    "PolicyError",
    "Problem",
    "RenderError",
    "RobustSplit",
    "Settlement",
    "SolverError",
    "WhatIfError",
    "allocation_range",
    "analyze",
    "build_graph",
    "case_json_schema",
    "compare",
    "dump_case",
    "evaluate",
    "load_case",
    "parse_case",
    "render",
    "robust_split",
    "settle",
    "to_graphml",
    "to_node_link",
    "validate_settlement",
]

# the library never prints: its log records go nowhere unless the application configures them
logging.getLogger(__name__).addHandler(logging.NullHandler())

_HOME = {
    "Case": "case",
    "Policy": "case",
    "case_json_schema": "case",
    "parse_case": "case",
    "dump_case": "case",
    "load_case": "case",
    "settle": "allocation.pipeline",
    "compare": "allocation.compare",
    "allocation_range": "allocation.ranges",
    "robust_split": "allocation.robust",
    "Comparison": "comparison",
    "RobustSplit": "robustness",
    "evaluate": "allocation.evaluate",
    "Evaluation": "evaluation",
    "WhatIfError": "errors",
    "Backend": "backends",
    "CaseError": "errors",
    "GraphError": "errors",
    "MediationError": "errors",
    "PolicyError": "errors",
    "Problem": "errors",
    "RenderError": "errors",
    "SolverError": "errors",
    "analyze": "graph",
    "build_graph": "graph",
    "to_graphml": "graph",
    "to_node_link": "graph",
    "render": "rendering",
    "Settlement": "settlement",
    "validate_settlement": "validator",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'mediation' has no attribute '{name}'")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
