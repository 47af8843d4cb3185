"""A case's stakeholder–interest graph and its analyses: contests, coalitions, power, brokerage."""

from __future__ import annotations

from .analysis import GraphAnalysis, analyze
from .brokerage import Broker, brokers
from .build import build_graph
from .coalition import (
    AFFINITY_KINDS,
    Coalition,
    CoalitionAnalysis,
    CoalitionConflict,
    coalitions,
)
from .contested import ContestedIssue, contested_issues
from .dialogue import MissingChannel, missing_dialogue
from .power import (
    Dependency,
    DualSupervision,
    PartyPower,
    PowerLink,
    PowerStructure,
    power_structure,
)
from .readwrite import to_graphml, to_node_link

__all__ = [
    "AFFINITY_KINDS",
    "Broker",
    "Coalition",
    "CoalitionAnalysis",
    "CoalitionConflict",
    "ContestedIssue",
    "Dependency",
    "DualSupervision",
    "GraphAnalysis",
    "MissingChannel",
    "PartyPower",
    "PowerLink",
    "PowerStructure",
    "analyze",
    "brokers",
    "build_graph",
    "coalitions",
    "contested_issues",
    "missing_dialogue",
    "power_structure",
    "to_graphml",
    "to_node_link",
]
