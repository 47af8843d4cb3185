"""The work a request hands to the solver pool: plain functions of bytes and JSON data.

They run in the pool's worker processes (:mod:`api.pool`), so they take and return picklable
values only, and they report the library's input errors as a :class:`Failure` value rather
than raising: a :class:`~mediation.errors.CaseError` carries its problems, which pickling an
exception would lose. Parsing runs here too: a case at the library's size limits takes a
second to validate, which the event loop must not spend.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from mediation.errors import MediationError, Problem, _ProblemsError

__all__ = [
    "CaseFacts",
    "Failure",
    "Settled",
    "canonical_json",
    "check_case",
    "settle_document",
]

FailureKind = Literal["malformed", "case", "policy", "whatif", "sweep", "graph", "render"]


@dataclass(frozen=True, slots=True)
class Failure:
    """The library refused the input: what kind of input, why, and every problem found."""

    kind: FailureKind
    message: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """A valid case document: its own id and title, and the digest of its canonical JSON."""

    case_key: str
    title: str
    digest: str


@dataclass(frozen=True, slots=True)
class Settled:
    """A settlement, as the library's JSON contract, and the facts its audit record keeps."""

    document: str
    status: str
    rule: str
    policy: dict[str, Any]
    input_digest: str
    solver: str
    solver_version: str
    engine_version: str


def canonical_json(data: object) -> str:
    """Return ``data`` as canonical JSON: sorted keys, no spaces, Unicode as it is."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _failure(kind: FailureKind, exc: MediationError) -> Failure:
    problems = exc.problems if isinstance(exc, _ProblemsError) else ()
    return Failure(kind, str(exc).splitlines()[0], tuple(problems))


_MALFORMED = frozenset({"malformed_json", "not_utf8", "too_deep", "too_large"})


def _parse(raw: bytes) -> tuple[Any, Any] | Failure:
    """Return the document and the validated case, or why not."""
    from mediation.case import parse_case, parse_document
    from mediation.errors import CaseError

    try:
        data = parse_document(raw, format="json")
    except CaseError as exc:
        syntax = all(p.code in _MALFORMED for p in exc.problems)
        return _failure("malformed" if syntax else "case", exc)
    try:
        return data, parse_case(data)
    except CaseError as exc:
        return _failure("case", exc)


def check_case(raw: bytes) -> CaseFacts | Failure:
    """Validate a case document (JSON bytes); return its facts, or every problem found."""
    parsed = _parse(raw)
    if isinstance(parsed, Failure):
        return parsed
    data, case = parsed
    digest = hashlib.sha256(canonical_json(data).encode()).hexdigest()
    return CaseFacts(case.id, case.title, digest)


def settle_document(
    raw: bytes,
    overrides: dict[str, Any],
    *,
    solver: str,
    time_limit: float,
    lang: str | None,
) -> Settled | Failure:
    """Settle a case document (JSON bytes) under its policy with ``overrides`` applied.

    Parameters
    ----------
    raw
        The case, as JSON bytes.
    overrides
        Policy keys to override (``rule``, ``scale``, ``envy_free``, ...).
    solver
        The backend's name (``highs`` or ``cbc``).
    time_limit
        The solver's own limit, in seconds: past it the settlement says it stopped early.
    lang
        ``en`` or ``zh`` to add the reasons as sentences (``explanation``); ``None``: none.
    """
    from mediation.allocation.pipeline import settle
    from mediation.errors import CaseError, PolicyError, RenderError
    from mediation.rendering import render
    from mediation.settlement import Explanation

    parsed = _parse(raw)
    if isinstance(parsed, Failure):
        return parsed
    _, case = parsed
    try:
        result = settle(case, solver=solver, time_limit=time_limit, **overrides)
    except CaseError as exc:
        return _failure("case", exc)
    except PolicyError as exc:
        return _failure("policy", exc)
    if lang is not None:
        try:
            sentences = render(result, lang=lang, case=case)
        except RenderError as exc:
            return _failure("render", exc)
        explanation = Explanation(lang=lang, sentences=sentences)
        result = result.model_copy(update={"explanation": explanation})
    provenance = result.provenance
    return Settled(
        document=result.model_dump_json(),
        status=result.status,
        rule=result.rule,
        policy=dict(provenance.policy),
        input_digest=provenance.input_sha256,
        solver=provenance.solver.name,
        solver_version=provenance.solver.version,
        engine_version=provenance.engine_version,
    )
