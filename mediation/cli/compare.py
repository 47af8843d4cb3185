"""``mediation compare``: one case, many lenses — every rule's settlement side by side."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer

from ..rules import rule_help
from .app import CaseArg, Language, OutputFormat, WidthOption, fail, fail_on, read_case

__all__ = ["command"]


class Solver(StrEnum):
    highs = "highs"
    cbc = "cbc"


RULES_HELP = (
    f"Comma-separated rules to compare, in this order: any of {rule_help()} "
    "(default: every rule; those that do not apply to the case are listed with the reason)."
)


def command(
    case: CaseArg,
    rules: Annotated[str | None, typer.Option(help=RULES_HELP, show_default=False)] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="table: one table of the rules side by side, then what it shows; json: the "
            "comparison as data.",
        ),
    ] = OutputFormat.table,
    lang: Annotated[
        Language | None,
        typer.Option(
            help="Language of the table and the sentences (default: en); JSON is data, the "
            "same in both.",
            show_default=False,
        ),
    ] = None,
    solver: Annotated[Solver, typer.Option(help="LP/MIP solver.")] = Solver.highs,
    time_limit: Annotated[
        float,
        typer.Option(
            min=0.001, help="Seconds for the whole comparison: every settlement and check."
        ),
    ] = 60.0,
    width: WidthOption = None,
) -> None:
    """Compare every rule's settlement of a case: who gets what, fairness, coincidences.

    Flags rules that give the same allocation, or the same utilities by different
    allocations, and allocations that are one of several optima (checked by LP). Exit 0 when
    the comparison is printed, 2 for invalid input (an unknown rule), 1 when a settlement
    ended in a solver error.
    """
    from ..allocation.compare import compare as compare_rules
    from ..allocation.compare import rules_to_compare
    from ..errors import CaseError, PolicyError, RenderError

    started = time.perf_counter()
    asked = None
    if rules is not None:  # checked before the case is read: the names need no case
        try:
            asked = rules_to_compare([r.strip() for r in rules.split(",") if r.strip()])
        except PolicyError as exc:
            message = "; ".join(p.message for p in exc.problems)
            fail(
                f"--rules: {message}",
                fmt=fmt,
                kind="policy_error",
                case=case,
                problems=exc.problems,
            )
    loaded = read_case(case, fmt)
    time_limit = max(time_limit - (time.perf_counter() - started), 1e-3)
    try:
        comparison = compare_rules(loaded, asked, solver=solver.value, time_limit=time_limit)
    except (CaseError, PolicyError) as exc:
        fail_on(exc, case, fmt)
    if fmt == OutputFormat.json:
        typer.echo(comparison.model_dump_json(indent=2))
    else:
        from rich.console import Console

        from ..rendering.compare_tables import comparison_tables

        try:
            parts = comparison_tables(comparison, loaded, lang=(lang or Language.en).value)
        except RenderError as exc:
            fail_on(exc, case, fmt)
        console = Console(width=width)
        for part in parts:
            console.print(part, crop=False)  # too wide shows, never cut
    if any(o.status == "error" for o in comparison.outcomes):
        raise typer.Exit(1)
