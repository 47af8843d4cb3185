"""``mediation validate``: check a case file and that its policy can apply."""

from __future__ import annotations

import typer

from .app import CaseArg, fail, read_case

__all__ = ["command"]


def command(case: CaseArg) -> None:
    """Check a case file (and that its policy can apply); exit 0 when valid, 2 when not."""
    from ..errors import PolicyError
    from ..rules import policy_problems

    loaded = read_case(case)
    problems = policy_problems(loaded, loaded.policy)
    if problems:
        fail(f"{case}: {PolicyError(problems)}")
    typer.echo(
        f"{case}: valid case '{loaded.id}' ({len(loaded.stakeholders)} stakeholders, "
        f"{len(loaded.issues)} issues, {len(loaded.interests)} interests, "
        f"{len(loaded.relations)} relations)"
    )
