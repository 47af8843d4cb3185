"""``mediation validate``: check a case file and that its policy can apply."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import CaseArg, OutputFormat, fail_on, print_json, read_case

__all__ = ["command"]


def command(
    case: CaseArg,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help='table: a line of text; json: {"valid": true, ...} or {"valid": false, '
            '"problems": [...]} with every problem.',
        ),
    ] = OutputFormat.table,
) -> None:
    """Check a case file (and that its policy can apply); exit 0 when valid, 2 when not."""
    from ..errors import PolicyError
    from ..rules import policy_problems

    loaded = read_case(case, fmt, verdict=True)
    problems = policy_problems(loaded, loaded.policy)
    if problems:
        fail_on(PolicyError(problems), case, fmt, verdict=True)
    if fmt == OutputFormat.json:
        print_json(
            {
                "valid": True,
                "case": case,
                "id": loaded.id,
                "stakeholders": len(loaded.stakeholders),
                "issues": len(loaded.issues),
                "interests": len(loaded.interests),
                "relations": len(loaded.relations),
            }
        )
        return
    typer.echo(
        f"{case}: valid case '{loaded.id}' ({len(loaded.stakeholders)} stakeholders, "
        f"{len(loaded.issues)} issues, {len(loaded.interests)} interests, "
        f"{len(loaded.relations)} relations)"
    )
