"""The robust split: one set of shares for many scenarios of a case, as a JSON contract.

A planner who does not know the numbers of a case (what a risk will cost, what a party's
no-deal outcome will be) writes scenarios: variants of the case that differ only in their
numbers. :func:`mediation.allocation.robust.robust_split` finds one allocation that meets
every scenario's hard constraints (share bounds, risk capacities, extra constraints) and is
best in the worst case, and returns it as a :class:`RobustSplit`: the shares, each party's
worst case and the scenario it occurs in, the scenario rows that decide the split, how many
of all the scenarios' rows the LP needed, and, when no split meets every scenario, the
scenarios and constraints that conflict.

Scenarios are named by their position in the list given (0 for the first).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ROBUST_VERSION",
    "BindingRow",
    "ConflictRow",
    "Infeasibility",
    "RobustSplit",
    "WorstCase",
    "robust_json_schema",
]

#: Version of the robust-split contract; bumped on any incompatible change.
ROBUST_VERSION = "1.0"

RobustStatus = Literal["optimal", "feasible", "infeasible", "error"]
RowKind = Literal["worst_gain", "capacity", "constraint", "floor", "cap"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorstCase(_Model):
    """A party's worst outcome over the scenarios under the robust split."""

    normalized_gain: float = Field(
        description="the least (u − d) / ρ over the scenarios, ρ the party's unit (rho)"
    )
    gain: float = Field(description="u − d in that scenario, in the party's own points")
    scenario: int = Field(description="the scenario it occurs in (the first, on a tie)")
    compared: bool = Field(
        description="whether the party takes part in the worst case maximised (false for a "
        "party the base case leaves no room to gain)"
    )


class BindingRow(_Model):
    """A scenario's row that holds with equality at the robust split: it decides the split.

    ``worst_gain``: the party's gain in that scenario is the worst case reached;
    ``capacity``: the party's worst-case exposure is its capacity; ``constraint``: an extra
    constraint holds exactly; ``floor``/``cap``: the share is at the tightest bound any
    scenario sets, set by this one.
    """

    scenario: int
    kind: RowKind
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None


class ConflictRow(_Model):
    """A hard constraint of one scenario taking part in a conflict that no split resolves."""

    scenario: int
    kind: Literal["capacity", "constraint", "floor", "cap"]
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    bound: float = Field(description="the bound: a share, a capacity, a constraint's rhs")


class Infeasibility(_Model):
    """Why no single split meets every scenario's hard constraints."""

    conflict: list[ConflictRow] = Field(
        description="constraints of the scenarios named that cannot all hold; dropping any "
        "one of them makes the rest compatible (a deletion filter's irreducible set)"
    )
    irreducible: bool = Field(description="whether the deletion filter finished")


class RobustSplit(_Model):
    """One split for all the scenarios: feasible in each, best in the worst case."""

    schema_version: str = ROBUST_VERSION
    case_id: str
    status: RobustStatus = Field(
        description="optimal: the best worst case, certified over every scenario; feasible: a "
        "split meeting every scenario's hard constraints, the time limit reached before it was "
        "proved best; infeasible: no split meets them all (see infeasibility); error: the "
        "solver failed or the time limit ran out before a split meeting them all was found"
    )
    scenarios: int = Field(description="how many scenarios the split holds for")
    scale: Literal["raw", "normalized"] = Field(
        description="the base case's scale: normalized divides gains by rho, raw does not"
    )
    rho: dict[str, float] = Field(
        description="each party's unit of comparison, from the base case: its range "
        "(ideal − disagreement) under the normalized scale, 1 under raw"
    )
    level: float | None = Field(
        description="the worst case maximised: min over scenarios and compared parties of "
        "(u − d) / (ρ · weight); null without a split or a compared party"
    )
    shares: dict[str, dict[str, float]] = Field(
        description="the split, per issue and party (empty without one)"
    )
    worst: dict[str, WorstCase] = Field(description="each party's worst case (empty without one)")
    binding: list[BindingRow] = Field(
        description="the rows of the final LP that hold with equality at the split, in "
        "scenario order: the scenarios that decide it"
    )
    binding_total: int = Field(
        description="how many rows of all the scenarios hold with equality at the split"
    )
    rows_used: int = Field(description="scenario rows the LP was given (added lazily)")
    rows_total: int = Field(
        description="scenario rows there are: a row per party's gain, "
        "per capacity and per extra constraint in every scenario"
    )
    rounds: int = Field(description="rounds of adding violated rows and re-solving")
    lps: int = Field(description="LPs (or MIPs) solved")
    infeasibility: Infeasibility | None = None
    message: str | None = Field(default=None, description="what went wrong, for an error")


def robust_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the robust-split contract, as a mapping."""
    schema = RobustSplit.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/robust-split.schema.json"
    return schema
