"""Results for people: settlements in words, settlements and graph analyses as tables.

The graph tables' names are loaded on first use, so that rendering a settlement does not
import the graph analysis (networkx). ``settlement_tables`` is imported at once: the function
has its module's name, and a lazily loaded module would shadow it once imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .settlement_tables import settlement_tables
from .wording import LANGUAGES, PHRASES, render, render_diagnosis

if TYPE_CHECKING:
    from .graph_tables import GRAPH_EXPORTS, GRAPH_FORMATS, analysis_tables, graph_command_output

__all__ = [
    "GRAPH_EXPORTS",
    "GRAPH_FORMATS",
    "LANGUAGES",
    "PHRASES",
    "analysis_tables",
    "graph_command_output",
    "render",
    "render_diagnosis",
    "settlement_tables",
]

_HOME = {
    "GRAPH_EXPORTS": "graph_tables",
    "GRAPH_FORMATS": "graph_tables",
    "analysis_tables": "graph_tables",
    "graph_command_output": "graph_tables",
}


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names."""
    return sorted(__all__)
