"""``mediation settle``: propose a settlement with its reasons, or diagnose why there is none."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer

from ..rules import rule_help
from .app import CaseArg, Language, OutputFormat, WidthOption, fail_on, read_case

__all__ = ["command"]


class Scale(StrEnum):
    raw = "raw"
    normalized = "normalized"


class Solver(StrEnum):
    highs = "highs"
    cbc = "cbc"


RULE_HELP = f"Fair-division rule: {rule_help()} (default: the case's policy)."


def command(
    case: CaseArg,
    rule: Annotated[str | None, typer.Option(help=RULE_HELP)] = None,
    scale: Annotated[Scale | None, typer.Option(help="Compare raw or normalized gains.")] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="Claims method: proportional, constrained_equal_awards, "
            "constrained_equal_losses or talmud."
        ),
    ] = None,
    individually_rational: Annotated[
        bool | None,
        typer.Option(
            "--individually-rational/--no-individually-rational",
            help="Keep every party at or above its no-deal outcome.",
        ),
    ] = None,
    envy_free: Annotated[
        bool | None, typer.Option("--envy-free/--no-envy-free", help="Forbid envy over resources.")
    ] = None,
    proportional: Annotated[
        bool | None,
        typer.Option(
            "--proportional/--no-proportional",
            help="Give each party its proportional share of resources.",
        ),
    ] = None,
    loss_tolerance: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="risk_sharing: how much more total expected loss (a fraction of the least) "
            "to accept for a more even burden (default: the case's policy, 0).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="table: readable tables; json: the settlement (the contract of "
            "mediation schema --settlement).",
        ),
    ] = OutputFormat.table,
    lang: Annotated[
        Language | None,
        typer.Option(
            help="Language of the tables and reasons (default: en); with --format json, "
            "adds the reasons as sentences in it (explanation).",
            show_default=False,
        ),
    ] = None,
    solver: Annotated[Solver, typer.Option(help="LP/MIP solver.")] = Solver.highs,
    time_limit: Annotated[
        float, typer.Option(min=0.001, help="Seconds allowed for the whole settlement.")
    ] = 60.0,
    width: WidthOption = None,
) -> None:
    """Propose a settlement, with its reasons; diagnose why when no deal is possible.

    Exit 0 when a settlement is printed (an infeasible one with its diagnosis included),
    2 for invalid input, 1 for a solver or internal error.
    """
    from ..allocation.pipeline import settle as settle_case
    from ..errors import CaseError, PolicyError, RenderError

    started = time.perf_counter()
    loaded = read_case(case, fmt)
    if time_limit > 0:  # the limit counts from here: reading a large case takes seconds
        time_limit = max(time_limit - (time.perf_counter() - started), 1e-3)
    try:
        result = settle_case(
            loaded,
            rule=rule,
            scale=scale.value if scale else None,
            method=method,
            individually_rational=individually_rational,
            envy_free=envy_free,
            proportional=proportional,
            loss_tolerance=loss_tolerance,
            solver=solver.value,
            time_limit=time_limit,
        )
    except (CaseError, PolicyError) as exc:
        fail_on(exc, case, fmt)
    if fmt == OutputFormat.json:
        if lang is not None:
            from ..rendering import render
            from ..settlement import Explanation

            try:
                sentences = render(result, lang=lang.value, case=loaded)
            except RenderError as exc:
                fail_on(exc, case, fmt)
            explanation = Explanation(lang=lang.value, sentences=sentences)
            result = result.model_copy(update={"explanation": explanation})
        typer.echo(result.model_dump_json(indent=2))
    else:
        from rich.console import Console

        from ..rendering.settlement_tables import settlement_tables

        try:
            parts = settlement_tables(result, loaded, lang=(lang or Language.en).value)
        except RenderError as exc:
            fail_on(exc, case, fmt)
        console = Console(width=width)
        for part in parts:
            console.print(part, crop=False)  # too wide shows, never cut
    if result.status == "error":
        raise typer.Exit(1)
