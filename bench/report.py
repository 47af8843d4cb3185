"""Write the benchmark's results as BENCHMARKS.md, and a short summary for the console."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .agreement import NASH_SPREAD, TOLERANCE
from .figures import markdown_table, ratio, seconds
from .levers import markdown as levers_lines
from .levers import table as levers_table
from .run import FAIRPYX_MAX_PARTIES, RULES, TARGET_CASE, Measure, Results, RuleResult
from .service import markdown as service_lines
from .service import table as service_table
from .sweep import markdown as sweep_lines
from .sweep import table as sweep_table

__all__ = ["console_summary", "write_report"]

#: Column titles of the peers, per rule.
PEERS = {
    "maximin": ("pulp", "fairpyx"),
    "leximin": ("pulp",),
    "nash": ("cvxpy",),
    "utilitarian": ("pulp",),
}
PEER_NAMES = {
    "pulp": "plain PuLP",
    "fairpyx": "fairpyx",
    "cvxpy": "cvxpy + Clarabel",
}
ENGINE_STAGES = ("parse", "build", "ideal", "solve", "fairness", "reasons", "assemble", "validate")


def _cell(measure: Measure | None) -> str:
    if measure is None:
        return "—"
    if measure.error is not None:
        return "failed"
    text = seconds(measure.median)
    if measure.note:
        text += f" ({measure.note})"
    return text


def _agreement(measure: Measure | None) -> str:
    if measure is None or measure.check is None:
        return "—"
    mark = "ok" if measure.check.ok else "**MISMATCH**"
    return f"{mark} {measure.check.deviation:.1e}"


def _size(row: RuleResult) -> str:
    return f"{row.kind} {row.size[0]}×{row.size[1]}"


def _rule_table(results: Results, rule: str) -> list[str]:
    peers = PEERS[rule]
    head = ["instance", "interests", "engine", "limit", "engine/limit"]
    for p in peers:
        head += [PEER_NAMES[p], f"{PEER_NAMES[p]}/engine"]
    head += ["agreement: engine"] + [f"agreement: {PEER_NAMES[p]}" for p in peers]
    if rule == "leximin":
        head += ["levels", "engine LPs", "reference spread"]
    if rule == "nash":
        head += ["max gain difference", "certified gap", "LPs"]
    rows = []
    for row in (r for r in results.rules if r.rule == rule):
        engine, lim = row.measures.get("engine"), row.measures.get("limit")
        e, li = (engine.median if engine else None), (lim.median if lim else None)
        cells = [_size(row), f"{row.interests:,}", _cell(engine), _cell(lim), ratio(e, li)]
        for p in peers:
            m = row.measures.get(p)
            cells += [_cell(m), ratio(m.median if m and m.error is None else None, e)]
        cells += [_agreement(engine)] + [_agreement(row.measures.get(p)) for p in peers]
        if rule == "leximin":
            cells.append(str(row.facts.get("levels", "—")))
            cells.append("—" if engine is None or engine.lps is None else str(engine.lps))
            spread = row.facts.get("spread")
            cells.append("—" if spread is None else f"{spread:.1e}")
        if rule == "nash":
            spread = engine.check.gain_spread if engine and engine.check else None
            gap = row.facts.get("certified gap engine")
            cells += [
                "—" if spread is None else f"{spread:.1e}",
                "—" if gap is None else f"{gap:.1e}",
                "—" if engine is None or engine.lps is None else str(engine.lps),
            ]
        rows.append(cells)
    return markdown_table(head, rows)


def _stage_table(results: Results) -> list[str]:
    head = ["rule", "instance", *ENGINE_STAGES, "end to end"]
    rows = []
    for row in results.rules:
        engine = row.measures.get("engine")
        if engine is None:
            continue
        rows.append(
            [row.rule, _size(row)]
            + [seconds(engine.part(s)) for s in ENGINE_STAGES]
            + [seconds(engine.median)]
        )
    return markdown_table(head, rows)


def _method_table(results: Results) -> list[str]:
    head = ["instance", "first LP of", "interior point", "dual simplex", "chosen"]
    rows = []
    for probe in results.methods:
        found = probe["seconds"]
        simplex = found.get("simplex")
        rows.append(
            [
                probe["instance"],
                probe["rule"],
                seconds(found.get("ipm")),
                seconds(simplex) if simplex is not None else "stopped (> 10× the other)",
                probe["chosen"],
            ]
        )
    return markdown_table(head, rows)


def _case_table(results: Results) -> list[str]:
    head = ["case", "policy rule", *RULES, "policy call", "command line", "raw reference"]
    rows = []
    for c in results.cases:
        cells = [c.case, c.policy_rule]
        for rule in RULES:
            m = c.library[rule]
            text = f"{c.statuses[rule]} {seconds(m.median)}"
            if m.check is not None:
                text += " ok" if m.check.ok else " **MISMATCH**"
            cells.append(text)
        cells += [seconds(c.library["policy"].median), _cell(c.cli), c.reference]
        rows.append(cells)
    return markdown_table(head, rows)


def _find(results: Results, rule: str, kind: str, size: tuple[int, int]) -> RuleResult | None:
    for row in results.rules:
        if row.rule == rule and row.kind == kind and row.size == size:
            return row
    return None


def _median(row: RuleResult | None, name: str) -> float | None:
    if row is None:
        return None
    m = row.measures.get(name)
    return None if m is None or m.error is not None else m.median


def targets(results: Results) -> list[list[str]]:
    """Each target of the issue, with the figure measured and whether it is met."""
    out: list[list[str]] = []
    big = max(results.config.sizes)
    big_name = f"{big[0]}×{big[1]}"

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("met" if ok else "**not met**")

    for rule in ("maximin", "leximin"):
        for kind in ("uniform", "sparse"):
            row = _find(results, rule, kind, big)
            e, li = _median(row, "engine"), _median(row, "limit")
            r = None if e is None or li is None else e / li
            out.append(
                [
                    f"{rule} {kind} {big_name}: engine end to end ≤ 2× the raw highspy solve "
                    "(stretch 1.5×)",
                    "—" if r is None else f"{r:.2f}×",
                    verdict(None if r is None else r <= 2.0)
                    + ("" if r is None or r > 1.5 else " (stretch met)"),
                ]
            )
    worst: tuple[float, str] | None = None
    for row in (r for r in results.rules if r.rule == "leximin"):
        lex = _median(row, "engine")
        mm = _median(_find(results, "maximin", row.kind, row.size), "engine")
        if lex is not None and mm is not None and (worst is None or lex / mm > worst[0]):
            worst = (lex / mm, _size(row))
    out.append(
        [
            "leximin ≤ 2× maximin (engine end to end) at every size",
            "—" if worst is None else f"worst {worst[0]:.2f}× ({worst[1]})",
            verdict(None if worst is None else worst[0] <= 2.0),
        ]
    )
    for kind in ("uniform", "sparse"):
        row = _find(results, "nash", kind, big)
        engine = row.measures.get("engine") if row else None
        check = engine.check if engine else None
        out.append(
            [
                f"nash {kind} {big_name}: within 1e-6 (relative, geometric mean) of the "
                "Eisenberg–Gale optimum",
                "—" if check is None else check.detail,
                verdict(None if check is None else check.ok),
            ]
        )
        e, c = _median(row, "engine"), _median(row, "cvxpy")
        out.append(
            [
                f"nash {kind} {big_name}: no slower than cvxpy + Clarabel",
                "—" if e is None or c is None else f"engine {seconds(e)}, cvxpy {seconds(c)}",
                verdict(None if e is None or c is None else e <= c),
            ]
        )
    for kind in ("uniform", "sparse"):
        row = _find(results, "maximin", kind, (100, 50))
        e, f = _median(row, "engine"), _median(row, "fairpyx")
        m = row.measures.get("fairpyx") if row else None
        equal = None if m is None or m.check is None else m.check.ok
        out.append(
            [
                f"maximin {kind} 100×50: ≥ 10× faster than fairpyx, equal results",
                "—"
                if e is None or f is None
                else f"{f / e:.0f}× faster; results " + ("equal" if equal else "differ"),
                verdict(None if e is None or f is None else f / e >= 10 and bool(equal)),
            ]
        )
    case = next((c for c in results.cases if c.case == TARGET_CASE), None)
    cli = None if case is None or case.cli is None or case.cli.error else case.cli.median
    call = None if case is None else case.library["policy"].median
    out.append(
        [
            f"`mediation settle cases/{TARGET_CASE}.yaml` under 1 s, interpreter start-up included",
            seconds(cli),
            verdict(None if cli is None else cli < 1.0),
        ]
    )
    out.append(
        [
            f"the library call (`settle` on the loaded {TARGET_CASE} case) under 20 ms",
            seconds(call),
            verdict(None if call is None else call < 0.020),
        ]
    )
    out += _sweep_targets(results, verdict)
    return out


def _sweep_targets(results: Results, verdict: Callable[[bool | None], str]) -> list[list[str]]:
    """Return the sweep's targets: 1,000 settlements a second on 2 cores, Dask near the pool."""
    found = results.sweep
    if found is None:
        return []
    pool = next((m for n, m in found.paths.items() if n.startswith("batch, pool")), None)
    dask = next((m for n, m in found.paths.items() if n.startswith("batch, Dask")), None)
    p = None if pool is None else pool.per_second
    d = None if dask is None else dask.per_second
    return [
        [
            f"sweep of {TARGET_CASE} (leximin, validated): ≥ 1,000 scenarios/s on 2 cores",
            "—" if p is None else f"{p:,.0f}/s (pool of 2)",
            verdict(None if p is None else p >= 1000),
        ],
        [
            "sweep on Dask (LocalCluster 2×1) within 80% of the local pool",
            "—" if p is None or d is None else f"{d / p:.0%} of the pool",
            verdict(None if p is None or d is None else d >= 0.8 * p),
        ],
    ]


def write_report(results: Results, path: Path, command: str) -> None:
    """Write BENCHMARKS.md."""
    config = results.config
    v = results.versions
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {results.started:%Y-%m-%d} (UTC), in "
        f"{results.seconds / 60:.0f} min. Every number below comes from that run: do not "
        "edit them by hand, rerun the command (`--quick` is the CI check: small sizes, "
        "agreement only, writes nothing).",
        "",
        "## Machine and versions",
        "",
        *markdown_table(
            ["", ""],
            [[k, val] for k, val in results.machine.items()] + [[k, val] for k, val in v.items()],
        ),
        "",
        "## How to read this",
        "",
        "- **Instances.** Seeded random markets (seed "
        f"{config.seed}): N parties × M divisible resources of amount 1, no bounds, no side "
        "constraints, disagreement points 0. *uniform*: every party values every resource, "
        "values uniform in [1, 100). *sparse*: 95% of the parties value 1 + Poisson(2) "
        "resources chosen with Zipf popularity (a few crowded resources), 5% value half of "
        "them; same values. Every rule compares normalized gains g = u / ideal, "
        "ideal = Σ values.",
        f"- **engine**: `parse_case` on the case document, then `settle(case, rule=...)`, end "
        f"to end, median of {config.runs} runs. Its parts (the engine's own `timings`, parse "
        "included) are in *Where the engine's time goes*; `build` is the PuLP model.",
        "- **limit**: the same LPs built from numpy arrays and solved directly with highspy "
        "(no modelling layer), first LP with the faster of HiGHS's interior point and dual "
        "simplex (measured in the same run, *The limit's algorithm*), later LPs warm. "
        "Leximin: saturation with warm primal-simplex re-solves. Nash: the engine's own "
        "method (proportional-response start, Kelley cuts, certified gap 1e-6) without PuLP.",
        "- **peers**: *plain PuLP* is the LP written the obvious way (`lpSum`, one `prob +=` "
        "per row, `pulp.HiGHS(msg=False)` with default options, a cold solve per LP; leximin "
        "builds one LP per level). *fairpyx* 0.1 `fractional_egalitarian_allocation` "
        "(maximin's first stage only), run in its own environment (it pins numpy<2), "
        f"skipped above {FAIRPYX_MAX_PARTIES} parties where one run takes minutes. "
        "*cvxpy + Clarabel*: the Eisenberg–Gale program, default tolerances, each party's "
        "values scaled so that its equal-split utility is 1.",
        "- **Ratios**: engine/limit is the price of the engine over the bare solver; "
        "peer/engine above 1× means the engine is faster. The machine is shared and noisy: "
        "compare ratios, not seconds.",
        f"- **Agreement** (first run of each solver against the limit; {TOLERANCE:g} relative "
        "to each party's ideal): maximin on the smallest gain and on the sum against the best "
        "sum possible at that smallest gain; leximin on the whole sorted vector; utilitarian "
        "on the sum. The figure is the largest difference. *reference spread* is how far "
        "the limit's leximin moves when its first LP uses the other algorithm (the "
        "instance's conditioning: held levels are amplified by the trade-off ratios).",
        "- **Nash**: the objective is flat near its optimum, so any solver stopping at a "
        "1e-6..1e-8 gap places the gains only to ~1e-3. Nash is therefore checked on the "
        "welfare Σ log g: at least the best reference's (the limit's, cvxpy's) minus "
        "1e-6·N, i.e. a gap of at most 1e-6 on the geometric mean; the figure is the "
        f"shortfall per party. *max gain difference* is the largest relative difference of "
        f"the engine's gains from cvxpy's (above {NASH_SPREAD:g} fails); *certified gap* is "
        "the engine's distance to the upper bound that the limit's cutting planes prove.",
        "",
        "## Targets",
        "",
        *markdown_table(["target", "measured", "verdict"], targets(results)),
        "",
    ]
    for rule in RULES:
        lines += [f"## {rule}", "", *_rule_table(results, rule), ""]
    lines += [
        "## Where the engine's time goes",
        "",
        "Medians of the engine's own `timings`; `ideal` includes handing the PuLP model to "
        "HiGHS; `parse` is `parse_case`.",
        "",
        *_stage_table(results),
        "",
        "## The limit's algorithm",
        "",
        "The first LP of each instance, solved once by each of HiGHS's algorithms (presolve "
        "off: on the utilitarian LP it costs seconds and saves nothing); the faster is used "
        "for the limit.",
        "",
        *_method_table(results),
        "",
        "## Bundled cases",
        "",
        f"Library call per rule (status and median of {config.case_runs} calls of `settle` "
        "on the loaded case), the call with the case's own policy, and `mediation settle "
        f"CASE` on the command line (median of {config.cli_runs}, interpreter start-up "
        "included). Only cases that are plain markets can be checked against the raw LP.",
        "",
        *_case_table(results),
        "",
    ]
    if results.sweep is not None:
        lines += [
            "## Sweeps: many variants of one case",
            "",
            "`settle` on each variant against the batch path (`settle_variants`: one model "
            "template instead of a PuLP model each, the same settlements, checked body for "
            "body), the "
            "same LP sequence in raw highspy on one live model re-solved warm (the ceiling: no "
            "modelling layer, no figures, no validator), and the batch path on a process pool "
            "and on a Dask `LocalCluster` (and the sweep runner on both, which also builds "
            "each scenario's case from the sweep file). Run alone: `python -m bench.sweep`.",
            "",
            *sweep_lines(results.sweep),
            "",
        ]
    if results.service is not None:
        lines += [
            "## The service: `POST /v1/settle` against the library call",
            "",
            *service_lines(results.service),
            "",
            "Run alone: `python -m bench.service`.",
            "",
        ]
    if results.levers is not None:
        lines += [
            "## What case format 1.1's features cost",
            "",
            *levers_lines(results.levers),
            "",
            "Run alone: `python -m bench.levers` (`--kind uniform` for markets where every "
            "party values every issue).",
            "",
        ]
    lines += ["## Disagreements and failures", "", "Of the engine (a bug: fix it):", ""]
    lines += [f"- {f}" for f in results.failures] or ["- none"]
    lines += ["", "Of the peers (reported, not ours to fix):", ""]
    lines += [f"- {f}" for f in results.peer_failures] or ["- none"]
    if results.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in results.notes)]
    path.write_text("\n".join(lines) + "\n")


def console_summary(results: Results) -> str:
    """One line per rule and instance: agreement of every solver, for the console."""
    lines = []
    for row in results.rules:
        checks = ", ".join(
            f"{name} {'failed' if m.error else _agreement(m)}"
            for name, m in row.measures.items()
            if name != "limit"
        )
        lines.append(f"{row.rule:12} {_size(row):18} {checks}")
    for c in results.cases:
        lines.append(f"case {c.case:30} {c.statuses}")
    if results.sweep is not None:
        for path, _, rate, versus, note in sweep_table(results.sweep):
            lines.append(f"sweep {path:28} {rate:>8} scenarios/s ({versus} settle) {note}")
    if results.service is not None:
        for cells in service_table(results.service):
            connections, requests, rate, p50, p99, not_ok = cells[:6]
            lines.append(
                f"service {connections:>2} connections: {requests} requests, {rate}/s, "
                f"p50 {p50}, p99 {p99}, non-200 {not_ok}"
            )
    if results.levers is not None:
        for market, rule, variant, _, _, median, versus, status, _ in levers_table(results.levers):
            lines.append(f"1.1 {market} {rule:8} {variant:52} {median:>9} {versus:>7} {status}")
    lines += results.notes
    for label, found in (("engine", results.failures), ("peers", results.peer_failures)):
        lines.append(f"{label}: {len(found)} disagreement(s) or failure(s)")
        lines += [f"  {f}" for f in found]
    return "\n".join(lines)
