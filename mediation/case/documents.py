"""Case documents as text: YAML and JSON in, YAML and JSON out (pure functions on strings)."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

import yaml

from ..errors import CaseError, Problem, field_path
from .gc_pause import paused_gc
from .limits import MAX_DOCUMENT_BYTES
from .model import Case
from .parse import parse_case
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
        also as soon as the document passes a limit of :mod:`mediation.case.limits` (values,
        characters of text, items of a section), before the rest of it is read.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        unit = "bytes" if isinstance(text, bytes) else "characters"
        raise CaseError(
            [
                Problem(
                    "",
                    f"the document has {len(text)} {unit}, above the limit of {MAX_DOCUMENT_BYTES}",
                    "too_large",
                )
            ]
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CaseError(
                [Problem("", f"the document is not UTF-8 text (byte {exc.start})", "not_utf8")]
            ) from None
    try:
        with paused_gc():
            return _read_json(text) if format == "json" else read_yaml(text)
    except json.JSONDecodeError as exc:
        message = f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise CaseError([Problem("", message, "malformed_json")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        message = f"malformed YAML{where}: {exc.problem or exc}"
        raise CaseError([Problem("", message, "malformed_yaml")]) from None
    except yaml.YAMLError as exc:
        raise CaseError([Problem("", f"malformed YAML: {exc}", "malformed_yaml")]) from None
    except CaseError:
        raise
    except UnicodeEncodeError as exc:  # libyaml reads UTF-8: a str with a lone surrogate
        assert isinstance(text, str)
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - text.rfind("\n", 0, exc.start)
        raise CaseError(
            [
                Problem(
                    "",
                    f"the document holds a lone surrogate (\\ud800-\\udfff without its pair) "
                    f"at line {line}, column {column}; text must be valid Unicode",
                    "string_unicode",
                )
            ]
        ) from None
    except RecursionError:
        raise CaseError([Problem("", "the document is nested too deeply", "too_deep")]) from None


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
    """Return a case as YAML or JSON text, Chinese kept as is, defaults left out."""
    data = case.model_dump(mode="json", exclude_defaults=True)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return str(yaml.dump(data, Dumper=_Writer, allow_unicode=True, sort_keys=False, width=100))


class _Unreadable:
    """A JSON value that cannot be case data, left in its place so that its path is found."""

    __slots__ = ("code", "reason")

    def __init__(self, reason: str, code: str) -> None:
        self.reason = reason
        self.code = code


def _read_json(text: str) -> object:
    """JSON text as plain data; what cannot be read is reported with its path.

    The decoder's hooks do not know where they are, so each marks what it refuses
    (a repeated key, ``NaN``, an integer too long to convert) and the marks are looked for
    afterwards, only when there are any.
    """
    refused: list[_Unreadable] = []

    def refuse(reason: str, code: str) -> _Unreadable:
        refused.append(_Unreadable(reason, code))
        return refused[-1]

    def mapping(pairs: list[tuple[str, Any]]) -> object:
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        return refuse(
            f"repeated key '{repeated}'; a key may appear once in a mapping", "duplicate_key"
        )

    def integer(digits: str) -> object:
        try:
            return int(digits)
        except ValueError:  # longer than sys.get_int_max_str_digits()
            return refuse(
                f"an integer of {len(digits.lstrip('-'))} digits is too long to read; numbers "
                f"may have at most {sys.get_int_max_str_digits()} digits",
                "integer_too_long",
            )

    def constant(name: str) -> object:
        return refuse(f"{name} is not allowed in a case: numbers must be finite", "finite_number")

    data = json.loads(text, object_pairs_hook=mapping, parse_int=integer, parse_constant=constant)
    if refused:
        raise CaseError(Problem(path, mark.reason, mark.code) for path, mark in _marks(data))
    return data


def _marks(data: object) -> list[tuple[str, _Unreadable]]:
    """Every :class:`_Unreadable` in ``data`` with its field path, in document order."""
    found: list[tuple[str, _Unreadable]] = []
    todo: list[tuple[list[int | str], object]] = [([], data)]
    while todo:
        loc, value = todo.pop()
        if isinstance(value, _Unreadable):
            found.append((field_path(loc), value))
        elif isinstance(value, dict):
            todo.extend(([*loc, k], v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            todo.extend(([*loc, k], v) for k, v in reversed(list(enumerate(value))))
    return found
