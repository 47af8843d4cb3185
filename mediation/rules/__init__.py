"""The fair-division rules, one module each, and the one registry that names them.

A rule is a typed object (:class:`Rule`): its name, its kind (solved on the allocation LP, or
computed by a procedure), the scale it compares gains on, whether it holds parties that
cannot gain, its options model, its preconditions (``problems``) and ``solve``. Everything
that lists the rules (the policy's validation and JSON Schema, the command line's help, the
tests, the benchmark) reads :data:`RULES`. Adding a rule: see CONTRIBUTING.md.

The registry names each rule's functions as ``"module:function"`` and imports them on first
use, so that reading the registry (validating a policy, the command line's help) does not
load numpy, PuLP or the solvers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import PolicyError, Problem

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..case import Case, Policy
    from .base import Context, RuleResult

__all__ = [
    "RULES",
    "Rule",
    "RuleKind",
    "RuleSpec",
    "get_rule",
    "lp_rules",
    "policy_problems",
    "register",
    "rule_help",
    "rule_names",
    "unregister",
]

RuleKind = Literal["lp", "procedural"]


class Rule(Protocol):
    """What the engine needs to know of a rule, and how to run it."""

    @property
    def name(self) -> str:
        """The policy's ``rule`` value."""
        ...

    @property
    def kind(self) -> RuleKind:
        """How the rule finds its allocation: ``lp`` or ``procedural``.

        ``lp``: solved on the allocation model, with red lines, capacities and policy
        constraints; ``procedural``: computed by a procedure from the case alone.
        """
        ...

    @property
    def compares(self) -> Literal["policy", "normalized"]:
        """The scale the rule compares gains on: ``policy`` or ``normalized``.

        ``policy``: gains are compared on the policy's scale; ``normalized``: always on the
        normalized scale, whatever the policy says (Kalai–Smorodinsky, Nash).
        """
        ...

    @property
    def holds_flat(self) -> bool:
        """Whether parties that cannot gain are held at their no-deal point.

        They are held even without individual rationality (Nash: it cannot weigh a gain
        that cannot be positive).
        """
        ...

    @property
    def summary(self) -> str:
        """One line for the command line's help and the documentation."""
        ...

    @property
    def options(self) -> type[BaseModel] | None:
        """The rule's options model, ``None`` for none."""
        ...

    def problems(self, case: Case, policy: Policy) -> list[Problem]:
        """Why the rule cannot apply to ``case`` (empty when it can)."""
        ...

    def solve(self, ctx: Context) -> RuleResult:
        """Return the rule's allocation of the prepared case."""
        ...


#: A function, or where to find it: ``"package.module:function"``.
Ref = Callable[..., Any] | str


def _load(ref: Ref) -> Callable[..., Any]:
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    found: Callable[..., Any] = getattr(import_module(module), name)
    return found


@dataclass(frozen=True)
class RuleSpec:
    """A :class:`Rule` made of a rule module's functions (given, or named and loaded lazily).

    Parameters
    ----------
    name, kind, summary, compares, holds_flat
        As in :class:`Rule`.
    solver
        ``solve(ctx) -> RuleResult``, or where to find it.
    preconditions
        ``problems(case, policy) -> list[Problem]``, or where to find it; none by default.
    options
        The options model, or where to find it; none by default.
    """

    name: str
    kind: RuleKind
    summary: str
    solver: Ref
    preconditions: Ref | None = None
    compares: Literal["policy", "normalized"] = "policy"
    holds_flat: bool = False
    options_model: Ref | None = None
    _loaded: dict[str, Callable[..., Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _get(self, key: str, ref: Ref) -> Callable[..., Any]:
        if key not in self._loaded:
            self._loaded[key] = _load(ref)
        return self._loaded[key]

    @property
    def options(self) -> type[BaseModel] | None:
        """The rule's options model, ``None`` for none."""
        if self.options_model is None:
            return None
        model: type[BaseModel] = self._get("options", self.options_model)  # type: ignore[assignment]
        return model

    def problems(self, case: Case, policy: Policy) -> list[Problem]:
        """Why the rule cannot apply to ``case`` (empty when it can)."""
        found: list[Problem] = feature_problems(self.name, self.kind, case)
        if policy.proportional and any(i.id in case.contributions_to for i in case.issues):
            found.append(
                Problem(
                    "policy.proportional",
                    "proportionality is of a fixed whole, and a funded issue's size varies "
                    "with the contributions: settle without proportional: true",
                    "rule_feature",
                )
            )
        if self.preconditions is not None:
            found += self._get("problems", self.preconditions)(case, policy)
        return found

    def solve(self, ctx: Context) -> RuleResult:
        """Return the rule's allocation of the prepared case."""
        result: RuleResult = self._get("solve", self.solver)(ctx)
        return result


#: The rules that work issue by issue on the shares alone (procedures, and risk sharing's
#: stages, which state utilities from the interests): they take no payments, contributions
#: or choices.
_SHARES_ONLY = {"risk_sharing"}


def feature_problems(name: str, kind: str, case: Case) -> list[Problem]:
    """Why a rule cannot take the case's 1.1 features (payments, contributions, choices, units).

    Procedural rules (Adjusted Winner, claims) divide issue by issue by their own steps, so
    they take none of them; risk sharing takes whole units but not money or choices.
    """
    if kind != "procedural" and name not in _SHARES_ONLY:
        return []
    sections = [s for s in ("payments", "contributions", "choices") if getattr(case, s)]
    found = []
    if sections:
        listed = (
            ", ".join(sections[:-1]) + " or " + sections[-1] if len(sections) > 1 else sections[0]
        )
        found.append(
            Problem(
                sections[0],
                f"rule '{name}' does not take {listed}: settle this case with an LP rule "
                "(leximin, maximin, nash, kalai_smorodinsky, utilitarian)",
                "rule_feature",
            )
        )
    if kind == "procedural":
        found += [
            Problem(
                f"issues[{k}].unit_size",
                f"rule '{name}' does not divide in whole units: settle this case with an LP "
                "rule, or drop unit_size",
                "rule_feature",
            )
            for k, issue in enumerate(case.issues)
            if issue.unit_size is not None
        ]
    return found


#: Every rule the engine knows, by name, in the order the documentation lists them.
RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Make ``rule`` known to the engine (and to the policy's validation) under its name.

    Raises
    ------
    ValueError
        When another rule has the name already.
    """
    if rule.name in RULES and RULES[rule.name] is not rule:
        raise PolicyError([Problem("policy.rule", f"a rule named '{rule.name}' exists already")])
    RULES[rule.name] = rule
    return rule


def unregister(name: str) -> None:
    """Forget the rule ``name`` (a rule a test or a plug-in registered)."""
    RULES.pop(name, None)


def rule_help() -> str:
    """Return the rules' names for the command line's help: ``a, b or c``."""
    names = list(RULES)
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def rule_names() -> tuple[str, ...]:
    """Return the names of the known rules, in registry order."""
    return tuple(RULES)


def lp_rules() -> tuple[str, ...]:
    """Return the names of the rules solved on the allocation LP."""
    return tuple(name for name, rule in RULES.items() if rule.kind == "lp")


def get_rule(name: str) -> Rule:
    """Return the rule named ``name``.

    Raises
    ------
    PolicyError
        When no rule has that name (the message lists the known ones).
    """
    rule = RULES.get(name)
    if rule is None:
        known = ", ".join(RULES)
        raise PolicyError([Problem("policy.rule", f"unknown rule '{name}'; choose one of {known}")])
    return rule


def policy_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why ``policy`` cannot be applied to ``case`` (an empty list when it can).

    Each rule states its own preconditions (Adjusted Winner: two parties, divisible
    resources, 100 points each; claims rules: a claim on every interest, claims exceeding
    the amount; Nash: weights within 1e9 of each other).
    """
    return get_rule(policy.rule).problems(case, policy)


_HERE = __name__

for _rule in (
    RuleSpec(
        "utilitarian",
        "lp",
        "the greatest entitlement-weighted sum of gains",
        f"{_HERE}.utilitarian:solve",
    ),
    RuleSpec(
        "maximin",
        "lp",
        "raise the worst-off party first, then the sum",
        f"{_HERE}.maximin:solve",
    ),
    RuleSpec(
        "leximin",
        "lp",
        "raise the worst-off, then the next worst-off, and so on",
        f"{_HERE}.leximin:solve",
    ),
    RuleSpec(
        "nash",
        "lp",
        "the greatest product of gains (Nash bargaining)",
        f"{_HERE}.nash:solve",
        f"{_HERE}.nash:case_problems",
        compares="normalized",
        holds_flat=True,
    ),
    RuleSpec(
        "kalai_smorodinsky",
        "lp",
        "equal fractions of each party's possible gain",
        f"{_HERE}.kalai_smorodinsky:solve",
        compares="normalized",
    ),
    RuleSpec(
        "risk_sharing",
        "lp",
        "risks to who controls them best, within capacity, burden balanced; resources by leximin",
        f"{_HERE}.risk_sharing:solve",
    ),
    RuleSpec(
        "adjusted_winner",
        "procedural",
        "two parties, 100 points each: equitable, at most one issue split",
        f"{_HERE}.adjusted_winner:solve",
        f"{_HERE}.adjusted_winner:case_problems",
    ),
    RuleSpec(
        "claims",
        "procedural",
        "divide an amount short of the claims on it (proportional, Talmud, ...)",
        f"{_HERE}.claims:solve",
        f"{_HERE}.claims:case_problems",
        options_model=f"{_HERE}.claims:ClaimsOptions",
    ),
):
    register(_rule)
