"""The analyses a request hands to the solver pool: graph, what-if, comparison, sweep planning.

As :mod:`api.jobs`: plain functions of bytes and JSON text that run in the pool's worker
processes, return picklable values, and report the library's refusals as a
:class:`~api.jobs.Failure` (an exception would lose its problems crossing the process
boundary). Each makes the library call its CLI command makes and returns the result as the
library's JSON contract. :func:`sweep_worker_init` prepares the processes sweeps run on.

A sweep's body is an envelope around two documents, so the problems of each are reported
under its key: ``sweep.parameters[0].grid[1]``, ``case.interests[3].stakeholder``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mediation.errors import MediationError, Problem, describe

from .jobs import _MALFORMED, Failure, FailureKind, _failure, _parse

__all__ = [
    "SweepFacts",
    "SweepRequest",
    "compare_rules",
    "evaluate_whatif",
    "graph_analysis",
    "plan_sweep_request",
    "read_sweep_request",
    "sweep_worker_init",
]

#: The keys of a sweep request's body.
SWEEP_KEYS = ("case_id", "case", "sweep")


@dataclass(frozen=True, slots=True)
class SweepRequest:
    """A sweep request's parts: a stored case's id or a case document, and the sweep."""

    case_id: str | None
    case_json: str | None
    sweep_json: str


@dataclass(frozen=True, slots=True)
class SweepFacts:
    """A sweep checked against its case: how many scenarios, and the plan's digests."""

    scenarios: int
    case_sha256: str
    sweep_sha256: str


def _prefixed(problems: tuple[Problem, ...], prefix: str | None) -> tuple[Problem, ...]:
    """Return problems with their paths under ``prefix`` (the body's key of their document)."""
    if prefix is None:
        return problems
    return tuple(
        Problem(f"{prefix}.{p.path}" if p.path else prefix, p.message, p.code) for p in problems
    )


def _refusal(kind: FailureKind, exc: MediationError, prefix: str | None = None) -> Failure:
    failure = _failure(kind, exc)
    return Failure(failure.kind, failure.message, _prefixed(failure.problems, prefix))


def graph_analysis(raw_case: bytes) -> str | Failure:
    """Return the stakeholder-graph analysis of a case, as ``mediation graph --format json``.

    The JSON is data, the same in every language (the CLI's ``--lang`` changes only tables).
    """
    from mediation.errors import GraphError, RenderError
    from mediation.rendering.graph_tables import graph_command_output

    parsed = _parse(raw_case)
    if isinstance(parsed, Failure):
        return parsed
    try:
        output = graph_command_output(parsed[1], fmt="json")
    except GraphError as exc:
        # the analysis concerns the case as a whole: its problem has the document's path
        return Failure("graph", str(exc), (Problem("", str(exc), "graph_error"),))
    except RenderError as exc:
        return Failure("render", str(exc))
    assert isinstance(output, str)
    return output


def evaluate_whatif(
    raw_case: bytes, raw_whatif: bytes, *, solver: str, time_limit: float
) -> str | Failure:
    """Evaluate a what-if document (JSON bytes) on a case; return the Evaluation contract.

    As ``mediation evaluate CASE --whatif FILE --format json``: the what-if's pins, its rule
    and loss tolerance (else the case's policy), every wrong pin refused before anything is
    solved, each problem with its path in the what-if (``pins.cost-overrun.minzhengju``).
    """
    from mediation.allocation.evaluate import evaluate
    from mediation.case import parse_document
    from mediation.case.whatif import parse_whatif
    from mediation.errors import CaseError, PolicyError, WhatIfError

    parsed = _parse(raw_case)
    if isinstance(parsed, Failure):
        return parsed
    case = parsed[1]
    try:
        document = parse_document(raw_whatif, format="json")
    except CaseError as exc:
        syntax = all(p.code in _MALFORMED for p in exc.problems)
        return _refusal("malformed" if syntax else "whatif", exc)
    try:
        whatif = parse_whatif(document, case)
        result = evaluate(
            case,
            {issue: dict(shares) for issue, shares in whatif.pins.items()},
            rule=whatif.rule,
            loss_tolerance=whatif.loss_tolerance,
            solver=solver,
            time_limit=time_limit,
        )
    except WhatIfError as exc:
        return _refusal("whatif", exc)
    except CaseError as exc:
        return _refusal("case", exc)
    except PolicyError as exc:
        return _refusal("policy", exc)
    return result.model_dump_json()


def compare_rules(
    raw_case: bytes, rules: list[str] | None, *, solver: str, time_limit: float
) -> str | Failure:
    """Settle a case under each rule and compare them; return the Comparison contract.

    As ``mediation compare CASE [--rules ...] --format json``: ``None`` compares every rule
    (those that do not apply are listed with their conditions); an unknown rule is a
    problem at ``rules[k]``.
    """
    from mediation.allocation.compare import compare, rules_to_compare
    from mediation.errors import CaseError, PolicyError

    try:
        asked = rules_to_compare(rules) if rules is not None else None
    except PolicyError as exc:
        return _refusal("policy", exc)
    parsed = _parse(raw_case)
    if isinstance(parsed, Failure):
        return parsed
    try:
        comparison = compare(parsed[1], asked, solver=solver, time_limit=time_limit)
    except CaseError as exc:
        return _refusal("case", exc)
    except PolicyError as exc:
        return _refusal("policy", exc)
    return comparison.model_dump_json()


def read_sweep_request(raw: bytes) -> SweepRequest | Failure:
    """Read the body of ``POST /v1/sweeps``: ``{"case_id" | "case", "sweep"}`` (JSON bytes).

    The body is read as strictly as a case (no repeated keys, no NaN, the library's size
    limits); the two documents in it are checked later, by :func:`plan_sweep_request`.
    """
    from mediation.case import parse_document
    from mediation.errors import CaseError

    try:
        data = parse_document(raw, format="json")
    except CaseError as exc:
        syntax = all(p.code in _MALFORMED for p in exc.problems)
        return _refusal("malformed" if syntax else "sweep", exc)
    if not isinstance(data, dict):
        message = f"the body must be a mapping with sweep and case_id or case, got {describe(data)}"
        return Failure("sweep", message, (Problem("", message, "model_type"),))
    problems = [
        Problem(key, f"unknown key '{key}' (allowed: {', '.join(SWEEP_KEYS)})", "extra_forbidden")
        for key in data
        if key not in SWEEP_KEYS
    ]
    if "sweep" not in data:
        problems.append(Problem("sweep", "the sweep is missing", "missing"))
    case_id, case = data.get("case_id"), data.get("case")
    if ("case_id" in data) == ("case" in data):
        problems.append(
            Problem(
                "case_id",
                "give either case_id (a stored case) or case (a case document), not both"
                if "case" in data
                else "give either case_id (a stored case) or case (a case document)",
                "conflict" if "case" in data else "missing",
            )
        )
    elif "case_id" in data and not (isinstance(case_id, str) and 0 < len(case_id) <= 64):
        problems.append(
            Problem(
                "case_id", f"must be a stored case's id, got {describe(case_id)}", "string_type"
            )
        )
    if problems:
        return Failure("sweep", "; ".join(str(p) for p in problems), tuple(problems))
    return SweepRequest(
        case_id=case_id if isinstance(case_id, str) else None,
        case_json=None if "case" not in data else json.dumps(case, ensure_ascii=False),
        sweep_json=json.dumps(data["sweep"], ensure_ascii=False),
    )


def plan_sweep_request(
    case_document: str, sweep_json: str, *, max_scenarios: int, case_path: str | None
) -> SweepFacts | Failure:
    """Check a sweep against its case, as ``mediation sweep`` does before it settles anything.

    Parameters
    ----------
    case_document
        The case (JSON text): a stored one, or the body's ``case``.
    sweep_json
        The sweep document (JSON text), as a sweep file's content.
    max_scenarios
        The most scenarios the service runs in one sweep.
    case_path
        The body's key of the case, to put before its problems' paths (``None`` for a
        stored case, valid already).
    """
    from mediation.errors import PolicyError, SweepError
    from mediation.sweep import parse_sweep, plan_sweep

    parsed = _parse(case_document.encode())
    if isinstance(parsed, Failure):
        return Failure(parsed.kind, parsed.message, _prefixed(parsed.problems, case_path))
    try:
        spec = parse_sweep(json.loads(sweep_json))
        plan = plan_sweep(parsed[1], spec)
    except SweepError as exc:
        return _refusal("sweep", exc, "sweep")
    except PolicyError as exc:
        return _refusal("policy", exc)
    if spec.robust:
        from mediation.sweep.robust import robust_problems

        refused = robust_problems(plan.case, instead="set the sweep's robust: false")
        if refused:  # before any scenario is solved, not after all of them
            return _refusal("sweep", SweepError(refused), "sweep")
    if plan.scenarios > max_scenarios:
        message = (
            f"the sweep has {spec.grid_points} grid points × {spec.samples} samples = "
            f"{plan.scenarios} scenarios; this service runs at most {max_scenarios} in one sweep"
        )
        return Failure("sweep", message, (Problem("sweep.samples", message, "too_large"),))
    return SweepFacts(plan.scenarios, plan.case_sha256, plan.sweep_sha256)


def sweep_worker_init(service_pid: int) -> None:
    """Prepare a process a sweep's batches run in: it ends with the service, Ctrl-C is not its.

    A :class:`~concurrent.futures.ProcessPoolExecutor`'s worker waits on a queue whose both
    ends it holds, so it would outlive a service killed by SIGKILL; and as a child of the fork
    server it holds the fork server's liveness pipe, so the fork server would wait for it in
    turn. A thread of its own therefore watches the service's process and ends this one when
    it goes (the kernel's parent-death signal covers the fork server's end). SIGINT is
    ignored: the service stops or cancels its sweeps itself, and a worker killed by Ctrl-C at
    the service's terminal would break the pool under the sweep it runs.

    Parameters
    ----------
    service_pid
        The service's process id.
    """
    import signal
    import threading

    from .pool import _die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    threading.Thread(
        target=_end_with, args=(service_pid,), name="service-watch", daemon=True
    ).start()


def _end_with(pid: int) -> None:
    """End this process as soon as process ``pid`` has ended."""
    import os
    import select
    import time

    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): look once a second
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - alive, another user's
                pass
            time.sleep(1.0)
    select.select([handle], [], [])  # readable once the process has ended
    os._exit(1)
