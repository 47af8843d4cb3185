"""What case format 1.1's features cost the engine: one market settled plain and with each.

A seeded market (:func:`bench.instances.generate`, as a case document by
:func:`~bench.instances.case_document`) is settled as it is, the *base case* and the
reference of every ratio, and with one feature of case format 1.1 added at a time:

- *share floors*: one interest per issue gets a ``min_share`` of half its equal split (the
  1.0 way of stating a floor, measured beside the next one so that both are timed alike);
- *amount floors*: the same floors as ``min_amount`` (the issues have amount 1, so it is the
  same LP: ~1.0× the share floors, and the same gains, checked);
- *payments*: one payment from each party to the next (N − 1 of them) in 元, at most a tenth
  of the payer's stake (the sum of its values) at 100 元 a point, both rates 1/100 point per
  元: an LP with N − 1 more columns, each in two parties' utilities (which couples the parties:
  each one's ideal point becomes an LP of its own);
- *a fund*: a stakeholder of kind ``fund`` holding a floor of a tenth of the most valued issue
  (one more column, no utility; the parties share what is left);
- *an observer*: a stakeholder with no stake (the same LP: the same gains, checked);
- *whole units*: every issue of 100 units of ``unit_size`` 1 (a MIP: an integer count per
  interest);
- *a choice of 3 options*: each party values each option at a seeded fraction in
  [−0.05, 0.15) of its stake (a MIP with 3 binaries); ``settle`` then settles each of the
  2 options not chosen with it imposed, to report what it would have given: 2 extra
  settlements, measured as ``settle`` gives them, and the choice's own settlement alone (the
  same calls less their ``alternatives`` timing).

Each timing is ``parse_case`` on the document and ``settle(case, rule=...)`` with its default
time limit and the independent validator, end to end, after one untimed settlement of the base
case; in each round every variant runs once, so that the load of a shared machine falls on all
alike. Every settlement (each alternative included) must be ``optimal`` and show its feature,
and the two that are the same LP as another must give its gains; anything else is a failure.
"""

from __future__ import annotations

import copy
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mediation import settle
from mediation.case import parse_case
from mediation.numeric import index_case
from mediation.settlement import Settlement

from .agreement import Check, check_leximin, check_nash, nash_welfare
from .figures import markdown_table, ratio, seconds
from .instances import Market, case_document, generate

__all__ = [
    "SIZES",
    "VARIANTS",
    "LeversConfig",
    "LeversResults",
    "Row",
    "Variant",
    "main",
    "markdown",
    "quick_config",
    "run_levers",
    "table",
]

#: The markets measured: parties × issues.
SIZES = ((20, 10), (200, 40))
#: The quick run's market (CI): whole-units leximin takes ~3 s there, ~20 s at 20 × 10.
QUICK_SIZES = ((10, 5),)
#: The variants that make the model a MIP.
MIP_VARIANTS = frozenset({"whole-units", "choice"})
#: The valuation pattern (bench/instances.py): most parties value a few issues.
KIND = "sparse"
#: Nash is measured on markets of at most this many parties (leximin on every one).
NASH_MAX_PARTIES = 50
#: Points of value per 元 of a payment: a payment's rates, and its ``max`` per point of stake.
PRICE = 100.0
#: A payment's ``max``: this fraction of the payer's stake, in 元.
PAYMENT_SHARE = 0.1
#: A floor: this fraction of an equal split of the issue among those who value it.
FLOOR_SHARE = 0.5
#: The fund's floor on the most valued issue, as a fraction of its amount.
FUND_FLOOR = 0.1
#: Units of each issue in the whole-units variant (``unit_size`` 1).
UNITS = 100
#: Options of the choice, and the range of each party's value for one, per point of stake.
OPTIONS = ("option-a", "option-b", "option-c")
OPTION_VALUES = (-0.05, 0.15)
#: The variants whose settlement must equal another's (the same LP): variant → reference.
SAME_AS = {"amount-floors": "share-floors", "observer": "base"}
#: The derived row: the choice's own settlement, its alternatives' timing taken off.
CHOICE_ALONE = "choice-alone"

Document = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """One feature added to the base case: its name, its title in the table, its builder."""

    name: str
    title: str
    build: Callable[[Market, Document], Document]


def _floors(market: Market, document: Document, key: str) -> Document:
    """Add a floor on each issue for one of the parties valuing it (``key``: its kind)."""
    out = copy.deepcopy(document)
    holders = np.bincount(market.issue, minlength=market.n_issues)
    on_issue: dict[str, list[dict[str, Any]]] = {}
    for interest in out["interests"]:
        on_issue.setdefault(interest["issue"], []).append(interest)
    for q, issue in enumerate(out["issues"]):
        interests = on_issue[issue["id"]]
        floor = FLOOR_SHARE * issue["amount"] / int(holders[q])
        interests[q % len(interests)][key] = floor
    return out


def _payments(market: Market, document: Document) -> Document:
    out = copy.deepcopy(document)
    out["payments"] = [
        {
            "id": f"pay-{s}",
            "payer": f"p{s}",
            "payee": f"p{s + 1}",
            "max": PAYMENT_SHARE * PRICE * float(market.ideal[s]),
            "unit": "元",
            "payer_rate": 1.0 / PRICE,
            "payee_rate": 1.0 / PRICE,
        }
        for s in range(market.n_parties - 1)
    ]
    return out


def most_valued_issue(market: Market) -> int:
    """Return the issue whose values add up to the most (the first of equals)."""
    total = np.bincount(market.issue, weights=market.value, minlength=market.n_issues)
    return int(np.argmax(total))


def _fund(market: Market, document: Document) -> Document:
    out = copy.deepcopy(document)
    issue = out["issues"][most_valued_issue(market)]
    out["stakeholders"].append({"id": "fund", "name": "repair fund", "kind": "fund"})
    out["interests"].append(
        {"stakeholder": "fund", "issue": issue["id"], "min_amount": FUND_FLOOR * issue["amount"]}
    )
    return out


def _observer(market: Market, document: Document) -> Document:
    out = copy.deepcopy(document)
    out["stakeholders"].append({"id": "observer", "name": "street office", "kind": "government"})
    return out


def _whole_units(market: Market, document: Document) -> Document:
    out = copy.deepcopy(document)
    for issue in out["issues"]:  # a value is the worth of the whole amount: same utilities
        issue["amount"] = float(UNITS)
        issue["unit_size"] = 1.0
    return out


def _choice(market: Market, document: Document) -> Document:
    out = copy.deepcopy(document)
    rng = np.random.default_rng([market.n_parties, market.n_issues, len(OPTIONS)])
    low, high = OPTION_VALUES
    out["choices"] = [
        {
            "id": "scheme",
            "name": "scheme",
            "options": [
                {
                    "id": option,
                    "name": option,
                    "values": {
                        f"p{s}": float(market.ideal[s] * rng.uniform(low, high))
                        for s in range(market.n_parties)
                    },
                }
                for option in OPTIONS
            ],
        }
    ]
    return out


VARIANTS = (
    Variant("base", "base case (the reference)", lambda market, document: document),
    Variant(
        "share-floors",
        "share floors (`min_share` on one interest per issue)",
        lambda market, document: _floors(market, document, "min_share"),
    ),
    Variant(
        "amount-floors",
        "the same floors as `min_amount`",
        lambda market, document: _floors(market, document, "min_amount"),
    ),
    Variant("payments", "payments (each party to the next)", _payments),
    Variant("fund", "a fund with a floor on the most valued issue", _fund),
    Variant("observer", "an observer", _observer),
    Variant("whole-units", f"whole units ({UNITS} per issue)", _whole_units),
    Variant("choice", "a choice of 3 options, as `settle` gives it", _choice),
)


@dataclass
class LeversConfig:
    """The markets, the timed runs, and when a slow variant stops being repeated."""

    sizes: tuple[tuple[int, int], ...] = SIZES
    #: The markets the MIP variants (whole units, a choice) run on: at 200 × 40 leximin's
    #: ordered-outcomes MIPs run past settle's 60 s time limit (measured on 2026-12-07:
    #: "feasible" at the limit), which times the limit, not the engine.
    mip_sizes: tuple[tuple[int, int], ...] = SIZES[:1]
    runs: int = 5
    #: A variant whose first run takes longer than this is not repeated (median of 1 run).
    patience: float = 30.0
    kind: str = KIND
    seed: int = 0
    quick: bool = False


@dataclass
class Row:
    """One variant on one market under one rule: its runs and what its settlement was."""

    size: tuple[int, int]
    rule: str
    variant: str
    title: str
    runs: list[float] = field(default_factory=list)
    status: str = ""
    #: Statuses of the alternatives settled beside it (a choice's options not chosen).
    alternatives: list[str] = field(default_factory=list)
    solves: int | None = None
    columns: int = 0
    integers: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs and self.error is None else None


@dataclass
class LeversResults:
    """What the benchmark of the 1.1 features measured, and what went wrong."""

    config: LeversConfig
    rows: list[Row] = field(default_factory=list)
    #: Per market, its interests.
    interests: dict[tuple[int, int], int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def find(self, size: tuple[int, int], rule: str, variant: str) -> Row | None:
        for row in self.rows:
            if row.size == size and row.rule == rule and row.variant == variant:
                return row
        return None


def rules_for(size: tuple[int, int]) -> tuple[str, ...]:
    """Leximin on every market, Nash on the small ones."""
    return ("leximin", "nash") if size[0] <= NASH_MAX_PARTIES else ("leximin",)


def _gains(result: Settlement, parties: list[str]) -> np.ndarray:
    return np.array([result.parties[p].normalized_gain or 0.0 for p in parties])


def _feature_missing(variant: str, result: Settlement, market: Market) -> str | None:
    """Why the settlement does not show the variant's feature (``None``: it does)."""
    if variant == "payments" and len(result.payments) != market.n_parties - 1:
        return f"{len(result.payments)} payments in the settlement, not {market.n_parties - 1}"
    if variant == "fund" and (result.funds != ["fund"] or "fund" in result.parties):
        return f"funds {result.funds}, the fund among the parties: {'fund' in result.parties}"
    if variant == "observer" and (result.observers != ["observer"] or "observer" in result.parties):
        return f"observers {result.observers}"
    if variant == "choice":
        made = result.choices.get("scheme")
        if made is None or len(made.alternatives) != len(OPTIONS):
            got = 0 if made is None else len(made.alternatives)
            return f"{got} alternatives in the settlement, not {len(OPTIONS)}"
    return None


def _same(rule: str, gains: np.ndarray, reference: np.ndarray) -> Check:
    if rule == "nash":
        return check_nash(gains, nash_welfare(reference), reference)
    return check_leximin(gains, reference, 0.0)


def _measure(row: Row, alone: Row | None, document: Document) -> Settlement | None:
    """Time one run of ``row``'s variant into it (and into ``alone``); its settlement."""
    gc.collect()
    start = time.perf_counter()
    try:
        result = settle(parse_case(document), rule=row.rule)
    except Exception as exc:  # a refusal or a crash is the benchmark's failure, not its end
        row.error = f"{type(exc).__name__}: {exc}"
        return None
    seconds = time.perf_counter() - start
    row.runs.append(seconds)
    if alone is not None:
        alone.runs.append(seconds - result.provenance.timings.get("alternatives", 0.0))
    return result


def _record(
    results: LeversResults, row: Row, alone: Row | None, result: Settlement, market: Market
) -> None:
    """Record the first settlement's status and check it."""
    where = f"levers {row.variant} ({row.rule}, {row.size[0]}×{row.size[1]})"
    row.status, row.solves = result.status, result.provenance.solver.solves
    if result.status != "optimal":
        results.failures.append(f"{where}: status {result.status}")
    for made in result.choices.values():
        row.alternatives += [
            a.status for option, a in made.alternatives.items() if option != made.chosen
        ]
    bad = [s for s in row.alternatives if s != "optimal"]
    if bad:
        results.failures.append(f"{where}: alternatives {', '.join(row.alternatives)}")
    if alone is not None:
        alone.status, alone.solves = row.status, row.solves
    missing = _feature_missing(row.variant, result, market) if result.status == "optimal" else None
    if missing is not None:
        results.failures.append(f"{where}: {missing}")


def _bench_market(results: LeversResults, market: Market, log: Callable[[str], None]) -> None:
    config = results.config
    size = (market.n_parties, market.n_issues)
    base = case_document(market)
    variants = [v for v in VARIANTS if v.name not in MIP_VARIANTS or size in config.mip_sizes]
    documents = {v.name: v.build(market, base) for v in variants}
    shapes = {}
    for name, document in documents.items():
        index = index_case(parse_case(document))
        shapes[name] = (index.width, int(index.levers.integer.sum()))
    parties = [f"p{s}" for s in range(market.n_parties)]
    for rule in rules_for(size):
        rows = {
            v.name: Row(
                size, rule, v.name, v.title, columns=shapes[v.name][0], integers=shapes[v.name][1]
            )
            for v in variants
        }
        alone = Row(
            size,
            rule,
            CHOICE_ALONE,
            "the same choice, its own settlement only",
            columns=shapes["choice"][0] if "choice" in shapes else 0,
            integers=shapes["choice"][1] if "choice" in shapes else 0,
        )
        gains: dict[str, np.ndarray] = {}
        settle(parse_case(base), rule=rule)  # untimed: the first call pays lazy imports
        for round_ in range(config.runs):
            for v in variants:
                row = rows[v.name]
                if row.error is not None:
                    continue
                if round_ > 0 and statistics.median(row.runs) > config.patience:
                    row.note = f"median of {len(row.runs)}: over {config.patience:g} s"
                    continue
                result = _measure(row, alone if v.name == "choice" else None, documents[v.name])
                if result is None:
                    results.failures.append(
                        f"levers {v.name} ({rule}, {size[0]}×{size[1]}): {row.error}"
                    )
                    continue
                if round_ == 0:
                    _record(results, row, alone if v.name == "choice" else None, result, market)
                    if result.status == "optimal":
                        gains[v.name] = _gains(result, parties)
                    log(f"  {market.name} {rule} {v.name}: {result.status} {row.runs[0]:.3f} s")
        if "choice" in rows:
            alone.note, alone.error = rows["choice"].note, rows["choice"].error
        for variant, reference in SAME_AS.items():
            if variant in gains and reference in gains:
                check = _same(rule, gains[variant], gains[reference])
                if not check.ok:
                    results.failures.append(
                        f"levers {variant} ({rule}, {size[0]}×{size[1]}): not the settlement "
                        f"of {reference} (the same LP): {check.detail}"
                    )
        results.rows += [*rows.values(), *([alone] if "choice" in rows else [])]


def run_levers(config: LeversConfig, log: Callable[[str], None]) -> LeversResults:
    """Run the benchmark of case format 1.1's features described by ``config``."""
    results = LeversResults(config)
    for n, m in config.sizes:
        market = generate(n, m, config.kind, seed=config.seed)
        results.interests[(n, m)] = market.n_interests
        log(f"levers: {market.name}, {market.n_interests} interests")
        _bench_market(results, market, log)
    return results


# --- the report --------------------------------------------------------------------------------


def _model(row: Row) -> str:
    if row.integers:
        return f"MIP, {row.columns:,} columns ({row.integers:,} integer)"
    return f"LP, {row.columns:,} columns"


def _status(row: Row) -> str:
    if row.error is not None:
        return "**error**"
    text = row.status if row.status == "optimal" else f"**{row.status}**"
    if row.alternatives and row.variant != CHOICE_ALONE:
        marks = [s if s == "optimal" else f"**{s}**" for s in row.alternatives]
        text += f"; {len(row.alternatives)} extra settlements: " + ", ".join(marks)
    return text


def table(results: LeversResults) -> list[list[str]]:
    """One row per market, rule and variant: model, solves, median, ratio, status, note."""
    rows = []
    for row in results.rows:
        base = results.find(row.size, row.rule, "base")
        note = row.error or row.note or ""
        if row.variant == CHOICE_ALONE:
            note = "; ".join(filter(None, ["the same calls less their alternatives", note]))
        rows.append(
            [
                f"{results.config.kind} {row.size[0]}×{row.size[1]}",
                row.rule,
                row.title,
                _model(row),
                "—" if row.solves is None else str(row.solves),
                seconds(row.median),
                ratio(row.median, None if base is None else base.median),
                _status(row),
                note,
            ]
        )
    return rows


HEAD = [
    "market",
    "rule",
    "variant",
    "model",
    "solves",
    "median",
    "ratio to base",
    "status",
    "note",
]


def markdown(results: LeversResults) -> list[str]:
    """Return the section of BENCHMARKS.md on what case format 1.1's features cost."""
    c = results.config
    markets = ", ".join(
        f"{n}×{m} ({results.interests.get((n, m), 0):,} interests)" for n, m in c.sizes
    )
    lines = [
        f"Seeded *{c.kind}* markets (seed {c.seed}; {markets}), each settled as it is (the "
        "base case, the reference of every ratio) and with one feature of case format 1.1 "
        "added. Each time is `parse_case` on the case document and `settle(case, rule=...)`, "
        "end to end with the validator and the default time limit (60 s); in each round "
        f"every variant runs once; median of {c.runs} rounds (a variant whose first run takes "
        f"over {c.patience:g} s is not repeated). Nash on the markets of at most "
        f"{NASH_MAX_PARTIES} parties. *model*: the columns of shares and levers; *solves*: the "
        "LPs or MIPs of the settlement itself (its ideal points included).",
        "",
        "The MIP variants (whole units, a choice) run on "
        + ", ".join(f"{n}×{m}" for n, m in c.mip_sizes if (n, m) in c.sizes)
        + " only: on the larger market leximin's ordered-outcomes MIPs ran past the 60 s time "
        "limit (a `feasible` settlement at the limit, measured once on 2026-12-07), which would "
        "time the limit rather than the engine. Whole units and choices are for the small "
        "discrete parts of a deal (posts, slots, two schemes); state large divisible amounts "
        "without `unit_size`.",
        "",
        f"- floors: on each issue one interest gets {FLOOR_SHARE:g} of an equal split among "
        "those who value it, as `min_share`, then as `min_amount` (the issues have amount 1: "
        "the same LP, whose gains must be the same);",
        f"- payments: one from each party to the next, at most {PAYMENT_SHARE:g} of the payer's "
        f"stake (the sum of its values) at {PRICE:g} 元 a point, both rates 1/{PRICE:g} point "
        "per 元;",
        f"- a fund (`kind: fund`) with a floor of {FUND_FLOOR:g} of the most valued issue; an "
        "observer (a stakeholder with no stake: the same LP, whose gains must be the same);",
        f"- whole units: every issue {UNITS} units of `unit_size` 1 (a MIP);",
        f"- a choice of {len(OPTIONS)} options, each party valuing each at a seeded "
        f"{OPTION_VALUES[0]:g}..{OPTION_VALUES[1]:g} of its stake (a MIP); `settle` settles "
        f"each of the {len(OPTIONS) - 1} options not chosen with it imposed (the extra "
        "settlements in *status*), and the next row is the choice's own settlement alone.",
        "",
        *markdown_table(HEAD, table(results)),
    ]
    if results.notes:
        lines += ["", *(f"- {n}" for n in results.notes)]
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.levers``: this benchmark alone, its table on the console."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.levers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the small market only, few runs")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (median)")
    parser.add_argument("--kind", choices=("uniform", "sparse"), default=KIND, help="markets")
    parser.add_argument(
        "--sizes",
        nargs="+",
        metavar="NxM",
        help="markets of N parties × M issues (default: "
        + " ".join(f"{n}x{m}" for n, m in SIZES)
        + ")",
    )
    args = parser.parse_args(argv)
    config = quick_config() if args.quick else LeversConfig(runs=args.runs)
    config.kind = args.kind
    if args.sizes:
        config.sizes = tuple(_size(text, parser) for text in args.sizes)
        config.mip_sizes = config.sizes
    results = run_levers(config, lambda m: print(m, file=sys.stderr, flush=True))
    for line in markdown(results):
        print(line)
    for failure in results.failures:
        print(f"FAILURE: {failure}")
    return 1 if results.failures else 0


def _size(text: str, parser: Any) -> tuple[int, int]:
    n, _, m = text.lower().partition("x")
    if not (n.isdigit() and m.isdigit() and int(n) >= 2 and int(m) >= 1):
        parser.error(f"a size is N parties x M issues, N ≥ 2 and M ≥ 1, like 20x10; not {text!r}")
    return int(n), int(m)


def quick_config() -> LeversConfig:
    """Return the CI run: the small market, 2 rounds, the MIPs once (over 1 s)."""
    return LeversConfig(sizes=QUICK_SIZES, mip_sizes=QUICK_SIZES, runs=2, patience=1.0, quick=True)


if __name__ == "__main__":
    sys.exit(main())
