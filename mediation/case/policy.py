"""The case's policy: which fair-division rule settles it by default, and under what options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..errors import CaseError
from .base import StrictModel

__all__ = ["CLAIMS_METHODS", "Policy", "rule_names"]

ClaimsMethod = Literal[
    "proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud"
]
Scale = Literal["raw", "normalized"]

CLAIMS_METHODS: tuple[str, ...] = get_args(ClaimsMethod)


def rule_names() -> tuple[str, ...]:
    """Return the rules a policy may name.

    They are those in the engine's registry (:mod:`mediation.rules`).
    """
    # the registry imports the rules, which import the case: read it when first needed
    from ..rules import rule_names as registered

    return registered()


def _rule_enum(schema: dict[str, Any]) -> None:
    schema["enum"] = list(rule_names())


class Policy(StrictModel):
    """How to settle the case by default; any key can be overridden per call."""

    rule: str = Field(default="leximin", json_schema_extra=_rule_enum)
    scale: Scale = "normalized"
    individually_rational: bool = True
    envy_free: bool = False
    proportional: bool = False
    #: The claims rule's method (the rule's options: :class:`mediation.rules.claims.ClaimsOptions`);
    #: the key of format 1.x.
    method: ClaimsMethod = "proportional"
    #: The risk-sharing rule's trade-off: how much more total expected loss, as a fraction of
    #: the least, it accepts to spread the burden more evenly (0: none, lexicographic).
    loss_tolerance: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str) -> str:
        known = rule_names()
        if rule not in known:
            expected = ", ".join(repr(n) for n in known[:-1]) + f" or {known[-1]!r}"
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return rule

    def with_overrides(self, overrides: Mapping[str, object]) -> Policy:
        """Return a copy with ``overrides`` applied and validated (``None`` values are ignored).

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
