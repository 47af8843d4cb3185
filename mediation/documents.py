"""Case documents as text: YAML and JSON in, YAML and JSON out (pure functions on strings)."""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml

from .case import Case, parse_case
from .errors import CaseError, Problem
from .gc_pause import paused_gc
from .limits import MAX_DOCUMENT_BYTES
from .yaml_reader import EXPONENT_FLOAT, read_yaml

__all__ = ["Format", "dump_case", "guess_format", "load_case", "parse_document"]

Format = Literal["yaml", "json"]

try:  # the C dumper is ~10x faster on large cases; fall back when libyaml is absent
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Dumper = yaml.SafeDumper


class _Writer(_Dumper):  # type: ignore[misc]
    """A YAML dumper that quotes what :func:`read_yaml` would read as a number (``1e6``)."""


_Writer.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789"))


def guess_format(name: str) -> Format:
    """``json`` for a ``.json`` file name, else ``yaml`` (YAML also reads JSON)."""
    return "json" if name.lower().endswith(".json") else "yaml"


def parse_document(text: str | bytes, *, format: Format = "yaml") -> object:
    """Parse a YAML or JSON document into plain Python data, with errors that say where.

    Raises
    ------
    CaseError
        When the text is too large, not UTF-8, not well-formed, or nested too deep; for YAML
        also as soon as the document passes a limit of :mod:`mediation.limits` (values,
        characters of text, items of a section), before the rest of it is read.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        unit = "bytes" if isinstance(text, bytes) else "characters"
        raise CaseError(
            [
                Problem(
                    "",
                    f"the document has {len(text)} {unit}, above the limit of {MAX_DOCUMENT_BYTES}",
                )
            ]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CaseError(
                [Problem("", f"the document is not UTF-8 text (byte {exc.start})")]
            ) from None
    try:
        with paused_gc():
            if format == "json":
                return json.loads(
                    text, parse_constant=_reject_constant, object_pairs_hook=_no_repeats
                )
            return read_yaml(text)
    except json.JSONDecodeError as exc:
        raise CaseError(
            [Problem("", f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CaseError([Problem("", f"malformed YAML{where}: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise CaseError([Problem("", f"malformed YAML: {exc}")]) from None
    except CaseError:
        raise
    except RecursionError:
        raise CaseError([Problem("", "the document is nested too deeply")]) from None
    except ValueError as exc:  # NaN/Infinity constants in JSON
        raise CaseError([Problem("", str(exc))]) from None


def load_case(text: str | bytes, *, format: Format = "yaml") -> Case:
    """Parse and validate a case document given as YAML or JSON text.

    Examples
    --------
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders:
    ...   - {id: a, name: 甲, kind: government}
    ...   - {id: b, name: 乙, kind: enterprise}
    ... issues: [{id: fund, name: 经费, kind: resource, amount: 10}]
    ... interests: [{stakeholder: a, issue: fund, value: 1}]
    ... ''')
    >>> case.stakeholders[1].name
    '乙'
    """
    with paused_gc():
        return parse_case(parse_document(text, format=format))


def dump_case(case: Case, *, format: Format = "yaml") -> str:
    """A case as YAML or JSON text, Chinese kept as is, defaults left out."""
    data = case.model_dump(mode="json", exclude_defaults=True)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return str(yaml.dump(data, Dumper=_Writer, allow_unicode=True, sort_keys=False, width=100))


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"malformed JSON: repeated key '{repeated}'")
    return result


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a case: numbers must be finite")
