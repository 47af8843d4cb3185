"""The exception tree: every error the library raises derives from :class:`MediationError`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CaseError",
    "MediationError",
    "PolicyError",
    "Problem",
    "SolverError",
    "TimeLimitError",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (a field path) and what.

    ``path`` uses the case's own key names, e.g. ``interests[3].stakeholder``; the empty
    string stands for the document as a whole.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


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


class SolverError(MediationError):
    """The LP/MIP solver failed or is unavailable; no trustworthy values were produced."""


class TimeLimitError(SolverError):
    """The time limit ran out before the solve in progress found a solution."""
