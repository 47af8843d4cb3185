"""The case concept: the case format's model, its parsing and checks, documents and transforms."""

from __future__ import annotations

from .checks import referential_problems
from .documents import Format, dump_case, guess_format, load_case, parse_document
from .model import (
    RELATION_KINDS,
    STAKEHOLDER_KINDS,
    Case,
    CaseTranslation,
    Interest,
    Issue,
    LinearConstraint,
    Relation,
    Stakeholder,
    Term,
    Translation,
)
from .parse import parse_case
from .pins import Pins, pin_problems, pinned
from .policy import CLAIMS_METHODS, Policy, rule_names
from .schema import case_json_schema
from .transforms import apply_concessions, scale_party

__all__ = [
    "CLAIMS_METHODS",
    "RELATION_KINDS",
    "STAKEHOLDER_KINDS",
    "Case",
    "CaseTranslation",
    "Format",
    "Interest",
    "Issue",
    "LinearConstraint",
    "Pins",
    "Policy",
    "Relation",
    "Stakeholder",
    "Term",
    "Translation",
    "apply_concessions",
    "case_json_schema",
    "dump_case",
    "guess_format",
    "load_case",
    "parse_case",
    "parse_document",
    "pin_problems",
    "pinned",
    "referential_problems",
    "rule_names",
    "scale_party",
]
