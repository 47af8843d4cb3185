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
    parts = [
        ", ".join(
            _count(len(items), word)
            for items, word in (
                (loaded.stakeholders, "stakeholder"),
                (loaded.issues, "issue"),
                (loaded.interests, "interest"),
                (loaded.relations, "relation"),
            )
        )
    ]
    if loaded.levered:  # format 1.1's money and alternatives
        parts.append(
            ", ".join(
                _count(len(items), word)
                for items, word in (
                    (loaded.payments, "payment"),
                    (loaded.contributions, "contribution"),
                    (loaded.choices, "choice"),
                )
            )
        )
    left_out = [
        f"{word} {', '.join(ids)}"
        for ids, word in (
            (loaded.funds, "funds" if len(loaded.funds) > 1 else "fund"),
            (loaded.observers, "observers" if len(loaded.observers) > 1 else "observer"),
        )
        if ids
    ]
    if left_out:
        parts.append(f"never compared: {'; '.join(left_out)}")
    typer.echo(f"{case}: valid case '{loaded.id}' ({'; '.join(parts)})")


def _count(n: int, word: str) -> str:
    """Return ``n`` and ``word``, in the plural unless ``n`` is 1: ``1 issue``, ``0 relations``."""
    return f"{n} {word}{'' if n == 1 else 's'}"
