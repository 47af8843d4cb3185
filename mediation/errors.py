"""The exception tree: every error the library raises derives from :class:`MediationError`."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CODE",
    "CaseError",
    "GraphError",
    "GraphTypeError",
    "MediationError",
    "PolicyError",
    "Problem",
    "RenderError",
    "SolverError",
    "SweepError",
    "TimeLimitError",
    "UnknownPartyError",
    "WhatIfError",
    "describe",
    "field_path",
    "lone_surrogate",
]


#: The :attr:`Problem.code` of a problem made without a more specific one.
DEFAULT_CODE = "invalid"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (a field path), what, and a code for programs.

    ``path`` uses the case's own key names, e.g. ``interests[3].stakeholder``; the empty
    string stands for the document as a whole. ``code`` is a short snake_case name of the
    kind of problem, stable for programs to switch on (``missing``, ``extra_forbidden``,
    ``unknown_stakeholder``, ``duplicate_id``, ``too_large``, ...); the wording of
    ``message`` may change. :data:`DEFAULT_CODE` when no more specific code is given.
    """

    path: str
    message: str
    code: str = DEFAULT_CODE

    def __post_init__(self) -> None:
        """Escape lone surrogates in the path and the message."""
        # A message may quote the input, and the input may hold a lone surrogate (JSON's
        # "\ud800"): escape it, so that every message can be printed and sent as UTF-8.
        for name in ("path", "message"):
            text = getattr(self, name)
            if lone_surrogate(text) is not None:
                escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
                object.__setattr__(self, name, escaped)

    def __str__(self) -> str:
        """Return ``path: message``, or the message alone for the whole document."""
        return f"{self.path}: {self.message}" if self.path else self.message


def lone_surrogate(text: str) -> int | None:
    r"""Return the position of the first lone surrogate in ``text``, if any.

    A lone surrogate is one UTF-8 cannot encode; ``None`` when ``text`` is valid Unicode.

    Examples
    --------
    >>> lone_surrogate("社区"), lone_surrogate("ab\ud800")
    (None, 2)
    """
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def field_path(loc: Sequence[int | str]) -> str:
    """Return the :attr:`Problem.path` of a location given as keys and list positions.

    Examples
    --------
    >>> field_path(["interests", 3, "stakeholder"])
    'interests[3].stakeholder'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def describe(value: object) -> str:
    """Return a value as an error message shows what was found: ``a number (42)``, ``a list``.

    Examples
    --------
    >>> describe(True), describe("社区"), describe([1])
    ('a boolean (true)', "a string ('社区')", 'a list')
    """
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    if isinstance(value, datetime.date | datetime.time):  # YAML reads 2025-01-01 as a date
        return f"a date or time ({value.isoformat()}; quote it to make it a string)"
    if isinstance(value, bytes | bytearray):
        return "binary data"
    return type(value).__name__


class MediationError(Exception):
    """Base class of every error raised by :mod:`mediation`."""


class _ProblemsError(MediationError, ValueError):
    """An input error that carries every problem found, not only the first."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError(f"a {type(self).__name__} needs at least one problem")
        count = len(self.problems)
        head = f"{count} problem{'s' if count > 1 else ''} in the {self.kind}"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class CaseError(_ProblemsError):
    """The case document is malformed, inconsistent or too large."""

    kind = "case"


class PolicyError(_ProblemsError):
    """The policy cannot be applied to this case (wrong rule options or an unsuitable case)."""

    kind = "policy"


class SweepError(_ProblemsError):
    """The sweep file is malformed, or does not fit the case it varies."""

    kind = "sweep"


class WhatIfError(_ProblemsError):
    """The what-if (pins to evaluate) is malformed, or does not fit the case."""

    kind = "what-if"


class GraphError(MediationError, ValueError):
    """A graph analysis cannot run on its input.

    The input is a graph not made by ``build_graph`` from a case, or an option is out of
    range.
    """


class GraphTypeError(GraphError, TypeError):
    """A graph analysis was given neither a case nor a graph (a :class:`TypeError` too)."""


class UnknownPartyError(GraphError, KeyError):
    """A party id that is not a party of the analysed case.

    It is a :class:`KeyError` too, as a lookup that finds nothing.
    """

    def __str__(self) -> str:
        """Return the message as it is."""
        # KeyError's own str() would quote the whole message
        return str(self.args[0]) if self.args else ""


class RenderError(MediationError, ValueError):
    """A result cannot be rendered as asked.

    The cause is an unknown language, output format or export, or an analysis paired with
    another case than its own.
    """


class SolverError(MediationError):
    """The LP/MIP solver failed or is unavailable; no trustworthy values were produced."""


class TimeLimitError(SolverError):
    """The time limit ran out before the solve in progress found a solution."""
