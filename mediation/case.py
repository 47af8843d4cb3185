"""The case format: parties, issues, interests, relations, extra constraints and the policy.

A case is the public contract between the engine, its command line, its service and other
systems. It is validated strictly (``true`` is not a number, NaN and infinities are rejected,
unknown keys are errors except under ``extensions``) and every error names the path of the
offending field. Semantics are documented in ``cases/README.md``.
"""

from __future__ import annotations

import datetime
import math
import sys
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from .errors import CaseError, Problem, describe, field_path, lone_surrogate
from .gc_pause import paused_gc
from .limits import (
    MAX_DEPTH,
    MAX_EXPANDED_TEXT,
    MAX_MAGNITUDE,
    MAX_NODES,
    MAX_TERMS,
    MAX_TEXT,
    MAX_VALUE_SPAN,
    MAX_WEIGHT,
    MIN_MAGNITUDE,
    MIN_WEIGHT,
    SECTION_LIMITS,
)

__all__ = [
    "CLAIMS_METHODS",
    "RELATION_KINDS",
    "RULES",
    "STAKEHOLDER_KINDS",
    "Case",
    "CaseTranslation",
    "Interest",
    "Issue",
    "LinearConstraint",
    "Policy",
    "Relation",
    "Stakeholder",
    "Term",
    "Translation",
    "case_json_schema",
    "parse_case",
    "referential_problems",
]

StakeholderKind = Literal[
    "government", "social_organization", "resident_group", "enterprise", "third_party", "other"
]
IssueKind = Literal["resource", "risk"]
RelationKind = Literal["funds", "supervises", "cooperates", "conflicts", "represents", "dialogue"]
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
Sense = Literal["<=", ">=", "=="]

STAKEHOLDER_KINDS: tuple[str, ...] = get_args(StakeholderKind)
RELATION_KINDS: tuple[str, ...] = get_args(RelationKind)
RULES: tuple[str, ...] = get_args(RuleName)
CLAIMS_METHODS: tuple[str, ...] = get_args(ClaimsMethod)

Slug = Annotated[str, StringConstraints(pattern=r"^[\w-]+$", min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]


def _not_tiny(value: float) -> float:
    if value and abs(value) < MIN_MAGNITUDE:
        raise PydanticCustomError(
            "magnitude",
            "must be 0 or at least {least} in absolute value, got {got}",
            {"least": _number(MIN_MAGNITUDE), "got": repr(value)},
        )
    return value


def _not_below_least(value: float) -> float:
    if value < MIN_MAGNITUDE:
        raise PydanticCustomError(
            "magnitude",
            "must be at least {least}, got {got}",
            {"least": _number(MIN_MAGNITUDE), "got": repr(value)},
        )
    return value


#: A magnitude: 0, or between MIN_MAGNITUDE and MAX_MAGNITUDE in absolute value.
Magnitude = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE), AfterValidator(_not_tiny)]
#: A magnitude that is not negative.
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_MAGNITUDE), AfterValidator(_not_tiny)]
#: A magnitude that is positive.
Positive = Annotated[float, Field(gt=0.0, le=MAX_MAGNITUDE), AfterValidator(_not_below_least)]


def _json_data(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` when it is JSON data; else a validation error saying where it is not."""
    found = _not_json(value)
    if found is not None:
        where, what = found
        raise PydanticCustomError("json_data", "{what}", {"what": what, "where": where})
    return value


#: Data of the user's own, kept but never interpreted: it must survive JSON (the case's
#: digest, a settlement's echo, a service's response) unchanged.
Extensions = Annotated[dict[str, Any], AfterValidator(_json_data)]


class _Model(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", allow_inf_nan=False, frozen=True, hide_input_in_errors=True
    )


class Translation(_Model):
    """A party's or an issue's name and description in another language."""

    name: Name | None = None
    description: Text | None = None


class CaseTranslation(_Model):
    """A case's title and description in another language."""

    title: Name | None = None
    description: Text | None = None


class Stakeholder(_Model):
    """A party to the case."""

    id: Slug
    name: Name
    kind: StakeholderKind
    weight: float = Field(default=1.0, ge=MIN_WEIGHT, le=MAX_WEIGHT)
    disagreement: Magnitude = 0.0
    risk_capacity: NonNegative | None = None
    size: int | None = Field(default=None, ge=0)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    def label(self, lang: str | None = None) -> str:
        """The party's name in ``lang`` when the case translates it, else its own name."""
        tr = self.translations.get(lang) if lang else None
        return tr.name if tr is not None and tr.name else self.name


class Issue(_Model):
    """A resource to divide or a risk to bear."""

    id: Slug
    name: Name
    kind: IssueKind
    amount: Positive
    unit: Annotated[str, StringConstraints(max_length=40)] = ""
    divisible: bool = True
    probability: float | None = Field(default=None, gt=0.0, le=1.0)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    @property
    def likelihood(self) -> float:
        """Probability that the risk materialises (1 for a resource or when not given)."""
        return 1.0 if self.probability is None else self.probability

    def label(self, lang: str | None = None) -> str:
        """The issue's name in ``lang`` when the case translates it, else its own name."""
        tr = self.translations.get(lang) if lang else None
        return tr.name if tr is not None and tr.name else self.name


class Interest(_Model):
    """A party's stake in an issue: an edge of the stakeholder–issue graph."""

    stakeholder: Slug
    issue: Slug
    value: NonNegative
    min_share: Share | None = None
    max_share: Share | None = None
    claim: NonNegative | None = None
    control: Share | None = None
    note: Text | None = None
    extensions: Extensions | None = None

    @property
    def floor(self) -> float:
        return 0.0 if self.min_share is None else self.min_share

    @property
    def cap(self) -> float:
        return 1.0 if self.max_share is None else self.max_share


class Relation(_Model):
    """A relation between two parties: an edge of the stakeholder graph."""

    source: Slug
    target: Slug
    kind: RelationKind
    strength: float = Field(default=1.0, gt=0.0, le=1.0)
    description: Text | None = None
    extensions: Extensions | None = None


class Term(_Model):
    """``coef`` times the share of ``issue`` that ``stakeholder`` receives."""

    stakeholder: Slug
    issue: Slug
    coef: Magnitude


class LinearConstraint(_Model):
    """An extra linear constraint on shares: ``sum(coef * share) sense rhs``."""

    name: Slug
    terms: list[Term] = Field(min_length=1)
    sense: Sense
    rhs: Magnitude
    description: Text | None = None


class Policy(_Model):
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
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            raise CaseError(_problem(e, prefix=("policy",)) for e in exc.errors()) from None


class Case(_Model):
    """A dispute among several parties over resources and risks."""

    id: Slug
    title: Name
    description: Text | None = None
    stakeholders: list[Stakeholder] = Field(min_length=2)
    issues: list[Issue] = Field(min_length=1)
    interests: list[Interest] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    constraints: list[LinearConstraint] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)
    translations: dict[LanguageCode, CaseTranslation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    @cached_property
    def stakeholder_by_id(self) -> dict[str, Stakeholder]:
        return {s.id: s for s in self.stakeholders}

    @cached_property
    def issue_by_id(self) -> dict[str, Issue]:
        return {i.id: i for i in self.issues}

    @cached_property
    def interest_by_pair(self) -> dict[tuple[str, str], Interest]:
        """Interests keyed by ``(stakeholder, issue)``."""
        return {(x.stakeholder, x.issue): x for x in self.interests}

    @cached_property
    def interests_by_issue(self) -> dict[str, list[Interest]]:
        grouped: dict[str, list[Interest]] = {i.id: [] for i in self.issues}
        for x in self.interests:
            grouped[x.issue].append(x)
        return grouped

    @cached_property
    def interests_by_stakeholder(self) -> dict[str, list[Interest]]:
        grouped: dict[str, list[Interest]] = {s.id: [] for s in self.stakeholders}
        for x in self.interests:
            grouped[x.stakeholder].append(x)
        return grouped

    @cached_property
    def canonical_digest(self) -> bytes:
        """SHA-256 digest of the validated case's JSON (fixed key order and number format),
        computed once per case. Bytes, not a live ``hashlib`` object, so that a case that has
        been settled can still be pickled (sent to a worker process, cached)."""
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).digest()

    def title_in(self, lang: str | None = None) -> str:
        """The case's title in ``lang`` when the case translates it, else its own title."""
        tr = self.translations.get(lang) if lang else None
        return tr.title if tr is not None and tr.title else self.title


def case_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the case format, as a mapping.

    The schema states types, ranges and required keys; cross-field rules (ids that must
    exist, floors that must fit) are checked by :func:`parse_case` and described in
    ``cases/README.md``.
    """
    schema = Case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/case.schema.json"
    return schema


# --- parsing -------------------------------------------------------------------------------

_SECTIONS: dict[str, type[_Model]] = {
    "stakeholders": Stakeholder,
    "issues": Issue,
    "interests": Interest,
    "relations": Relation,
    "constraints": LinearConstraint,
}


def parse_case(data: object) -> Case:
    """Validate a parsed case document (a mapping, as from JSON or YAML) into a :class:`Case`.

    Every problem is reported at once: wrong types and values, unknown keys, unknown or
    duplicate ids, duplicate interests, floors above caps, floors on one issue summing above 1,
    and sizes above the limits of :mod:`mediation.limits`.

    Parameters
    ----------
    data
        The document, e.g. the result of ``yaml.safe_load`` or ``json.loads``.

    Returns
    -------
    Case

    Raises
    ------
    CaseError
        Listing every problem, each with the path of the offending field.

    Examples
    --------
    >>> case = parse_case({
    ...     "id": "hall", "title": "活动大厅",
    ...     "stakeholders": [{"id": "a", "name": "甲", "kind": "government"},
    ...                      {"id": "b", "name": "乙", "kind": "resident_group"}],
    ...     "issues": [{"id": "hall", "name": "大厅", "kind": "resource", "amount": 40}],
    ...     "interests": [{"stakeholder": "a", "issue": "hall", "value": 1},
    ...                   {"stakeholder": "b", "issue": "hall", "value": 2}]})
    >>> case.issue_by_id["hall"].amount
    40.0
    >>> parse_case({"id": "x"})
    Traceback (most recent call last):
    ...
    mediation.errors.CaseError: 3 problems in the case:
      title: required field is missing
      stakeholders: required field is missing
      issues: required field is missing
    """
    with paused_gc():
        return _parse_case(data)


def _parse_case(data: object) -> Case:
    if isinstance(data, dict):  # counting a section's items is cheaper than walking them
        problems = _size_problems(data)
        if problems:
            raise CaseError(problems)
    _check_shape(data)
    if not isinstance(data, dict):
        raise CaseError(
            [Problem("", f"a case must be a mapping of keys to values, got {describe(data)}")]
        )
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        problems += _problems_of_valid_parts(data, exc)
        raise CaseError(_ordered(problems)) from None
    problems = referential_problems(
        list(enumerate(case.stakeholders)),
        list(enumerate(case.issues)),
        list(enumerate(case.interests)),
        list(enumerate(case.relations)),
        list(enumerate(case.constraints)),
    )
    if problems:
        raise CaseError(problems)
    return case


def referential_problems(
    stakeholders: Sequence[tuple[int, Stakeholder]],
    issues: Sequence[tuple[int, Issue]],
    interests: Sequence[tuple[int, Interest]],
    relations: Sequence[tuple[int, Relation]],
    constraints: Sequence[tuple[int, LinearConstraint]],
    *,
    known_stakeholders: set[str] | None = None,
    known_issues: set[str] | None = None,
    known_interests: set[tuple[str, str]] | None = None,
) -> list[Problem]:
    """Cross-field problems of a case's (valid) parts, each given with its position.

    ``known_stakeholders``, ``known_issues`` and ``known_interests`` default to the ids and
    (stakeholder, issue) pairs of the given parts; a caller checking a partly invalid
    document passes every one it could read so that a party whose own record is invalid is
    not also reported as unknown, nor a term on an invalid interest as on no interest.
    """
    problems: list[Problem] = []
    party_ids = _unique_ids("stakeholders", stakeholders, problems)
    issue_ids = _unique_ids("issues", issues, problems)
    for k, issue in issues:
        if issue.id in party_ids:
            problems.append(
                Problem(
                    f"issues[{k}].id",
                    f"'{issue.id}' is already a stakeholder id; ids must be unique",
                )
            )
        if issue.kind == "resource" and issue.probability is not None:
            problems.append(Problem(f"issues[{k}].probability", "applies to risks only"))
    known_parties = party_ids.keys() | (known_stakeholders or set())
    known_issue_ids = issue_ids.keys() | (known_issues or set())

    pairs: dict[tuple[str, str], int] = {}
    floors: dict[str, list[tuple[str, float]]] = defaultdict(list)
    interested: set[str] = set()
    kind_of = {issue.id: issue.kind for _, issue in issues}
    lowest: dict[str, tuple[float, int]] = {}  # a party's smallest nonzero value, where
    highest: dict[str, tuple[float, int]] = {}
    for k, x in interests:
        party, issue_id = x.stakeholder, x.issue
        if party not in known_parties or issue_id not in known_issue_ids:
            here = f"interests[{k}]"
            ok = _check_ref(f"{here}.stakeholder", party, "stakeholder", known_parties, problems)
            ok &= _check_ref(f"{here}.issue", issue_id, "issue", known_issue_ids, problems)
            continue
        pair = (party, issue_id)
        if pair in pairs:
            problems.append(
                Problem(
                    f"interests[{k}]",
                    f"duplicate interest of '{party}' in '{issue_id}' "
                    f"(also interests[{pairs[pair]}])",
                )
            )
            continue
        pairs[pair] = k
        interested.add(issue_id)
        if x.value:
            low = lowest.get(party)
            if low is None or x.value < low[0]:
                lowest[party] = (x.value, k)
            high = highest.get(party)
            if high is None or x.value > high[0]:
                highest[party] = (x.value, k)
        if x.min_share is None and x.max_share is None and x.control is None and x.claim is None:
            continue  # the common case: nothing more to check
        if x.min_share is not None and x.max_share is not None and x.min_share > x.max_share:
            problems.append(
                Problem(
                    f"interests[{k}].min_share",
                    f"{x.min_share:g} is above max_share {x.max_share:g}; "
                    "a floor cannot exceed its cap",
                )
            )
        if x.min_share:
            floors[issue_id].append((party, x.min_share))
        kind = kind_of.get(issue_id)
        if kind == "resource" and x.control is not None:
            problems.append(
                Problem(
                    f"interests[{k}].control", f"applies to risks only; '{issue_id}' is a resource"
                )
            )
        if kind == "risk" and x.claim is not None:
            problems.append(
                Problem(
                    f"interests[{k}].claim", f"applies to resources only; '{issue_id}' is a risk"
                )
            )

    issue_of = dict(interests)
    for party, (small, k_small) in lowest.items():
        big, k_big = highest[party]
        if big > small * MAX_VALUE_SPAN:
            problems.append(
                Problem(
                    f"interests[{k_small}].value",
                    f"'{party}' values '{issue_of[k_small].issue}' at {small:g} "
                    f"(interests[{k_small}]) and '{issue_of[k_big].issue}' at {big:g} "
                    f"(interests[{k_big}]), {big / small:.1e} times as much; a party's nonzero "
                    f"values may differ by a factor of at most {_number(MAX_VALUE_SPAN)} (write 0 "
                    "if it does not matter to them)",
                )
            )

    for k, issue in issues:
        if issue.id not in interested and issue.id in issue_ids and issue_ids[issue.id] == k:
            problems.append(
                Problem(
                    f"issues[{k}]",
                    f"no stakeholder has an interest in '{issue.id}'; "
                    "add an interest or remove the issue",
                )
            )
        total = sum(f for _, f in floors.get(issue.id, ()))
        if total > 1.0 + 1e-9:
            detail = ", ".join(f"{s} {f:g}" for s, f in floors[issue.id])
            problems.append(
                Problem(
                    f"issues[{k}]",
                    f"floors (min_share) on '{issue.id}' sum to {total:g} > 1 "
                    f"({detail}); together they must give way by {total - 1:g}",
                )
            )

    seen_relations: dict[tuple[str, str, str], int] = {}
    for k, r in relations:
        here = f"relations[{k}]"
        ok = _check_ref(f"{here}.source", r.source, "stakeholder", known_parties, problems)
        ok &= _check_ref(f"{here}.target", r.target, "stakeholder", known_parties, problems)
        if not ok:
            continue
        if r.source == r.target:
            problems.append(
                Problem(here, f"a relation needs two different parties, got '{r.source}' twice")
            )
            continue
        key = (r.source, r.target, r.kind)
        if key in seen_relations:
            problems.append(
                Problem(
                    here,
                    f"duplicate '{r.kind}' relation from '{r.source}' to '{r.target}' "
                    f"(also relations[{seen_relations[key]}])",
                )
            )
        seen_relations[key] = k

    names: dict[str, int] = {}
    terms = 0
    for k, c in constraints:
        here = f"constraints[{k}]"
        if c.name in names:
            problems.append(
                Problem(
                    f"{here}.name",
                    f"duplicate constraint name '{c.name}' (also constraints[{names[c.name]}])",
                )
            )
        names.setdefault(c.name, k)
        terms += len(c.terms)
        seen_terms: dict[tuple[str, str], int] = {}
        for j, t in enumerate(c.terms):
            there = f"{here}.terms[{j}]"
            if (t.stakeholder, t.issue) in seen_terms:
                problems.append(
                    Problem(
                        there,
                        f"repeats the term of '{t.stakeholder}' in '{t.issue}' "
                        f"(terms[{seen_terms[t.stakeholder, t.issue]}]); add the coefficients "
                        "into one term",
                    )
                )
            seen_terms.setdefault((t.stakeholder, t.issue), j)
            ok = _check_ref(
                f"{there}.stakeholder", t.stakeholder, "stakeholder", known_parties, problems
            )
            ok &= _check_ref(f"{there}.issue", t.issue, "issue", known_issue_ids, problems)
            if (
                ok
                and (t.stakeholder, t.issue) not in pairs
                and (t.stakeholder, t.issue) not in (known_interests or ())
                and t.stakeholder in party_ids
                and t.issue in issue_ids
            ):
                problems.append(
                    Problem(
                        there,
                        f"'{t.stakeholder}' has no interest in '{t.issue}'; a party can only "
                        "receive a share of an issue it has an interest in",
                    )
                )
    if terms > MAX_TERMS:
        problems.append(
            Problem("constraints", f"{terms} terms in all, above the limit of {MAX_TERMS}")
        )
    return _ordered(problems)


# --- helpers -------------------------------------------------------------------------------

_M = TypeVar("_M", Stakeholder, Issue)


def _unique_ids(
    section: str, items: Sequence[tuple[int, _M]], problems: list[Problem]
) -> dict[str, int]:
    first: dict[str, int] = {}
    for k, item in items:
        if item.id in first:
            problems.append(
                Problem(
                    f"{section}[{k}].id",
                    f"duplicate id '{item.id}' (also {section}[{first[item.id]}])",
                )
            )
        else:
            first[item.id] = k
    return first


def _check_ref(
    path: str, ref: str, what: str, known: Collection[str], problems: list[Problem]
) -> bool:
    if ref in known:
        return True
    if not known:
        return False  # the section listing these ids is itself broken and reported
    known_list = sorted(known)
    hint = _closest(ref, known_list)
    suggestion = f"; did you mean '{hint}'?" if hint else ""
    problems.append(Problem(path, f"unknown {what} '{ref}'{suggestion}"))
    return False


def _closest(word: str, candidates: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return match[0] if match else None


_KEYS_OF: dict[str, type[BaseModel]] = {"policy": Policy}


def _allowed_keys(loc: Sequence[int | str]) -> list[str]:
    model: type[BaseModel] = Case
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in _SECTIONS and model is Case:
            model = _SECTIONS[part]
        elif part == "terms":
            model = Term
        elif part == "translations":
            model = CaseTranslation if model is Case else Translation
        elif part in _KEYS_OF:
            model = _KEYS_OF[part]
        elif model in (Translation, CaseTranslation):
            continue
        else:
            return []
    return list(model.model_fields)


def _number(value: object) -> str:
    """A bound as messages show it: ``0``, ``0.5``, ``1e-9``, ``1e12``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:g}"
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


def _problem(error: Any, prefix: tuple[str, ...] = ()) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc))
        message = f"unknown key '{loc[-1]}'"
        if allowed:
            message += f" (allowed: {allowed}; put your own data under 'extensions')"
        return Problem(field_path(prefix + loc[:-1]), message)
    messages = {
        "missing": "required field is missing",
        "float_type": "must be a number",
        "int_type": "must be an integer",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "finite_number": "must be a finite number (NaN and infinities are not allowed)",
        "string_pattern_mismatch": "must be an identifier: letters, digits, '-' and '_' only"
        if loc and loc[-1] in ("id", "name", "stakeholder", "issue", "source", "target")
        else "has a wrong format",
        "literal_error": f"must be one of {ctx.get('expected', '')}",
        "greater_than": f"must be greater than {_number(ctx.get('gt'))}",
        "greater_than_equal": f"must be at least {_number(ctx.get('ge'))}",
        "less_than_equal": f"must be at most {_number(ctx.get('le'))}",
        "too_short": f"must have at least {ctx.get('min_length')} item(s)",
        "string_too_short": "must not be empty",
        "string_too_long": f"must have at most {ctx.get('max_length')} characters",
        "magnitude": str(error.get("msg")),
    }
    if kind == "json_data":
        return Problem(field_path(prefix + loc + tuple(ctx["where"])), str(ctx["what"]))
    if kind == "string_unicode":
        where = lone_surrogate(got) if isinstance(got, str) else None
        at = f" at character {where + 1}" if where is not None else ""
        if loc and loc[-1] == "[key]":
            return Problem(field_path(prefix + loc[:-2]), f"a key holds a {_LONE}{at}; {_VALID}")
        return Problem(field_path(prefix + loc), f"holds a {_LONE}{at}; {_VALID}")
    if loc and loc[-1] == "[key]":
        return Problem(
            field_path(prefix + loc[:-2]),
            f"'{loc[-2]}' is not a language code (use e.g. 'en', 'zh', 'zh-Hant')",
        )
    message = messages.get(kind, str(error.get("msg", "is invalid")).lower())
    if kind == "float_type" and isinstance(got, int) and not isinstance(got, bool):
        message = "is too large to be a number"
    elif kind.endswith("_type") and got is not None:
        message += f", got {describe(got)}"
    return Problem(field_path(prefix + loc), message)


_LONE = "lone surrogate (\\ud800-\\udfff without its pair)"
_VALID = "text must be valid Unicode"
_JSON_ONLY = (
    "extensions hold JSON data only (strings, finite numbers, true/false, null, lists, and "
    "mappings with string keys)"
)


def _not_json(value: object) -> tuple[list[int | str], str] | None:
    """Where and why ``value`` is not JSON data, for the first place in document order that
    is not; ``None`` when all of it is."""
    todo: list[tuple[list[int | str], object]] = [([], value)]
    while todo:
        loc, item = todo.pop()
        if isinstance(item, str):
            where = lone_surrogate(item)
            if where is not None:
                return loc, f"holds a {_LONE} at character {where + 1}; {_VALID}"
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return loc, f"keys must be strings, got {describe(key)}: {_JSON_ONLY}"
                if lone_surrogate(key) is not None:
                    return loc, f"a key holds a {_LONE}; {_VALID}"
            todo.extend(([*loc, k], v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend(([*loc, k], v) for k, v in reversed(list(enumerate(item))))
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            most = sys.get_int_max_str_digits()  # 10**most has 3.3 * most bits
            if most and item.bit_length() > 3 * most and abs(item) >= 10**most:
                return loc, f"an integer of more than {most} digits is not allowed: {_JSON_ONLY}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return loc, f"{item!r} is not allowed: {_JSON_ONLY}"
        else:
            what, instead = _unlike_json(item)
            return loc, f"{what} is not allowed: {_JSON_ONLY}; {instead}"
    return None


def _unlike_json(item: object) -> tuple[str, str]:
    """What a value that JSON cannot hold is, and what to write instead."""
    if isinstance(item, bytes | bytearray):
        return "binary data (YAML !!binary)", "write it as a base64 string"
    if isinstance(item, datetime.date | datetime.time):
        return f"a date or time ({item.isoformat()})", "quote it to keep it a string"
    if isinstance(item, set | frozenset):
        return "a set", "write a list"
    if isinstance(item, tuple):
        return "a tuple", "write a list"
    return f"a {type(item).__name__}", "write a string, a number, a list or a mapping"


def _check_shape(data: object) -> None:
    """Reject documents nested too deep or too large before any validation touches them.

    Counts the values the document expands to and the characters of its keys and strings,
    each shared container (a YAML alias) and each shared string as often as it is used, but
    computes each container's size once: a YAML alias bomb, of many values or of one long
    string repeated, is stopped in time proportional to its text, not to its expansion.
    """
    sizes: dict[int, tuple[int, int]] = {}

    def size(node: dict[Any, Any] | list[Any], depth: int) -> tuple[int, int]:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise CaseError([Problem("", f"the document is nested deeper than {MAX_DEPTH} levels")])
        chars = 0
        if isinstance(node, dict):
            for key in node:
                if type(key) is not str and not isinstance(key, str):
                    where = _path_to(data, node)
                    raise CaseError([Problem(where, f"keys must be strings, got {describe(key)}")])
                chars += len(key)
            children: Any = node.values()
        else:
            children = node
        total = 1
        for child in children:
            kind = type(child)
            if kind is str:
                total += 1
                chars += len(child)
            elif kind is dict and depth + 1 < MAX_DEPTH and (flat := _flat_chars(child)) >= 0:
                total += 1 + len(child)  # a record of scalars (an interest): no call needed
                chars += flat
            elif kind is dict or kind is list or isinstance(child, dict | list):
                values, text = size(child, depth + 1)
                total += values
                chars += text
            else:
                total += 1
                if isinstance(child, str):
                    chars += len(child)
        if total > MAX_NODES:
            raise CaseError([Problem("", f"the document expands to more than {MAX_NODES} values")])
        if chars > MAX_EXPANDED_TEXT:
            raise CaseError(
                [
                    Problem(
                        "",
                        f"the document expands to more than {MAX_EXPANDED_TEXT} characters of "
                        "text (a YAML alias counts at every use)",
                    )
                ]
            )
        sizes[id(node)] = total, chars
        return total, chars

    if isinstance(data, dict | list):
        size(data, 0)


def _path_to(data: object, target: object) -> str:
    """The field path of the container ``target`` within ``data`` (for an error message)."""
    seen: set[int] = set()
    todo: list[tuple[list[int | str], object]] = [([], data)]
    while todo:
        loc, node = todo.pop()
        if node is target:
            return field_path(loc)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            todo.extend(([*loc, k], v) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            todo.extend(([*loc, k], v) for k, v in enumerate(node) if isinstance(v, dict | list))
    return ""  # pragma: no cover - target is always found in data


_CONTAINERS = (dict, list)


def _flat_chars(node: dict[Any, Any]) -> int:
    """Characters of a mapping's keys and strings when it holds no mapping or list and only
    string keys, else -1."""
    chars = 0
    for key, value in node.items():
        if type(key) is not str:
            return -1
        chars += len(key)
        kind = type(value)
        if kind is str:
            chars += len(value)
        elif kind in _CONTAINERS or isinstance(value, _CONTAINERS):
            return -1
        elif isinstance(value, str):
            chars += len(value)
    return chars


def _size_problems(data: dict[str, Any]) -> list[Problem]:
    problems = []
    for section, limit in SECTION_LIMITS.items():
        items = data.get(section)
        if isinstance(items, list) and len(items) > limit:
            problems.append(Problem(section, f"{len(items)} items, above the limit of {limit}"))
    return problems


def _problems_of_valid_parts(data: dict[str, Any], exc: ValidationError) -> list[Problem]:
    """Cross-field problems among the list items that did validate, when others did not."""
    failed: set[tuple[str, int]] = set()
    broken_sections: set[str] = set()
    for e in exc.errors():
        loc = e["loc"]
        if loc and loc[0] in _SECTIONS:
            if len(loc) > 1 and isinstance(loc[1], int):
                failed.add((str(loc[0]), loc[1]))
            else:
                broken_sections.add(str(loc[0]))
    parts: dict[str, list[tuple[int, Any]]] = {}
    for section, model in _SECTIONS.items():
        items = data.get(section, [])
        if section in broken_sections or not isinstance(items, list):
            parts[section] = []
            continue
        parts[section] = [
            (k, model.model_validate(item))
            for k, item in enumerate(items)
            if (section, k) not in failed
        ]

    def ids(section: str) -> set[str]:
        items = data.get(section)
        if not isinstance(items, list):
            return set()
        return {i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}

    known_parties, known_issues = ids("stakeholders"), ids("issues")
    raw_interests = data.get("interests")
    known_interests = {
        (x["stakeholder"], x["issue"])
        for x in (raw_interests if isinstance(raw_interests, list) else [])
        if isinstance(x, dict)
        and isinstance(x.get("stakeholder"), str)
        and isinstance(x.get("issue"), str)
    }
    return [
        p
        for p in referential_problems(
            parts["stakeholders"],
            parts["issues"],
            parts["interests"],
            parts["relations"],
            parts["constraints"],
            known_stakeholders=known_parties,
            known_issues=known_issues,
            known_interests=known_interests,
        )
        # an issue whose interests failed validation is not "uninterested"
        if not p.message.startswith("no stakeholder has an interest") or not failed
    ]


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Problems in document order (top-level keys first, then by position), without repeats."""
    order = ["id", "title", "description", *_SECTIONS, "policy", "translations", "extensions"]

    def key(p: Problem) -> tuple[int, list[int], str]:
        head = p.path.split("[")[0].split(".")[0]
        rank = order.index(head) if head in order else len(order)
        numbers = [int(n) for n in _numbers(p.path)]
        return rank, numbers, p.path

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=key)


def _numbers(path: str) -> list[str]:
    import re

    return re.findall(r"\[(\d+)\]", path)
