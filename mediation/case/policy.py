"""The case's policy: which fair-division rule settles it by default, and under what options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import ValidationError

from ..errors import CaseError
from .base import StrictModel

__all__ = ["CLAIMS_METHODS", "RULES", "Policy"]

RuleName = Literal[
    "utilitarian",
    "maximin",
    "leximin",
    "nash",
    "kalai_smorodinsky",
    "adjusted_winner",
    "claims",
]
ClaimsMethod = Literal[
    "proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud"
]
Scale = Literal["raw", "normalized"]

RULES: tuple[str, ...] = get_args(RuleName)
CLAIMS_METHODS: tuple[str, ...] = get_args(ClaimsMethod)


class Policy(StrictModel):
    """How to settle the case by default; any key can be overridden per call."""

    rule: RuleName = "leximin"
    scale: Scale = "normalized"
    individually_rational: bool = True
    envy_free: bool = False
    proportional: bool = False
    method: ClaimsMethod = "proportional"

    def with_overrides(self, overrides: Mapping[str, object]) -> Policy:
        """A copy with ``overrides`` applied and validated (``None`` values are ignored).

        Raises
        ------
        CaseError
            When an override names an unknown key or has a wrong value.
        """
        # parse translates Pydantic's errors for the whole case, whose model holds a Policy:
        # importing it at the top would be circular
        from .parse import _problem

        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            raise CaseError(_problem(e, prefix=("policy",)) for e in exc.errors()) from None
