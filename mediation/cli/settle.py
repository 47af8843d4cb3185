"""``mediation settle``: propose a settlement with its reasons, or diagnose why there is none."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer

from ..rules import rule_help
from .app import CaseArg, OutputFormat, fail, read_case

__all__ = ["command"]


class Scale(StrEnum):
    raw = "raw"
    normalized = "normalized"


class Language(StrEnum):
    en = "en"
    zh = "zh"


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
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table: readable; json: the settlement.")
    ] = OutputFormat.table,
    lang: Annotated[Language, typer.Option(help="Language of the explanation.")] = Language.en,
    solver: Annotated[Solver, typer.Option(help="LP/MIP solver.")] = Solver.highs,
    time_limit: Annotated[
        float, typer.Option(min=0.001, help="Seconds allowed for the whole settlement.")
    ] = 60.0,
) -> None:
    """Propose a settlement, with its reasons; diagnose why when no deal is possible.

    Exit 0 when a settlement is printed (an infeasible one with its diagnosis included),
    2 for invalid input, 1 for a solver or internal error.
    """
    from ..allocation.pipeline import settle as settle_case
    from ..errors import CaseError, PolicyError

    started = time.perf_counter()
    loaded = read_case(case)
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
            solver=solver.value,
            time_limit=time_limit,
        )
    except (CaseError, PolicyError) as exc:
        fail(f"{case}: {exc}")
    if fmt == OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from rich.console import Console

        from ..errors import RenderError
        from ..rendering.settlement_tables import settlement_tables

        try:
            parts = settlement_tables(result, loaded, lang=lang.value)
        except RenderError as exc:
            fail(f"{case}: {exc}")
        console = Console()
        for part in parts:
            console.print(part)
    if result.status == "error":
        raise typer.Exit(1)
