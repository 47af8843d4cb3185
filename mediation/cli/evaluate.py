"""``mediation evaluate``: what if some shares were pinned? The pinned split beside the free one."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer

from ..rules import rule_help
from .app import (
    CaseArg,
    Language,
    OutputFormat,
    WidthOption,
    fail,
    fail_on,
    read_case,
    read_input,
)

__all__ = ["command"]


class Solver(StrEnum):
    highs = "highs"
    cbc = "cbc"


PIN_HELP = (
    "A share to pin, ISSUE.PARTY=SHARE (e.g. cost-overrun.minzhengju=0.6); repeat for more. "
    "Added to (and overriding) the pins of --whatif."
)
WHATIF_HELP = "A what-if file (YAML or JSON) with pins: and optionally rule: (see cases/README.md)."
RULE_HELP = (
    f"The rule that fills in the shares the pins leave open: {rule_help()} "
    "(default: the what-if's, else the case's policy)."
)


def command(
    case: CaseArg,
    pin: Annotated[list[str] | None, typer.Option(help=PIN_HELP, show_default=False)] = None,
    whatif: Annotated[
        str | None, typer.Option("--whatif", help=WHATIF_HELP, show_default=False)
    ] = None,
    rule: Annotated[str | None, typer.Option(help=RULE_HELP, show_default=False)] = None,
    loss_tolerance: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="risk_sharing: how much more total expected loss (a fraction of the least) "
            "to accept for a more even burden (default: the what-if's, else the case's).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="table: one comparison table and what it shows; json: the evaluation (the "
            "contract of mediation schema --evaluation).",
        ),
    ] = OutputFormat.table,
    lang: Annotated[
        Language | None,
        typer.Option(help="Language of the table and sentences (default: en).", show_default=False),
    ] = None,
    solver: Annotated[Solver, typer.Option(help="LP/MIP solver.")] = Solver.highs,
    time_limit: Annotated[
        float, typer.Option(min=0.001, help="Seconds for the whole evaluation.")
    ] = 60.0,
    width: WidthOption = None,
) -> None:
    """Evaluate a proposed split: pin shares, see the rest filled in beside the free settlement.

    Reports each party's utility, fraction of its possible gain (against the free case's
    ideals), expected and worst-case exposure, burden and what the pins cost it; when the
    pins leave no deal, which pins and red lines clash and what would end it. Exit 0 when
    the evaluation is printed (an infeasible one included), 2 for invalid input (a wrong
    pin, file or rule: nothing is solved then), 1 for a solver error.
    """
    from ..allocation.evaluate import evaluate
    from ..case import guess_format, parse_document
    from ..case.format11 import levered_problems
    from ..case.whatif import parse_pin, parse_whatif
    from ..errors import CaseError, PolicyError, Problem, RenderError, WhatIfError
    from ..rules import rule_names

    started = time.perf_counter()
    loaded = read_case(case, fmt)
    refused = levered_problems(
        loaded, "mediation evaluate", instead="settle it (mediation settle) or compare the rules"
    )
    if refused:  # before the pins: no pin could make the what-if take this case
        fail(
            f"{case}: mediation evaluate pins shares only, and cannot take this case yet:\n"
            + "\n".join(f"  {p}" for p in refused),
            fmt=fmt,
            kind="policy_error",
            case=case,
            problems=refused,
        )
    pins: dict[str, dict[str, float]] = {}
    chosen = rule
    if whatif is not None:
        data = read_input(whatif, fmt, what="what-if file")
        try:
            document = parse_document(data, format=guess_format(whatif))
        except CaseError as exc:  # not well-formed YAML or JSON: the what-if's own fault
            fail_on(WhatIfError(exc.problems), whatif, fmt, kind="whatif_error")
        try:
            parsed = parse_whatif(document, loaded)
        except WhatIfError as exc:
            fail_on(exc, whatif, fmt, kind="whatif_error")
        pins = {issue: dict(shares) for issue, shares in parsed.pins.items()}
        chosen = chosen or parsed.rule
        if loss_tolerance is None:
            loss_tolerance = parsed.loss_tolerance
    problems: list[Problem] = []
    given: dict[tuple[str, str], int] = {}
    for k, text in enumerate(pin or []):
        try:
            issue, party, share = parse_pin(text, path=f"--pin[{k}]")
        except WhatIfError as exc:
            problems += exc.problems
            continue
        if (issue, party) in given:
            problems.append(
                Problem(
                    f"--pin[{k}]",
                    f"{issue}.{party} is pinned twice (also --pin[{given[issue, party]}]); "
                    "pin each share once",
                    "duplicate_pin",
                )
            )
            continue
        given[issue, party] = k
        pins.setdefault(issue, {})[party] = share
    if chosen is not None and chosen not in rule_names():
        problems.append(
            Problem(
                "--rule",
                f"unknown rule {chosen!r}; choose one of {', '.join(rule_names())}",
                "unknown_rule",
            )
        )
    if not pins and not problems:
        problems.append(
            Problem("--pin", "nothing to evaluate: give --pin ISSUE.PARTY=SHARE or --whatif FILE")
        )
    if problems:
        fail(
            f"{case}: " + "; ".join(str(p) for p in problems),
            fmt=fmt,
            kind="whatif_error",
            case=case,
            problems=problems,
        )
    if time_limit > 0:
        time_limit = max(time_limit - (time.perf_counter() - started), 1e-3)
    try:
        result = evaluate(
            loaded,
            pins,
            rule=chosen,
            loss_tolerance=loss_tolerance,
            solver=solver.value,
            time_limit=time_limit,
        )
    except WhatIfError as exc:
        fail_on(exc, case, fmt, kind="whatif_error")
    except (CaseError, PolicyError) as exc:
        fail_on(exc, case, fmt)
    if fmt == OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from rich.console import Console

        from ..rendering.evaluation_tables import evaluation_tables

        try:
            parts = evaluation_tables(result, loaded, lang=(lang or Language.en).value)
        except RenderError as exc:
            fail_on(exc, case, fmt)
        console = Console(width=width)
        for part in parts:
            console.print(part, crop=False)
    if "error" in (result.free.status, result.pinned.status):
        raise typer.Exit(1)
