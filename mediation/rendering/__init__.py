"""Results for people: settlements in words, settlements and graph analyses as tables."""

from __future__ import annotations

from .graph_tables import GRAPH_EXPORTS, GRAPH_FORMATS, analysis_tables, graph_command_output
from .settlement_tables import settlement_tables
from .wording import LANGUAGES, PHRASES, render, render_diagnosis

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
