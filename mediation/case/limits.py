"""Size limits on case documents: generous for real cases, bounded for the service's sake."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "MAX_CHOICES",
    "MAX_CONSTRAINTS",
    "MAX_CONTRIBUTIONS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_TEXT",
    "MAX_INTERESTS",
    "MAX_ISSUES",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_PAYMENTS",
    "MAX_RELATIONS",
    "MAX_STAKEHOLDERS",
    "MAX_TERMS",
    "MAX_TEXT",
    "MAX_UNITS",
    "MAX_VALUE_SPAN",
    "MAX_WEIGHT",
    "MIN_MAGNITUDE",
    "MIN_WEIGHT",
    "SECTION_LIMITS",
]

#: Parties in one case. The benchmarks use 1,000.
MAX_STAKEHOLDERS = 5_000
#: Issues (resources and risks) in one case. The benchmarks use 200.
MAX_ISSUES = 1_000
#: Interest edges; 1,000 parties x 200 issues with every edge present is 200,000.
MAX_INTERESTS = 1_000_000
#: Relation edges between parties.
MAX_RELATIONS = 200_000
#: Extra linear constraints.
MAX_CONSTRAINTS = 10_000
#: Payments between parties.
MAX_PAYMENTS = 10_000
#: Contributions to funded issues and choices.
MAX_CONTRIBUTIONS = 10_000
#: Choices (each of 2 to 50 options).
MAX_CHOICES = 1_000
#: Whole units of an issue with a ``unit_size`` (the count column's upper bound).
MAX_UNITS = 1_000_000
#: Terms summed over all extra constraints.
MAX_TERMS = 1_000_000
#: Characters in one text field (a name, a title, a description).
MAX_TEXT = 10_000
#: Nesting depth of the document (a valid case needs 6).
MAX_DEPTH = 32
#: Values (mappings, lists and scalars) in the parsed document, counting repeats of a YAML alias.
MAX_NODES = 20_000_000
#: Bytes of a case document given as text.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: Characters of text (keys and strings) in the parsed document, counting every repeat of a
#: YAML alias: no more than a document of ``MAX_DOCUMENT_BYTES`` could spell out, so that an
#: alias repeating a long string is refused before anything (the case's digest, its JSON)
#: writes the repeats out.
MAX_EXPANDED_TEXT = MAX_DOCUMENT_BYTES

# --- numeric ranges: what the LP solver can resolve (HiGHS works to tolerances near 1e-9
# relative to magnitudes near 1, so coefficients spread wider than ~1e21 cannot all count).

#: Smallest entitlement (``weight``) of a party. A subnormal weight (5e-324) made PuLP fail.
MIN_WEIGHT = 1e-6
#: Largest entitlement of a party. With weights of 1e-12 and 1e12 the Nash rule ran for
#: 60 s and failed; between MIN_WEIGHT and MAX_WEIGHT any two weights differ by at most 1e12.
MAX_WEIGHT = 1e6
#: Smallest absolute value of every other nonzero magnitude: an interest's ``value`` and
#: ``claim``, an issue's ``amount``, a party's ``risk_capacity`` and ``disagreement``, a
#: constraint's term ``coef`` and ``rhs``. Smaller ones are below the solver's tolerances:
#: write 0 instead.
MIN_MAGNITUDE = 1e-9
#: Largest absolute value of those magnitudes (a value of 1e15 made the solver adapter fail
#: with an IndexError). State money in thousands or millions when it is larger.
MAX_MAGNITUDE = 1e12
#: Largest ratio between a party's largest and smallest nonzero interest ``value``: its
#: values span at most 10 orders of magnitude. They share the party's utility row, which no
#: scaling can spread less; the solver adapter refuses a row whose scaled coefficients are
#: within 10x of HiGHS's drop threshold (1e-12), i.e. spread over ~5e10 after rounding the
#: scale factors to powers of two (a party valuing things at 6.9e10 and 1 was refused).
MAX_VALUE_SPAN = 1e10

#: The most items each list at the top of a case may hold.
SECTION_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "stakeholders": MAX_STAKEHOLDERS,
        "issues": MAX_ISSUES,
        "interests": MAX_INTERESTS,
        "relations": MAX_RELATIONS,
        "constraints": MAX_CONSTRAINTS,
        "payments": MAX_PAYMENTS,
        "contributions": MAX_CONTRIBUTIONS,
        "choices": MAX_CHOICES,
    }
)
